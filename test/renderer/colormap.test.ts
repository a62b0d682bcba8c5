import { describe, expect, it } from 'vitest'
import { COLOUR_MAPS, colourMapLut, colourMapRgb, type ColourMapName } from '../../src/renderer/src/live/colormap'

/** matplotlib's tabulated maps (_cm_listed.py) at entries 0, 128 and 255 of 256, as 0…1 floats. */
const TABULATED: Record<Exclude<ColourMapName, 'grey'>, [number, number, number][]> = {
  viridis: [
    [0.267004, 0.004874, 0.329415],
    [0.127568, 0.566949, 0.550556],
    [0.993248, 0.906157, 0.143936],
  ],
  magma: [
    [0.001462, 0.000466, 0.013866],
    [0.716387, 0.214982, 0.47472],
    [0.987053, 0.991438, 0.749504],
  ],
  inferno: [
    [0.001462, 0.000466, 0.013866],
    [0.735683, 0.215906, 0.330245],
    [0.988362, 0.998364, 0.644924],
  ],
}

const luma = (v: number) => 0.2126 * (v & 255) + 0.7152 * ((v >>> 8) & 255) + 0.0722 * ((v >>> 16) & 255)

describe('colour maps', () => {
  it.each(Object.keys(TABULATED) as (keyof typeof TABULATED)[])(
    '%s matches matplotlib’s table within 6/255 (the fit’s error) at its ends and middle',
    (name) => {
      const entries = [0, 128, 255]
      entries.forEach((entry, i) => {
        const rgb = colourMapRgb(name, entry / 255)
        const expected = TABULATED[name][i]!.map((v) => v * 255)
        for (let k = 0; k < 3; k++) expect(Math.abs(rgb[k]! - expected[k]!)).toBeLessThanOrEqual(6)
      })
    },
  )

  it.each(COLOUR_MAPS)('%s rises in lightness from quiet to loud, so louder always reads brighter', (name) => {
    const lut = colourMapLut(name)
    expect(lut).toHaveLength(256)
    for (let i = 8; i < 256; i += 8) expect(luma(lut[i]!)).toBeGreaterThan(luma(lut[i - 8]!))
    for (const v of lut) expect(v >>> 24).toBe(255)
  })

  it('packs the table as R, G, B, A bytes in memory (ImageData order)', () => {
    const bytes = new Uint8Array(colourMapLut('magma').buffer)
    const [r, g, b] = colourMapRgb('magma', 200 / 255)
    expect(Array.from(bytes.subarray(800, 804))).toEqual([r, g, b, 255])
  })

  it('grey runs from black to white', () => {
    expect(colourMapRgb('grey', 0)).toEqual([0, 0, 0])
    expect(colourMapRgb('grey', 1)).toEqual([255, 255, 255])
    expect(colourMapRgb('grey', 0.5)).toEqual([128, 128, 128])
  })

  it('clamps t outside 0 … 1 and reads NaN as the floor', () => {
    for (const name of COLOUR_MAPS) {
      expect(colourMapRgb(name, -3)).toEqual(colourMapRgb(name, 0))
      expect(colourMapRgb(name, 7)).toEqual(colourMapRgb(name, 1))
      expect(colourMapRgb(name, NaN)).toEqual(colourMapRgb(name, 0))
    }
  })
})

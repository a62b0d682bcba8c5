import { describe, expect, it } from 'vitest'
import { viridisLut, viridisRgb } from '../../src/renderer/src/live/colormap'
import { SampleRing } from '../../src/renderer/src/live/rings'
import { SpectrumColumn, levelsToIndices } from '../../src/renderer/src/live/spectrum'

describe('SpectrumColumn', () => {
  it('reads a full-scale sine centred on a bin as 0 dBFS at that bin, and far bins 60 dB down', () => {
    const column = new SpectrumColumn(512)
    const bin = 64 // 2 kHz at 16 kHz
    const ring = new SampleRing(2048)
    ring.push(Float32Array.from({ length: 2048 }, (_, i) => Math.sin((2 * Math.PI * bin * i) / 512)))
    const levels = column.computeFromRing(ring, 1000)
    expect(levels[bin]).toBeCloseTo(0, 1)
    expect(Math.max(...levels.slice(bin + 8))).toBeLessThan(-60)
    expect(Math.max(...levels.slice(0, bin - 8))).toBeLessThan(-60)
  })

  it('reads silence and non-finite input as the floor, never NaN', () => {
    const column = new SpectrumColumn(256)
    const samples = new Float32Array(256)
    samples[3] = NaN
    samples[7] = Infinity
    const levels = column.compute(samples)
    expect(levels.every((v) => v === -200)).toBe(true)
  })

  it('rejects a size that is not a power of 2', () => {
    expect(() => new SpectrumColumn(500)).toThrow(/fftSize/)
  })
})

describe('levelsToIndices', () => {
  it('maps the dB range linearly onto 0 … 255, clamped', () => {
    const out = new Uint8Array(4)
    levelsToIndices(Float32Array.from([-120, -100, -60, 0]), -100, -20, out)
    expect(Array.from(out)).toEqual([0, 0, 128, 255])
  })
})

describe('viridis colour map', () => {
  it('runs from dark purple to yellow with rising lightness', () => {
    const [r0, g0, b0] = viridisRgb(0)
    const [r1, g1, b1] = viridisRgb(1)
    expect(Math.abs(r0 - 68) + Math.abs(g0 - 1) + Math.abs(b0 - 84)).toBeLessThan(12)
    expect(Math.abs(r1 - 253) + Math.abs(g1 - 231) + Math.abs(b1 - 37)).toBeLessThan(12)
    const lut = viridisLut()
    const luma = (v: number) => 0.2126 * (v & 255) + 0.7152 * ((v >>> 8) & 255) + 0.0722 * ((v >>> 16) & 255)
    for (let i = 8; i < 256; i += 8) expect(luma(lut[i]!)).toBeGreaterThan(luma(lut[i - 8]!))
    expect(lut[0]! >>> 24).toBe(255)
  })
})

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decimateMinMax } from '../../src/renderer/src/live/decimate'
import { SampleRing } from '../../src/renderer/src/live/rings'

function decimate(ring: SampleRing, windowSamples: number, columns: number) {
  const min = new Float32Array(columns)
  const max = new Float32Array(columns)
  const clip = new Uint8Array(columns)
  const clipped = decimateMinMax(ring, windowSamples, min, max, clip)
  return { min, max, clip, clipped }
}

describe('decimateMinMax', () => {
  it('keeps every peak: each sample of the window lies within its column and every extreme appears', () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: -1, max: 1, noNaN: true }), { minLength: 1, maxLength: 3000 }),
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 50, max: 1000 }),
        (values, columns, capacity) => {
          const ring = new SampleRing(capacity)
          // Pushed in uneven pieces so the window crosses the wrap.
          for (let i = 0; i < values.length; i += 37) ring.push(Float32Array.from(values.slice(i, i + 37)))
          const window = Math.min(capacity, values.length)
          const { min, max } = decimate(ring, window, columns)
          const latest = Float32Array.from(values.slice(values.length - window))
          // The global extremes of the window show in some column.
          expect(Math.max(...max)).toBe(Math.max(...latest))
          expect(Math.min(...min)).toBe(Math.min(...latest))
          // Every sample shows at its place: within the envelope of a column at most one away from i·C/n.
          for (let i = 0; i < window; i++) {
            const place = Math.floor((i * columns) / window)
            let shown = false
            for (let c = Math.max(0, place - 1); c <= Math.min(columns - 1, place + 1); c++)
              if (min[c]! <= latest[i]! && latest[i]! <= max[c]!) shown = true
            expect(shown).toBe(true)
          }
        },
      ),
    )
  })

  it('shows a one-sample spike in a long window of silence', () => {
    const ring = new SampleRing(480000)
    const signal = new Float32Array(480000)
    signal[123457] = 0.9
    signal[400001] = -0.7
    ring.push(signal)
    const { min, max } = decimate(ring, 480000, 800)
    expect(max[Math.floor((123457 * 800) / 480000)]).toBeCloseTo(0.9, 6)
    expect(min[Math.floor((400001 * 800) / 480000)]).toBeCloseTo(-0.7, 6)
    expect(max.filter((v) => v > 0).length).toBe(1)
    expect(min.filter((v) => v < 0).length).toBe(1)
  })

  it('marks the columns holding clipped samples, and only those', () => {
    const ring = new SampleRing(1000)
    const signal = new Float32Array(1000).fill(0.5)
    signal[10] = 1
    signal[990] = -1
    ring.push(signal)
    const { clip, clipped } = decimate(ring, 1000, 100)
    expect(clipped).toBe(2)
    expect(clip[1]).toBe(1)
    expect(clip[99]).toBe(1)
  })

  it('reads the not-yet-written part of the window as silence', () => {
    const ring = new SampleRing(1000)
    ring.push(new Float32Array(100).fill(0.25))
    const { min, max } = decimate(ring, 1000, 10)
    for (let c = 0; c < 9; c++) expect([min[c], max[c]]).toEqual([0, 0])
    expect([min[9], max[9]]).toEqual([0.25, 0.25])
  })

  it('gives every column at least one sample when the window is shorter than the columns', () => {
    const ring = new SampleRing(100)
    ring.push(Float32Array.from([0.1, -0.2, 0.3]))
    const { min, max } = decimate(ring, 3, 9)
    for (let c = 0; c < 9; c++) expect(Number.isFinite(min[c]!) && Number.isFinite(max[c]!)).toBe(true)
    expect(Math.max(...max)).toBeCloseTo(0.3, 6)
    expect(Math.min(...min)).toBeCloseTo(-0.2, 6)
  })
})

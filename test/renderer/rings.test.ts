import { describe, expect, it } from 'vitest'
import { LiveRings, SampleRing } from '../../src/renderer/src/live/rings'

const ramp = (from: number, n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => from + i)

describe('SampleRing', () => {
  it('returns the latest samples in order across the wrap', () => {
    const ring = new SampleRing(10)
    ring.push(ramp(0, 7))
    ring.push(ramp(7, 6)) // 13 written, wraps
    const out = new Float32Array(10)
    ring.copyLatest(out)
    expect(Array.from(out)).toEqual(Array.from(ramp(3, 10)))
    expect(ring.totalWritten).toBe(13)
  })

  it('keeps only the last capacity samples of a push longer than the ring', () => {
    const ring = new SampleRing(8)
    ring.push(ramp(0, 21))
    const out = new Float32Array(8)
    ring.copyLatest(out)
    expect(Array.from(out)).toEqual(Array.from(ramp(13, 8)))
    expect(ring.totalWritten).toBe(21)
  })

  it('reads silence before the first sample and after the write position', () => {
    const ring = new SampleRing(16)
    ring.push(ramp(1, 4))
    const out = new Float32Array(8)
    ring.copyLatest(out)
    expect(Array.from(out)).toEqual([0, 0, 0, 0, 1, 2, 3, 4])
    ring.copyFrom(2, out)
    expect(Array.from(out)).toEqual([3, 4, 0, 0, 0, 0, 0, 0])
  })

  it('copies an absolute range and says whether it is still held', () => {
    const ring = new SampleRing(10)
    for (let i = 0; i < 5; i++) ring.push(ramp(i * 7, 7)) // 35 written: 25 … 34 held
    const out = new Float32Array(4)
    ring.copyFrom(27, out)
    expect(Array.from(out)).toEqual([27, 28, 29, 30])
    expect(ring.holds(25, 4)).toBe(true)
    expect(ring.holds(24, 4)).toBe(false)
  })

  it('reset forgets everything', () => {
    const ring = new SampleRing(4)
    ring.push(ramp(1, 3))
    ring.reset()
    const out = new Float32Array(4)
    ring.copyLatest(out)
    expect(Array.from(out)).toEqual([0, 0, 0, 0])
    expect(ring.totalWritten).toBe(0)
  })

  it('rejects a bad capacity naming the field', () => {
    expect(() => new SampleRing(0)).toThrow(/capacity/)
  })
})

describe('LiveRings', () => {
  it('writes a tap batch to the three tracks and bumps the version', () => {
    const rings = new LiveRings(16000, 1)
    const batch = {
      near: ramp(0, 640),
      far: ramp(1000, 640),
      processed: ramp(2000, 640),
      sampleRateHz: 16000,
      fromFrame: 10,
      frameCount: 2,
    }
    rings.pushBatch(batch)
    expect(rings.version).toBe(1)
    expect(rings.nextFrame).toBe(12)
    const out = new Float32Array(2)
    rings.far.copyLatest(out)
    expect(Array.from(out)).toEqual([1638, 1639])
    rings.pushBatch({ ...batch, sampleRateHz: 8000 })
    expect(rings.version).toBe(1)
  })
})

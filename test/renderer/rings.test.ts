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

  it('writes silence, wrapping, and counts a gap longer than the ring', () => {
    const ring = new SampleRing(8)
    ring.push(ramp(1, 6))
    ring.pushSilence(3)
    ring.push(ramp(7, 1))
    const out = new Float32Array(8)
    ring.copyLatest(out)
    expect(Array.from(out)).toEqual([3, 4, 5, 6, 0, 0, 0, 7])
    ring.pushSilence(20)
    expect(ring.totalWritten).toBe(30)
    ring.copyLatest(out)
    expect(Array.from(out)).toEqual([0, 0, 0, 0, 0, 0, 0, 0])
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

  it('starts afresh when a batch does not follow the last one (seek, loop, new capture)', () => {
    const rings = new LiveRings(16000, 1)
    const batch = (fromFrame: number, value: number) => ({
      near: new Float32Array(320).fill(value),
      far: new Float32Array(320).fill(value),
      processed: new Float32Array(320).fill(value),
      sampleRateHz: 16000,
      fromFrame,
      frameCount: 1,
    })
    rings.pushBatch(batch(0, 0.1))
    rings.pushBatch(batch(1, 0.2))
    expect(rings.near.totalWritten).toBe(640)
    rings.pushBatch(batch(0, 0.3)) // looped
    expect(rings.near.totalWritten).toBe(320)
    const out = new Float32Array(400)
    rings.processed.copyLatest(out)
    expect(out[79]).toBe(0)
    expect(out[80]).toBeCloseTo(0.3, 6)
  })

  it('writes a short gap (a dropped batch) as silence and keeps the position in step', () => {
    const rings = new LiveRings(16000, 1)
    const batch = (fromFrame: number, value: number) => ({
      near: new Float32Array(320).fill(value),
      far: new Float32Array(320).fill(value),
      processed: new Float32Array(320).fill(value),
      sampleRateHz: 16000,
      fromFrame,
      frameCount: 1,
    })
    rings.pushBatch(batch(0, 0.5))
    rings.pushBatch(batch(3, 0.5)) // frames 1 and 2 dropped
    expect(rings.far.totalWritten).toBe(4 * 320)
    const out = new Float32Array(4 * 320)
    rings.far.copyLatest(out)
    expect([out[319], out[320], out[959], out[960]]).toEqual([0.5, 0, 0, 0.5])
    rings.pushBatch(batch(1000, 0.5)) // 20 s ahead: more than the ring holds
    expect(rings.far.totalWritten).toBe(320)
  })
})

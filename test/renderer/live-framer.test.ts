import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { LiveFramer, frameBoundary, type LiveFrame } from '../../src/renderer/src/live-input/framer'

/** Sample i of the test stream carries i mod 2^20 (exact in Float32), the far end its negation. */
const MOD = 1 << 20

function stream(start: number, n: number, sign = 1): Float32Array {
  const x = new Float32Array(n)
  for (let i = 0; i < n; i++) x[i] = sign * ((start + i) % MOD)
  return x
}

/** Pushes `total` samples in blocks of the given sizes (cycled) and returns the frames emitted (copied). */
function run(rate: number, blocks: readonly number[], total: number, hasFar = true) {
  const framer = new LiveFramer({ sampleRateHz: rate, hasFar })
  const frames: LiveFrame[] = []
  const emit = (f: LiveFrame) => frames.push({ ...f, near: f.near.slice(), far: f.far === null ? null : f.far.slice() })
  let pushed = 0
  for (let b = 0; pushed < total; b++) {
    const n = Math.min(blocks[b % blocks.length]!, total - pushed)
    framer.push(stream(pushed, n), hasFar ? stream(pushed, n, -1) : null, n, emit)
    pushed += n
  }
  return { framer, frames }
}

/** Checks frames are contiguous, each cut at ⌊k·R·20/1000⌋, and carry the stream's samples in order. */
function checkFrames(rate: number, frames: LiveFrame[], hasFar = true): number {
  let next = 0
  let wrong = 0
  frames.forEach((frame, k) => {
    const length = frameBoundary(k + 1, rate) - frameBoundary(k, rate)
    if (frame.index !== k || frame.startSample !== next || next !== frameBoundary(k, rate)) wrong++
    if (frame.near.length !== length || (hasFar ? frame.far?.length !== length : frame.far !== null)) wrong++
    for (let i = 0; i < frame.near.length; i++) {
      const expected = (next + i) % MOD
      if (frame.near[i] !== expected) wrong++
      if (hasFar && frame.far![i] !== -expected) wrong++
    }
    next += frame.near.length
  })
  expect(wrong).toBe(0)
  return next
}

describe('LiveFramer', () => {
  it('cuts 48 kHz render quanta of 128 samples into 960-sample frames with nothing lost', () => {
    const { framer, frames } = run(48000, [128], 48000)
    expect(frames).toHaveLength(50)
    expect(frames.every((f) => f.near.length === 960)).toBe(true)
    expect(checkFrames(48000, frames)).toBe(48000)
    expect(framer.samplesPending).toBe(0)
  })

  it('cuts 44.1 kHz into 882-sample frames whatever the block size', () => {
    for (const block of [128, 256, 480, 441, 1000]) {
      const { framer, frames } = run(44100, [block], 44100 + 17)
      expect(frames).toHaveLength(50)
      expect(frames.every((f) => f.near.length === 882)).toBe(true)
      expect(checkFrames(44100, frames)).toBe(44100)
      expect(framer.samplesPending).toBe(17)
    }
  })

  it('alternates frame lengths at a fractional rate so that frame k ends at k·20 ms', () => {
    // 11 025 Hz · 20 ms = 220.5 samples per frame.
    const { frames } = run(11025, [128], 11025)
    expect(frames.slice(0, 4).map((f) => f.near.length)).toEqual([220, 221, 220, 221])
    expect(checkFrames(11025, frames)).toBe(11025)
    // 50 frames end exactly at 1 s.
    expect(frames).toHaveLength(50)
  })

  it('takes a missing capture block as silence and a missing far end as silence', () => {
    const framer = new LiveFramer({ sampleRateHz: 8000 })
    const frames: LiveFrame[] = []
    framer.push(null, null, 160, (f) => frames.push({ ...f, near: f.near.slice(), far: f.far!.slice() }))
    expect(frames).toHaveLength(1)
    expect(frames[0]!.near.every((v) => v === 0)).toBe(true)
    expect(frames[0]!.far!.every((v) => v === 0)).toBe(true)
  })

  it('hands out a fresh buffer per frame from the allocator (frames can be transferred)', () => {
    const lengths: number[] = []
    const framer = new LiveFramer({
      sampleRateHz: 11025,
      allocate: (n) => {
        lengths.push(n)
        return new Float32Array(n)
      },
    })
    const seen = new Set<Float32Array>()
    framer.push(stream(0, 1000), stream(0, 1000, -1), 1000, (f) => {
      expect(seen.has(f.near)).toBe(false)
      seen.add(f.near)
      seen.add(f.far!)
    })
    // The first frame's near and far, then one pair per frame emitted.
    expect(lengths).toEqual([220, 220, 221, 221, 220, 220, 221, 221, 220, 220])
  })

  it('rejects a rate outside 8–192 kHz naming the field', () => {
    expect(() => new LiveFramer({ sampleRateHz: 4000 })).toThrow(/sampleRateHz/)
    expect(() => new LiveFramer({ sampleRateHz: 44100.5 })).toThrow(/sampleRateHz/)
    expect(() => new LiveFramer({ sampleRateHz: 48000, frameMs: 0 })).toThrow(/frameMs/)
  })

  it('conserves every sample, in order, at any rate 8–192 kHz and any block sizes (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 8000, max: 192000 }),
        fc.oneof(
          fc.constantFrom([128], [256], [480]),
          fc.array(fc.integer({ min: 1, max: 4096 }), { minLength: 1, maxLength: 20 }),
        ),
        fc.integer({ min: 0, max: 60000 }),
        fc.boolean(),
        (rate, blocks, total, hasFar) => {
          const { framer, frames } = run(rate, blocks, total, hasFar)
          const framed = checkFrames(rate, frames, hasFar)
          // Conservation: samples in = samples framed + samples pending in the partial frame.
          expect(framed + framer.samplesPending).toBe(total)
          expect(framer.samplesPushed).toBe(total)
          expect(framer.framesEmitted).toBe(frames.length)
          // Every complete 20 ms period has been emitted, and no more.
          expect(frameBoundary(frames.length, rate)).toBeLessThanOrEqual(total)
          expect(frameBoundary(frames.length + 1, rate)).toBeGreaterThan(total)
        },
      ),
      { numRuns: 200 },
    )
  })
})

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FRAME_METRICS, NETWORK_OUTCOMES, type FrameEvent, type FrameMetricName } from '../../src/shared/contract'
import { MetricRings, type MetricBatch } from '../../src/renderer/src/live/metric-rings'

const CONCEALED = NETWORK_OUTCOMES.indexOf('concealed')

/** A batch whose every metric at frame f is `f + offset(metric)` (so a value names its frame), with the given events. */
function batch(
  fromFrame: number,
  frameCount: number,
  options: { events?: FrameEvent[]; concealed?: number[] } = {},
): MetricBatch {
  const metrics = {} as Record<FrameMetricName, Float32Array>
  FRAME_METRICS.forEach((name, m) => {
    metrics[name] = Float32Array.from({ length: frameCount }, (_, i) => fromFrame + i + 10_000 * m)
  })
  metrics.networkOutcome = new Float32Array(frameCount)
  for (const frame of options.concealed ?? []) metrics.networkOutcome[frame - fromFrame] = CONCEALED
  return { fromFrame, frameCount, frameMs: 20, metrics, events: options.events ?? [] }
}

const frames = (rings: MetricRings, name: FrameMetricName, from: number, n: number): number[] => {
  const out = new Float64Array(n)
  rings.copyFrames(name, from, out)
  return Array.from(out)
}

describe('MetricRings', () => {
  it('returns each metric by engine frame, across batches and the wrap', () => {
    const rings = new MetricRings(8)
    rings.pushBatch(batch(0, 5))
    rings.pushBatch(batch(5, 6)) // 11 frames into 8: frames 3 … 10 held
    expect(rings.oldestFrame).toBe(3)
    expect(rings.nextFrame).toBe(11)
    expect(frames(rings, 'jitterMs', 3, 8)).toEqual([3, 4, 5, 6, 7, 8, 9, 10])
    expect(rings.latest('erleDb')).toBe(10 + 10_000 * FRAME_METRICS.indexOf('erleDb'))
  })

  it('reads NaN for frames before the first, overwritten, or not yet written', () => {
    const rings = new MetricRings(8)
    rings.pushBatch(batch(100, 4))
    expect(frames(rings, 'jitterMs', 98, 8)).toEqual([NaN, NaN, 100, 101, 102, 103, NaN, NaN])
    rings.pushBatch(batch(104, 8)) // frames 104 … 111; 100 … 103 overwritten
    expect(rings.value('jitterMs', 103)).toBeNaN()
    expect(rings.value('jitterMs', 104)).toBe(104)
  })

  it('keeps only the last capacity frames of a batch longer than the ring', () => {
    const rings = new MetricRings(4)
    rings.pushBatch(batch(0, 10))
    expect(frames(rings, 'bufferDelayMs', 6, 4)).toEqual([6, 7, 8, 9].map((f) => f + 10_000))
    expect(rings.value('bufferDelayMs', 5)).toBeNaN()
  })

  it('shows a short gap (a dropped batch) as NaN and keeps the frames around it', () => {
    const rings = new MetricRings(32)
    rings.pushBatch(batch(0, 5))
    rings.pushBatch(batch(8, 4)) // frames 5, 6, 7 never arrived
    expect(frames(rings, 'jitterMs', 3, 7)).toEqual([3, 4, NaN, NaN, NaN, 8, 9])
    expect(rings.firstFrame).toBe(0)
  })

  it('starts afresh on a seek back, a loop to the start, or a jump past the capacity', () => {
    const rings = new MetricRings(16)
    rings.pushBatch(batch(0, 10, { events: [{ frame: 3, kind: 'packet-lost', count: 1 }] }))
    const version = rings.version
    rings.pushBatch(batch(0, 2)) // looped
    expect(rings.version).toBeGreaterThan(version)
    expect(rings.firstFrame).toBe(0)
    expect(rings.nextFrame).toBe(2)
    expect(rings.value('jitterMs', 5)).toBeNaN()
    expect(rings.totals[1]).toBe(0)
    expect(rings.countEvents('lost', 0, 100)).toBe(0)
    rings.pushBatch(batch(500, 3)) // far ahead
    expect(rings.firstFrame).toBe(500)
    expect(rings.value('jitterMs', 1)).toBeNaN()
    expect(frames(rings, 'jitterMs', 499, 5)).toEqual([NaN, 500, 501, 502, NaN])
  })

  it('records late and lost packets and concealed frames as events, in frame order', () => {
    const rings = new MetricRings(64)
    rings.pushBatch(
      batch(10, 10, {
        events: [
          { frame: 11, kind: 'packet-late', count: 1 },
          { frame: 13, kind: 'packet-lost', count: 2 },
          { frame: 13, kind: 'config-applied', count: 1 },
          { frame: 18, kind: 'packet-late', count: 1 },
        ],
        concealed: [12, 13, 14],
      }),
    )
    const marks = new Float64Array(10).fill(NaN)
    expect(rings.markEvents('concealed', 10, marks, 1)).toBe(3)
    expect(Array.from(marks)).toEqual([NaN, NaN, 1, 1, 1, NaN, NaN, NaN, NaN, NaN])
    marks.fill(NaN)
    expect(rings.markEvents('lost', 10, marks)).toBe(1)
    expect(marks[3]).toBe(2)
    expect(rings.countEvents('late', 10, 20)).toBe(2)
    expect(rings.countEvents('late', 12, 20)).toBe(1)
    expect(Array.from(rings.totals)).toEqual([2, 2, 3])
  })

  it('marks only the events inside the window and forgets the oldest when the event ring is full', () => {
    const rings = new MetricRings(256, 8)
    const events: FrameEvent[] = []
    for (let f = 0; f < 20; f++) events.push({ frame: f, kind: 'packet-lost', count: 1 })
    rings.pushBatch(batch(0, 20, { events }))
    const marks = new Float32Array(20).fill(NaN)
    expect(rings.markEvents('lost', 0, marks, 5)).toBe(8) // only the newest 8 are held
    expect(Number.isNaN(marks[11]!)).toBe(true)
    expect(marks[12]).toBe(5)
    expect(rings.totals[1]).toBe(20) // the totals still count every one
  })

  it('averages the latest frames, skipping gaps', () => {
    const rings = new MetricRings(32)
    rings.pushBatch(batch(0, 4))
    rings.pushBatch(batch(6, 2)) // 4, 5 missing
    expect(rings.meanLatest('jitterMs', 4)).toBeCloseTo((6 + 7) / 2)
    expect(rings.meanLatest('jitterMs', 100)).toBeCloseTo((0 + 1 + 2 + 3 + 6 + 7) / 6)
    expect(new MetricRings(4).meanLatest('jitterMs', 10)).toBeNaN()
  })

  it('ignores empty batches and rejects a bad capacity', () => {
    const rings = new MetricRings(8)
    rings.pushBatch(batch(0, 0))
    expect(rings.nextFrame).toBe(-1)
    expect(rings.latest('jitterMs')).toBeNaN()
    expect(() => new MetricRings(0)).toThrow(/capacityFrames/)
    expect(() => new MetricRings(8, 1.5)).toThrow(/eventCapacity/)
  })

  it('holds exactly the latest min(capacity, frames since the reset) frames for any batch sizes and gaps', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.record({ gap: fc.integer({ min: 0, max: 5 }), count: fc.integer({ min: 0, max: 30 }) }), {
          maxLength: 20,
        }),
        (capacity, batches) => {
          const rings = new MetricRings(capacity)
          let next = 0
          const written = new Set<number>()
          for (const { gap, count } of batches) {
            const from = next + (written.size === 0 ? 0 : gap)
            rings.pushBatch(batch(from, count))
            if (count === 0) continue
            if (from - next >= capacity) written.clear()
            for (let f = from; f < from + count; f++) written.add(f)
            next = from + count
          }
          if (written.size === 0) return rings.nextFrame === -1
          const first = Math.min(...written)
          for (let f = first - 2; f < next + 2; f++) {
            const expected = written.has(f) && f >= next - capacity ? f : NaN
            expect(rings.value('jitterMs', f)).toEqual(expected)
          }
          return true
        },
      ),
    )
  })
})

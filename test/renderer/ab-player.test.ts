import { describe, expect, it } from 'vitest'
import {
  AbScheduler,
  CROSSFADE_S,
  fadeGain,
  JITTER_MARGIN_S,
  MAX_LEAD_S,
  startFade,
  steadyFade,
} from '../../src/renderer/src/ab-player'

const BATCH_S = 0.032 // ~30 batches/s of 20 ms frames, rounded to whole frames

describe('AbScheduler', () => {
  it('queues batches back to back, the first one the jitter margin ahead of the clock', () => {
    const scheduler = new AbScheduler()
    const starts: number[] = []
    const arrivals: number[] = []
    for (let i = 0; i < 50; i++) {
      // Arrivals jitter by up to ±40 ms around their real-time pace.
      const jitter = (((i * 37) % 9) - 4) * 0.01
      arrivals.push(10 + i * BATCH_S + jitter)
      starts.push(scheduler.schedule(arrivals[i]!, BATCH_S)!)
    }
    expect(starts[0]).toBeCloseTo(arrivals[0]! + JITTER_MARGIN_S, 12)
    // Every batch starts after it arrived.
    for (let i = 0; i < starts.length; i++) expect(starts[i]).toBeGreaterThan(arrivals[i]!)
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeCloseTo(BATCH_S, 12)
    expect(scheduler.underruns).toBe(0)
    expect(scheduler.dropped).toBe(0)
    expect(scheduler.scheduled).toBe(50)
  })

  it('restarts the queue from now + the margin after the tap falls behind (a pause), and counts it', () => {
    const scheduler = new AbScheduler()
    scheduler.schedule(0, BATCH_S)
    scheduler.schedule(0.03, BATCH_S)
    // Paused for 2 s: the queue ran dry long ago.
    const start = scheduler.schedule(2.0, BATCH_S)!
    expect(start).toBeCloseTo(2.0 + JITTER_MARGIN_S, 12)
    expect(scheduler.underruns).toBe(1)
    // No overlap with what was queued before (it ended at 0.12 + 2 batches).
    expect(start).toBeGreaterThan(JITTER_MARGIN_S + 2 * BATCH_S)
  })

  it('drops batches that come faster than real time instead of piling up delay', () => {
    const scheduler = new AbScheduler()
    let played = 0
    // 200 batches arriving at 10× real time.
    for (let i = 0; i < 200; i++) if (scheduler.schedule(i * (BATCH_S / 10), BATCH_S) !== null) played++
    const now = 199 * (BATCH_S / 10)
    expect(scheduler.nextStartS - now).toBeLessThanOrEqual(MAX_LEAD_S + BATCH_S)
    expect(scheduler.dropped).toBe(200 - played)
    expect(played).toBeLessThan(40)
  })

  it('starts afresh after a reset', () => {
    const scheduler = new AbScheduler()
    scheduler.schedule(0, BATCH_S)
    scheduler.reset()
    expect(scheduler.schedule(5, BATCH_S)).toBeCloseTo(5 + JITTER_MARGIN_S, 12)
    expect(scheduler.underruns).toBe(0)
  })
})

describe('A/B crossfade', () => {
  it('moves the original gain from 0 to 1 in CROSSFADE_S, linearly, the two gains summing to 1', () => {
    const fade = startFade(steadyFade('processed'), 'original', 3)
    expect(fade.durationS).toBeCloseTo(CROSSFADE_S, 12)
    expect(fadeGain(fade, 2.9)).toBe(0)
    expect(fadeGain(fade, 3)).toBe(0)
    expect(fadeGain(fade, 3 + CROSSFADE_S / 2)).toBeCloseTo(0.5, 12)
    expect(fadeGain(fade, 3 + CROSSFADE_S)).toBe(1)
    expect(fadeGain(fade, 4)).toBe(1)
    // Sampled at 16 kHz: no step larger than the slope allows (1 / CROSSFADE_S per second), and gains within 0 … 1.
    let previous = fadeGain(fade, 3)
    for (let t = 3; t < 3 + 2 * CROSSFADE_S; t += 1 / 16000) {
      const g = fadeGain(fade, t)
      expect(g).toBeGreaterThanOrEqual(0)
      expect(g).toBeLessThanOrEqual(1)
      expect(Math.abs(g - previous)).toBeLessThanOrEqual(1 / (CROSSFADE_S * 16000) + 1e-12)
      previous = g
    }
  })

  it('reverses a switch mid-fade from where the gain is, at the same slope (no step)', () => {
    const first = startFade(steadyFade('processed'), 'original', 0)
    const t = CROSSFADE_S * 0.3
    const back = startFade(first, 'processed', t)
    expect(back.from).toBeCloseTo(fadeGain(first, t), 12)
    expect(back.from).toBeCloseTo(0.3, 12)
    expect(back.to).toBe(0)
    expect(back.durationS).toBeCloseTo(CROSSFADE_S * 0.3, 12)
    expect(fadeGain(back, t + back.durationS)).toBe(0)
  })

  it('switching to the source already playing changes nothing', () => {
    const fade = startFade(steadyFade('original'), 'original', 1)
    expect(fade.durationS).toBe(0)
    expect(fadeGain(fade, 1)).toBe(1)
  })
})

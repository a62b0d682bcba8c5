import { describe, expect, it } from 'vitest'
import type { EchoPathReply } from '../../src/shared/contract'
import { Random } from '../../src/dsp/random'
import { decimateTaps, summariseEchoPath, tickStepMs } from '../../src/renderer/src/charts/echo-path-chart'

const RATE_HZ = 16000

/** A reply whose taps are a room response: noise decaying by 60 dB over `rt60Ms`, from the window start. */
function room(rt60Ms: number, overrides: Partial<EchoPathReply> = {}): EchoPathReply {
  const taps = new Float32Array(overrides.effectiveLength ?? 1024)
  const random = new Random(7)
  const tau = (rt60Ms * RATE_HZ) / 1000 / Math.log(1000) // amplitude e^(−i/τ) is −60 dB at rt60
  for (let i = 0; i < taps.length; i++) taps[i] = random.normal() * Math.exp(-i / tau) * 0.3
  return {
    sampleRateHz: RATE_HZ,
    engine: 'mdf',
    filterLength: taps.length,
    effectiveLength: taps.length,
    bulkDelayMs: 24,
    windowStartMs: 20,
    delayConfidence: 0.9,
    delayStable: true,
    taps,
    state: 'converged',
    active: true,
    ...overrides,
  }
}

describe('summariseEchoPath', () => {
  it('places the window and the strongest tap in ms after the far-end sample', () => {
    const reply = room(30, { effectiveLength: 1024, filterLength: 1000 })
    reply.taps.fill(0)
    reply.taps[64] = -0.8 // 4 ms into the window
    const summary = summariseEchoPath(reply)
    expect(summary.windowStartMs).toBe(20)
    expect(summary.windowEndMs).toBe(20 + 64)
    expect(summary.effectiveMs).toBe(64)
    expect(summary.setMs).toBe(62.5)
    expect(summary.peakTap).toBe(64)
    expect(summary.peakMs).toBe(24)
    expect(summary.peakAbs).toBeCloseTo(0.8, 6)
  })

  it('does not flag a room whose echo dies out inside a 64 ms filter', () => {
    for (const rt60Ms of [30, 60, 100]) {
      const summary = summariseEchoPath(room(rt60Ms))
      expect(summary.tailEnergyDb).toBeLessThan(-30)
      expect(summary.isTailCut).toBe(false)
    }
  })

  it('flags an echo tail that runs past the filter (60 dB over 200 ms in a 64 ms filter)', () => {
    const summary = summariseEchoPath(room(200))
    expect(summary.tailEnergyDb).toBeGreaterThan(-30)
    expect(summary.isTailCut).toBe(true)
    // The same room in a filter 4× as long: the tail has died out by its end.
    expect(summariseEchoPath(room(200, { effectiveLength: 4096 })).isTailCut).toBe(false)
  })

  it('does not flag a filter that is still converging, inactive, or all zeros', () => {
    expect(summariseEchoPath(room(200, { state: 'converging' })).isTailCut).toBe(false)
    expect(summariseEchoPath(room(200, { active: false })).isTailCut).toBe(false)
    const silent = summariseEchoPath(room(200, { taps: new Float32Array(1024) }))
    expect(silent.isTailCut).toBe(false)
    expect(silent.peakTap).toBeNull()
    expect(silent.tailEnergyDb).toBe(-Infinity)
  })

  it('ignores non-finite taps', () => {
    const reply = room(30)
    reply.taps[5] = NaN
    reply.taps[6] = Infinity
    const summary = summariseEchoPath(reply)
    expect(Number.isFinite(summary.peakAbs)).toBe(true)
    expect(Number.isFinite(summary.tailEnergyDb)).toBe(true)
  })
})

describe('tickStepMs', () => {
  it('picks 1, 2 or 5 × 10^k ms giving at most the ticks asked for', () => {
    expect(tickStepMs(84, 6)).toBe(20)
    expect(tickStepMs(100, 10)).toBe(10)
    expect(tickStepMs(530, 5)).toBe(200)
    expect(tickStepMs(9, 4)).toBe(5)
    for (const span of [1, 7, 64, 130, 512, 2000])
      for (const ticks of [2, 5, 8]) {
        const step = tickStepMs(span, ticks)
        expect(span / step).toBeLessThanOrEqual(ticks + 1e-9)
        expect(span / step).toBeGreaterThan(ticks / 5 - 1e-9) // never coarser than the next round step
      }
  })
})

describe('decimateTaps', () => {
  it('gives each pixel column the min and max of the taps it covers, NaN where none', () => {
    const taps = Float32Array.from([0.1, -0.5, 0.3, 0.2, -0.1, 0.05])
    const lo = new Float32Array(6)
    const hi = new Float32Array(6)
    decimateTaps(taps, 1, 0.5, lo, hi) // taps 0–1 → column 1, 2–3 → 2, 4–5 → 3
    expect(Array.from(lo)).toEqual([NaN, -0.5, 0.2, -0.1, NaN, NaN].map((v) => Math.fround(v)))
    expect(Array.from(hi)).toEqual([NaN, 0.1, 0.3, 0.05, NaN, NaN].map((v) => Math.fround(v)))
  })
})

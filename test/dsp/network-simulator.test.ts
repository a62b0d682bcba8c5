import { describe, expect, it } from 'vitest'
import {
  NETWORK_PROFILES,
  NetworkSimulator,
  burstyLoss,
  makeStream,
  type Arrival,
  type NetworkProfileName,
} from '../../src/dsp/network-simulator'

const LONG = makeStream({ count: 50_000 })

function delays(arrivals: readonly Arrival[]): number[] {
  return arrivals.filter((a) => !a.isDuplicate).map((a) => a.arrivalMs - a.sendMs)
}

function mean(values: readonly number[]): number {
  return values.reduce((s, v) => s + v, 0) / values.length
}

/** Lengths of the runs of consecutive lost packets. */
function lossBursts(sentCount: number, arrivals: readonly Arrival[]): number[] {
  const received = new Uint8Array(sentCount)
  for (const a of arrivals) received[a.index] = 1
  const bursts: number[] = []
  let run = 0
  for (let i = 0; i < sentCount; i++) {
    if (received[i] === 0) run++
    else if (run > 0) {
      bursts.push(run)
      run = 0
    }
  }
  if (run > 0) bursts.push(run)
  return bursts
}

describe('NetworkSimulator', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = new NetworkSimulator({ profile: 'wifi', seed: 5 }).simulate(LONG.slice(0, 3000))
    const b = new NetworkSimulator({ profile: 'wifi', seed: 5 }).simulate(LONG.slice(0, 3000))
    const c = new NetworkSimulator({ profile: 'wifi', seed: 6 }).simulate(LONG.slice(0, 3000))
    expect(b).toEqual(a)
    expect(c).not.toEqual(a)
    const simulator = new NetworkSimulator({ profile: 'lossy', seed: 9 })
    expect(simulator.simulate(LONG.slice(0, 500))).toEqual(simulator.simulate(LONG.slice(0, 500)))
  })

  it('adds gamma jitter with the configured mean above the base delay', () => {
    const arrivals = new NetworkSimulator({
      baseDelayMs: 30,
      jitterMeanMs: 12,
      jitterShape: 2,
      fifo: false,
      seed: 1,
      ...burstyLoss(0, 1),
    }).simulate(LONG)
    const d = delays(arrivals)
    expect(Math.min(...d)).toBeGreaterThanOrEqual(30)
    expect(mean(d) - 30).toBeGreaterThan(12 * 0.97)
    expect(mean(d) - 30).toBeLessThan(12 * 1.03)
    // Gamma(k = 2): variance k·θ² = 2·6² → standard deviation ≈ 8.5 ms.
    const m = mean(d)
    const sd = Math.sqrt(mean(d.map((v) => (v - m) ** 2)))
    expect(sd).toBeGreaterThan(8.1)
    expect(sd).toBeLessThan(8.9)
  })

  it('produces Gilbert–Elliott bursty loss at the requested rate and mean burst length', () => {
    const sim = new NetworkSimulator({ profile: 'good', jitterMeanMs: 0, ...burstyLoss(0.03, 3), seed: 2 })
    const arrivals = sim.simulate(LONG)
    const lossRate = sim.stats.lost / LONG.length
    expect(lossRate).toBeGreaterThan(0.027)
    expect(lossRate).toBeLessThan(0.033)
    const bursts = lossBursts(LONG.length, arrivals)
    expect(mean(bursts)).toBeGreaterThan(2.7)
    expect(mean(bursts)).toBeLessThan(3.3)
    // Random (Bernoulli) loss at 3 % would give a mean burst of 1/(1 − 0.03) ≈ 1.03.
    const random = new NetworkSimulator({ profile: 'good', ...burstyLoss(0.03, 1), seed: 2 })
    expect(mean(lossBursts(LONG.length, random.simulate(LONG)))).toBeLessThan(1.1)
  })

  it('keeps FIFO order, so a delay spike drains as a ramp of back-to-back arrivals', () => {
    const sim = new NetworkSimulator({
      profile: 'good',
      spikeProbability: 0.01,
      spikeMinMs: 200,
      spikeMaxMs: 200,
      seed: 3,
    })
    const arrivals = sim.simulate(LONG.slice(0, 5000))
    expect(sim.stats.spikes).toBeGreaterThan(20)
    expect(sim.stats.outOfOrder).toBe(0)
    expect(arrivals.every((a, i) => i === 0 || a.index > arrivals[i - 1]!.index)).toBe(true)
    // The packet after a 200 ms spike is held behind it: its delay is ≈ 200 − 20 ms.
    const byIndex = new Map(arrivals.map((a) => [a.index, a]))
    let ramps = 0
    for (const a of arrivals) {
      const delay = a.arrivalMs - a.sendMs
      const following = byIndex.get(a.index + 1)
      if (delay > 215 && following) {
        expect(following.arrivalMs - following.sendMs).toBeGreaterThan(delay - 20 - 1e-6)
        ramps++
      }
    }
    expect(ramps).toBeGreaterThan(10)
  })

  it('reorders and duplicates packets at about the configured rates', () => {
    const sim = new NetworkSimulator({
      profile: 'good',
      reorderProbability: 0.05,
      reorderDelayMs: 60,
      duplicateProbability: 0.02,
      seed: 4,
    })
    const arrivals = sim.simulate(LONG)
    expect(sim.stats.reordered / sim.stats.delivered).toBeCloseTo(0.05, 2)
    expect(sim.stats.duplicated / sim.stats.delivered).toBeCloseTo(0.02, 2)
    expect(sim.stats.outOfOrder).toBeGreaterThan(0.03 * LONG.length)
    expect(arrivals.filter((a) => a.isDuplicate)).toHaveLength(sim.stats.duplicated)
    expect(arrivals.every((a, i) => i === 0 || a.arrivalMs >= arrivals[i - 1]!.arrivalMs)).toBe(true)
  })

  it('keeps one impairment unchanged when another is changed (independent random streams)', () => {
    const clean = new NetworkSimulator({ profile: 'wifi', seed: 8, ...burstyLoss(0, 1), reorderProbability: 0 })
    const lossy = new NetworkSimulator({ profile: 'wifi', seed: 8, ...burstyLoss(0.1, 2), reorderProbability: 0 })
    const all = new Map(clean.simulate(LONG.slice(0, 3000)).map((a) => [`${a.index}:${a.isDuplicate}`, a.arrivalMs]))
    // Without FIFO coupling the surviving packets keep their delays exactly.
    const cleanNoFifo = new NetworkSimulator({ profile: 'wifi', seed: 8, fifo: false, ...burstyLoss(0, 1) })
    const lossyNoFifo = new NetworkSimulator({ profile: 'wifi', seed: 8, fifo: false, ...burstyLoss(0.1, 2) })
    const reference = new Map(cleanNoFifo.simulate(LONG.slice(0, 3000)).map((a) => [`${a.index}:${a.isDuplicate}`, a]))
    const survivors = lossyNoFifo.simulate(LONG.slice(0, 3000))
    expect(survivors.length).toBeLessThan(2900)
    for (const a of survivors) expect(a.arrivalMs).toBe(reference.get(`${a.index}:${a.isDuplicate}`)!.arrivalMs)
    expect(lossy.simulate(LONG.slice(0, 3000)).length).toBeLessThan(all.size)
  })

  it('gives each named profile its character', () => {
    const stats = (profile: NetworkProfileName) => {
      const sim = new NetworkSimulator({ profile, seed: 10 })
      const d = delays(sim.simulate(LONG.slice(0, 15_000)))
      const sorted = [...d].sort((x, y) => x - y)
      return {
        loss: sim.stats.lost / 15_000,
        p99: sorted[Math.floor(0.99 * sorted.length)]! - sorted[0]!,
        spikes: sim.stats.spikes,
      }
    }
    const good = stats('good')
    const wifi = stats('wifi')
    const congested = stats('congested')
    const lossy = stats('lossy')
    expect(good.loss).toBeLessThan(0.003)
    expect(good.p99).toBeLessThan(15)
    expect(wifi.spikes).toBeGreaterThan(20)
    expect(congested.p99).toBeGreaterThan(wifi.p99)
    expect(congested.p99).toBeGreaterThan(50)
    expect(lossy.loss).toBeGreaterThan(0.04)
    expect(lossy.loss).toBeLessThan(0.06)
    for (const name of Object.keys(NETWORK_PROFILES) as NetworkProfileName[]) {
      expect(new NetworkSimulator({ profile: name }).params).toEqual(NETWORK_PROFILES[name])
    }
  })

  it('scales arrival times by the clock drift and rounds them to microseconds', () => {
    const sim = new NetworkSimulator({ profile: 'good', jitterMeanMs: 0, clockDriftPpm: 100, seed: 1 })
    const arrivals = sim.simulate(makeStream({ count: 3000 }))
    const last = arrivals[arrivals.length - 1]!
    // 60 s at +100 ppm: 6 ms later than without drift.
    expect(last.arrivalMs - (last.sendMs + 20)).toBeCloseTo(((last.sendMs + 20) * 100) / 1e6, 2)
    expect(arrivals.every((a) => Math.abs(a.arrivalMs * 1000 - Math.round(a.arrivalMs * 1000)) < 1e-6)).toBe(true)
  })

  it('makes clean streams whose seq and timestamp wrap like RTP', () => {
    const s = makeStream({ count: 10, startSeq: 65534, startTimestamp: 0xffffff00, frameMs: 20, sampleRateHz: 8000 })
    expect(s.map((p) => p.seq)).toEqual([65534, 65535, 0, 1, 2, 3, 4, 5, 6, 7])
    expect(s[2]!.rtpTimestamp).toBe((0xffffff00 + 320) >>> 0)
    expect(s[9]!.sendMs).toBe(180)
  })

  it('rejects out-of-range parameters with a RangeError naming the field', () => {
    expect(() => new NetworkSimulator({ lossInBad: 1.5 })).toThrow(/lossInBad/)
    expect(() => new NetworkSimulator({ jitterShape: 0 })).toThrow(/jitterShape/)
    expect(() => new NetworkSimulator({ baseDelayMs: -1 })).toThrow(/baseDelayMs/)
    expect(() => new NetworkSimulator({ reorderProbability: Number.NaN })).toThrow(/reorderProbability/)
    expect(() => new NetworkSimulator({ profile: 'moon' as NetworkProfileName })).toThrow(/profile/)
    expect(() => burstyLoss(1, 2)).toThrow(/lossRate/)
  })
})

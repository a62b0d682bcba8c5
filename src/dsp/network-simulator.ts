/**
 * NetworkSimulator: turns a clean RTP packet sequence (seq, timestamp, send time) into the arrivals a receiver would
 * see across an impaired IP path. Deterministic: the same seed, parameters and packets give the same arrivals on
 * every platform. Used by the jitter-buffer tests and by the workbench's what-if replay of captures.
 *
 * Model, per packet i (each process draws from its own seeded stream, so changing one impairment keeps the others'
 * realisation, e.g. the same jitter with more loss):
 * - Network delay dᵢ = baseDelayMs + gamma jitter (shape k, mean jitterMeanMs; the queueing-delay model used for
 *   VoIP jitter, e.g. Dbira et al.) + a delay spike. A spike starts with probability spikeProbability per packet and
 *   has a heavy-tailed (Pareto) height, capped at spikeMaxMs: a Wi-Fi retransmission burst or a congested bottleneck.
 * - FIFO queueing (`fifo: true`, the default): a packet does not overtake the one sent before it, so a spike drains as
 *   a ramp (the packets queued behind it arrive back to back), as on a real bottleneck.
 * - Bursty loss, Gilbert–Elliott two-state Markov chain (Gilbert 1960, Elliott 1963): Good → Bad with probability
 *   lossGoodToBad per packet, Bad → Good with lossBadToGood; a packet is lost with lossInGood / lossInBad in each
 *   state. Stationary loss rate = (r·lossInGood + p·lossInBad) / (p + r); mean burst ≈ 1 / r when lossInBad = 1.
 *   `burstyLoss(rate, meanBurstPackets)` derives the chain from those two figures.
 * - Reordering: with reorderProbability a packet takes an extra uniform delay in (0, reorderDelayMs] and leaves the
 *   FIFO (the packets behind it are not held back), so later packets overtake it.
 * - Duplicates: with duplicateProbability a second copy arrives up to duplicateDelayMs after the first.
 * - Clock drift: the receiver clock runs clockDriftPpm fast (arrival times scale by 1 + ppm·1e-6).
 * Arrival times are rounded to 1 µs, the resolution of a pcap file, so a trace written to pcap reads back exactly.
 *
 * Named profiles (`good`, `wifi`, `congested`, `lossy`) are starting points; explicit parameters override them.
 * Not a hot path: simulate() allocates its result.
 */
import { Random } from './random'

export interface NetworkParams {
  /** Minimum one-way delay (propagation + fixed processing), ms. */
  baseDelayMs: number
  /** Mean of the gamma-distributed queueing delay added to every packet, ms (0 = none). */
  jitterMeanMs: number
  /** Gamma shape k of the queueing delay (1 = exponential; larger = more symmetric). */
  jitterShape: number
  /** Probability per packet that a delay spike starts on it. */
  spikeProbability: number
  /** Smallest spike height (Pareto scale xm), ms. */
  spikeMinMs: number
  /** Pareto tail index α of spike heights (smaller = heavier tail). */
  spikeAlpha: number
  /** Largest spike height, ms. */
  spikeMaxMs: number
  /** Gilbert–Elliott p: probability per packet of going from the Good to the Bad state. */
  lossGoodToBad: number
  /** Gilbert–Elliott r: probability per packet of going from the Bad to the Good state. */
  lossBadToGood: number
  /** Loss probability in the Good state. */
  lossInGood: number
  /** Loss probability in the Bad state. */
  lossInBad: number
  /** Probability per packet of being reordered (held back and overtaken). */
  reorderProbability: number
  /** Largest extra delay of a reordered packet, ms. */
  reorderDelayMs: number
  /** Probability per delivered packet of arriving twice. */
  duplicateProbability: number
  /** Largest extra delay of the duplicate copy, ms. */
  duplicateDelayMs: number
  /** Packets keep their order through the queue (spikes drain as a ramp). */
  fifo: boolean
  /** Receiver clock runs this much fast, parts per million. */
  clockDriftPpm: number
}

export type NetworkProfileName = 'good' | 'wifi' | 'congested' | 'lossy'

export interface NetworkSimulatorOptions extends Partial<NetworkParams> {
  /** Seed of the random streams (default 1). */
  seed?: number
  /** Starting profile (default 'good'); explicit parameters override its fields. */
  profile?: NetworkProfileName
}

/** One packet as sent: RTP fields and the sender's clock, ms. */
export interface SentPacket {
  seq: number
  rtpTimestamp: number
  sendMs: number
  ssrc?: number
}

/** One packet as received. Arrivals are returned in arrival order. */
export interface Arrival {
  /** Index of the packet in the list passed to simulate(). */
  index: number
  seq: number
  rtpTimestamp: number
  ssrc: number
  sendMs: number
  arrivalMs: number
  /** The second copy of a duplicated packet. */
  isDuplicate: boolean
  /** The packet was taken out of the FIFO and delayed to be overtaken. */
  isReordered: boolean
}

export interface SimulationStats {
  sent: number
  lost: number
  delivered: number
  duplicated: number
  reordered: number
  spikes: number
  /** Arrivals that came after a packet with a higher send index (by arrival order). */
  outOfOrder: number
}

export interface StreamOptions {
  count: number
  startSeq?: number
  startTimestamp?: number
  ssrc?: number
  frameMs?: number
  sampleRateHz?: number
  startMs?: number
}

/** Gilbert–Elliott parameters for a stationary loss rate and a mean burst length in packets (lossInBad = 1). */
export function burstyLoss(
  lossRate: number,
  meanBurstPackets: number,
): Pick<NetworkParams, 'lossGoodToBad' | 'lossBadToGood' | 'lossInGood' | 'lossInBad'> {
  if (!(lossRate >= 0 && lossRate < 1)) throw new RangeError(`lossRate: ${lossRate} is outside [0, 1)`)
  if (!(meanBurstPackets >= 1)) throw new RangeError(`meanBurstPackets: ${meanBurstPackets} is below 1`)
  // π_B = p / (p + r) = lossRate with r = 1 / meanBurst  →  p = lossRate·r / (1 − lossRate)
  const r = 1 / meanBurstPackets
  const p = (lossRate * r) / (1 - lossRate)
  return { lossGoodToBad: p, lossBadToGood: r, lossInGood: 0, lossInBad: lossRate > 0 ? 1 : 0 }
}

const NO_IMPAIRMENT: NetworkParams = {
  baseDelayMs: 20,
  jitterMeanMs: 0,
  jitterShape: 2,
  spikeProbability: 0,
  spikeMinMs: 50,
  spikeAlpha: 1.5,
  spikeMaxMs: 400,
  lossGoodToBad: 0,
  lossBadToGood: 1,
  lossInGood: 0,
  lossInBad: 0,
  reorderProbability: 0,
  reorderDelayMs: 40,
  duplicateProbability: 0,
  duplicateDelayMs: 20,
  fifo: true,
  clockDriftPpm: 0,
}

/** Named starting points. Figures are per 20 ms packet. */
export const NETWORK_PROFILES: Readonly<Record<NetworkProfileName, Readonly<NetworkParams>>> = {
  // Wired broadband: ~2 ms queueing, 0.1 % random loss.
  good: { ...NO_IMPAIRMENT, baseDelayMs: 20, jitterMeanMs: 2, jitterShape: 2, ...burstyLoss(0.001, 1) },
  // Wi-Fi: small jitter, a retransmission spike every ~7 s (40–300 ms, heavy tail), short loss bursts, rare reorder.
  wifi: {
    ...NO_IMPAIRMENT,
    baseDelayMs: 15,
    jitterMeanMs: 8,
    jitterShape: 1.5,
    spikeProbability: 0.003,
    spikeMinMs: 40,
    spikeAlpha: 1.6,
    spikeMaxMs: 300,
    ...burstyLoss(0.005, 2),
    reorderProbability: 0.002,
    reorderDelayMs: 30,
    duplicateProbability: 0.001,
  },
  // Congested bottleneck: large queueing jitter, occasional 60–400 ms spikes, 1 % loss in bursts.
  congested: {
    ...NO_IMPAIRMENT,
    baseDelayMs: 60,
    jitterMeanMs: 25,
    jitterShape: 3,
    spikeProbability: 0.002,
    spikeMinMs: 60,
    spikeAlpha: 1.8,
    spikeMaxMs: 400,
    ...burstyLoss(0.01, 3),
    reorderProbability: 0.005,
    reorderDelayMs: 40,
    duplicateProbability: 0.001,
  },
  // Lossy path: moderate jitter, 5 % loss in bursts of ~3, some reorder and duplicates.
  lossy: {
    ...NO_IMPAIRMENT,
    baseDelayMs: 40,
    jitterMeanMs: 6,
    jitterShape: 2,
    ...burstyLoss(0.05, 3),
    reorderProbability: 0.003,
    reorderDelayMs: 40,
    duplicateProbability: 0.005,
  },
}

/** A clean stream of consecutive packets: seq and timestamp wrap like RTP's (16 / 32 bit). */
export function makeStream(options: StreamOptions): SentPacket[] {
  const frameMs = options.frameMs ?? 20
  const sampleRateHz = options.sampleRateHz ?? 8000
  const frameSamples = Math.round((sampleRateHz * frameMs) / 1000)
  const startSeq = options.startSeq ?? 0
  const startTimestamp = options.startTimestamp ?? 0
  const startMs = options.startMs ?? 0
  const ssrc = options.ssrc ?? 0x12345678
  const out: SentPacket[] = []
  for (let i = 0; i < options.count; i++) {
    out.push({
      seq: (startSeq + i) & 0xffff,
      rtpTimestamp: (startTimestamp + i * frameSamples) >>> 0,
      sendMs: startMs + i * frameMs,
      ssrc,
    })
  }
  return out
}

const PROBABILITIES: readonly (keyof NetworkParams)[] = [
  'spikeProbability',
  'lossGoodToBad',
  'lossBadToGood',
  'lossInGood',
  'lossInBad',
  'reorderProbability',
  'duplicateProbability',
]
const NON_NEGATIVE_MS: readonly (keyof NetworkParams)[] = [
  'baseDelayMs',
  'jitterMeanMs',
  'spikeMaxMs',
  'reorderDelayMs',
  'duplicateDelayMs',
]

export class NetworkSimulator {
  readonly params: NetworkParams
  readonly seed: number
  /** Counts of the last simulate() call. */
  readonly stats: SimulationStats = {
    sent: 0,
    lost: 0,
    delivered: 0,
    duplicated: 0,
    reordered: 0,
    spikes: 0,
    outOfOrder: 0,
  }

  constructor(options: NetworkSimulatorOptions = {}) {
    const { seed = 1, profile = 'good', ...overrides } = options
    const base = NETWORK_PROFILES[profile]
    if (base === undefined)
      throw new RangeError(`profile: '${String(profile)}' is not one of good, wifi, congested, lossy`)
    const params: NetworkParams = { ...base }
    for (const [key, value] of Object.entries(overrides)) {
      if (value !== undefined) (params as unknown as Record<string, unknown>)[key] = value
    }
    validate(params)
    this.params = params
    this.seed = seed >>> 0
  }

  /** Arrivals of `packets` (in send order) through the simulated path, sorted by arrival time. */
  simulate(packets: readonly SentPacket[]): Arrival[] {
    const p = this.params
    // One stream per process, so each impairment's realisation is independent of the others' parameters.
    const jitterRandom = new Random(this.seed ^ 0x9e3779b9)
    const spikeRandom = new Random(this.seed ^ 0x7f4a7c15)
    const lossRandom = new Random(this.seed ^ 0x3c6ef372)
    const reorderRandom = new Random(this.seed ^ 0xa54ff53a)
    const duplicateRandom = new Random(this.seed ^ 0x510e527f)
    const stats = this.stats
    stats.sent = packets.length
    stats.lost = stats.delivered = stats.duplicated = stats.reordered = stats.spikes = stats.outOfOrder = 0

    const jitterScale = p.jitterMeanMs / p.jitterShape // gamma scale θ = mean / k
    const drift = 1 + p.clockDriftPpm * 1e-6
    const arrivals: Arrival[] = []
    let isBad = false
    let queueFreeMs = -Infinity // FIFO: the earliest time the next in-order packet can leave the queue
    for (let i = 0; i < packets.length; i++) {
      const packet = packets[i]!
      // Draw every stream once per packet, whatever the branch, so realisations stay aligned across parameters.
      const jitterMs = p.jitterMeanMs > 0 ? jitterRandom.gamma(p.jitterShape, jitterScale) : 0
      const spikeDraw = spikeRandom.next()
      const spikeHeight = spikeRandom.pareto(p.spikeMinMs, p.spikeAlpha)
      const lossDraw = lossRandom.next()
      const stateDraw = lossRandom.next()
      const reorderDraw = reorderRandom.next()
      const reorderExtra = reorderRandom.next()
      const duplicateDraw = duplicateRandom.next()
      const duplicateExtra = duplicateRandom.next()

      const lost = lossDraw < (isBad ? p.lossInBad : p.lossInGood)
      // State transition after this packet (Gilbert–Elliott).
      isBad = isBad ? !(stateDraw < p.lossBadToGood) : stateDraw < p.lossGoodToBad

      let delayMs = p.baseDelayMs + jitterMs
      if (spikeDraw < p.spikeProbability) {
        delayMs += Math.min(spikeHeight, p.spikeMaxMs)
        stats.spikes++
      }
      let leaveMs = packet.sendMs + delayMs
      const isReordered = reorderDraw < p.reorderProbability
      if (isReordered) {
        leaveMs += (1 - reorderExtra) * p.reorderDelayMs // (0, reorderDelayMs]
      } else if (p.fifo) {
        if (leaveMs < queueFreeMs) leaveMs = queueFreeMs
        queueFreeMs = leaveMs
      }
      if (lost) {
        stats.lost++
        continue
      }
      if (isReordered) stats.reordered++
      stats.delivered++
      arrivals.push(arrival(i, packet, roundUs(leaveMs * drift), false, isReordered))
      if (duplicateDraw < p.duplicateProbability) {
        stats.duplicated++
        const copyMs = leaveMs + duplicateExtra * p.duplicateDelayMs
        arrivals.push(arrival(i, packet, roundUs(copyMs * drift), true, isReordered))
      }
    }
    // Stable sort by arrival time: equal times keep send order (the FIFO's order).
    arrivals.sort(
      (a, b) => a.arrivalMs - b.arrivalMs || a.index - b.index || Number(a.isDuplicate) - Number(b.isDuplicate),
    )
    let highestIndex = -1
    for (const a of arrivals) {
      if (a.isDuplicate) continue
      if (a.index < highestIndex) stats.outOfOrder++
      else highestIndex = a.index
    }
    return arrivals
  }
}

function arrival(
  index: number,
  packet: SentPacket,
  arrivalMs: number,
  isDuplicate: boolean,
  isReordered: boolean,
): Arrival {
  return {
    index,
    seq: packet.seq,
    rtpTimestamp: packet.rtpTimestamp,
    ssrc: packet.ssrc ?? 0,
    sendMs: packet.sendMs,
    arrivalMs,
    isDuplicate,
    isReordered,
  }
}

/** Rounds ms to whole microseconds (pcap resolution). */
function roundUs(ms: number): number {
  return Math.round(ms * 1000) / 1000
}

function validate(p: NetworkParams): void {
  for (const key of PROBABILITIES) {
    const value = p[key] as number
    if (!(value >= 0 && value <= 1)) throw new RangeError(`${key}: ${value} is outside 0–1`)
  }
  for (const key of NON_NEGATIVE_MS) {
    const value = p[key] as number
    if (!(value >= 0 && value <= 60_000)) throw new RangeError(`${key}: ${value} is outside 0–60000 ms`)
  }
  if (!(p.jitterShape > 0 && p.jitterShape <= 100))
    throw new RangeError(`jitterShape: ${p.jitterShape} is outside (0, 100]`)
  if (!(p.spikeMinMs > 0 && p.spikeMinMs <= 60_000))
    throw new RangeError(`spikeMinMs: ${p.spikeMinMs} is outside (0, 60000] ms`)
  if (!(p.spikeAlpha > 0 && p.spikeAlpha <= 100))
    throw new RangeError(`spikeAlpha: ${p.spikeAlpha} is outside (0, 100]`)
  if (!(Math.abs(p.clockDriftPpm) <= 10_000))
    throw new RangeError(`clockDriftPpm: ${p.clockDriftPpm} is outside ±10000`)
  if (typeof p.fifo !== 'boolean') throw new RangeError(`fifo: ${String(p.fifo)} is not a boolean`)
}

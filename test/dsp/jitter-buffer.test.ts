import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { g711DecodeFloat } from '../../src/dsp/g711'
import { JitterBuffer, type JitterBufferConfig, type PlayoutOutcome } from '../../src/dsp/jitter-buffer'
import {
  NetworkSimulator,
  burstyLoss,
  makeStream,
  type Arrival,
  type NetworkSimulatorOptions,
  type SentPacket,
} from '../../src/dsp/network-simulator'
import { seqDiff } from '../../src/dsp/units'
import {
  JITTER_TRACE_PCAP,
  JITTER_TRACE_TSHARK,
  jitterTracePcap,
  makeJitterTrace,
  runTshark,
} from '../fixtures/make-pcap-fixture'
import { parseTsharkRtpStreams, writeRtpPcap } from '../helpers/pcap'

const FRAME = 160
const FRAME_MS = 20

/** A frame whose samples encode (seq, ts) so a played frame can be traced back to its packet. */
function payloadFor(seq: number, rtpTimestamp: number, out = new Float32Array(FRAME)): Float32Array {
  out.fill(0.25 * Math.sin(seq) + 0.1 * Math.cos(rtpTimestamp / FRAME))
  return out
}

interface TraceRun {
  jb: JitterBuffer
  ticks: number
  outcomes: Record<PlayoutOutcome, number>
  /** Playout tick time of each packet played, by `${ssrc}:${seq}`. */
  playedAtMs: Map<string, number>
  /** Violations of at-most-once and in-order playout found while running. */
  orderErrors: string[]
  nonFiniteOut: number
  payloadMismatches: number
}

/**
 * Drives a jitter buffer with a trace the way the pipeline does: on each 20 ms tick, push every packet that has
 * arrived, then take one frame. Runs until 1 s after the last arrival so the buffer drains.
 */
function runTrace(
  arrivals: readonly Arrival[],
  config: Partial<JitterBufferConfig> = { minDelayMs: 0 },
  phaseMs = 7,
  withSsrc = false,
): TraceRun {
  const jb = new JitterBuffer(config)
  const out = new Float32Array(FRAME)
  const payload = new Float32Array(FRAME)
  const expected = new Float32Array(FRAME)
  const outcomes: Record<PlayoutOutcome, number> = { ok: 0, missing: 0, inserted: 0, idle: 0 }
  const playedAtMs = new Map<string, number>()
  const ssrcOf = new Map<string, number>()
  for (const a of arrivals) ssrcOf.set(`${a.seq}:${a.rtpTimestamp}`, a.ssrc)
  const orderErrors: string[] = []
  const lastSeqBySsrc = new Map<number, number>()
  let nonFiniteOut = 0
  let payloadMismatches = 0
  let ticks = 0
  let next = 0
  const endMs = arrivals[arrivals.length - 1]!.arrivalMs + 1000
  for (let nowMs = phaseMs; nowMs < endMs; nowMs += FRAME_MS) {
    while (next < arrivals.length && arrivals[next]!.arrivalMs <= nowMs) {
      const a = arrivals[next++]!
      jb.push(payloadFor(a.seq, a.rtpTimestamp, payload), a.seq, a.rtpTimestamp, a.arrivalMs, withSsrc ? a.ssrc : -1)
    }
    const outcome = jb.playout(nowMs, out)
    ticks++
    outcomes[outcome]++
    for (const v of out) if (!Number.isFinite(v)) nonFiniteOut++
    if (outcome !== 'ok') continue
    const ssrc = ssrcOf.get(`${jb.lastPlayedSeq}:${jb.lastPlayedTimestamp}`)
    if (ssrc === undefined) {
      orderErrors.push(`played unknown packet ${jb.lastPlayedSeq}`)
      continue
    }
    const key = `${ssrc}:${jb.lastPlayedSeq}`
    if (playedAtMs.has(key)) orderErrors.push(`played twice: ${key}`)
    const last = lastSeqBySsrc.get(ssrc)
    if (last !== undefined && seqDiff(last, jb.lastPlayedSeq) <= 0) orderErrors.push(`out of order: ${last} → ${key}`)
    lastSeqBySsrc.set(ssrc, jb.lastPlayedSeq)
    playedAtMs.set(key, nowMs)
    payloadFor(jb.lastPlayedSeq, jb.lastPlayedTimestamp, expected)
    if (out[0] !== expected[0] || out[FRAME - 1] !== expected[FRAME - 1]) payloadMismatches++
  }
  return { jb, ticks, outcomes, playedAtMs, orderErrors, nonFiniteOut, payloadMismatches }
}

interface SegmentScore {
  sent: number
  received: number
  played: number
  /** Received packets never played (arrived after their playout time, dropped to shrink, flushed), / sent. */
  lateLoss: number
  lateCount: number
  meanDepthMs: number
  optimalDepthMs: number
  allowedDepthMs: number
}

/**
 * METRICS.md scoring of one stream (one SSRC): hindsight-optimal fixed delay D (at most 1 % of the received
 * packets have d > D), optimal depth = D − min d rounded up to the 20 ms grid; the buffer's depth = playout time −
 * send time − min d, averaged over the packets played; late loss = received but not played, / sent.
 */
function score(run: TraceRun, arrivals: readonly Arrival[], sent: readonly SentPacket[], ssrc: number): SegmentScore {
  const received = new Map<number, Arrival>()
  for (const a of arrivals) if (a.ssrc === ssrc && !a.isDuplicate) received.set(a.seq, a)
  const delays = [...received.values()].map((a) => a.arrivalMs - a.sendMs).sort((x, y) => x - y)
  const minDelay = delays[0]!
  const hindsight = delays[delays.length - 1 - Math.floor(0.01 * delays.length)]!
  const optimalDepthMs = Math.ceil((hindsight - minDelay) / FRAME_MS - 1e-9) * FRAME_MS
  let depthSum = 0
  let played = 0
  for (const a of received.values()) {
    const t = run.playedAtMs.get(`${ssrc}:${a.seq}`)
    if (t === undefined) continue
    depthSum += t - a.sendMs - minDelay
    played++
  }
  const sentCount = sent.filter((p) => p.ssrc === ssrc).length
  return {
    sent: sentCount,
    received: received.size,
    played,
    lateCount: received.size - played,
    lateLoss: (received.size - played) / sentCount,
    meanDepthMs: depthSum / played,
    optimalDepthMs,
    allowedDepthMs: Math.max(1.3 * optimalDepthMs, optimalDepthMs + 20),
  }
}

interface TraceCase {
  name: string
  sim: NetworkSimulatorOptions
  streams: SentPacket[][]
}

const SECONDS_60 = 3000
const TRACES: TraceCase[] = [
  {
    name: 'low jitter',
    sim: { profile: 'good', jitterMeanMs: 4, seed: 1 },
    streams: [makeStream({ count: SECONDS_60, startSeq: 100, ssrc: 1 })],
  },
  {
    name: 'high jitter with spikes',
    sim: {
      profile: 'wifi',
      jitterMeanMs: 20,
      jitterShape: 1.5,
      spikeProbability: 0.004,
      spikeMinMs: 60,
      spikeMaxMs: 300,
      seed: 1,
    },
    streams: [makeStream({ count: SECONDS_60, startSeq: 20000, ssrc: 2 })],
  },
  {
    name: '3% bursty loss',
    sim: { profile: 'lossy', ...burstyLoss(0.03, 3), seed: 1 },
    streams: [makeStream({ count: SECONDS_60, startSeq: 4000, ssrc: 3 })],
  },
  {
    name: 'reorder and duplicates',
    sim: {
      profile: 'good',
      jitterMeanMs: 10,
      reorderProbability: 0.05,
      reorderDelayMs: 60,
      duplicateProbability: 0.05,
      seed: 1,
    },
    streams: [makeStream({ count: SECONDS_60, startSeq: 30000, ssrc: 4 })],
  },
  {
    name: 'sequence and timestamp wrap',
    sim: { profile: 'wifi', seed: 1 },
    streams: [
      makeStream({ count: SECONDS_60, startSeq: 64000, startTimestamp: 0xffffffff - 1000 * FRAME + 1, ssrc: 5 }),
    ],
  },
  {
    name: 'stream restart (new seq, timestamp and SSRC)',
    sim: { profile: 'congested', reorderProbability: 0.02, seed: 1 },
    streams: [
      makeStream({ count: SECONDS_60, startSeq: 1000, startTimestamp: 5000, ssrc: 6 }),
      makeStream({ count: SECONDS_60, startSeq: 40000, startTimestamp: 123456789, ssrc: 7, startMs: 60_000 }),
    ],
  },
]

describe('JitterBuffer on simulated 60 s traces (minDelayMs 0)', () => {
  /** Runs a trace and checks the invariants that hold on every trace; returns the per-stream scores. */
  function checkTrace(trace: TraceCase, seed: number): SegmentScore[] {
    const sent = trace.streams.flat()
    const arrivals = new NetworkSimulator({ ...trace.sim, seed }).simulate(sent)
    const run = runTrace(arrivals)
    expect(run.orderErrors).toEqual([])
    expect(run.nonFiniteOut).toBe(0)
    expect(run.payloadMismatches).toBe(0)
    // One frame per tick, whatever happened.
    const { ok, missing, inserted, idle } = run.outcomes
    expect(ok + missing + inserted + idle).toBe(run.ticks)
    expect(ok).toBe(run.playedAtMs.size)
    const m = run.jb.metrics
    expect(m.played).toBe(ok)
    expect(m.concealed).toBe(missing + inserted)
    // The buffer's own late count is the test's: received packets that were never played.
    const receivedUnique = new Set(arrivals.filter((a) => !a.isDuplicate).map((a) => `${a.ssrc}:${a.seq}`)).size
    expect(m.late + m.flushed).toBe(receivedUnique - ok)
    expect(m.dropped).toBeLessThanOrEqual(m.late)
    expect(m.duplicate).toBe(arrivals.filter((a) => a.isDuplicate).length)
    expect(m.resyncs).toBe(trace.streams.length - 1)
    return trace.streams.map((stream) => score(run, arrivals, sent, stream[0]!.ssrc!))
  }

  for (const trace of TRACES) {
    it(`${trace.name}: each packet played at most once and in order, late loss ≤ 1 %, depth near hindsight-optimal`, () => {
      for (const s of checkTrace(trace, trace.sim.seed!)) {
        const label = `${trace.name}: ${JSON.stringify(s)}`
        expect(s.lateLoss, label).toBeLessThanOrEqual(0.01)
        expect(s.meanDepthMs, label).toBeLessThanOrEqual(s.allowedDepthMs)
      }
    })
  }

  it('meets both targets on nearly every other seed of the six traces (seeds 2–6)', () => {
    // A causal buffer cannot foresee a trace whose largest spikes come last: over many seeds it misses a target
    // on about 3 % of runs, by little. A mistuned one (e.g. the 95th percentile) misses on a third of them.
    let misses = 0
    let worstLate = 0
    let worstDepthRatio = 0
    for (const trace of TRACES) {
      for (let seed = 2; seed <= 6; seed++) {
        for (const s of checkTrace(trace, seed)) {
          if (s.lateLoss > 0.01 || s.meanDepthMs > s.allowedDepthMs) misses++
          worstLate = Math.max(worstLate, s.lateLoss)
          worstDepthRatio = Math.max(worstDepthRatio, s.meanDepthMs / s.allowedDepthMs)
        }
      }
    }
    expect(misses).toBeLessThanOrEqual(2) // of 35 streams
    expect(worstLate).toBeLessThanOrEqual(0.0125)
    expect(worstDepthRatio).toBeLessThanOrEqual(1.1)
  })

  it('keeps the target between minDelayMs and maxDelayMs under spikes, and holds it in fixed mode', () => {
    const sent = makeStream({ count: SECONDS_60 })
    const arrivals = new NetworkSimulator(TRACES[1]!.sim).simulate(sent)
    const targets: number[] = []
    const jb = new JitterBuffer() // defaults 40 / 80 / 200
    const fixed = new JitterBuffer({ mode: 'fixed', targetDelayMs: 60 })
    const out = new Float32Array(FRAME)
    let next = 0
    for (let nowMs = 3; nowMs < 61_000; nowMs += FRAME_MS) {
      while (next < arrivals.length && arrivals[next]!.arrivalMs <= nowMs) {
        const a = arrivals[next++]!
        jb.push(out, a.seq, a.rtpTimestamp, a.arrivalMs)
        fixed.push(out, a.seq, a.rtpTimestamp, a.arrivalMs)
      }
      jb.playout(nowMs, out)
      fixed.playout(nowMs, out)
      targets.push(jb.metrics.targetDelayMs)
      expect(fixed.metrics.targetDelayMs).toBe(60)
    }
    expect(Math.min(...targets)).toBeGreaterThanOrEqual(40)
    expect(Math.max(...targets)).toBeLessThanOrEqual(200)
    expect(Math.max(...targets)).toBeGreaterThan(100) // it did grow for the spikes
  })

  it('plays a fixed-mode stream at the configured depth on the 20 ms grid', () => {
    const sent = makeStream({ count: 1500, ssrc: 9 })
    const arrivals = new NetworkSimulator({ profile: 'good', seed: 4 }).simulate(sent)
    const run = runTrace(arrivals, { mode: 'fixed', minDelayMs: 0, targetDelayMs: 60 })
    const s = score(run, arrivals, sent, 9)
    // Depth is the smallest grid point ≥ 60 ms above the fastest packet: 60 ≤ depth < 80.
    expect(s.meanDepthMs).toBeGreaterThanOrEqual(60)
    expect(s.meanDepthMs).toBeLessThan(80)
    expect(s.lateLoss).toBe(0)
  })

  it('grows within a few frames when the jitter steps up and shrinks by at most 10 ms/s afterwards', () => {
    // 20 s good, 20 s congested, 20 s good: three simulators over consecutive slices of one stream.
    const sent = makeStream({ count: 3000 })
    const parts: Arrival[] = []
    const profiles: NetworkSimulatorOptions[] = [
      { profile: 'good', seed: 1, baseDelayMs: 40 },
      { profile: 'congested', seed: 2, baseDelayMs: 40, spikeProbability: 0, lossGoodToBad: 0, reorderProbability: 0 },
      { profile: 'good', seed: 3, baseDelayMs: 40 },
    ]
    profiles.forEach((p, i) => {
      const slice = sent.slice(i * 1000, (i + 1) * 1000)
      for (const a of new NetworkSimulator(p).simulate(slice)) parts.push({ ...a, index: a.index + i * 1000 })
    })
    parts.sort((a, b) => a.arrivalMs - b.arrivalMs)
    const jb = new JitterBuffer({ minDelayMs: 0 })
    const out = new Float32Array(FRAME)
    const targetAt = new Map<number, number>()
    let next = 0
    for (let nowMs = 0; nowMs < 61_000; nowMs += FRAME_MS) {
      while (next < parts.length && parts[next]!.arrivalMs <= nowMs) {
        const a = parts[next++]!
        jb.push(out, a.seq, a.rtpTimestamp, a.arrivalMs)
      }
      jb.playout(nowMs, out)
      targetAt.set(nowMs, jb.metrics.targetDelayMs)
    }
    const before = targetAt.get(19_900)!
    const settled = targetAt.get(39_900)!
    expect(before).toBeLessThan(15)
    expect(settled).toBeGreaterThan(50)
    // Grows within frames of the change: half-way to the settled target after 1 s, most of it after 2 s.
    expect(targetAt.get(21_000)!).toBeGreaterThan(before + 0.4 * (settled - before))
    expect(targetAt.get(22_000)!).toBeGreaterThan(before + 0.6 * (settled - before))
    // After the congestion ends it shrinks slowly: never faster than 10 ms per second, but it does shrink.
    for (let t = 40_000; t < 60_000; t += 500) {
      expect(targetAt.get(t)! - targetAt.get(t + 500)!).toBeLessThanOrEqual(5 + 1e-9)
    }
    expect(targetAt.get(40_500)!).toBeGreaterThan(settled - 10)
    expect(targetAt.get(60_000)!).toBeLessThan(settled - 30)
  })
})

describe('JitterBuffer RFC 3550 interarrival jitter', () => {
  /** RFC 3550 A.8 in arrival order, duplicates excluded, in ms; mean over packets after the first. */
  function referenceJitter(arrivals: readonly Arrival[], rateHz = 8000) {
    let j = 0
    let sum = 0
    let count = 0
    let max = 0
    let previous: Arrival | undefined
    for (const a of arrivals) {
      if (a.isDuplicate) continue
      if (previous) {
        const d = a.arrivalMs - previous.arrivalMs - (((a.rtpTimestamp - previous.rtpTimestamp) | 0) * 1000) / rateHz
        j += (Math.abs(d) - j) / 16
        sum += j
        count++
        max = Math.max(max, j)
      }
      previous = a
    }
    return { jitterMs: j, meanJitterMs: sum / count, maxJitterMs: max }
  }

  /** The buffer after playing the whole trace (every packet but duplicates enters the jitter estimate). */
  function pushAll(arrivals: readonly Arrival[]): JitterBuffer {
    return runTrace(arrivals, {}).jb
  }

  it('follows the RFC 3550 estimator in arrival order on a trace with reordering, duplicates and a wrap', () => {
    const arrivals = new NetworkSimulator(TRACES[3]!.sim).simulate(makeStream({ count: 3000, startSeq: 65000 }))
    const jb = pushAll(arrivals)
    const ref = referenceJitter(arrivals)
    expect(jb.metrics.jitterMs).toBeCloseTo(ref.jitterMs, 9)
    expect(jb.metrics.meanJitterMs).toBeCloseTo(ref.meanJitterMs, 9)
    expect(jb.metrics.maxJitterMs).toBeCloseTo(ref.maxJitterMs, 9)
    expect(jb.metrics.jitterMs).toBeGreaterThan(1)
  })

  it('matches the committed tshark RTP stream analysis of the same trace (mean and max jitter)', () => {
    // The committed pcap is this trace: regenerate with `npx tsx test/fixtures/make-pcap-fixture.ts` if not.
    const committed = new Uint8Array(readFileSync(JITTER_TRACE_PCAP))
    expect(Buffer.compare(Buffer.from(committed), Buffer.from(jitterTracePcap()))).toBe(0)
    const [stream] = parseTsharkRtpStreams(readFileSync(JITTER_TRACE_TSHARK, 'utf8'))
    const arrivals = makeJitterTrace()
    const jb = pushAll(arrivals)
    expect(stream!.packets).toBe(arrivals.length)
    // tshark prints ms with 3 decimals.
    expect(Math.abs(jb.metrics.meanJitterMs - stream!.meanJitterMs)).toBeLessThanOrEqual(0.0006)
    expect(Math.abs(jb.metrics.maxJitterMs - stream!.maxJitterMs)).toBeLessThanOrEqual(0.0006)
    expect(jb.metrics.expected - jb.metrics.received).toBe(stream!.lost)
  })

  it.runIf(existsSync('/usr/bin/tshark'))('matches tshark run live on a freshly written pcap of another trace', () => {
    const arrivals = new NetworkSimulator({
      profile: 'congested',
      seed: 11,
      reorderProbability: 0,
      duplicateProbability: 0,
    }).simulate(makeStream({ count: 1000, startSeq: 65300, ssrc: 0xabc }))
    const dir = mkdtempSync(join(tmpdir(), 'jb-pcap-'))
    try {
      const path = join(dir, 'trace.pcap')
      writeFileSync(path, writeRtpPcap(arrivals, { snapLength: 66 }))
      const [stream] = parseTsharkRtpStreams(runTshark(path, '/usr/bin/tshark'))
      const jb = pushAll(arrivals)
      expect(Math.abs(jb.metrics.meanJitterMs - stream!.meanJitterMs)).toBeLessThanOrEqual(0.0006)
      expect(Math.abs(jb.metrics.maxJitterMs - stream!.maxJitterMs)).toBeLessThanOrEqual(0.0006)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('JitterBuffer sequence handling', () => {
  /** Pushes packets arriving at their send time + delayMs, playing out every 20 ms. */
  function drive(
    jb: JitterBuffer,
    packets: readonly { seq: number; ts: number; sendMs: number; ssrc?: number; delayMs?: number }[],
    untilMs: number,
  ) {
    const out = new Float32Array(FRAME)
    const outcomes: PlayoutOutcome[] = []
    const played: number[] = []
    const queue = packets.map((p) => ({ ...p, at: p.sendMs + (p.delayMs ?? 30) })).sort((a, b) => a.at - b.at)
    let next = 0
    for (let nowMs = 0; nowMs < untilMs; nowMs += FRAME_MS) {
      while (next < queue.length && queue[next]!.at <= nowMs) {
        const p = queue[next++]!
        jb.push(payloadFor(p.seq, p.ts), p.seq, p.ts, p.at, p.ssrc ?? -1)
      }
      const o = jb.playout(nowMs, out)
      outcomes.push(o)
      if (o === 'ok') played.push(jb.lastPlayedSeq)
    }
    return { outcomes, played }
  }

  function stream(count: number, seq0: number, ts0: number, t0: number, ssrc?: number) {
    return Array.from({ length: count }, (_, i) => ({
      seq: (seq0 + i) & 0xffff,
      ts: (ts0 + i * FRAME) >>> 0,
      sendMs: t0 + i * FRAME_MS,
      ssrc,
    }))
  }

  it('resynchronises on a sequence jump instead of concealing thousands of frames', () => {
    const jb = new JitterBuffer({ mode: 'fixed', targetDelayMs: 60 })
    // seq jumps by 5000 with the timestamp continuing (a sender bug / restart without a new SSRC).
    const packets = [...stream(100, 10, 0, 0), ...stream(100, 5110, 100 * FRAME, 2000)]
    const { outcomes, played } = drive(jb, packets, 4100) // until the last packet has played
    expect(jb.metrics.resyncs).toBe(1)
    // All played but the few still buffered from the old stream when the new one was confirmed (flushed).
    expect(played.length + jb.metrics.flushed).toBe(200)
    expect(jb.metrics.flushed).toBeLessThanOrEqual(4)
    expect(outcomes.filter((o) => o === 'missing' || o === 'inserted').length).toBeLessThan(10)
  })

  it('resynchronises on a timestamp jump and on an SSRC change', () => {
    const jb = new JitterBuffer()
    const packets = [...stream(100, 10, 0, 0), ...stream(100, 110, 90_000_000, 2000)]
    drive(jb, packets, 5000)
    expect(jb.metrics.resyncs).toBe(1)
    const ssrcChange = new JitterBuffer()
    drive(ssrcChange, [...stream(50, 10, 0, 0, 1), ...stream(50, 60, 50 * FRAME, 1000, 2)], 3000)
    expect(ssrcChange.metrics.resyncs).toBe(1)
  })

  it('ignores one stray packet from nowhere instead of flushing', () => {
    const jb = new JitterBuffer({ mode: 'fixed', targetDelayMs: 60 })
    const packets = [...stream(200, 10, 0, 0)]
    packets.splice(100, 0, { seq: 40000, ts: 777, sendMs: 2000, ssrc: undefined })
    const { played } = drive(jb, packets, 5000)
    expect(jb.metrics.resyncs).toBe(0)
    expect(jb.metrics.flushed).toBe(0)
    expect(played).toHaveLength(200)
    expect(played).not.toContain(40000)
  })

  it('counts duplicates and late packets and never plays them', () => {
    const jb = new JitterBuffer({ mode: 'fixed', minDelayMs: 0, targetDelayMs: 40 })
    const packets = stream(100, 65500, 0, 0).map((p) => ({ ...p, delayMs: 30 }))
    packets.push({ ...packets[10]!, delayMs: 35 }) // duplicate
    packets.push({ ...packets[50]!, delayMs: 31 }) // duplicate
    packets[70] = { ...packets[70]!, delayMs: 400 } // late
    const { played } = drive(jb, packets, 3000)
    expect(jb.metrics.duplicate).toBe(2)
    expect(jb.metrics.late).toBe(1)
    expect(new Set(played).size).toBe(played.length)
    expect(played).toHaveLength(99)
    expect(played).not.toContain((65500 + 70) & 0xffff)
  })

  it.each([
    ['fixed 40 ms', { mode: 'fixed', targetDelayMs: 40 }],
    ['adaptive (defaults)', {}],
  ] as const)(
    'conceals a lost burst longer than its depth frame for packet, offering the packet after it (%s)',
    (_, config) => {
      // 5 lost packets, more than the 2–3 frames buffered: the buffer runs empty and its pointer holds (an underrun,
      // which could be a delay spike); once the packet after the gap arrives, the over-deep pointer skips the absent
      // frames it held on, so the gap takes exactly 5 ticks and the frames still to conceal can be interpolated
      // towards that packet (peekNext, as NetworkReceiver asks after each 'missing').
      const jb = new JitterBuffer(config)
      // At 8 s: the adaptive target has settled from its 80 ms start to the 40 ms minimum.
      const lost = new Set([400, 401, 402, 403, 404])
      const packets = stream(500, 65500, 0, 0).filter((_p, i) => !lost.has(i))
      const queue = packets.map((p) => ({ ...p, at: p.sendMs + 25 }))
      const out = new Float32Array(FRAME)
      const expected = payloadFor((65500 + 405) & 0xffff, 405 * FRAME)
      const playedAt = new Map<number, number>()
      const peeks: number[] = []
      let next = 0
      for (let tick = 0; tick < 560; tick++) {
        const nowMs = tick * FRAME_MS + 7
        while (next < queue.length && queue[next]!.at <= nowMs) {
          const p = queue[next++]!
          jb.push(payloadFor(p.seq, p.ts), p.seq, p.ts, p.at)
        }
        const o = jb.playout(nowMs, out)
        if (o === 'ok') playedAt.set(seqDiff(65500, jb.lastPlayedSeq), tick)
        if (o === 'missing' && playedAt.has(399) && !playedAt.has(405)) {
          const lostBefore = jb.peekNext(out, 3)
          peeks.push(lostBefore)
          if (lostBefore >= 0) expect(out[0]).toBe(expected[0])
        }
      }
      expect(jb.metrics.underruns).toBeGreaterThan(0) // the buffer did run empty and hold
      expect(jb.metrics.inserted).toBe(0)
      expect(playedAt.get(405)! - playedAt.get(399)!).toBe(6)
      expect(peeks).toHaveLength(5)
      // The packet after the gap is offered from its arrival on: 1 and 0 lost frames before it on the last two.
      expect(peeks.slice(-2)).toEqual([1, 0])
      expect(playedAt.size + jb.metrics.dropped).toBe(495) // the adaptive one drops 2 as it shrinks from 80 ms
    },
  )

  it('goes idle when the stream stops and resumes when it comes back', () => {
    const jb = new JitterBuffer({ mode: 'fixed', targetDelayMs: 60 })
    const packets = [...stream(100, 10, 0, 0), ...stream(100, 310, 300 * FRAME, 6000)]
    const { outcomes, played } = drive(jb, packets, 9000)
    // Between 2.6 s and 6 s the buffer stops concealing once nothing has arrived for 500 ms.
    const quiet = outcomes.slice(Math.round(3400 / FRAME_MS), Math.round(6000 / FRAME_MS))
    expect(quiet.every((o) => o === 'idle')).toBe(true)
    expect(played).toHaveLength(200)
    // Each stop is concealed for at most quietMs (500 ms = 25 frames) before the buffer goes idle.
    expect(jb.metrics.concealed).toBeLessThanOrEqual(2 * 25)
  })

  it('takes a burst longer than its ring after a 1.2 s spike: newest kept, oldest counted late, in order, once', () => {
    const jb = new JitterBuffer() // 32 slots at the defaults; the spike's 61 packets arrive at once
    const packets = stream(300, 65500, 0xffffff00, 0).map((p) =>
      p.sendMs >= 2000 && p.sendMs < 3220 ? { ...p, delayMs: 3230 - p.sendMs } : p,
    )
    const { outcomes, played } = drive(jb, packets, 7000)
    const m = jb.metrics
    expect(m.resyncs).toBe(0)
    expect(m.flushed).toBe(0)
    for (let i = 1; i < played.length; i++) expect(seqDiff(played[i - 1]!, played[i]!)).toBeGreaterThan(0)
    expect(new Set(played).size).toBe(played.length)
    // Every packet is played or counted late (the ones the pointer slid past, then the shrink's drops).
    expect(played.length + m.late).toBe(300)
    expect(m.played).toBe(played.length)
    // It slid rather than concealing the whole burst: most of the spike's packets still play.
    expect(m.late).toBeGreaterThan(61 - 32)
    expect(m.late).toBeLessThan(61)
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(played.length)
  })

  it('pads short payloads, truncates long ones, and zeroes non-finite samples', () => {
    const jb = new JitterBuffer({ mode: 'fixed', targetDelayMs: 40 })
    jb.push(new Float32Array(100).fill(0.5), 1, 0, 0)
    jb.push(new Float32Array(400).fill(-0.5), 2, FRAME, 20)
    const bad = new Float32Array(FRAME).fill(Number.NaN)
    bad[1] = Number.POSITIVE_INFINITY
    jb.push(bad, 3, 2 * FRAME, 40)
    const out = new Float32Array(FRAME)
    const frames: Float32Array[] = []
    for (let nowMs = 0; nowMs < 200; nowMs += FRAME_MS) if (jb.playout(nowMs, out) === 'ok') frames.push(out.slice())
    expect(frames).toHaveLength(3)
    expect(frames[0]![99]).toBe(0.5)
    expect(frames[0]![100]).toBe(0)
    expect(frames[1]!.every((v) => v === -0.5)).toBe(true)
    expect(frames[2]!.every((v) => v === 0 || v === 1)).toBe(true)
    expect(jb.metrics.nonFiniteSamples).toBe(FRAME)
  })

  it("holds decoded G.711 exactly in 16-bit slots (sampleFormat 'int16'), and rounds other samples to 1/32768", () => {
    const jb = new JitterBuffer({ mode: 'fixed', targetDelayMs: 40, sampleFormat: 'int16' })
    const codes = Uint8Array.from({ length: FRAME }, (_, i) => (i * 7 + 3) & 0xff)
    const decoded = new Float32Array(FRAME)
    g711DecodeFloat('ulaw', codes, decoded)
    jb.push(decoded, 1, 0, 0)
    const other = new Float32Array(FRAME).fill(0.1)
    other[0] = 1
    other[1] = Number.NaN
    jb.push(other, 2, FRAME, 20)
    const out = new Float32Array(FRAME)
    const frames: Float32Array[] = []
    for (let nowMs = 0; nowMs < 200; nowMs += FRAME_MS) if (jb.playout(nowMs, out) === 'ok') frames.push(out.slice())
    expect(frames).toHaveLength(2)
    expect(Array.from(frames[0]!)).toEqual(Array.from(decoded))
    expect(frames[1]![0]).toBe(32767 / 32768)
    expect(frames[1]![1]).toBe(0)
    expect(Math.abs(frames[1]![2]! - 0.1)).toBeLessThanOrEqual(0.5 / 32768)
    expect(jb.metrics.nonFiniteSamples).toBe(1)
  })
})

describe('JitterBuffer config', () => {
  it('rejects out-of-range settings with a RangeError naming the field', () => {
    expect(() => new JitterBuffer({ minDelayMs: -1 })).toThrow(/minDelayMs/)
    expect(() => new JitterBuffer({ maxDelayMs: 30 })).toThrow(/maxDelayMs/)
    expect(() => new JitterBuffer({ targetDelayMs: 300 })).toThrow(/targetDelayMs/)
    expect(() => new JitterBuffer({ mode: 'magic' as never })).toThrow(/mode/)
    expect(() => new JitterBuffer({ frameMs: 0 })).toThrow(/frameMs/)
    expect(() => new JitterBuffer({ sampleRateHz: 100 })).toThrow(/sampleRateHz/)
    expect(() => new JitterBuffer({ sampleFormat: 'int8' as never })).toThrow(/sampleFormat/)
    const jb = new JitterBuffer()
    expect(() => jb.configure({ targetDelayMs: Number.NaN })).toThrow(RangeError)
    expect(jb.currentConfig.targetDelayMs).toBe(80) // a rejected patch changes nothing
  })

  it('applies configure() mid-stream without losing the packets buffered', () => {
    const jb = new JitterBuffer({ mode: 'fixed', targetDelayMs: 60 })
    const out = new Float32Array(FRAME)
    let played = 0
    for (let i = 0, nowMs = 0; i < 300; i++, nowMs += FRAME_MS) {
      jb.push(payloadFor(i, i * FRAME), i, i * FRAME, nowMs)
      if (i === 150) jb.configure({ mode: 'adaptive', minDelayMs: 20, maxDelayMs: 120 })
      if (jb.playout(nowMs, out) === 'ok') played++
    }
    expect(jb.metrics.targetDelayMs).toBeGreaterThanOrEqual(20)
    expect(jb.metrics.targetDelayMs).toBeLessThanOrEqual(120)
    expect(played).toBeGreaterThan(290)
    expect(jb.metrics.late).toBeLessThanOrEqual(3)
  })
})

describe('JitterBuffer properties (fast-check)', () => {
  it('never throws, never outputs NaN, plays each seq at most once and in order, one frame per tick', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 65535 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.array(
          fc.record({
            lost: fc.boolean(),
            delayMs: fc.oneof(fc.integer({ min: 0, max: 80 }), fc.integer({ min: 0, max: 600 })),
            duplicate: fc.boolean(),
            poison: fc.constantFrom(0, 0, 0, 0, Number.NaN, Number.POSITIVE_INFINITY, -Number.MAX_VALUE),
          }),
          { minLength: 1, maxLength: 200 },
        ),
        fc.constantFrom<JitterBufferConfig['mode']>('adaptive', 'fixed'),
        fc.integer({ min: 0, max: 19 }),
        (seq0, ts0, packets, mode, phaseMs) => {
          const jb = new JitterBuffer({ mode, minDelayMs: 0, targetDelayMs: 40 })
          const events: { at: number; seq: number; ts: number; poison: number }[] = []
          packets.forEach((p, i) => {
            if (p.lost) return
            const e = {
              at: i * FRAME_MS + p.delayMs,
              seq: (seq0 + i) & 0xffff,
              ts: (ts0 + i * FRAME) >>> 0,
              poison: p.poison,
            }
            events.push(e)
            if (p.duplicate) events.push({ ...e, at: e.at + 7 })
          })
          events.sort((a, b) => a.at - b.at)
          const out = new Float32Array(FRAME)
          const payload = new Float32Array(FRAME)
          const seen = new Set<number>()
          let lastIndex = -1
          let ticks = 0
          let frames = 0
          let next = 0
          for (let nowMs = phaseMs; nowMs < packets.length * FRAME_MS + 1500; nowMs += FRAME_MS) {
            while (next < events.length && events[next]!.at <= nowMs) {
              const e = events[next++]!
              payload.fill(0.1)
              payload[e.seq % FRAME] = e.poison
              jb.push(payload, e.seq, e.ts, e.at)
            }
            const outcome = jb.playout(nowMs, out)
            ticks++
            if (['ok', 'missing', 'inserted', 'idle'].includes(outcome)) frames++
            for (const v of out) if (!Number.isFinite(v)) return false
            if (outcome === 'ok') {
              const index = seqDiff(seq0, jb.lastPlayedSeq) // packet index (the stream is < 32768 long)
              if (seen.has(index) || index <= lastIndex) return false
              seen.add(index)
              lastIndex = index
            }
          }
          return frames === ticks && Number.isFinite(jb.metrics.jitterMs) && Number.isFinite(jb.metrics.targetDelayMs)
        },
      ),
      { numRuns: 150, seed: 42 },
    )
  })

  it('keeps the invariants across random configure() calls mid-stream', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            minDelayMs: fc.integer({ min: 0, max: 60 }),
            extraTargetMs: fc.integer({ min: 0, max: 100 }),
            extraMaxMs: fc.integer({ min: 0, max: 300 }),
            mode: fc.constantFrom<JitterBufferConfig['mode']>('adaptive', 'fixed'),
            atPacket: fc.integer({ min: 0, max: 400 }),
          }),
          { maxLength: 5 },
        ),
        fc.integer({ min: 1, max: 1000 }),
        (patches, seed) => {
          const arrivals = new NetworkSimulator({ profile: 'wifi', seed }).simulate(makeStream({ count: 400 }))
          const jb = new JitterBuffer({ minDelayMs: 0 })
          const out = new Float32Array(FRAME)
          let lastSeq = -1
          let next = 0
          let packetIndex = 0
          for (let nowMs = 0; nowMs < 9000; nowMs += FRAME_MS) {
            while (next < arrivals.length && arrivals[next]!.arrivalMs <= nowMs) {
              const a = arrivals[next++]!
              jb.push(payloadFor(a.seq, a.rtpTimestamp), a.seq, a.rtpTimestamp, a.arrivalMs)
              for (const p of patches) {
                if (p.atPacket !== packetIndex) continue
                const maxDelayMs = p.minDelayMs + p.extraMaxMs + 20
                jb.configure({
                  mode: p.mode,
                  minDelayMs: p.minDelayMs,
                  maxDelayMs,
                  targetDelayMs: Math.min(p.minDelayMs + p.extraTargetMs, maxDelayMs),
                })
              }
              packetIndex++
            }
            if (jb.playout(nowMs, out) === 'ok') {
              if (lastSeq >= 0 && seqDiff(lastSeq, jb.lastPlayedSeq) <= 0) return false
              lastSeq = jb.lastPlayedSeq
            }
            const c = jb.currentConfig
            const t = jb.metrics.targetDelayMs
            if (!(t >= c.minDelayMs && t <= c.maxDelayMs)) return false
            for (const v of out) if (!Number.isFinite(v)) return false
          }
          return true
        },
      ),
      { numRuns: 40, seed: 7 },
    )
  })
})

describe('playoutShiftMs: how far each tick moved the playout timeline', () => {
  // Over a stream, the shifts sum to the change of (tick time − media time of the frame played): an echo canceller
  // behind the buffer that follows them keeps its far reference aligned through every insertion, drop and skip.
  it.each([
    [
      'high jitter with spikes',
      { profile: 'wifi', jitterMeanMs: 20, spikeProbability: 0.004, spikeMaxMs: 300, seed: 3 },
    ],
    ['3% bursty loss', { profile: 'lossy', ...burstyLoss(0.03, 3), seed: 2 }],
  ] as [string, NetworkSimulatorOptions][])('%s: the shifts add up to the timeline played', (_, sim) => {
    const arrivals = new NetworkSimulator(sim).simulate(makeStream({ count: 1500, startSeq: 65000, ssrc: 1 }))
    const jb = new JitterBuffer()
    const out = new Float32Array(FRAME)
    const payload = new Float32Array(FRAME)
    let next = 0
    let sum = 0
    let firstOffset = Number.NaN
    let checked = 0
    const shifts = { grow: 0, shrink: 0 }
    const endMs = arrivals[arrivals.length - 1]!.arrivalMs - 200 // the stream's end (holds on an empty buffer) left out
    for (let nowMs = 3; nowMs < endMs; nowMs += FRAME_MS) {
      while (next < arrivals.length && arrivals[next]!.arrivalMs <= nowMs) {
        const a = arrivals[next++]!
        jb.push(payloadFor(a.seq, a.rtpTimestamp, payload), a.seq, a.rtpTimestamp, a.arrivalMs)
      }
      const outcome = jb.playout(nowMs, out)
      const shift = jb.metrics.playoutShiftMs
      expect(Number.isInteger(shift / FRAME_MS)).toBe(true) // whole frames
      if (shift > 0) shifts.grow += shift / FRAME_MS
      if (shift < 0) shifts.shrink -= shift / FRAME_MS
      if (outcome === 'idle') continue
      sum += shift
      if (outcome !== 'ok') continue
      const offset = nowMs - ((jb.lastPlayedTimestamp - arrivals[0]!.rtpTimestamp) * 1000) / 8000
      if (Number.isNaN(firstOffset)) firstOffset = offset - sum
      expect(offset - firstOffset).toBeCloseTo(sum, 9)
      checked++
    }
    console.log(`${_}: ${checked} frames checked, timeline grew ${shifts.grow} and shrank ${shifts.shrink} frames`)
    expect(checked).toBeGreaterThan(1000)
    expect(shifts.grow + shifts.shrink).toBeGreaterThan(2) // the trace does move the timeline
    expect(jb.metrics.resyncs).toBe(0)
  })

  it('is 0 while idle and on the first frame of a stream', () => {
    const jb = new JitterBuffer({ mode: 'fixed', targetDelayMs: 40, minDelayMs: 0 })
    const out = new Float32Array(FRAME)
    const outcomes: PlayoutOutcome[] = []
    for (let tick = 0; tick < 10; tick++) {
      jb.push(payloadFor(tick, tick * FRAME), tick, tick * FRAME, tick * FRAME_MS)
      outcomes.push(jb.playout(tick * FRAME_MS, out))
      expect(jb.metrics.playoutShiftMs).toBe(0) // waiting, the first frame, then frames in turn
    }
    expect(outcomes.slice(0, 2)).toEqual(['idle', 'idle'])
    expect(outcomes.slice(2)).toEqual(Array(8).fill('ok'))
    // The stream stops (the buffer holds seqs 8 and 9, 40 ms): then the pointer holds on the empty buffer, and from
    // the second missing frame on the timeline grows by a frame each tick.
    const shifts: number[] = []
    for (let tick = 10; tick < 14; tick++) {
      outcomes.push(jb.playout(tick * FRAME_MS, out))
      shifts.push(jb.metrics.playoutShiftMs)
    }
    expect(outcomes.slice(10)).toEqual(['ok', 'ok', 'missing', 'missing'])
    expect(shifts).toEqual([0, 0, 0, FRAME_MS])
  })
})

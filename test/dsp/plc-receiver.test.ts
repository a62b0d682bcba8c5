import { describe, expect, it } from 'vitest'
import { g711DecodeFloat, g711EncodeFloat } from '../../src/dsp/g711'
import type { JitterBufferConfig } from '../../src/dsp/jitter-buffer'
import { NetworkReceiver } from '../../src/dsp/network-receiver'
import { NetworkSimulator, burstyLoss, makeStream, type NetworkSimulatorOptions } from '../../src/dsp/network-simulator'
import type { PlcMethod } from '../../src/dsp/plc'
import { seqDiff } from '../../src/dsp/units'
import { PLC_FRAME as FRAME, PLC_SEEDS, frameLsd, issueMasks, type LsdSum } from '../helpers/plc-scoring'
import { hasNonFinite, readWavFixture } from '../helpers/signals'

const speech = readWavFixture('speech-8k.wav').samples
const FRAMES = Math.floor(speech.length / FRAME)
const START_SEQ = 65300 // the stream wraps the 16-bit sequence number
const TICK_PHASE_MS = 7 // the playout clock is not in phase with the sender's

/** The fixture as 20 ms µ-law packets, and their decoding: the loss-free original the receiver would play. */
const packets: Uint8Array[] = []
const original = new Float32Array(FRAMES * FRAME)
for (let p = 0; p < FRAMES; p++) {
  const codes = new Uint8Array(FRAME)
  g711EncodeFloat('ulaw', speech.subarray(p * FRAME, (p + 1) * FRAME), codes)
  packets.push(codes)
  g711DecodeFloat('ulaw', codes, original.subarray(p * FRAME, (p + 1) * FRAME))
}
const masks = issueMasks(FRAMES)
const sent = makeStream({ count: FRAMES, startSeq: START_SEQ, sampleRateHz: 8000 })

/**
 * Steady 20 ms sending, 20 ms base delay plus gamma queueing jitter (mean 4 ms, shape 2), no network loss of its own
 * (the masks decide which packets are lost).
 */
const MODEST_JITTER: NetworkSimulatorOptions = { profile: 'good', jitterMeanMs: 4, ...burstyLoss(0, 1) }
/** Wi-Fi-like queueing jitter, mean 12 ms with a long tail (shape 1.5): the adaptive buffer grows and shrinks. */
const HIGH_JITTER: NetworkSimulatorOptions = { ...MODEST_JITTER, jitterMeanMs: 12, jitterShape: 1.5 }

interface ReceiverRun {
  /** Receiver output (8 kHz), one frame per tick. */
  y: Float32Array
  /** Per tick: the packet index played, or −1 (concealed or idle). */
  playedIndex: Int32Array
  /** Per tick: 1 when the frame was concealed with the packet after the gap in hand (PLC interpolation). */
  interpolated: Uint8Array
  concealedTicks: number
  receiver: NetworkReceiver
}

/**
 * Pushes the packets that survive the mask, with simulated arrivals, into a NetworkReceiver (8 kHz out: no
 * resampler) and pulls one frame per 20 ms tick until the stream has drained.
 */
function runReceiver(
  method: PlcMethod,
  mask: readonly boolean[],
  network: NetworkSimulatorOptions,
  networkSeed: number,
  jitterBuffer: Partial<JitterBufferConfig>,
): ReceiverRun {
  const arrivals = new NetworkSimulator({ ...network, seed: networkSeed }).simulate(sent).filter((a) => !mask[a.index])
  const receiver = new NetworkReceiver({ plcMethod: method, outputRateHz: 8000, jitterBuffer })
  const ticks = FRAMES + 50
  const y = new Float32Array(ticks * FRAME)
  const playedIndex = new Int32Array(ticks).fill(-1)
  const interpolated = new Uint8Array(ticks)
  let concealedTicks = 0
  let next = 0
  for (let t = 0; t < ticks; t++) {
    const nowMs = t * 20 + TICK_PHASE_MS
    for (; next < arrivals.length && arrivals[next]!.arrivalMs <= nowMs; next++) {
      const a = arrivals[next]!
      receiver.push(packets[a.index]!, a.seq, a.rtpTimestamp, a.arrivalMs)
    }
    const before = receiver.plc.metrics.interpolatedFrames
    const outcome = receiver.pull(nowMs, y.subarray(t * FRAME, (t + 1) * FRAME))
    if (outcome === 'ok' || outcome === 'recovered')
      playedIndex[t] = seqDiff(START_SEQ, receiver.jitterBuffer.lastPlayedSeq)
    if (outcome === 'concealed') concealedTicks++
    interpolated[t] = receiver.plc.metrics.interpolatedFrames > before ? 1 : 0
  }
  return { y, playedIndex, interpolated, concealedTicks, receiver }
}

interface GapScore extends LsdSum {
  /** Frames scored that the PLC had interpolated (the packet after the gap in hand). */
  interpolated: number
  /** Gaps (runs of concealed ticks between two played packets) whose tick count differs from their packet count. */
  misaligned: number
  gaps: number
  /** Scored frames in gaps short enough to interpolate (ending within 60 ms: at most 3 frames). */
  eligible: number
}

/**
 * Scores the concealed frames of a receiver run against the original. A gap is a run of h concealed ticks between
 * two played packets a and b (ticks ta < tb, packet indices ia < ib); its L = ib − ia − 1 packets were not played
 * (lost, or late). Tick ta + 1 + j stands for packet ia + 1 + j, j < min(h, L): the concealment continues the signal
 * from a in time, so this is the frame a listener compares it with. When h ≠ L (the buffer grew or shrank across
 * the gap) the extra ticks stand for no packet and are not scored, and the gap is counted as misaligned. Output tick
 * t is delayed by the PLC's 3.75 ms (its gap-start overlap-add), so the frame scored is y[t·160 + d, t·160 + d + 160).
 */
function scoreRun(run: ReceiverRun): GapScore {
  const d = run.receiver.plc.delaySamples
  const aligned = new Float32Array(original.length)
  const frames: number[] = []
  let interpolated = 0
  let misaligned = 0
  let gaps = 0
  let eligible = 0
  let lastTick = -1
  for (let t = 0; t < run.playedIndex.length; t++) {
    const ib = run.playedIndex[t]!
    if (ib < 0) continue
    if (lastTick >= 0 && t - lastTick > 1) {
      const ia = run.playedIndex[lastTick]!
      const h = t - lastTick - 1
      const lost = ib - ia - 1
      if (lost > 0) {
        gaps++
        if (h !== lost) misaligned++
        for (let j = 0; j < Math.min(h, lost); j++) {
          const tick = lastTick + 1 + j
          const frame = ia + 1 + j
          aligned.set(run.y.subarray(tick * FRAME + d, tick * FRAME + d + FRAME), frame * FRAME)
          frames.push(frame)
          interpolated += run.interpolated[tick]!
          if (lost <= run.receiver.plc.maxLookaheadFrames) eligible++
        }
      }
    }
    lastTick = t
  }
  return { ...frameLsd(original, aligned, frames), interpolated, misaligned, gaps, eligible }
}

interface Pooled {
  pitchDb: number
  repeatDb: number
  marginDb: number
  /** Fraction of the scored frames concealed with the packet after the gap in hand. */
  lookahead: number
  /** Fraction of the scored frames that lie in gaps short enough to interpolate. */
  eligible: number
  frames: number
  misaligned: number
  gaps: number
}

function pooled(
  masksOf: readonly boolean[][],
  network: NetworkSimulatorOptions,
  jitterBuffer: Partial<JitterBufferConfig>,
): Pooled {
  const total = { pitch: { sum: 0, count: 0 }, repeat: { sum: 0, count: 0 } }
  let interpolated = 0
  let misaligned = 0
  let gaps = 0
  let eligible = 0
  masksOf.forEach((mask, i) => {
    for (const method of ['pitch', 'repeat'] as const) {
      const run = runReceiver(method, mask, network, 1000 + PLC_SEEDS[i]!, jitterBuffer)
      expect(hasNonFinite(run.y)).toBe(false)
      const s = scoreRun(run)
      total[method].sum += s.sum
      total[method].count += s.count
      if (method === 'pitch') {
        interpolated += s.interpolated
        misaligned += s.misaligned
        gaps += s.gaps
        eligible += s.eligible
      }
    }
  })
  // The jitter buffer does not depend on the PLC method: both are scored on the same frames.
  expect(total.pitch.count).toBe(total.repeat.count)
  const pitchDb = total.pitch.sum / total.pitch.count
  const repeatDb = total.repeat.sum / total.repeat.count
  return {
    pitchDb,
    repeatDb,
    marginDb: repeatDb - pitchDb,
    lookahead: interpolated / total.pitch.count,
    eligible: eligible / total.pitch.count,
    frames: total.pitch.count,
    misaligned,
    gaps,
  }
}

function report(label: string, p: Pooled): string {
  return (
    `${label}: pitch ${p.pitchDb.toFixed(2)} dB, repeat ${p.repeatDb.toFixed(2)} dB, margin ${p.marginDb.toFixed(2)} dB; ` +
    `${p.frames} frames scored, ${(100 * p.lookahead).toFixed(0)} % with lookahead (${(100 * p.eligible).toFixed(0)} % in gaps of ≤ 3 frames); ${p.misaligned}/${p.gaps} gaps misaligned`
  )
}

describe('PLC through NetworkReceiver (µ-law packets, simulated arrivals, jitter buffer, PLC)', () => {
  const cases: [string, NetworkSimulatorOptions, Partial<JitterBufferConfig>][] = [
    ['adaptive buffer (defaults), 4 ms mean jitter', MODEST_JITTER, {}],
    ['fixed 40 ms buffer, 4 ms mean jitter', MODEST_JITTER, { mode: 'fixed', targetDelayMs: 40 }],
    ['adaptive buffer (defaults), 12 ms mean jitter', HIGH_JITTER, {}],
  ]
  // Measured (pitch vs repeat, margin; share of the scored frames interpolated): adaptive 4 ms, random 8.67 vs
  // 11.12 dB, 2.46 dB, 99 %; bursty 21.34 vs 24.29, 2.95, 32 % (84 % of those in bursts of ≤ 60 ms: the rest are the
  // first frame of a 3-frame burst, played before the packet after it arrives). Fixed 40 ms: 2.49 and 2.95 dB.
  // Adaptive 12 ms: 2.17 and 2.68 dB. With the offers disabled: bursty 0.37 dB (fails), random 1.13. On 32 other
  // mask seeds (1000–1031) the margins are random 2.85 / 2.93 / 2.73 dB, bursty 1.76 / 1.86 / 1.72.
  const lostInMasks = (list: readonly boolean[][]): number =>
    list.reduce((sum, mask) => sum + mask.filter((isLost) => isLost).length, 0)
  for (const [name, network, jitterBuffer] of cases) {
    it(`conceals 5 % random and 3 % bursty loss of speech at least 0.5 dB closer than repetition: ${name}`, () => {
      for (const [label, list] of [
        ['5 % random', masks.random],
        ['3 % bursty', masks.bursty],
      ] as const) {
        const p = pooled(list, network, jitterBuffer)
        console.log(report(`${name}, ${label}`, p))
        expect(p.marginDb).toBeGreaterThanOrEqual(0.5)
        // The scoring stands for the masks: nearly every lost packet is scored (not those before the first packet
        // played or after the last), and nearly every gap is concealed frame for packet. The few that are not are
        // the buffer adapting: a gap that shrinks a buffer a frame too deep (h = L − 1), or a delay spike that holds
        // the pointer until the packet after the gap comes (h = L + 1; measured 0, 0 and 7 of 262 gaps).
        expect(p.frames).toBeGreaterThanOrEqual(0.9 * lostInMasks(list))
        expect(p.misaligned).toBeLessThanOrEqual(0.1 * p.gaps)
      }
    })
  }
})

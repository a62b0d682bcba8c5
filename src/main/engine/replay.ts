/**
 * Replay: drives the DSP pipeline from a capture, one frame per tick, on the capture's own timeline (the shared core
 * of the CLI's `analyze` and the engine's replay sessions).
 *
 * Timeline: t = 0 is the capture's first packet (packet tracks) or first sample (PCM tracks). Tick k runs at
 * nowMs = k · frame. A packet near track is pushed to the jitter buffer when its arrival time (or, for captures
 * without arrival times, its media timestamp) is reached; a PCM near track is pushed one frame per tick and bypasses
 * the jitter buffer. The far track is the echo canceller's reference: PCM one frame per tick, packets in media
 * timestamp order at their play time. After the near track ends the replay runs on until the jitter buffer and the
 * stages' delays have drained.
 *
 * Replay allocates per frame nothing but what the caller asks for (the near/processed copies for a report are the
 * caller's buffers). Statistics for the report (levels, clipping, echo, noise, network, latency) accumulate here.
 */
import type { Capture, CapturePacket } from '../capture/types'
import { Pipeline, type PipelineConfig } from '../../dsp/pipeline'
import { powerToDb } from '../../dsp/units'

const SAMPLE_RATE = 16000
/** A sample at or beyond this magnitude counts as clipped (−0.01 dBFS). */
const CLIP_LEVEL = 0.999
/** A far-end frame counts as active above −50 dBFS, a near frame as quiet below the output's echo-only level. */
const FAR_ACTIVE_POWER = 1e-5

export interface ReplayStats {
  frames: number
  nearPeakDb: number
  nearRmsDb: number
  farRmsDb: number
  clippedSamples: number
  /** Echo: mic vs output power over frames where the far end is active and the canceller sees no double talk. */
  echoFrames: number
  echoMicEnergy: number
  echoOutEnergy: number
  /** Over the same frames, the canceller's mic and linear-filter error powers (its blocks): the linear filter's ERLE. */
  echoLinearMicEnergy: number
  echoLinearErrorEnergy: number
  noiseAttenuationSumDb: number
  noiseFrames: number
  /**
   * Frames the noise reducer's VAD called speech, and over them the powers behind its SNR estimates (noise floor, and
   * speech before and after the gains, in units of full-scale power): the report's SNR is the ratio of the sums, so
   * the hangover frames at a word's end, whose speech estimate is ~0, do not drag a mean of decibels to −50 dB.
   */
  speechFrames: number
  speechNoisePower: number
  speechInPower: number
  speechOutPower: number
  maxBufferDelayMs: number
  bufferDelaySumMs: number
  bufferDelayFrames: number
}

/**
 * ERLE over a replay's echo frames, dB: the mic's energy over what was left of it, the output (total) or the linear
 * filter's error (`linear`). Infinity-free but not NaN-free: 0 / 0 (no echo energy at all) is NaN.
 */
export function replayErleDb(stats: ReplayStats, linear = false): number {
  const mic = linear ? stats.echoLinearMicEnergy : stats.echoMicEnergy
  const left = linear ? stats.echoLinearErrorEnergy : stats.echoOutEnergy
  return 10 * Math.log10(mic / Math.max(left, 1e-20))
}

export class Replay {
  readonly pipeline: Pipeline
  readonly frameSamples: number
  readonly frameMs: number
  /** Ticks the whole replay takes (the near track plus the drain). */
  readonly totalFrames: number
  /** The tick at which the near track has been fed in full (the drain follows). */
  readonly nearEndFrame: number
  readonly stats: ReplayStats
  private frameIndex = 0
  private nearPacketIndex = 0
  private farPacketIndex = 0
  private readonly nearPackets: CapturePacket[]
  private readonly farPackets: CapturePacket[]
  /** Play time of each far packet (media timestamp order), ms. */
  private readonly farPlayMs: Float64Array
  /** The frame read back from the pipeline's input frame buffer. */
  private readonly drained: Float32Array
  private nearEnergy = 0
  private farEnergy = 0

  constructor(
    readonly capture: Capture,
    config: Partial<PipelineConfig> = {},
  ) {
    const near = capture.near
    const packetFrameMs = near.kind === 'packets' ? near.frameMs : undefined
    const pcmSource = near.kind === 'pcm'
    this.pipeline = new Pipeline({
      ...config,
      ...(packetFrameMs ? { audioChunkDurationMs: packetFrameMs } : {}),
      // A capture without network timing has no jitter to absorb: it bypasses the jitter buffer.
      ...(pcmSource ? { jitterBufferEnabled: false } : {}),
      ...(near.kind === 'packets' ? { law: near.law } : {}),
    })
    this.frameMs = this.pipeline.currentConfig.audioChunkDurationMs
    this.frameSamples = this.pipeline.frameLength
    this.drained = new Float32Array(this.frameSamples)
    this.nearPackets =
      near.kind === 'packets' ? [...near.packets].sort((a, b) => this.nearTime(a) - this.nearTime(b)) : []
    const far = capture.far
    this.farPackets = far?.kind === 'packets' ? sortByTimestamp(far.packets) : []
    this.farPlayMs = farPlayTimes(this.farPackets, far?.kind === 'packets' && far.timing === 'arrival')
    const nearEndMs =
      near.kind === 'pcm'
        ? (near.samples.length / SAMPLE_RATE) * 1000
        : this.nearPackets.length > 0
          ? this.nearTime(this.nearPackets[this.nearPackets.length - 1]!) + this.frameMs
          : 0
    // Drain: the jitter buffer's largest delay (packets) plus the stages' algorithmic delays, rounded up.
    const drainMs = (near.kind === 'packets' ? this.pipeline.currentConfig.jitterBufferMaxMs : 0) + 40
    this.totalFrames = Math.ceil((nearEndMs + drainMs) / this.frameMs)
    this.nearEndFrame = Math.min(this.totalFrames, Math.ceil(nearEndMs / this.frameMs))
    this.stats = {
      frames: 0,
      nearPeakDb: -120,
      nearRmsDb: -120,
      farRmsDb: -120,
      clippedSamples: 0,
      echoFrames: 0,
      echoMicEnergy: 0,
      echoOutEnergy: 0,
      echoLinearMicEnergy: 0,
      echoLinearErrorEnergy: 0,
      noiseAttenuationSumDb: 0,
      noiseFrames: 0,
      speechFrames: 0,
      speechNoisePower: 0,
      speechInPower: 0,
      speechOutPower: 0,
      maxBufferDelayMs: 0,
      bufferDelaySumMs: 0,
      bufferDelayFrames: 0,
    }
  }

  get position(): number {
    return this.frameIndex
  }

  get done(): boolean {
    return this.frameIndex >= this.totalFrames
  }

  /** Runs one tick; writes the processed frame into out (frameSamples). Returns false when the replay has ended. */
  step(out: Float32Array): boolean {
    if (this.done) return false
    const k = this.frameIndex
    const nowMs = k * this.frameMs
    const n = this.frameSamples
    const capture = this.capture
    const near = capture.near
    if (near.kind === 'pcm') {
      const start = k * n
      if (start < near.samples.length)
        this.pipeline.pushNearPcm(near.samples.subarray(start, Math.min(start + n, near.samples.length)))
    } else {
      while (this.nearPacketIndex < this.nearPackets.length) {
        const packet = this.nearPackets[this.nearPacketIndex]!
        const atMs = this.nearTime(packet)
        if (atMs > nowMs) break
        this.pipeline.pushPacket(packet.payload, packet.seq, packet.rtpTimestamp, atMs, packet.ssrc)
        this.nearPacketIndex++
      }
    }
    const far = capture.far
    if (far?.kind === 'pcm') {
      const start = k * n
      if (start < far.samples.length)
        this.pipeline.pushFarPcm(far.samples.subarray(start, Math.min(start + n, far.samples.length)))
    } else if (far) {
      while (this.farPacketIndex < this.farPackets.length && this.farPlayMs[this.farPacketIndex]! <= nowMs) {
        this.pipeline.pushFarPacket(this.farPackets[this.farPacketIndex]!.payload)
        this.farPacketIndex++
      }
    }
    this.pipeline.tick(nowMs, out)
    // The speech recogniser's side: take the frame out of the input frame buffer, as the service does each frame.
    this.pipeline.readInput(this.drained, nowMs)
    this.frameIndex++
    this.accumulate(out)
    return true
  }

  /** Total delay of the processed output against the near input that the pipeline reports, samples. */
  get alignmentSamples(): number {
    const latency = this.pipeline.metrics.latency
    const fixedMs = latency.networkAlgorithmicMs + latency.echoMs + latency.noiseMs
    const bufferMs = this.stats.bufferDelayFrames > 0 ? this.stats.bufferDelaySumMs / this.stats.bufferDelayFrames : 0
    return Math.round(((fixedMs + bufferMs) * SAMPLE_RATE) / 1000)
  }

  private nearTime(packet: CapturePacket): number {
    const near = this.capture.near
    if (near.kind === 'packets' && near.timing === 'media-timestamp') {
      const first = this.nearPackets[0] ?? packet
      return ((packet.rtpTimestamp - first.rtpTimestamp) | 0) / 8
    }
    return packet.arrivalMs
  }

  private accumulate(out: Float32Array): void {
    const s = this.stats
    const p = this.pipeline
    const near = p.nearInput
    const far = p.farInput
    const n = this.frameSamples
    let nearPower = 0
    let farPower = 0
    let outPower = 0
    let peak = 0
    for (let i = 0; i < n; i++) {
      const x = near[i]!
      nearPower += x * x
      farPower += far[i]! * far[i]!
      outPower += out[i]! * out[i]!
      const magnitude = x < 0 ? -x : x
      if (magnitude > peak) peak = magnitude
      if (magnitude >= CLIP_LEVEL) s.clippedSamples++
    }
    s.frames++
    this.nearEnergy += nearPower
    this.farEnergy += farPower
    s.nearRmsDb = powerToDb(this.nearEnergy / (s.frames * n))
    s.farRmsDb = powerToDb(this.farEnergy / (s.frames * n))
    s.nearPeakDb = Math.max(s.nearPeakDb, powerToDb(peak * peak))
    const config = p.currentConfig
    if (config.echoCancellationEnabled && farPower / n > FAR_ACTIVE_POWER && !p.echoCanceller.metrics.doubleTalk) {
      s.echoFrames++
      s.echoMicEnergy += nearPower
      s.echoOutEnergy += outPower
      s.echoLinearMicEnergy += p.echoCanceller.metrics.frameMicPower
      s.echoLinearErrorEnergy += p.echoCanceller.metrics.frameErrorPower
    }
    if (config.noiseReductionEnabled && this.frameIndex <= this.nearEndFrame) {
      const noise = p.noiseReducer.metrics
      s.noiseFrames++
      s.noiseAttenuationSumDb += noise.attenuationDb
      if (noise.isSpeech && Number.isFinite(noise.snrInDb + noise.snrOutDb + noise.noiseFloorDb)) {
        const floor = Math.pow(10, noise.noiseFloorDb / 10)
        s.speechFrames++
        s.speechNoisePower += floor
        s.speechInPower += floor * Math.pow(10, noise.snrInDb / 10)
        s.speechOutPower += floor * Math.pow(10, noise.snrOutDb / 10)
      }
    }
    if (p.networkReceiver && config.jitterBufferEnabled && this.capture.near.kind === 'packets') {
      const delay = p.networkReceiver.jitterBuffer.metrics.bufferDelayMs
      if (p.metrics.networkOutcome === 'ok' || p.metrics.networkOutcome === 'recovered') {
        s.bufferDelaySumMs += delay
        s.bufferDelayFrames++
        if (delay > s.maxBufferDelayMs) s.maxBufferDelayMs = delay
      }
    }
  }
}

function sortByTimestamp(packets: readonly CapturePacket[]): CapturePacket[] {
  if (packets.length === 0) return []
  const first = packets[0]!.rtpTimestamp
  return [...packets].sort((a, b) => ((a.rtpTimestamp - first) | 0) - ((b.rtpTimestamp - first) | 0))
}

/**
 * When each far packet reaches the echo canceller, ms. With arrival times (a capture taken at the bot's side sees
 * the bot's packets as they leave), the packet's own arrival, kept in media order; otherwise its media time anchored
 * at the first packet.
 */
function farPlayTimes(packets: readonly CapturePacket[], useArrival: boolean): Float64Array {
  const times = new Float64Array(packets.length)
  if (packets.length === 0) return times
  const first = packets[0]!
  for (let i = 0; i < packets.length; i++) {
    const mediaMs = first.arrivalMs + ((packets[i]!.rtpTimestamp - first.rtpTimestamp) | 0) / 8
    times[i] = useArrival ? Math.max(packets[i]!.arrivalMs, i > 0 ? times[i - 1]! : 0) : mediaMs
  }
  return times
}

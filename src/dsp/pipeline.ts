/**
 * Pipeline: the voice service's AudioProcessor, stage by stage, at 16 kHz.
 *
 * Input path (network → speech recognition), one call of `tick` per frame period:
 *   near audio: G.711 packets → NetworkReceiver (decode → jitter buffer → PLC → 8→16 kHz)   [packet sources]
 *               or 16 kHz PCM frames (a WAV replay, the live microphone)                       [PCM sources]
 *   → echo canceller (against the far-end reference frame of the same tick, when enabled)
 *   → noise reducer (when enabled)
 *   → input frame buffer (20 ms framing with latency tracking) and the caller's `out`.
 * Output path (TTS → network): `pushOutput(tts)` → 16→8 kHz → output frame buffer (8 kHz) → `pullOutput` → µ-law;
 * each frame that goes out is also kept, decoded and upsampled as the caller's phone plays it, as the echo
 * canceller's far-end reference for the tick it is played in.
 * A capture's far end (the bot's audio as recorded) is given instead with `pushFarPcm` / `pushFarPacket`.
 * The jitter buffer grows and shrinks by whole frames (a frame inserted, one dropped or skipped), and each such move
 * shifts the echo in the near end against the far reference by 20 ms: the pipeline passes it on to the echo canceller
 * (JitterBuffer.metrics.playoutShiftMs → EchoCanceller.shiftEchoPath, at the next frame of real audio), whose window
 * moves with it, so a converged filter keeps cancelling (the demo call, whose buffer shrinks 40 ms in its first 2 s:
 * linear-filter ERLE 4.3 → 11.5 dB over the call, as behind a fixed buffer).
 *
 * Hot reconfiguration: `configure(patch)` validates the patch at once (RangeError naming the field) and applies it
 * atomically at the next frame boundary; it returns the frame index at which it takes effect. Stage on/off switches
 * and parameters keep the stages' state (converged echo filter, noise profile, jitter statistics); only a new frame
 * duration rebuilds the stages.
 *
 * Metrics: per-stage processing time (µs, from the injected clock), the latency budget (jitter buffer depth + each
 * stage's algorithmic delay + framing) against maxAudioLatencyMs, and a health status with reasons in words.
 * tick() allocates nothing; non-finite audio never leaves a stage (each stage sanitises, and the pipeline zeroes a
 * frame that is still not finite and counts it).
 *
 * With a packet (G.711) near end the echo canceller and the noise reducer work below the resampler's 4.6 kHz
 * stopband edge only (nearBandwidthHz / bandwidthHz: the mic carries nothing above it), ~15 µs less per frame; PCM
 * sources (WAV, live mic) stay full band. The noise reducer learns the noise only from frames the echo suppressor
 * left untouched (its gains come and go with the far end). Buffers: the service's input and output buffers hold
 * audioBufferDurationMs of 16-bit PCM (as the service's own; the output at 8 kHz, as the call carries it), the near
 * source queue 100 ms of Float32, the far queue 100 ms of 16-bit PCM.
 * Cost of the whole call per 20 ms frame (test/bench `pipeline`: packets over wifi, AEC 1024 taps, NR 0.8, output
 * path): ~95–97 µs (~205× real time); of it AEC ~57 (band-limited; ~73 full band), NR ~16, network ~3.5, the output
 * path ~6 (16 → 8 kHz, 16-bit framing, G.711 out and back, 8 → 16 kHz), the rest ~2 (far reference, levels, framing,
 * metrics). With the echo canceller and the noise reducer off the same work costs ~12 µs (pushPacket 1, output path
 * 6, tick 5; 17 µs before the 2:1 resampler kernels were spelt out and the 16-bit copies made branch-free). The near
 * and far levels are two sums in one pass, and with no stage on the near sum is the output's. State
 * 196 632 bytes (stateBytes, each buffer counted once, FFT tables included; KiB): AEC 71 (filter 28, delay
 * estimator 17, far history 16, FFTs 8, suppressor 7, FIFO 2), NR 30, the service's buffers 24 (input 16 at 16 kHz,
 * output 8 at 8 kHz), jitter buffer 18, the thread's shared scratch 14, source queues 11, PLC 6, resamplers 5, frames
 * 4.
 */
import { EchoCanceller, type EchoEngine } from './echo-canceller'
import { FrameBuffer, type FrameSampleFormat } from './frame-buffer'
import { g711DecodeFloat, g711Encode, type G711Law } from './g711'
import type { JitterBufferMode } from './jitter-buffer'
import { NetworkReceiver, type PullOutcome } from './network-receiver'
import { NoiseReducer, type NoiseReducerEngine, type NoiseReducerMode } from './noise-reducer'
import type { PlcMethod } from './plc'
import { Resampler } from './resampler'
import { sharedScratchExtent } from './scratch'
import { SAMPLE_RATE_16K, SAMPLE_RATE_8K, powerToDb } from './units'

export interface PipelineConfig {
  /** Frame duration, ms: 10, 20, 30 or 40 (AUDIO_CHUNK_DURATION_MS). Cold: rebuilds the stages. */
  audioChunkDurationMs: number
  /** Codec of packets (µ-law for Twilio). */
  law: G711Law
  jitterBufferEnabled: boolean
  jitterBufferMode: JitterBufferMode
  jitterBufferMinMs: number
  jitterBufferTargetMs: number
  jitterBufferMaxMs: number
  plcMethod: PlcMethod
  echoCancellationEnabled: boolean
  echoCancellationEngine: EchoEngine
  /** Echo filter length in taps at 16 kHz (ECHO_FILTER_LENGTH). */
  echoFilterLengthTaps: number
  echoSuppressorEnabled: boolean
  echoSuppressorStrength: number
  echoDelayEstimationEnabled: boolean
  /** Largest far-to-near bulk delay the echo canceller searches, ms. Cold (reallocates the canceller). */
  echoMaxBulkDelayMs: number
  noiseReductionEnabled: boolean
  noiseReductionEngine: NoiseReducerEngine
  noiseReductionMode: NoiseReducerMode
  /** NOISE_REDUCTION_STRENGTH, 0–1. */
  noiseReductionStrength: number
  /** Capacity of the framing buffers, ms (AUDIO_BUFFER_DURATION_MS). Cold. */
  audioBufferDurationMs: number
  /** Latency budget, ms (MAX_AUDIO_LATENCY_MS). */
  maxAudioLatencyMs: number
}

export const PIPELINE_DEFAULTS: Readonly<PipelineConfig> = {
  audioChunkDurationMs: 20,
  law: 'ulaw',
  jitterBufferEnabled: true,
  jitterBufferMode: 'adaptive',
  jitterBufferMinMs: 40,
  jitterBufferTargetMs: 80,
  jitterBufferMaxMs: 200,
  plcMethod: 'pitch',
  echoCancellationEnabled: true,
  echoCancellationEngine: 'mdf',
  echoFilterLengthTaps: 1024,
  echoSuppressorEnabled: true,
  echoSuppressorStrength: 1,
  echoDelayEstimationEnabled: true,
  echoMaxBulkDelayMs: 400,
  noiseReductionEnabled: true,
  noiseReductionEngine: 'gate',
  noiseReductionMode: 'stationary',
  noiseReductionStrength: 0.8,
  audioBufferDurationMs: 500,
  maxAudioLatencyMs: 200,
}

export type StageName = 'network' | 'echo' | 'noise' | 'framing'
export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy'

export interface LatencyBudget {
  /** Jitter buffer depth (adaptive), ms; 0 for PCM sources. */
  jitterBufferMs: number
  /** PLC + resampler, ms. */
  networkAlgorithmicMs: number
  echoMs: number
  noiseMs: number
  /** One frame of framing plus the input frame buffer's current latency, ms. */
  framingMs: number
  totalMs: number
  maxMs: number
}

export interface PipelineMetrics {
  /** Frames produced by tick(). */
  frameIndex: number
  /** Per-stage processing time of the last frame and a running mean, µs. */
  stageUs: Record<StageName, number>
  stageMeanUs: Record<StageName, number>
  latency: LatencyBudget
  /** Near-end input and processed output levels of the last frame, dBFS. */
  inputLevelDb: number
  outputLevelDb: number
  /** Outcome of the network stage on the last frame (PCM sources: 'ok'). */
  networkOutcome: PullOutcome
  /** The far-end reference carried audio in the last frame. */
  farActive: boolean
  /** Frames zeroed because they were not finite after a stage (never expected). */
  nonFiniteFrames: number
  configApplied: number
  health: HealthStatus
  /** Bit set of HEALTH_* problems; healthReasons() puts them in words. */
  healthFlags: number
}

/** A G.711 near end upsampled to 16 kHz carries nothing above the resampler's stopband edge (4.6 kHz), Hz. */
const PACKET_NEAR_BANDWIDTH_HZ = 4600

export const HEALTH_LATENCY_OVER_BUDGET = 1
export const HEALTH_PACKET_LOSS = 2
export const HEALTH_LATE_PACKETS = 4
export const HEALTH_ECHO_NON_CAUSAL = 8
export const HEALTH_ECHO_DIVERGED = 16
export const HEALTH_NON_FINITE = 32
export const HEALTH_ECHO_TAIL_CUT = 64

type Validator = (value: unknown) => string | null

const oneOf =
  (...allowed: readonly (string | number | boolean)[]): Validator =>
  (value) =>
    allowed.includes(value as string) ? null : `must be one of ${allowed.join(', ')}`
const range =
  (low: number, high: number, integer = false): Validator =>
  (value) =>
    typeof value !== 'number' || !Number.isFinite(value) || value < low || value > high
      ? `is outside ${low}–${high}`
      : integer && !Number.isInteger(value)
        ? 'must be a whole number'
        : null
const bool: Validator = (value) => (typeof value === 'boolean' ? null : 'must be true or false')

/** Last line of defence: the user-facing checks (with .env names) are in src/shared/config.ts. */
const VALIDATORS: Record<keyof PipelineConfig, Validator> = {
  audioChunkDurationMs: oneOf(10, 20, 30, 40),
  law: oneOf('ulaw', 'alaw'),
  jitterBufferEnabled: bool,
  jitterBufferMode: oneOf('adaptive', 'fixed'),
  jitterBufferMinMs: range(0, 500),
  jitterBufferTargetMs: range(0, 1000),
  jitterBufferMaxMs: range(20, 1000),
  plcMethod: oneOf('pitch', 'spectral', 'linear', 'repeat'),
  echoCancellationEnabled: bool,
  echoCancellationEngine: oneOf('mdf', 'nlms'),
  echoFilterLengthTaps: range(128, 8192, true),
  echoSuppressorEnabled: bool,
  echoSuppressorStrength: range(0, 1),
  echoDelayEstimationEnabled: bool,
  echoMaxBulkDelayMs: range(10, 1000, true),
  noiseReductionEnabled: bool,
  noiseReductionEngine: oneOf('gate', 'subtract'),
  noiseReductionMode: oneOf('stationary', 'nonstationary'),
  noiseReductionStrength: range(0, 1),
  audioBufferDurationMs: range(40, 10000),
  maxAudioLatencyMs: range(20, 2000),
}

/** Throws a RangeError naming the field, the value and the allowed range. */
export function validatePipelineConfig(config: PipelineConfig): void {
  for (const key of Object.keys(VALIDATORS) as (keyof PipelineConfig)[]) {
    const problem = VALIDATORS[key](config[key])
    if (problem) throw new RangeError(`${key}: ${String(config[key])} ${problem}`)
  }
  if (config.jitterBufferTargetMs < config.jitterBufferMinMs || config.jitterBufferTargetMs > config.jitterBufferMaxMs)
    throw new RangeError(
      `jitterBufferTargetMs: ${config.jitterBufferTargetMs} is outside ${config.jitterBufferMinMs}–${config.jitterBufferMaxMs} (jitterBufferMinMs–jitterBufferMaxMs)`,
    )
  if (config.audioBufferDurationMs < 2 * config.audioChunkDurationMs)
    throw new RangeError(
      `audioBufferDurationMs: ${config.audioBufferDurationMs} must hold at least two ${config.audioChunkDurationMs} ms frames`,
    )
}

type Clock = () => number
const defaultClock: Clock = (() => {
  const performance = (globalThis as { performance?: { now(): number } }).performance
  return performance ? () => performance.now() : () => Date.now()
})()

/**
 * Capacity of the near and far source queues, ms: PCM pushed ahead of the ticks that consume it (a replay pushes one
 * frame per tick; a live source a chunk of up to this much). Older frames beyond it are dropped (the queue's overruns).
 */
const SOURCE_QUEUE_MS = 100
/** A far-end frame counts as active above this power (−70 dBFS). */
const FAR_ACTIVE_POWER = 1e-7

export class Pipeline {
  readonly metrics: PipelineMetrics
  private config: PipelineConfig
  private pending: Partial<PipelineConfig> | null = null
  private readonly clock: Clock
  private frameSamples = 0
  private frameSamples8k = 0
  // Stages, rebuilt only when the frame duration or buffer size changes.
  private receiver!: NetworkReceiver
  private echo!: EchoCanceller
  private noise!: NoiseReducer
  /** Input path framing buffer (processed near end, as the service hands it to speech recognition), 16-bit PCM. */
  private inputBuffer!: FrameBuffer
  /** Near-end PCM queue for PCM sources (SOURCE_QUEUE_MS). */
  private nearQueue!: FrameBuffer
  /** Far-end reference queue: frames played out (or a capture's far end), read one per tick (SOURCE_QUEUE_MS). */
  private farQueue!: FrameBuffer
  /** Output path: TTS audio waiting to be sent, re-framed, 16-bit PCM. */
  private outputBuffer!: FrameBuffer
  private downsampler!: Resampler
  private farUpsampler!: Resampler
  // Scratch, one frame each (stage, outFrame and far16k share one buffer; out8k and far8k another): pushOutput stages
  // TTS bursts in outFrame and resamples into out8k; pullOutput reads into far8k before pushFarPacket decodes into it.
  private near!: Float32Array
  private far!: Float32Array
  private stage!: Float32Array
  private outFrame!: Float32Array
  private out8k!: Float32Array
  private far8k!: Float32Array
  private far16k!: Float32Array
  /** pullOutput's 16-bit frame: a view of far8k's memory. */
  private out16!: Int16Array
  private hasPacketSource = false
  /** The jitter buffer's playout moves since the last frame of real audio, ms, for the echo canceller (tick). */
  private pendingEchoShiftMs = 0

  /**
   * The band the near end can carry, for the echo canceller and the noise reducer: a packet (G.711) source has nothing
   * above the 8→16 kHz resampler's 4.6 kHz stopband edge, so they work below it only (0: full band, PCM sources).
   */
  private get nearBandwidthHz(): number {
    return this.hasPacketSource ? PACKET_NEAR_BANDWIDTH_HZ : 0
  }
  /** The echo canceller and the noise reducer work within the near end's band (a cold path). */
  private applyNearBand(): void {
    this.echo.configure({ nearBandwidthHz: this.nearBandwidthHz })
    this.noise.configure({ bandwidthHz: this.nearBandwidthHz })
  }

  /** Set by healthReasons (UI rate): the echo filter's last eighth holds over −30 dB of its energy (echo past it). */
  private echoTailCut = false
  /** The echo filter's response, for that check (grown on demand). */
  private echoResponse = new Float32Array(0)

  constructor(config: Partial<PipelineConfig> = {}, clock: Clock = defaultClock) {
    this.config = { ...PIPELINE_DEFAULTS, ...config }
    validatePipelineConfig(this.config)
    this.clock = clock
    const zeroStages = (): Record<StageName, number> => ({ network: 0, echo: 0, noise: 0, framing: 0 })
    this.metrics = {
      frameIndex: 0,
      stageUs: zeroStages(),
      stageMeanUs: zeroStages(),
      latency: {
        jitterBufferMs: 0,
        networkAlgorithmicMs: 0,
        echoMs: 0,
        noiseMs: 0,
        framingMs: 0,
        totalMs: 0,
        maxMs: this.config.maxAudioLatencyMs,
      },
      inputLevelDb: -120,
      outputLevelDb: -120,
      networkOutcome: 'idle',
      farActive: false,
      nonFiniteFrames: 0,
      configApplied: 0,
      health: 'healthy',
      healthFlags: 0,
    }
    this.build()
  }

  get currentConfig(): Readonly<PipelineConfig> {
    return this.config
  }

  /** Samples per frame at 16 kHz. */
  get frameLength(): number {
    return this.frameSamples
  }

  /** The near-end frame of the last tick as it entered the echo canceller (read-only view; overwritten per tick). */
  get nearInput(): Float32Array {
    return this.near
  }

  /** The far-end reference frame of the last tick (read-only view; overwritten per tick). */
  get farInput(): Float32Array {
    return this.far
  }

  /** The echo canceller, for its metrics and filter response (the UI's echo path view). */
  get echoCanceller(): EchoCanceller {
    return this.echo
  }

  get noiseReducer(): NoiseReducer {
    return this.noise
  }

  get networkReceiver(): NetworkReceiver {
    return this.receiver
  }

  /**
   * Validates the patch now (throws RangeError naming the field) and queues it for the next frame boundary.
   * Returns the frame index at which it takes effect and the keys that change.
   */
  configure(patch: Partial<PipelineConfig>): { effectiveFrame: number; changed: (keyof PipelineConfig)[] } {
    const merged = { ...this.config, ...this.pending, ...patch }
    validatePipelineConfig(merged)
    this.pending = { ...this.pending, ...patch }
    const changed = (Object.keys(patch) as (keyof PipelineConfig)[]).filter((k) => patch[k] !== this.config[k])
    return { effectiveFrame: this.metrics.frameIndex, changed }
  }

  /** One G.711 packet of the near end (caller's audio from the network) as it arrives. */
  pushPacket(payload: Uint8Array, seq: number, rtpTimestamp: number, arrivalMs: number, ssrc = -1): void {
    if (!this.hasPacketSource) {
      this.hasPacketSource = true
      this.applyNearBand() // once per call (a cold path)
    }
    this.receiver.push(payload, seq, rtpTimestamp, arrivalMs, ssrc)
  }

  /** Near-end audio at 16 kHz, any length (re-framed). */
  pushNearPcm(samples: Float32Array, length = samples.length): void {
    this.nearQueue.append(samples, 0, length)
  }

  /** Far-end reference at 16 kHz, any length (re-framed), e.g. a capture's bot track. */
  pushFarPcm(samples: Float32Array, length = samples.length): void {
    this.farQueue.append(samples, 0, length)
  }

  /**
   * Far-end reference as one G.711 packet at 8 kHz (a capture's outbound track, or what pullOutput sent), decoded and
   * upsampled; `length` bytes of payload.
   */
  pushFarPacket(payload: Uint8Array, length = payload.length): void {
    if (length <= this.far8k.length) {
      g711DecodeFloat(this.config.law, payload, this.far8k, length)
      const produced = this.farUpsampler.process(this.far8k, this.far16k, length)
      this.farQueue.append(this.far16k, 0, produced)
      return
    }
    let offset = 0
    while (offset < length) {
      const n = Math.min(this.far8k.length, length - offset)
      g711DecodeFloat(this.config.law, payload.subarray(offset, offset + n), this.far8k, n)
      const produced = this.farUpsampler.process(this.far8k, this.far16k, n)
      this.farQueue.append(this.far16k, 0, produced)
      offset += n
    }
  }

  /**
   * TTS audio at 16 kHz for the output path, any length: resampled to 8 kHz as it arrives and kept, as the call will
   * carry it, in the output buffer (16-bit PCM at 8 kHz: half the memory of the 16 kHz audio).
   */
  pushOutput(samples: Float32Array, length = samples.length): void {
    const chunk = this.frameSamples
    for (let offset = 0; offset < length; offset += chunk) {
      const n = Math.min(chunk, length - offset)
      let input = samples
      if (offset > 0) {
        // A burst of more than a frame: staged frame by frame (no views allocated), in far16k's memory.
        input = this.outFrame
        for (let i = 0; i < n; i++) input[i] = samples[offset + i]!
      }
      const produced = this.downsampler.process(input, this.out8k, n)
      this.outputBuffer.append(this.out8k, 0, produced)
    }
  }

  /**
   * Output path, once per frame period: the next 8 kHz TTS frame → G.711 into codes (audioChunkDurationMs·8 bytes).
   * What was sent becomes the echo canceller's far-end reference, decoded and upsampled (pushFarPacket): the caller's
   * phone plays the G.711 audio, so that is what its speaker echoes. Returns false (codes = silence) when no TTS audio
   * is waiting.
   */
  pullOutput(codes: Uint8Array): boolean {
    // One 8 kHz frame as the buffer holds it, 16-bit, encoded from that (as from its Float32 value: the same code). Its
    // scratch is far8k's memory, free here: pushFarPacket decodes into it after.
    const frame = this.out16
    const hasAudio = this.outputBuffer.readInt16(frame, 0) === 'ok'
    const n = Math.min(frame.length, codes.length)
    g711Encode(this.config.law, frame, codes, n)
    this.pushFarPacket(codes, n)
    return hasAudio
  }

  /**
   * Input path, once per frame period: produces exactly one processed 16 kHz frame into out (frameLength samples)
   * and into the input frame buffer. nowMs is the caller's clock (replay time), used by the jitter buffer.
   */
  tick(nowMs: number, out: Float32Array): PullOutcome {
    if (this.pending) this.applyPending()
    const m = this.metrics
    const n = this.frameSamples
    let t0 = this.clock()

    // 1. Near end: network (packets) or PCM queue.
    let outcome: PullOutcome = 'ok'
    if (this.hasPacketSource) outcome = this.receiver.pull(nowMs, this.near)
    else if (this.nearQueue.read(this.near, 0) !== 'ok') outcome = 'idle'
    m.networkOutcome = outcome
    let t1 = this.clock()
    const networkMs = t1 - t0

    // 2. Far-end reference for this frame (silence when none is queued), and the levels of both frames in one pass:
    // two independent sums, each in meanSquare's order, run side by side instead of one after the other.
    const near = this.near
    const far = this.far
    if (this.farQueue.read(far, 0) !== 'ok') far.fill(0)
    let nearSum = 0
    let farSum = 0
    for (let i = 0; i < n; i++) {
      const v = near[i]!
      const w = far[i]!
      nearSum += v * v
      farSum += w * w
    }
    m.inputLevelDb = powerToDb(nearSum / n)
    m.farActive = farSum / n > FAR_ACTIVE_POWER

    // 3. Echo cancellation. A jitter buffer that inserted or dropped a frame moved the echo by that much against the
    // far reference: the canceller's window moves with it (its filter stays converged). Moves during concealment
    // (a frame inserted, the pointer held on an empty buffer) count from the next frame of real audio, and not at all
    // if the stream ends there.
    t0 = t1
    let current = this.near
    if (this.config.echoCancellationEnabled) {
      if (this.hasPacketSource && this.config.jitterBufferEnabled) {
        this.pendingEchoShiftMs += this.receiver.jitterBuffer.metrics.playoutShiftMs
        if (outcome === 'idle') this.pendingEchoShiftMs = 0
        else if (this.pendingEchoShiftMs !== 0 && (outcome === 'ok' || outcome === 'recovered')) {
          this.echo.shiftEchoPath((this.pendingEchoShiftMs * SAMPLE_RATE_16K) / 1000)
          this.pendingEchoShiftMs = 0
        }
      }
      this.echo.process(current, this.far, this.stage)
      current = this.stage
    }
    t1 = this.clock()
    const echoMs = this.config.echoCancellationEnabled ? t1 - t0 : 0

    // 4. Noise reduction (in place on the stage buffer, or near → stage).
    t0 = t1
    if (this.config.noiseReductionEnabled) {
      // The noise is learnt only from frames the echo suppressor left as they were: under its gains the noise comes
      // and goes with the far end, and a profile learnt there would read the caller's own noise as speech.
      const evidence = !this.config.echoCancellationEnabled || this.echo.metrics.untouched
      this.noise.process(current, this.stage, undefined, evidence)
      current = this.stage
    }
    t1 = this.clock()
    const noiseMs = this.config.noiseReductionEnabled ? t1 - t0 : 0

    // 5. Guard, framing buffer, caller's output.
    t0 = t1
    // One pass: the output level, which is finite exactly when every sample is (a NaN or ±Infinity makes the sum so).
    // With no stage on, the output is the near frame, whose sum is known.
    let sum = nearSum
    if (current !== near) {
      sum = 0
      for (let i = 0; i < n; i++) {
        const v = current[i]!
        sum += v * v
      }
    }
    if (!(sum < Infinity)) {
      current.fill(0, 0, n)
      m.nonFiniteFrames++
      sum = 0
    }
    this.inputBuffer.write(current, nowMs)
    if (out.length >= n)
      out.set(current) // current is one frame (near or stage)
    else for (let i = 0; i < out.length; i++) out[i] = current[i]!
    m.outputLevelDb = powerToDb(sum / n)
    this.recordStages(networkMs, echoMs, noiseMs, this.clock() - t0)

    m.frameIndex++
    this.updateLatency()
    this.updateHealth()
    return outcome
  }

  /** Reads the oldest processed frame from the input frame buffer (the service's get_input_audio). */
  readInput(out: Float32Array, nowMs: number): 'ok' | 'underrun' {
    return this.inputBuffer.read(out, nowMs)
  }

  /** Frame buffer metrics of the input path (fill, overruns, latency). */
  get inputBufferMetrics(): FrameBuffer['metrics'] {
    return this.inputBuffer.metrics
  }

  /**
   * Bytes of audio state held for this call: every typed array reachable from the pipeline's stages (filters,
   * spectra, histories, queues), each underlying ArrayBuffer counted once (views into one buffer are one buffer), and
   * fft.js's tables, which are plain arrays of numbers (8 bytes per entry). The thread's shared scratch counts up to
   * the furthest byte the stages' views reach (another call in the thread may have grown it). A cold path (walks the
   * object graph).
   */
  get stateBytes(): number {
    const seen = new Set<unknown>()
    let scratchBytes = 0
    const walk = (value: unknown, depth: number): number => {
      if (value === null || typeof value !== 'object' || seen.has(value) || depth > 12) return 0
      seen.add(value)
      if (ArrayBuffer.isView(value)) {
        const extent = sharedScratchExtent(value)
        if (extent >= 0) {
          scratchBytes = Math.max(scratchBytes, extent)
          return 0
        }
        if (seen.has(value.buffer)) return 0
        seen.add(value.buffer)
        return value.buffer.byteLength
      }
      if (Array.isArray(value) && value.length > 0 && typeof value[0] === 'number') return 8 * value.length
      let total = 0
      for (const key of Object.keys(value)) total += walk((value as Record<string, unknown>)[key], depth + 1)
      return total
    }
    return walk(this, 0) + scratchBytes
  }

  reset(): void {
    this.receiver.reset()
    this.echo.reset()
    this.noise.reset()
    this.inputBuffer.reset()
    this.nearQueue.reset()
    this.farQueue.reset()
    this.outputBuffer.reset()
    this.downsampler.reset()
    this.farUpsampler.reset()
    this.hasPacketSource = false
    this.pendingEchoShiftMs = 0
    this.applyNearBand()
    const m = this.metrics
    m.frameIndex = 0
    m.nonFiniteFrames = 0
    for (const key of Object.keys(m.stageUs) as StageName[]) m.stageUs[key] = m.stageMeanUs[key] = 0
  }

  /**
   * The stages' times of this tick (ms) into the metrics, µs, and their exponential means over ~100 frames (2 s at
   * 20 ms). Each field by its name: a store through a variable key boxed every double (a heap number per frame).
   */
  private recordStages(networkMs: number, echoMs: number, noiseMs: number, framingMs: number): void {
    const now = this.metrics.stageUs
    const mean = this.metrics.stageMeanUs
    now.network = 1000 * networkMs
    now.echo = 1000 * echoMs
    now.noise = 1000 * noiseMs
    now.framing = 1000 * framingMs
    if (this.metrics.frameIndex === 0) {
      mean.network = now.network
      mean.echo = now.echo
      mean.noise = now.noise
      mean.framing = now.framing
      return
    }
    mean.network += 0.01 * (now.network - mean.network)
    mean.echo += 0.01 * (now.echo - mean.echo)
    mean.noise += 0.01 * (now.noise - mean.noise)
    mean.framing += 0.01 * (now.framing - mean.framing)
  }

  private applyPending(): void {
    const patch = this.pending!
    this.pending = null
    const previous = this.config
    this.config = { ...previous, ...patch }
    this.metrics.configApplied++
    this.metrics.latency.maxMs = this.config.maxAudioLatencyMs
    if (
      this.config.audioChunkDurationMs !== previous.audioChunkDurationMs ||
      this.config.audioBufferDurationMs !== previous.audioBufferDurationMs
    ) {
      this.build()
      return
    }
    const c = this.config
    this.receiver.configure({
      law: c.law,
      plcMethod: c.plcMethod,
      jitterBufferEnabled: c.jitterBufferEnabled,
      jitterBuffer: {
        mode: c.jitterBufferMode,
        minDelayMs: c.jitterBufferMinMs,
        targetDelayMs: c.jitterBufferTargetMs,
        maxDelayMs: c.jitterBufferMaxMs,
      },
    })
    this.echo.configure({
      engine: c.echoCancellationEngine,
      filterLength: c.echoFilterLengthTaps,
      postFilter: c.echoSuppressorEnabled,
      postFilterStrength: c.echoSuppressorStrength,
      delayEstimation: c.echoDelayEstimationEnabled,
      maxBulkDelayMs: c.echoMaxBulkDelayMs,
    })
    this.noise.configure({
      engine: c.noiseReductionEngine,
      mode: c.noiseReductionMode,
      strength: c.noiseReductionStrength,
    })
  }

  /** Cold path: (re)allocates every stage for the frame duration. */
  private build(): void {
    const c = this.config
    this.frameSamples = (SAMPLE_RATE_16K * c.audioChunkDurationMs) / 1000
    this.frameSamples8k = (SAMPLE_RATE_8K * c.audioChunkDurationMs) / 1000
    this.receiver = new NetworkReceiver({
      law: c.law,
      outputRateHz: SAMPLE_RATE_16K,
      plcMethod: c.plcMethod,
      jitterBufferEnabled: c.jitterBufferEnabled,
      jitterBuffer: {
        frameMs: c.audioChunkDurationMs,
        mode: c.jitterBufferMode,
        minDelayMs: c.jitterBufferMinMs,
        targetDelayMs: c.jitterBufferTargetMs,
        maxDelayMs: c.jitterBufferMaxMs,
      },
    })
    this.echo = new EchoCanceller({
      sampleRateHz: SAMPLE_RATE_16K,
      frameSamples: this.frameSamples,
      filterLength: c.echoFilterLengthTaps,
      engine: c.echoCancellationEngine,
      postFilter: c.echoSuppressorEnabled,
      postFilterStrength: c.echoSuppressorStrength,
      delayEstimation: c.echoDelayEstimationEnabled,
      maxBulkDelayMs: c.echoMaxBulkDelayMs,
      nearBandwidthHz: this.nearBandwidthHz,
    })
    this.noise = new NoiseReducer({
      sampleRateHz: SAMPLE_RATE_16K,
      frameSamples: this.frameSamples,
      engine: c.noiseReductionEngine,
      strength: c.noiseReductionStrength,
      mode: c.noiseReductionMode,
      bandwidthHz: this.nearBandwidthHz,
    })
    const buffer = (capacityMs: number, sampleFormat: FrameSampleFormat, sampleRateHz = SAMPLE_RATE_16K) =>
      new FrameBuffer({
        sampleRateHz,
        frameMs: c.audioChunkDurationMs,
        capacityMs,
        clock: () => 0,
        sampleFormat,
      })
    // The service's two buffers (speech recognition in, TTS out) hold audioBufferDurationMs of 16-bit PCM, as the
    // service's do; the near/far queues only re-frame what the caller pushes for the next ticks: the near end in
    // Float32 (a PCM source passes bit-exact), the far end as 16-bit PCM (the echo canceller keeps its far history in
    // 16 bits: the same values, half the memory).
    const queueMs = Math.max(SOURCE_QUEUE_MS, 2 * c.audioChunkDurationMs)
    this.inputBuffer = buffer(c.audioBufferDurationMs, 'int16')
    this.outputBuffer = buffer(c.audioBufferDurationMs, 'int16', SAMPLE_RATE_8K)
    this.nearQueue = buffer(queueMs, 'float32')
    this.farQueue = buffer(queueMs, 'int16')
    this.downsampler = new Resampler({ inputRateHz: SAMPLE_RATE_16K, outputRateHz: SAMPLE_RATE_8K })
    this.farUpsampler = new Resampler({ inputRateHz: SAMPLE_RATE_8K, outputRateHz: SAMPLE_RATE_16K })
    this.near = new Float32Array(this.frameSamples)
    this.far = new Float32Array(this.frameSamples)
    // tick, pullOutput and pushFarPacket each use their scratch only within the call: one 16 kHz and one 8 kHz
    // buffer serve all three.
    const frame16k = new Float32Array(
      Math.max(this.frameSamples, this.farUpsampler.maxOutputLength(this.frameSamples8k)),
    )
    const frame8k = new Float32Array(Math.max(this.frameSamples8k, this.downsampler.maxOutputLength(this.frameSamples)))
    this.stage = frame16k.subarray(0, this.frameSamples)
    this.outFrame = frame16k.subarray(0, this.frameSamples)
    this.far16k = frame16k
    this.out8k = frame8k
    this.far8k = frame8k.subarray(0, this.frameSamples8k)
    this.out16 = new Int16Array(frame8k.buffer, 0, this.frameSamples8k)
  }

  private updateLatency(): void {
    const latency = this.metrics.latency
    const c = this.config
    latency.jitterBufferMs =
      this.hasPacketSource && c.jitterBufferEnabled ? this.receiver.jitterBuffer.metrics.bufferDelayMs : 0
    latency.networkAlgorithmicMs = this.hasPacketSource ? this.receiver.metrics.algorithmicDelayMs : 0
    latency.echoMs = c.echoCancellationEnabled ? (this.echo.delaySamples * 1000) / SAMPLE_RATE_16K : 0
    latency.noiseMs = c.noiseReductionEnabled ? (this.noise.delaySamples * 1000) / SAMPLE_RATE_16K : 0
    latency.framingMs = c.audioChunkDurationMs + this.inputBuffer.metrics.latencyCurrentMs
    latency.totalMs =
      latency.jitterBufferMs + latency.networkAlgorithmicMs + latency.echoMs + latency.noiseMs + latency.framingMs
  }

  /** Flags only: no strings on the per-frame path. */
  private updateHealth(): void {
    const m = this.metrics
    const c = this.config
    let flags = 0
    if (m.latency.totalMs > c.maxAudioLatencyMs) flags |= HEALTH_LATENCY_OVER_BUDGET
    if (this.hasPacketSource && c.jitterBufferEnabled) {
      const jb = this.receiver.jitterBuffer.metrics
      if (jb.lossRate > 0.05) flags |= HEALTH_PACKET_LOSS
      if (jb.lateRate > 0.01) flags |= HEALTH_LATE_PACKETS
    }
    if (c.echoCancellationEnabled) {
      if (this.echo.metrics.nonCausal) flags |= HEALTH_ECHO_NON_CAUSAL
      else if (this.echo.metrics.state === 'diverged') flags |= HEALTH_ECHO_DIVERGED
      if (this.echoTailCut) flags |= HEALTH_ECHO_TAIL_CUT
    }
    if (m.nonFiniteFrames > 0) flags |= HEALTH_NON_FINITE
    m.healthFlags = flags
    const severe = HEALTH_LATENCY_OVER_BUDGET | HEALTH_PACKET_LOSS | HEALTH_NON_FINITE
    m.health = flags & severe ? 'unhealthy' : flags ? 'degraded' : 'healthy'
  }

  /** What is wrong, in words, worst first (empty when healthy). Allocates: call it at UI rate, not per frame. */
  healthReasons(): string[] {
    const m = this.metrics
    const c = this.config
    const flags = m.healthFlags
    const reasons: string[] = []
    if (flags & HEALTH_NON_FINITE) reasons.push(`${m.nonFiniteFrames} frames were not finite and were silenced`)
    if (flags & HEALTH_LATENCY_OVER_BUDGET)
      reasons.push(
        `latency ${m.latency.totalMs.toFixed(0)} ms is over the ${c.maxAudioLatencyMs} ms budget (maxAudioLatencyMs)`,
      )
    const jb = this.receiver.jitterBuffer.metrics
    if (flags & HEALTH_PACKET_LOSS)
      reasons.push(`packet loss ${(100 * jb.lossRate).toFixed(1)} % is above 5 %: concealment will be audible`)
    if (flags & HEALTH_LATE_PACKETS)
      reasons.push(`late packets ${(100 * jb.lateRate).toFixed(1)} %: raise jitterBufferTargetMs or jitterBufferMaxMs`)
    if (flags & HEALTH_ECHO_NON_CAUSAL)
      reasons.push('echo arrives before its far-end reference: the reference is late, check the far-end routing')
    if (flags & HEALTH_ECHO_DIVERGED)
      reasons.push('echo canceller diverged: the echo path changed or double talk is constant')
    // Echo tail check: an inverse FFT per partition, so at UI rate; updateHealth raises the flag from the next frame.
    const taps = this.echo.filterTaps
    this.echoTailCut = false
    if (c.echoCancellationEnabled && this.echo.metrics.state === 'converged' && taps >= 8) {
      const length = Math.ceil((c.echoMaxBulkDelayMs * SAMPLE_RATE_16K) / 1000) + taps
      if (this.echoResponse.length < length) this.echoResponse = new Float32Array(length)
      const end = this.echo.getFilterResponse(this.echoResponse)
      let total = 0
      let tail = 0
      for (let i = Math.max(0, end - taps); i < end; i++) {
        const e = this.echoResponse[i]! * this.echoResponse[i]!
        total += e
        if (i >= end - taps / 8) tail += e
      }
      this.echoTailCut = tail > 1e-3 * total // −30 dB: a 64 ms filter in a 200 ms RT60 room holds −20 dB there
    }
    if (flags & HEALTH_ECHO_TAIL_CUT)
      reasons.push(
        `echo path longer than the ${((taps * 1000) / SAMPLE_RATE_16K).toFixed(0)} ms echo filter: ` +
          'raise echoFilterLengthTaps (ECHO_FILTER_LENGTH) and keep it if the linear filter ERLE rises',
      )
    return reasons
  }
}

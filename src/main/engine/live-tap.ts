/**
 * The tap of a live session: the same TapBatch a replay posts (near / far / processed PCM at 16 kHz and the per-frame
 * metrics, frame events), filled frame by frame from the live pipeline and posted at about 30 batches per second, so
 * the waveforms, spectrograms and meters work unchanged in live mode. Plain Node, no Electron.
 *
 * `writeFrameMetrics` copies one frame's metrics out of a Pipeline into the batch's columns; the replay's tap
 * (Session.record) uses it too, so both taps read the pipeline alike.
 */
import type { Pipeline } from '../../dsp/pipeline'
import {
  FRAME_METRICS,
  ECHO_PATH_STATES,
  ECHO_STATES,
  NETWORK_OUTCOMES,
  type FrameEvent,
  type FrameMetricName,
  type SessionHealth,
  type TapBatch,
} from '../../shared/contract'

/** Largest live batch, frames (1 s of 20 ms frames): a batch is normally posted long before. */
export const LIVE_MAX_BATCH_FRAMES = 50
const SAMPLE_RATE_HZ = 16000

/** Writes frame i of a batch: the pipeline's metrics after its last tick. Allocates nothing. */
export function writeFrameMetrics(p: Pipeline, m: Record<FrameMetricName, Float32Array>, i: number): void {
  const pm = p.metrics
  const jb = p.networkReceiver.jitterBuffer.metrics
  const echo = p.echoCanceller.metrics
  const noise = p.noiseReducer.metrics
  const latency = pm.latency
  const n = p.frameLength
  m.jitterMs[i] = jb.jitterMs
  m.bufferDelayMs[i] = jb.bufferDelayMs
  m.targetDelayMs[i] = jb.targetDelayMs
  m.lossRate[i] = jb.lossRate
  m.networkOutcome[i] = NETWORK_OUTCOMES.indexOf(pm.networkOutcome)
  m.erleDb[i] = echo.erleDb
  m.erleMinDb[i] = echo.erleMinDb
  m.erleMedianDb[i] = echo.erleMedianDb
  m.erleMaxDb[i] = echo.erleMaxDb
  m.linearErleDb[i] = echo.linearErleDb
  m.erlDb[i] = echo.erlDb
  m.echoState[i] = ECHO_STATES.indexOf(echo.state)
  m.echoDelayMs[i] = echo.bulkDelayMs
  m.echoDelayConfidence[i] = echo.delayConfidence
  m.echoDriftPpm[i] = echo.driftPpm
  m.doubleTalk[i] = echo.doubleTalk ? 1 : 0
  m.echoPath[i] = ECHO_PATH_STATES.indexOf(echo.echoPath)
  m.noiseAttenuationDb[i] = noise.attenuationDb
  m.noiseFloorDb[i] = noise.noiseFloorDb
  m.inputLevelDb[i] = pm.inputLevelDb
  m.farLevelDb[i] = levelDb(p.farInput, n)
  m.outputLevelDb[i] = pm.outputLevelDb
  m.latencyTotalMs[i] = latency.totalMs
  m.latencyJitterBufferMs[i] = latency.jitterBufferMs
  m.latencyNetworkMs[i] = latency.networkAlgorithmicMs
  m.latencyEchoMs[i] = latency.echoMs
  m.latencyNoiseMs[i] = latency.noiseMs
  m.latencyFramingMs[i] = latency.framingMs
  m.networkUs[i] = pm.stageUs.network
  m.echoUs[i] = pm.stageUs.echo
  m.noiseUs[i] = pm.stageUs.noise
  m.framingUs[i] = pm.stageUs.framing
}

/** Mean power of the first n samples, dBFS (−120 for silence). */
export function levelDb(frame: Float32Array, n: number): number {
  let sum = 0
  for (let i = 0; i < n; i++) sum += frame[i]! * frame[i]!
  const power = sum / n
  return power > 1e-12 ? 10 * Math.log10(power) : -120
}

export interface LiveTapSink {
  tap(batch: TapBatch, transfer: ArrayBuffer[]): void
}

export class LiveTap {
  private frameSamples = 0
  private frames = 0
  private fromFrame = 0
  /** The frame after the last one recorded (where an events-only batch is placed). */
  private nextFrame = 0
  private events: FrameEvent[] = []
  private near = new Float32Array(0)
  private far = new Float32Array(0)
  private processed = new Float32Array(0)
  private readonly metrics = {} as Record<FrameMetricName, Float32Array>
  private configApplied = 0

  constructor(
    private readonly sink: LiveTapSink,
    /** The session's batch counter (live batches continue the replay's sequence). */
    private readonly nextSequence: () => number,
    frameSamples: number,
  ) {
    for (const name of FRAME_METRICS) this.metrics[name] = new Float32Array(LIVE_MAX_BATCH_FRAMES)
    this.resize(frameSamples)
  }

  /** Frames waiting to be posted. */
  get pendingFrames(): number {
    return this.frames
  }

  /** Cold path: a new frame size (a new frame duration) posts what is pending and reallocates the PCM columns. */
  resize(frameSamples: number, pipeline?: Pipeline, frameMs?: number): void {
    if (frameSamples === this.frameSamples) return
    if (pipeline !== undefined && frameMs !== undefined) this.flush(pipeline, frameMs, [])
    this.frameSamples = frameSamples
    this.near = new Float32Array(LIVE_MAX_BATCH_FRAMES * frameSamples)
    this.far = new Float32Array(LIVE_MAX_BATCH_FRAMES * frameSamples)
    this.processed = new Float32Array(LIVE_MAX_BATCH_FRAMES * frameSamples)
  }

  /** A frame event (missing blocks, dropouts, errors) in frame k. */
  event(event: FrameEvent): void {
    this.events.push(event)
  }

  /** Copies frame k (the pipeline's last tick, and its processed output) into the batch; posts a full batch. */
  record(p: Pipeline, processed: Float32Array, k: number, frameMs: number, reasons: () => string[]): void {
    const n = this.frameSamples
    if (this.frames === LIVE_MAX_BATCH_FRAMES) this.flush(p, frameMs, reasons())
    if (this.frames === 0) this.fromFrame = k
    const i = this.frames++
    this.nextFrame = k + 1
    this.near.set(p.nearInput.subarray(0, n), i * n)
    this.far.set(p.farInput.subarray(0, n), i * n)
    this.processed.set(processed.subarray(0, n), i * n)
    writeFrameMetrics(p, this.metrics, i)
    if (p.metrics.configApplied > this.configApplied) {
      this.events.push({ frame: k, kind: 'config-applied', count: 1 })
      this.configApplied = p.metrics.configApplied
    }
  }

  /** A new pipeline: its configApplied counter starts from 0. */
  restartCounters(): void {
    this.configApplied = 0
  }

  /** Posts the pending frames (and events), transferring copies of the columns. Returns the batch's health. */
  flush(p: Pipeline, frameMs: number, extraReasons: string[]): SessionHealth | null {
    if (this.frames === 0 && this.events.length === 0) return null
    const frames = this.frames
    const n = this.frameSamples
    const transfer: ArrayBuffer[] = []
    const take = (source: Float32Array, length: number): Float32Array => {
      const copy = source.slice(0, length)
      transfer.push(copy.buffer)
      return copy
    }
    const metrics = {} as Record<FrameMetricName, Float32Array>
    for (const name of FRAME_METRICS) metrics[name] = take(this.metrics[name], frames)
    const reasons = [...p.healthReasons(), ...extraReasons]
    const status = p.metrics.health === 'healthy' && extraReasons.length > 0 ? 'degraded' : p.metrics.health
    const health: SessionHealth = { status, reasons }
    const batch: TapBatch = {
      sequence: this.nextSequence(),
      fromFrame: frames > 0 ? this.fromFrame : this.nextFrame,
      frameCount: frames,
      frameSamples: n,
      sampleRateHz: SAMPLE_RATE_HZ,
      frameMs,
      near: take(this.near, frames * n),
      far: take(this.far, frames * n),
      processed: take(this.processed, frames * n),
      metrics,
      events: this.events,
      health,
    }
    this.frames = 0
    this.events = []
    this.sink.tap(batch, transfer)
    return health
  }
}

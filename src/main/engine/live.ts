/**
 * Live mode: the session's pipeline on the renderer's microphone and speaker instead of a capture. Runs in the
 * engine's worker thread beside the replay (session.ts hands it the live commands); plain Node, no Electron.
 *
 * Flow: the renderer's capture worklet frames the microphone and the far-end samples it played into 20 ms blocks at
 * the device rate and sends them in order (`pushLive`, sequence from 0). LiveInput resamples the near end
 * (inputRateHz) and the far end (outputRateHz) to 16 kHz with the project's Resampler, keeps both as 16 kHz queues,
 * and runs one pipeline tick per whole frame present in both: pushNearPcm / pushFarPcm of exactly one frame each,
 * tick, then readInput, as Replay does for a PCM capture (the same Pipeline construction too). So a recording of
 * the frames the pipeline took replays exactly (live-recording.ts). Each frame goes to the tap (live-tap.ts) like a
 * replay's, so the UI works unchanged.
 *
 * Blocks missing from the sequence are counted and replaced by silence of their duration (at most MAX_GAP_BLOCKS), so
 * the timeline and the near/far alignment hold; blocks that arrive late or twice are dropped. If the far end runs
 * ahead of or behind the near end by more than FAR_SLIP_FRAMES (two devices with different clocks), the surplus
 * is dropped or the deficit filled with silence, counted as a slip.
 *
 * Latency (LiveState.latencyMs), per block: the added latency from the moment the renderer had the complete block
 * (`capturedAtMs`, ms since the epoch: performance.timeOrigin + performance.now(), the same clock here) until the
 * pipeline has processed what it could of it, plus the algorithmic delay still ahead of its last sample: the near
 * resampler's group delay, the echo canceller's and noise reducer's delays, and the samples waiting in the 16 kHz queue
 * for the next frame. Without `capturedAtMs` the block's arrival stands for its capture. last, p50 and p99 over the
 * last LATENCY_WINDOW blocks, after the first second (LATENCY_WARMUP_BLOCKS).
 *
 * The far-end talker the renderer plays (startLive's reply): the open capture's far track (16 kHz PCM, or G.711
 * packets placed by RTP timestamp) or the bundled bot voice (resources/live/bot-voice.wav), resampled to outputRateHz.
 */
import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { g711DecodeFloat } from '../../dsp/g711'
import { Pipeline } from '../../dsp/pipeline'
import { Resampler } from '../../dsp/resampler'
import type { PipelineSettings } from '../../shared/config'
import {
  fail,
  ok,
  type FileReply,
  type LiveFarSource,
  type LivePushReply,
  type LiveStartReply,
  type LiveState,
  type ParsedRequests,
  type RecordingInfo,
  type Result,
  type SettingsChangeSummary,
} from '../../shared/contract'
import { readWav } from '../capture'
import { resampleSignal } from '../capture/audio'
import type { Capture, PacketTrack } from '../capture/types'
import { LiveRecorder, type RecordingSummary, type TimelinePoint } from './live-recording'
import { LiveTap, levelDb, type LiveTapSink } from './live-tap'

const SAMPLE_RATE_HZ = 16000
/** The renderer's block duration, ms. */
export const LIVE_BLOCK_MS = 20
/** Largest block (the contract's limit: one second at 192 kHz). */
const MAX_BLOCK_SAMPLES = 192000
/** A gap in the sequence is filled with silence up to this many blocks (1 s); beyond, only counted. */
const MAX_GAP_BLOCKS = 50
/** Near/far imbalance, frames, beyond which the far end is trimmed or padded. */
const FAR_SLIP_FRAMES = 3
/** Latency percentiles over this many blocks (60 s of 20 ms blocks). */
export const LATENCY_WINDOW = 3000
/**
 * The first blocks (1 s) are left out of the percentiles: the start (the worker compiling the pipeline's hot paths,
 * the far-end talker still in transfer) is not the steady state the figure describes. `last` and the recording's
 * timeline keep them.
 */
export const LATENCY_WARMUP_BLOCKS = 50
/** Live state pushed to the UI at most this often, ms. */
const STATE_INTERVAL_MS = 500
/** Tap batches at most this often, ms (≈30 per second, as the replay). */
const BATCH_INTERVAL_MS = 33
/** Longest far-end talker sent to the renderer, s (it loops it). */
const MAX_FAR_S = 120
/** The bundled bot voice, relative to resources/. */
const BOT_VOICE = join('live', 'bot-voice.wav')

/** What live mode needs from its session. */
export interface LiveHost {
  /** resources/demo (the bot voice is in resources/live beside it). */
  readonly demoDir: string
  readonly recordingsDir: string
  readonly sink: LiveTapSink & { event(event: { kind: 'error'; code: 'internal'; message: string }): void }
  settings(): PipelineSettings
  capture(): Capture | null
  /** The session's tap batch counter. */
  nextSequence(): number
  /** Live mode takes the session over: pause the replay. */
  enter(): void
  /** Live mode ended: the replay comes back (with the settings as they are now). */
  leave(): void
  emitState(): void
  /** Monotonic clock, ms (tap and state pacing). */
  clock(): number
  /** Epoch clock, ms, comparable with the renderer's capturedAtMs (default performance.timeOrigin + now()). */
  epochClock?(): number
}

export class LiveMode {
  private input: LiveInput | null = null
  private lastRecording: RecordingInfo | null = null

  constructor(private readonly host: LiveHost) {}

  get isActive(): boolean {
    return this.input !== null
  }

  /** The live pipeline (for the echo path view and reports), null when not live. */
  get pipeline(): Pipeline | null {
    return this.input?.pipeline ?? null
  }

  async start(request: ParsedRequests['startLive']): Promise<Result<LiveStartReply>> {
    if (this.input !== null)
      return fail('invalid-request', 'startLive: live mode is already on (stopLive first, or keep pushing)')
    const far = await this.farTalker(request.far, request.outputRateHz)
    if (!far.ok) return far
    const input = new LiveInput(this.host, request, far.value.description)
    this.host.enter()
    this.input = input
    if (request.record === true) {
      const started = this.startRecording()
      if (!started.ok) {
        this.input = null
        this.host.leave()
        return started
      }
    }
    this.host.emitState()
    return ok({
      farAudio: far.value.samples,
      farDescription: far.value.description,
      inputFrameSamples: (request.inputRateHz * LIVE_BLOCK_MS) / 1000,
      recording: input.isRecording,
    })
  }

  push(request: ParsedRequests['pushLive']): Result<LivePushReply> {
    const input = this.input
    if (input === null) return fail('invalid-request', 'pushLive: live mode is not on (startLive first)')
    const reply = input.push(request)
    if (input.recordingError !== null) {
      const message = input.recordingError
      input.recordingError = null
      this.lastRecording = input.lastRecording
      this.host.sink.event({ kind: 'error', code: 'internal', message })
      this.host.emitState()
    } else if (input.stateDue()) this.host.emitState()
    return ok(reply)
  }

  /** Ends live mode; a recording in progress is finished and kept. */
  stop(reason: string): Result<{ recording: RecordingInfo | null }> {
    const input = this.input
    if (input === null) return fail('invalid-request', 'stopLive: live mode is not on')
    const recording = input.finish(reason)
    if (recording !== null) this.lastRecording = recording
    // The final figures (every frame pushed so far processed), then the state without live mode.
    this.host.emitState()
    this.input = null
    this.host.leave()
    this.host.emitState()
    return ok({ recording })
  }

  startRecording(): Result<void> {
    const input = this.input
    if (input === null) return fail('invalid-request', 'startRecording: live mode is not on (startLive first)')
    if (input.isRecording) return fail('invalid-request', 'startRecording: a recording is already in progress')
    try {
      input.startRecording(this.host.recordingsDir)
    } catch (error) {
      return fail(
        'internal',
        `startRecording: cannot write to ${this.host.recordingsDir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      )
    }
    this.host.emitState()
    return ok(undefined)
  }

  stopRecording(): Result<RecordingInfo> {
    const input = this.input
    if (input === null || !input.isRecording)
      return fail('invalid-request', 'stopRecording: no recording is in progress')
    const info = input.stopRecording('stopped by the user')
    if (info === null) return fail('internal', 'stopRecording: the recording could not be finished')
    this.lastRecording = info
    this.host.emitState()
    return ok(info)
  }

  /** The last recording's files, for a download. */
  async exportRecording(): Promise<Result<{ files: FileReply[] }>> {
    const info = this.lastRecording
    if (info === null) return fail('invalid-request', 'exportRecording: nothing has been recorded in this session yet')
    const files: FileReply[] = []
    const kinds: [keyof RecordingInfo['files'], string][] = [
      ['capture', 'audio/wav'],
      ['processed', 'audio/wav'],
      ['sidecar', 'application/json'],
    ]
    for (const [kind, mimeType] of kinds) {
      const name = info.files[kind]
      try {
        const bytes = new Uint8Array(await readFile(join(info.directory, name)))
        files.push({ bytes, suggestedName: name, mimeType })
      } catch (error) {
        return fail(
          'internal',
          `exportRecording: ${join(info.directory, name)} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        )
      }
    }
    return ok({ files })
  }

  /** Applies changed settings to the live pipeline; returns the live frame at which they take effect. */
  configure(settings: PipelineSettings, changed: SettingsChangeSummary[]): number {
    return this.input?.configure(settings, changed) ?? 0
  }

  state(): LiveState | null {
    return this.input?.state() ?? null
  }

  /** The session is closing: finish a recording in progress. */
  close(): void {
    if (this.input !== null) this.input.finish('the session was closed')
    this.input = null
  }

  private async farTalker(
    source: LiveFarSource,
    outputRateHz: number,
  ): Promise<Result<{ samples: Float32Array | null; description: string }>> {
    if (source === 'none') return ok({ samples: null, description: 'no far end' })
    let samples16k: Float32Array
    let description: string
    if (source === 'bot') {
      const path = join(dirname(this.host.demoDir), BOT_VOICE)
      let bytes: Uint8Array
      try {
        bytes = new Uint8Array(await readFile(path))
      } catch (error) {
        return fail(
          'internal',
          `startLive: the bot voice ${path} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        )
      }
      const wav = readWav(bytes, path)
      samples16k = resampleSignal(wav.channel(0), wav.sampleRateHz, SAMPLE_RATE_HZ)
      description = 'bundled bot voice'
    } else {
      const capture = this.host.capture()
      if (capture === null)
        return fail('invalid-request', "startLive: far 'capture': no capture is open (choose 'bot' or 'none')")
      if (capture.far === null)
        return fail(
          'invalid-request',
          `startLive: far 'capture': ${capture.file} has no far end (choose 'bot' or 'none', or pick its far stream)`,
        )
      samples16k = capture.far.kind === 'pcm' ? capture.far.samples : packetTrackPcm16k(capture.far)
      description = `far end of ${capture.file.split(/[\\/]/).pop()}`
    }
    const limit = MAX_FAR_S * SAMPLE_RATE_HZ
    if (samples16k.length > limit) {
      samples16k = samples16k.subarray(0, limit)
      description += ` (first ${MAX_FAR_S} s)`
    }
    if (samples16k.length === 0) return fail('invalid-request', `startLive: the far end (${description}) is empty`)
    return ok({ samples: Float32Array.from(resampleSignal(samples16k, SAMPLE_RATE_HZ, outputRateHz)), description })
  }
}

/** A G.711 packet track as continuous 16 kHz audio: each packet decoded at its RTP timestamp (gaps silent). */
function packetTrackPcm16k(track: PacketTrack): Float32Array {
  const packets = track.packets.filter((p) => p.content === 'audio')
  if (packets.length === 0) return new Float32Array(0)
  const first = packets[0]!.rtpTimestamp
  let end = 0
  for (const p of packets) end = Math.max(end, ((p.rtpTimestamp - first) | 0) + p.payload.length)
  const pcm8k = new Float32Array(Math.min(end, MAX_FAR_S * 8000))
  const scratch = new Float32Array(4096)
  for (const p of packets) {
    const at = (p.rtpTimestamp - first) | 0
    if (at < 0 || at >= pcm8k.length || p.payload.length > scratch.length) continue
    const n = Math.min(p.payload.length, pcm8k.length - at)
    g711DecodeFloat(track.law, p.payload, scratch, n)
    pcm8k.set(scratch.subarray(0, n), at)
  }
  return resampleSignal(pcm8k, 8000, SAMPLE_RATE_HZ)
}

/** Running sums over one second of frames, for the recording's timeline. */
interface SecondSums {
  frames: number
  erleDb: number
  echoDelayMs: number
  noiseAttenuationDb: number
  inputLevelDb: number
  farLevelDb: number
  outputLevelDb: number
  latencySumMs: number
  latencyMaxMs: number
  latencyCount: number
}

const emptySums = (): SecondSums => ({
  frames: 0,
  erleDb: 0,
  echoDelayMs: 0,
  noiseAttenuationDb: 0,
  inputLevelDb: 0,
  farLevelDb: 0,
  outputLevelDb: 0,
  latencySumMs: 0,
  latencyMaxMs: 0,
  latencyCount: 0,
})

/** One live session: resampling, framing, the pipeline, the tap, the latency figures and the recording. */
export class LiveInput {
  pipeline: Pipeline
  readonly inputRateHz: number
  readonly outputRateHz: number
  readonly far: LiveFarSource
  readonly inputDevice: string
  readonly outputDevice: string
  /** Set when a recording failed (disk full…): the session reports it once. */
  recordingError: string | null = null
  lastRecording: RecordingInfo | null = null
  private settings: PipelineSettings
  private frameSamples: number
  private frameMs: number
  private readonly nearResampler: Resampler | null
  private readonly farResampler: Resampler | null
  /** Resampler outputs, sized for the largest block. */
  private readonly near16k: Float32Array
  private readonly far16k: Float32Array
  /** 16 kHz queues waiting for a whole frame (a frame is taken from the front, the rest moved down). */
  private pendingNear: Float32Array
  private pendingFar: Float32Array
  private nearCount = 0
  private farCount = 0
  private out: Float32Array
  private drained: Float32Array
  private readonly tap: LiveTap
  private recorder: LiveRecorder | null = null
  private frames = 0
  private expectedSequence = 0
  private missingBlocks = 0
  private dropouts = 0
  private farSlips = 0
  /** Block latencies, ms: a ring of the last LATENCY_WINDOW. */
  private readonly latencies = new Float64Array(LATENCY_WINDOW)
  private latencyCount = 0
  /** Blocks measured since live mode started (the warm-up included). */
  private blocks = 0
  private lastLatencyMs = 0
  private lastBatchMs = -Infinity
  private lastStateMs = -Infinity
  private second = emptySums()
  private readonly epochClock: () => number
  /** healthReasons bound once (the tap calls it when a batch fills). */
  private readonly reasons = (): string[] => this.healthReasons()

  constructor(
    private readonly host: LiveHost,
    request: ParsedRequests['startLive'],
    private readonly farDescription: string,
  ) {
    this.inputRateHz = request.inputRateHz
    this.outputRateHz = request.outputRateHz
    this.far = request.far
    this.inputDevice = request.inputDevice ?? 'default'
    this.outputDevice = request.outputDevice ?? 'default'
    this.epochClock = host.epochClock ?? (() => performance.timeOrigin + performance.now())
    this.settings = { ...host.settings() }
    this.pipeline = LiveInput.buildPipeline(this.settings)
    this.frameSamples = this.pipeline.frameLength
    this.frameMs = this.pipeline.currentConfig.audioChunkDurationMs
    const resampler = (rateHz: number) =>
      rateHz === SAMPLE_RATE_HZ ? null : new Resampler({ inputRateHz: rateHz, outputRateHz: SAMPLE_RATE_HZ })
    this.nearResampler = resampler(this.inputRateHz)
    this.farResampler = resampler(this.outputRateHz)
    const maxOut = (r: Resampler | null) => (r === null ? MAX_BLOCK_SAMPLES : r.maxOutputLength(MAX_BLOCK_SAMPLES))
    this.near16k = new Float32Array(maxOut(this.nearResampler))
    this.far16k = new Float32Array(maxOut(this.farResampler))
    // Queues: a full-size block, the gap filler (1 s) and the slip margin, over whatever is already waiting.
    const queue = this.near16k.length + SAMPLE_RATE_HZ + (FAR_SLIP_FRAMES + 2) * 40 * 16
    this.pendingNear = new Float32Array(queue)
    this.pendingFar = new Float32Array(Math.max(queue, this.far16k.length + SAMPLE_RATE_HZ + 8 * 40 * 16))
    this.out = new Float32Array(this.frameSamples)
    this.drained = new Float32Array(this.frameSamples)
    this.tap = new LiveTap(host.sink, () => host.nextSequence(), this.frameSamples)
  }

  /** A pipeline as Replay builds one for a PCM capture (so a recording replays through the same construction). */
  static buildPipeline(settings: PipelineSettings): Pipeline {
    return new Pipeline({ ...settings, jitterBufferEnabled: false })
  }

  /** Group delay of the microphone's resampler to 16 kHz, ms (0 at 16 kHz). */
  get nearResamplerDelayMs(): number {
    return this.nearResampler?.delayMs ?? 0
  }

  get isRecording(): boolean {
    return this.recorder !== null
  }

  /** One block from the renderer. */
  push(request: ParsedRequests['pushLive']): LivePushReply {
    const arrivedMs = this.epochClock()
    if (request.sequence < this.expectedSequence) return this.reply() // late or duplicate: already accounted for
    const gap = request.sequence - this.expectedSequence
    if (gap > 0) {
      this.missingBlocks += gap
      this.tap.event({
        frame: this.frames,
        kind: 'underrun',
        count: gap,
        detail: `${gap} live block${gap === 1 ? '' : 's'} missing`,
      })
      const silence = Math.round((Math.min(gap, MAX_GAP_BLOCKS) * LIVE_BLOCK_MS * SAMPLE_RATE_HZ) / 1000)
      this.appendSilence(silence, silence)
    }
    this.expectedSequence = request.sequence + 1
    const dropouts = request.dropouts ?? 0
    if (dropouts > 0) {
      this.dropouts += dropouts
      this.tap.event({ frame: this.frames, kind: 'underrun', count: dropouts, detail: 'audio callback dropout' })
    }
    const nearAdded = this.resampleInto(this.nearResampler, request.near, this.near16k, 'near')
    if (request.far.length === 0) this.appendSilence(0, nearAdded)
    else this.resampleInto(this.farResampler, request.far, this.far16k, 'far')
    this.balanceFar()
    const n = this.frameSamples
    while (this.nearCount >= n && this.farCount >= n) this.tick()
    // Latency of this block: wall time until now, plus the signal delay still ahead of its last sample.
    const doneMs = this.epochClock()
    // A capture time not on this clock (over a minute off) says nothing: the arrival stands for it.
    const given = request.capturedAtMs
    const capturedMs = given !== undefined && Math.abs(doneMs - given) < 60_000 ? given : arrivedMs
    const latency = this.pipeline.metrics.latency
    const algorithmicMs =
      this.nearResamplerDelayMs + latency.echoMs + latency.noiseMs + (this.nearCount * 1000) / SAMPLE_RATE_HZ
    this.addLatency(Math.max(0, doneMs - capturedMs) + algorithmicMs)
    const now = this.host.clock()
    if (now - this.lastBatchMs >= BATCH_INTERVAL_MS && this.tap.pendingFrames > 0) {
      this.lastBatchMs = now
      this.tap.flush(this.pipeline, this.frameMs, this.healthReasons())
    }
    return this.reply()
  }

  /** Whether the live state is due for the UI (at most every STATE_INTERVAL_MS). */
  stateDue(): boolean {
    const now = this.host.clock()
    if (now - this.lastStateMs < STATE_INTERVAL_MS) return false
    this.lastStateMs = now
    return true
  }

  state(): LiveState {
    const { p50, p99 } = this.percentiles()
    return {
      inputRateHz: this.inputRateHz,
      outputRateHz: this.outputRateHz,
      far: this.far,
      inputDevice: this.inputDevice,
      outputDevice: this.outputDevice,
      frames: this.frames,
      missingBlocks: this.missingBlocks,
      dropouts: this.dropouts,
      latencyMs: { last: round2(this.lastLatencyMs), p50: round2(p50), p99: round2(p99) },
      recording:
        this.recorder === null
          ? null
          : { startedAtFrame: this.recorder.startedAtFrame, durationMs: this.recorder.durationMs },
    }
  }

  /** Cold-or-hot settings change: hot keys at the next frame, a new frame duration rebuilds the pipeline. */
  configure(settings: PipelineSettings, changed: SettingsChangeSummary[]): number {
    this.settings = { ...settings }
    if (changed.length === 0) return this.frames
    this.recorder?.noteConfig(this.frames, changed)
    if (changed.some((c) => c.key === 'audioChunkDurationMs' || c.key === 'audioBufferDurationMs')) {
      this.tap.flush(this.pipeline, this.frameMs, this.healthReasons())
      this.pipeline = LiveInput.buildPipeline(this.settings)
      this.frameSamples = this.pipeline.frameLength
      this.frameMs = this.pipeline.currentConfig.audioChunkDurationMs
      this.out = new Float32Array(this.frameSamples)
      this.drained = new Float32Array(this.frameSamples)
      this.tap.resize(this.frameSamples)
      this.tap.restartCounters()
      return this.frames
    }
    const patch: Record<string, unknown> = {}
    for (const change of changed) patch[change.key] = change.to
    this.pipeline.configure(patch)
    return this.frames
  }

  startRecording(directory: string): void {
    this.recorder = new LiveRecorder(directory, {
      settings: { ...this.settings },
      devices: {
        input: this.inputDevice,
        output: this.outputDevice,
        inputRateHz: this.inputRateHz,
        outputRateHz: this.outputRateHz,
      },
      far: { source: this.far, description: this.farDescription },
      frameMs: this.frameMs,
      startedAtFrame: this.frames,
    })
  }

  stopRecording(reason: string): RecordingInfo | null {
    const recorder = this.recorder
    if (recorder === null) return null
    this.recorder = null
    this.flushSecond(recorder)
    const info = recorder.finish(reason, this.summary())
    this.lastRecording = info
    return info
  }

  /** Ends the session: posts the pending tap frames and finishes a recording. Returns the recording, if any. */
  finish(reason: string): RecordingInfo | null {
    this.tap.flush(this.pipeline, this.frameMs, this.healthReasons())
    try {
      return this.stopRecording(reason)
    } catch {
      return this.lastRecording
    }
  }

  private reply(): LivePushReply {
    return { frames: this.frames, missingBlocks: this.missingBlocks }
  }

  /**
   * Resamples a block onto the end of its 16 kHz queue; returns the samples added. Non-finite samples become 0 and
   * samples beyond full scale are clamped to ±1, as the WAV reader does: the recording gives back exactly the samples
   * the pipeline took.
   */
  private resampleInto(
    resampler: Resampler | null,
    block: Float32Array,
    scratch: Float32Array,
    which: 'near' | 'far',
  ): number {
    const length = Math.min(block.length, MAX_BLOCK_SAMPLES)
    let produced: number
    if (resampler === null) {
      for (let i = 0; i < length; i++) scratch[i] = block[i]!
      produced = length
    } else produced = resampler.process(block, scratch, length)
    const queue = which === 'near' ? this.pendingNear : this.pendingFar
    const at = which === 'near' ? this.nearCount : this.farCount
    produced = Math.min(produced, queue.length - at)
    for (let i = 0; i < produced; i++) {
      const v = scratch[i]!
      queue[at + i] = v !== v ? 0 : v > 1 ? 1 : v < -1 ? -1 : v // NaN → 0; ±Infinity → ±1
    }
    if (which === 'near') this.nearCount += produced
    else this.farCount += produced
    return produced
  }

  private appendSilence(near: number, far: number): void {
    const n = Math.min(near, this.pendingNear.length - this.nearCount)
    this.pendingNear.fill(0, this.nearCount, this.nearCount + n)
    this.nearCount += n
    const f = Math.min(far, this.pendingFar.length - this.farCount)
    this.pendingFar.fill(0, this.farCount, this.farCount + f)
    this.farCount += f
  }

  /** Keeps the far queue within FAR_SLIP_FRAMES of the near one (devices on different clocks). */
  private balanceFar(): void {
    const limit = FAR_SLIP_FRAMES * this.frameSamples
    const excess = this.farCount - this.nearCount
    if (excess > limit) {
      const drop = excess - this.frameSamples
      this.pendingFar.copyWithin(0, drop, this.farCount)
      this.farCount -= drop
      this.farSlips++
    } else if (-excess > limit) {
      this.appendSilence(0, -excess - this.frameSamples)
      this.farSlips++
    }
  }

  /** One frame through the pipeline, as Replay.step does for a PCM capture. */
  private tick(): void {
    const n = this.frameSamples
    const p = this.pipeline
    const nowMs = this.frames * this.frameMs
    p.pushNearPcm(this.pendingNear, n)
    p.pushFarPcm(this.pendingFar, n)
    p.tick(nowMs, this.out)
    p.readInput(this.drained, nowMs)
    const recorder = this.recorder
    if (recorder !== null) {
      try {
        recorder.addFrame(p.nearInput, p.farInput, this.out, n)
      } catch (error) {
        this.failRecording(error as NodeJS.ErrnoException)
      }
    }
    this.pendingNear.copyWithin(0, n, this.nearCount)
    this.nearCount -= n
    this.pendingFar.copyWithin(0, n, this.farCount)
    this.farCount -= n
    this.tap.record(p, this.out, this.frames, this.frameMs, this.reasons)
    this.frames++
    this.accumulateSecond()
  }

  /** The recording cannot go on (disk full, folder removed): keep what was written, say why once. */
  private failRecording(error: NodeJS.ErrnoException): void {
    const recorder = this.recorder!
    this.recorder = null
    let info: RecordingInfo | null = null
    try {
      info = recorder.finish(`write failed: ${error.code ?? error.message}`, this.summary())
    } catch {
      // The files stay as last flushed.
    }
    this.lastRecording = info
    this.recordingError = `the recording stopped: cannot write to ${recorder.directory} (${error.code ?? error.message}); what was written so far is kept`
  }

  /** Live problems in words, for the tap's health line. */
  private healthReasons(): string[] {
    const reasons: string[] = []
    if (this.missingBlocks > 0)
      reasons.push(`${this.missingBlocks} live blocks went missing between renderer and engine`)
    if (this.dropouts > 0) reasons.push(`${this.dropouts} audio callback dropouts in the renderer`)
    if (this.farSlips > 0) reasons.push(`far end and microphone clocks differ: ${this.farSlips} slips`)
    return reasons
  }

  private addLatency(ms: number): void {
    this.lastLatencyMs = ms
    if (this.blocks++ >= LATENCY_WARMUP_BLOCKS) {
      this.latencies[this.latencyCount % LATENCY_WINDOW] = ms
      this.latencyCount++
    }
    const s = this.second
    s.latencySumMs += ms
    s.latencyCount++
    if (ms > s.latencyMaxMs) s.latencyMaxMs = ms
  }

  private percentiles(): { p50: number; p99: number } {
    const count = Math.min(this.latencyCount, LATENCY_WINDOW)
    if (count === 0) return { p50: 0, p99: 0 }
    const sorted = this.latencies.slice(0, count).sort()
    const at = (q: number) => sorted[Math.min(count - 1, Math.ceil(q * count) - 1)]!
    return { p50: at(0.5), p99: at(0.99) }
  }

  private summary(): RecordingSummary {
    const { p50, p99 } = this.percentiles()
    return { missingBlocks: this.missingBlocks, dropouts: this.dropouts, latencyMs: { p50, p99 } }
  }

  private accumulateSecond(): void {
    const s = this.second
    const p = this.pipeline
    s.frames++
    s.erleDb += p.echoCanceller.metrics.erleDb
    s.echoDelayMs += p.echoCanceller.metrics.bulkDelayMs
    s.noiseAttenuationDb += p.noiseReducer.metrics.attenuationDb
    s.inputLevelDb += p.metrics.inputLevelDb
    s.farLevelDb += levelDb(p.farInput, this.frameSamples)
    s.outputLevelDb += p.metrics.outputLevelDb
    if (s.frames * this.frameMs < 1000) return
    if (this.recorder !== null) this.flushSecond(this.recorder)
    else this.second = emptySums()
  }

  private flushSecond(recorder: LiveRecorder): void {
    const s = this.second
    this.second = emptySums()
    if (s.frames === 0) return
    const mean = (x: number) => round2(x / s.frames)
    const point: TimelinePoint = {
      tMs: Math.round(recorder.durationMs),
      erleDb: mean(s.erleDb),
      echoDelayMs: mean(s.echoDelayMs),
      noiseAttenuationDb: mean(s.noiseAttenuationDb),
      inputLevelDb: mean(s.inputLevelDb),
      farLevelDb: mean(s.farLevelDb),
      outputLevelDb: mean(s.outputLevelDb),
      latencyMeanMs: s.latencyCount > 0 ? round2(s.latencySumMs / s.latencyCount) : 0,
      latencyMaxMs: round2(s.latencyMaxMs),
      missingBlocks: this.missingBlocks,
      dropouts: this.dropouts,
    }
    recorder.addTimeline(point)
  }
}

function round2(x: number): number {
  return Math.round(x * 100) / 100
}

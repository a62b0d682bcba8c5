/**
 * A replay session: a capture (the bundled demo, a file, or uploaded bytes) → the pipeline (through Replay) → the
 * tap. Runs inside the engine's worker thread (worker.ts); plain Node, no Electron.
 *
 * Transport: play / pause / seek / loop / speed. At 'realtime' the session runs the frames that are due on the wall
 * clock every BATCH_INTERVAL_MS (≈30 batches/s); at 'max' it runs frames for RUN_SLICE_MS at a time, posts them as
 * one batch and yields, keeping at most MAX_IN_FLIGHT_BATCHES unacknowledged (the consumer's pace bounds memory).
 * Seeking rebuilds the replay when it goes back and fast-forwards the pipeline to the target (the same state a
 * straight replay would have there), in slices so that commands are still served.
 *
 * Hot reconfiguration: `configure` checks the patch with validatePatch against the session's settings and hands
 * the changed keys to Pipeline.configure, which applies them atomically at the next frame boundary; the reply names
 * that frame and the tap reports a 'config-applied' event in it. The frame duration is the one cold key: it rebuilds
 * the replay at the same position. Commands run between frames, never inside one.
 *
 * Besides the processed output, each frame's processed audio is also read back from the pipeline's input frame
 * buffer, as the voice service's speech recogniser does, so that buffer's over/underruns mean what they mean there.
 */
import { readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import type { NetworkProfileName } from '../../dsp/network-simulator'
import { DEFAULT_SETTINGS, validatePatch, type PipelineSettings, type SettingKey } from '../../shared/config'
import {
  FRAME_METRICS,
  fail,
  ok,
  type CaptureInfo,
  type ConfigureReply,
  type EchoPathReply,
  type EngineEvent,
  type ExportEnvReply,
  type FrameEvent,
  type FrameEventKind,
  type FileReply,
  type FrameMetricName,
  type ParsedRequests,
  type PreviewEnvReply,
  type Result,
  type SessionHealth,
  type SessionState,
  type Speed,
  type TapBatch,
  type TransportState,
} from '../../shared/contract'
import {
  CaptureError,
  impairCapture,
  loadCapture,
  parseCapture,
  type Capture,
  type LoadCaptureOptions,
} from '../capture'
import { formatEnvFile, previewEnvText, resolveSettings } from '../settings/env-file'
import { LiveMode } from './live'
import { writeFrameMetrics } from './live-tap'
import { echoPath, exportAudio, exportReport, previewEnv, type ExportSource } from './exports'
import type { WorkerCommand } from './protocol'
import { Replay, replayErleDb } from './replay'

/** Wall time between batches at real-time speed, ms (≈30 batches/s). */
export const BATCH_INTERVAL_MS = 33
/** Wall time one run of frames may take at 'max' speed or while seeking before the worker yields, ms. */
const RUN_SLICE_MS = 30
/** Largest batch, frames (5 s of 20 ms frames). */
const MAX_BATCH_FRAMES = 250
/** At 'max' speed: batches posted and not yet acknowledged by the host before the session waits. */
export const MAX_IN_FLIGHT_BATCHES = 4
/** At real time, a backlog of more frames than this (the worker was starved) is skipped, not replayed in a burst. */
const MAX_CATCH_UP_FRAMES = 50
const SAMPLE_RATE_HZ = 16000
const DEMO_FILES = { pcap: 'demo-call.pcap', wav: 'demo-call.wav' } as const

export interface SessionSink {
  /** A tap batch; `transfer` lists its buffers (the worker transfers them instead of copying). */
  tap(batch: TapBatch, transfer: ArrayBuffer[]): void
  state(state: SessionState): void
  event(event: EngineEvent): void
}

export interface SessionOptions {
  /** Folder holding the bundled demo captures (resources/demo). */
  demoDir: string
  /** Monotonic clock, ms. */
  clock?: () => number
  /** Where live recordings are written (default: <tmpdir>/workbench-recordings). */
  recordingsDir?: string
}

/** Where the current capture came from, to read it again with other stream choices. */
interface CaptureSource {
  name: string
  path: string
  isDemo: boolean
  bytes: Uint8Array | null
  options: LoadCaptureOptions
}

type SessionCommand = WorkerCommand

/** Previous values of the counters that become frame events. */
interface Counters {
  late: number
  missing: number
  duplicate: number
  jitterUnderruns: number
  overruns: number
  readUnderruns: number
  configApplied: number
}

export class Session {
  private settings: PipelineSettings = { ...DEFAULT_SETTINGS }
  private source: CaptureSource | null = null
  private original: Capture | null = null
  private capture: Capture | null = null
  private impairment: { profile: NetworkProfileName | null; seed: number } | null = null
  private replay: Replay | null = null
  private playing = false
  private ended = false
  private speed: Speed = 'realtime'
  private loop = false
  private busy: TransportState['busy'] = null
  private timer: ReturnType<typeof setTimeout> | null = null
  private inFlight = 0
  /** Real-time anchor: frame `anchorFrame` was due at wall time `anchorMs`. */
  private anchorFrame = 0
  private anchorMs = 0
  /** Real time: when the next batch is due, ms (clock). */
  private nextBatchMs = 0
  private seekTarget: number | null = null
  private seekWaiters: ((result: Result<TransportState>) => void)[] = []
  private sequence = 0
  private counters: Counters = {
    late: 0,
    missing: 0,
    duplicate: 0,
    jitterUnderruns: 0,
    overruns: 0,
    readUnderruns: 0,
    configApplied: 0,
  }
  /** Keys configured and not yet applied by the pipeline (reported with the config-applied event). */
  private pendingKeys = new Set<SettingKey>()
  // The batch being filled.
  private batchFrames = 0
  private batchFrom = 0
  private batchEvents: FrameEvent[] = []
  private batchNear = new Float32Array(0)
  private batchFar = new Float32Array(0)
  private batchProcessed = new Float32Array(0)
  private batchMetrics = {} as Record<FrameMetricName, Float32Array>
  /** Processed frame (Replay.step's output) and the speech recogniser's read of the input buffer. */
  private out = new Float32Array(0)
  private lastHealth: SessionHealth = { status: 'healthy', reasons: [] }
  /**
   * Latency over the frames that played audio (a packet, or PCM), and the health status of the last such frame:
   * the drain after the near track ends conceals and grows the buffer, which says nothing about the call.
   */
  private latencySumMs = 0
  private latencyMaxMs = 0
  private playedFrames = 0
  private playedHealth: SessionHealth['status'] = 'healthy'
  private closed = false
  private readonly clock: () => number
  /** Live mode (issue 7): microphone and speaker instead of the capture, see live.ts. */
  private readonly liveMode: LiveMode

  constructor(
    private readonly sink: SessionSink,
    private readonly options: SessionOptions,
  ) {
    this.clock = options.clock ?? (() => performance.now())
    this.liveMode = new LiveMode({
      demoDir: options.demoDir,
      recordingsDir: options.recordingsDir ?? join(tmpdir(), 'workbench-recordings'),
      sink,
      settings: () => this.settings,
      capture: () => this.capture,
      nextSequence: () => this.sequence++,
      enter: () => this.enterLive(),
      leave: () => this.leaveLive(),
      emitState: () => this.emitState(),
      clock: this.clock,
    })
  }

  /** Runs one validated command. Never throws: failures are results. */
  async handle<C extends SessionCommand>(command: C, request: ParsedRequests[C]): Promise<Result<unknown>> {
    try {
      return await this.run(command, request)
    } catch (error) {
      if (error instanceof CaptureError) return fail('capture', error.message)
      if (error instanceof RangeError) return fail('invalid-settings', error.message)
      return fail('internal', `${command}: ${(error as Error).message ?? String(error)}`)
    }
  }

  private async run(command: SessionCommand, request: unknown): Promise<Result<unknown>> {
    switch (command) {
      case 'openCapture':
        return this.openCapture(request as ParsedRequests['openCapture'])
      case 'selectStreams':
        return this.selectStreams(request as ParsedRequests['selectStreams'])
      case 'setImpairment':
        return this.setImpairment(request as ParsedRequests['setImpairment'])
      case 'play':
        return this.play()
      case 'pause':
        return this.pause()
      case 'seek':
        return this.seek((request as ParsedRequests['seek']).positionMs)
      case 'setSpeed':
        this.speed = (request as ParsedRequests['setSpeed']).speed
        this.reanchor()
        this.emitState()
        this.schedule()
        return ok(this.transport())
      case 'setLoop':
        this.loop = (request as ParsedRequests['setLoop']).enabled
        this.emitState()
        return ok(this.transport())
      case 'configure':
        return this.configure(request as ParsedRequests['configure'])
      case 'importEnv':
        return this.importEnv(request as ParsedRequests['importEnv'])
      case 'exportEnv':
        return this.exportEnv((request as ParsedRequests['exportEnv']) ?? {})
      case 'getState':
        return ok(this.state())
      // Read-outs and exports (exports.ts).
      case 'previewEnv':
        return this.previewEnv(request as ParsedRequests['previewEnv'])
      case 'getEchoPath':
        return this.getEchoPath()
      case 'exportAudio':
        return this.exportAudio(request as ParsedRequests['exportAudio'])
      case 'exportReport':
        return this.exportReport()
      // Live mode (live.ts).
      case 'startLive': {
        const started = await this.liveMode.start(request as ParsedRequests['startLive'])
        return started.ok ? ok({ ...started.value, ...this.state() }) : started
      }
      case 'pushLive':
        return this.liveMode.push(request as ParsedRequests['pushLive'])
      case 'stopLive': {
        const reason = (request as ParsedRequests['stopLive'])?.reason ?? 'stopped by the user'
        const stopped = this.liveMode.stop(reason)
        return stopped.ok ? ok({ ...stopped.value, ...this.state() }) : stopped
      }
      case 'startRecording': {
        const started = this.liveMode.startRecording()
        return started.ok ? ok(this.state()) : started
      }
      case 'stopRecording':
        return this.liveMode.stopRecording()
      case 'exportRecording':
        return this.liveMode.exportRecording()
    }
  }

  /** The host acknowledged a batch (it reached the consumer). */
  ack(): void {
    if (this.inFlight > 0) this.inFlight--
    this.schedule()
  }

  close(): void {
    this.liveMode.close()
    this.closed = true
    this.playing = false
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
  }

  // -------------------------------------------------------------------------------------------------------------
  // State

  state(): SessionState {
    return {
      capture: this.captureInfo(),
      transport: this.transport(),
      settings: { ...this.settings },
      health: this.lastHealth,
      live: this.liveMode.state(),
    }
  }

  private transport(): TransportState {
    const replay = this.replay
    const frameMs = replay?.frameMs ?? this.settings.audioChunkDurationMs
    const position = replay?.position ?? 0
    const total = replay?.totalFrames ?? 0
    return {
      playing: this.playing,
      ended: this.ended,
      speed: this.speed,
      loop: this.loop,
      positionFrame: position,
      totalFrames: total,
      frameMs,
      positionMs: position * frameMs,
      durationMs: total * frameMs,
      busy: this.busy,
    }
  }

  private captureInfo(): CaptureInfo | null {
    const source = this.source
    const capture = this.capture
    if (source === null || capture === null) return null
    return {
      name: source.name,
      path: source.path,
      isDemo: source.isDemo,
      format: capture.format,
      description: capture.description,
      durationMs: capture.durationMs,
      near: capture.near.kind,
      far: capture.far?.kind ?? null,
      warnings: capture.warnings.slice(0, 50),
      streams: capture.streams.map((s) => ({
        index: s.index,
        source: s.source,
        destination: s.destination,
        ssrc: s.ssrc,
        codec: s.codec,
        packets: s.packets,
        lost: s.lost,
        meanJitterMs: s.meanJitterMs,
        role: s.role,
      })),
      impairment: this.impairment,
    }
  }

  private emitState(): void {
    if (!this.closed) this.sink.state(this.state())
  }

  // -------------------------------------------------------------------------------------------------------------
  // Capture

  private async openCapture(request: ParsedRequests['openCapture']): Promise<Result<SessionState>> {
    const options: LoadCaptureOptions = {}
    if (request.farPath !== undefined) options.farPath = request.farPath
    if (request.nearStream !== undefined) options.nearStream = request.nearStream
    if (request.farStream !== undefined) options.farStream = request.farStream
    if (request.channels !== undefined) options.channels = request.channels
    const s = request.source
    let source: CaptureSource
    if (s.kind === 'demo') {
      const name = DEMO_FILES[s.format ?? 'pcap']
      source = { name, path: join(this.options.demoDir, name), isDemo: true, bytes: null, options }
    } else if (s.kind === 'path') {
      source = { name: basename(s.path), path: s.path, isDemo: false, bytes: null, options }
    } else {
      source = { name: basename(s.name), path: '', isDemo: false, bytes: s.bytes, options }
    }
    this.busy = 'loading'
    this.emitState()
    let capture: Capture
    try {
      capture = await this.load(source)
    } catch (error) {
      // The open capture stays as it was (and keeps playing if it was).
      this.busy = this.seekTarget !== null ? 'seeking' : null
      this.emitState()
      throw error
    }
    this.busy = null
    this.stopLoop()
    this.playing = false
    this.cancelSeek('a new capture was opened')
    this.source = source
    this.original = capture
    this.capture = capture
    this.impairment = null
    this.rebuild()
    this.sink.event({ kind: 'capture-opened', capture: this.captureInfo()! })
    if (request.play === true) this.play()
    else this.emitState()
    return ok(this.state())
  }

  private async load(source: CaptureSource): Promise<Capture> {
    if (source.bytes === null) return loadCapture(source.path, source.options)
    const far =
      source.options.farPath !== undefined
        ? { bytes: await this.readFar(source.options.farPath), file: source.options.farPath }
        : null
    return parseCapture(source.bytes, source.name, source.options, far)
  }

  private async readFar(path: string): Promise<Uint8Array> {
    try {
      return new Uint8Array(await readFile(path))
    } catch (error) {
      throw new CaptureError(
        path,
        `cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      )
    }
  }

  private async selectStreams(request: ParsedRequests['selectStreams']): Promise<Result<SessionState>> {
    const source = this.source
    if (source === null) return fail('no-capture', 'selectStreams: no capture is open')
    if (this.original?.streams.length === 0)
      return fail(
        'invalid-request',
        `selectStreams: ${source.name} is a ${this.original.format} capture, it has no streams to pick`,
      )
    const next: CaptureSource = {
      ...source,
      options: { ...source.options, nearStream: request.nearStream, farStream: request.farStream },
    }
    const capture = await this.load(next)
    this.source = next
    this.original = capture
    return this.replaceCapture(this.impairment)
  }

  private setImpairment(request: ParsedRequests['setImpairment']): Result<SessionState> {
    if (this.original === null) return fail('no-capture', 'setImpairment: no capture is open')
    return this.replaceCapture(request.profile === null ? null : { profile: request.profile, seed: request.seed ?? 1 })
  }

  /** Applies an impairment to the original capture and rebuilds the replay at the same position (ms). */
  private replaceCapture(
    impairment: { profile: NetworkProfileName | null; seed: number } | null,
  ): Result<SessionState> {
    const original = this.original!
    const capture = impairment?.profile ? impairCapture(original, impairment.profile, impairment.seed) : original
    const positionMs = this.replay !== null ? this.replay.position * this.replay.frameMs : 0
    this.flush()
    this.capture = capture
    this.impairment = impairment?.profile ? impairment : null
    this.rebuild()
    this.startSeek(Math.round(positionMs / this.replay!.frameMs))
    this.sink.event({ kind: 'capture-opened', capture: this.captureInfo()! })
    this.emitState()
    return ok(this.state())
  }

  /** A new Replay of the current capture with the session's settings; its stats and counters start over. */
  private rebuild(): void {
    const replay = new Replay(this.capture!, this.settings)
    this.replay = replay
    this.ended = false
    this.pendingKeys.clear()
    const n = replay.frameSamples
    if (this.out.length !== n) {
      this.out = new Float32Array(n)
    }
    if (this.batchNear.length !== MAX_BATCH_FRAMES * n) {
      this.batchNear = new Float32Array(MAX_BATCH_FRAMES * n)
      this.batchFar = new Float32Array(MAX_BATCH_FRAMES * n)
      this.batchProcessed = new Float32Array(MAX_BATCH_FRAMES * n)
    }
    if (this.batchMetrics.jitterMs === undefined)
      for (const name of FRAME_METRICS) this.batchMetrics[name] = new Float32Array(MAX_BATCH_FRAMES)
    this.batchFrames = 0
    this.batchFrom = 0
    this.latencySumMs = this.latencyMaxMs = this.playedFrames = 0
    this.playedHealth = 'healthy'
    this.readCounters(this.counters)
    this.reanchor()
  }

  /** Live mode takes the session over: the replay pauses where it is. */
  private enterLive(): void {
    this.playing = false
    if (this.seekTarget !== null) {
      this.cancelSeek('live mode started')
      this.busy = null
    }
    this.stopLoop()
  }

  /** Back from live mode: the replay is rebuilt with the settings as they are now, at the time it had. */
  private leaveLive(): void {
    const replay = this.replay
    if (replay === null) return
    const positionMs = replay.position * replay.frameMs
    this.rebuild()
    this.startSeek(Math.min(this.replay!.totalFrames, Math.round(positionMs / this.replay!.frameMs)))
  }

  // -------------------------------------------------------------------------------------------------------------
  // Transport

  private play(): Result<TransportState> {
    if (this.replay === null) return fail('no-capture', 'play: no capture is open (open the demo or a file first)')
    if (this.liveMode.isActive) return fail('invalid-request', 'play: live mode is on (stop it to replay the capture)')
    if (this.ended || this.replay.done) {
      this.flush()
      this.rebuild()
    }
    this.playing = true
    this.reanchor()
    this.emitState()
    this.schedule()
    return ok(this.transport())
  }

  private pause(): Result<TransportState> {
    if (this.replay === null) return fail('no-capture', 'pause: no capture is open')
    this.playing = false
    this.flush()
    this.emitState()
    return ok(this.transport())
  }

  private seek(positionMs: number): Promise<Result<TransportState>> | Result<TransportState> {
    const replay = this.replay
    if (replay === null) return fail('no-capture', 'seek: no capture is open')
    if (this.liveMode.isActive) return fail('invalid-request', 'seek: live mode is on (stop it to replay the capture)')
    const target = Math.min(replay.totalFrames, Math.round(positionMs / replay.frameMs))
    this.flush()
    this.startSeek(target)
    this.emitState()
    if (this.seekTarget === null) return ok(this.transport())
    return new Promise((resolve) => this.seekWaiters.push(resolve))
  }

  /** Goes to frame `target`: rebuilds if it is behind, then fast-forwards (in run slices) without tapping. */
  private startSeek(target: number): void {
    const replay = this.replay!
    if (target < replay.position) this.rebuild()
    this.ended = false
    if (target === this.replay!.position) {
      this.finishSeek()
      return
    }
    for (const waiter of this.seekWaiters.splice(0))
      waiter(fail('cancelled', `seek: superseded by a seek to ${(target * replay.frameMs).toFixed(0)} ms`))
    this.seekTarget = target
    this.busy = 'seeking'
    this.schedule()
  }

  private cancelSeek(why: string): void {
    if (this.seekTarget === null) return
    this.seekTarget = null
    for (const waiter of this.seekWaiters.splice(0)) waiter(fail('cancelled', `seek: cancelled, ${why}`))
  }

  private finishSeek(): void {
    this.seekTarget = null
    this.busy = null
    this.reanchor()
    const transport = this.transport()
    for (const waiter of this.seekWaiters.splice(0)) waiter(ok(transport))
  }

  private reanchor(): void {
    this.anchorFrame = this.replay?.position ?? 0
    this.anchorMs = this.clock()
  }

  private stopLoop(): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    this.flush()
  }

  private schedule(): void {
    if (this.timer !== null || this.closed || this.replay === null) return
    const seeking = this.seekTarget !== null
    if (!seeking && !this.playing) return
    const fast = seeking || this.speed === 'max'
    if (!seeking && fast && this.inFlight >= MAX_IN_FLIGHT_BATCHES) return // resumed by ack()
    // Real time: the next batch on a fixed 33 ms grid (the run's own time is not added to the interval).
    const now = this.clock()
    if (fast || this.nextBatchMs < now - BATCH_INTERVAL_MS) this.nextBatchMs = now
    if (!fast) this.nextBatchMs += BATCH_INTERVAL_MS
    this.timer = setTimeout(
      () => {
        this.timer = null
        this.tick()
      },
      fast ? 0 : Math.max(0, this.nextBatchMs - now),
    )
  }

  private tick(): void {
    if (this.closed || this.replay === null) return
    try {
      if (this.seekTarget !== null) this.runSeek()
      else if (this.playing) {
        if (this.speed === 'max') this.runFast()
        else this.runRealtime()
      }
    } catch (error) {
      // A bug, not bad data (the pipeline never throws on data): stop, say so, keep the session.
      this.playing = false
      this.batchEvents.push({ frame: this.replay.position, kind: 'error', count: 1, detail: (error as Error).message })
      this.flush()
      this.sink.event({ kind: 'error', code: 'internal', message: `replay stopped: ${(error as Error).message}` })
      this.emitState()
      return
    }
    this.schedule()
  }

  private runSeek(): void {
    const replay = this.replay!
    const start = this.clock()
    while (replay.position < this.seekTarget! && !replay.done) {
      this.step(false)
      if (this.clock() - start >= RUN_SLICE_MS) return
    }
    this.finishSeek()
    this.emitState()
  }

  private runFast(): void {
    const start = this.clock()
    while (this.playing && this.batchFrames < MAX_BATCH_FRAMES) {
      this.step(true)
      if (this.clock() - start >= RUN_SLICE_MS) break
    }
    this.flush()
  }

  private runRealtime(): void {
    const replay = this.replay!
    const now = this.clock()
    let due = this.anchorFrame + Math.floor((now - this.anchorMs) / replay.frameMs) - replay.position
    if (due > MAX_CATCH_UP_FRAMES) {
      this.anchorFrame = replay.position
      this.anchorMs = now
      due = 1
    }
    for (let i = 0; i < due && this.playing && this.batchFrames < MAX_BATCH_FRAMES; i++) this.step(true)
    this.flush()
  }

  /** One frame through the pipeline; with `tap`, into the batch. Handles the end of the replay. */
  private step(tap: boolean): void {
    const replay = this.replay!
    const k = replay.position
    if (!replay.step(this.out)) return
    const pipeline = replay.pipeline
    const outcome = pipeline.metrics.networkOutcome
    if (outcome === 'ok' || outcome === 'recovered') {
      const latencyMs = pipeline.metrics.latency.totalMs
      this.latencySumMs += latencyMs
      if (latencyMs > this.latencyMaxMs) this.latencyMaxMs = latencyMs
      this.playedFrames++
      this.playedHealth = pipeline.metrics.health
    }
    if (tap) this.record(k)
    else this.readCounters(this.counters)
    if (replay.done) this.reachEnd(tap)
  }

  private reachEnd(tap: boolean): void {
    const frame = this.replay!.position
    if (this.loop && this.seekTarget === null) {
      if (tap) this.batchEvents.push({ frame: frame - 1, kind: 'looped', count: 1 })
      this.flush()
      this.rebuild()
      return
    }
    if (tap) this.batchEvents.push({ frame: frame - 1, kind: 'ended', count: 1 })
    this.flush()
    this.playing = false
    this.ended = true
    if (this.seekTarget !== null) this.finishSeek()
    this.emitState()
  }

  /** Copies frame k's audio and metrics into the batch and turns counter changes into events. */
  private record(k: number): void {
    const replay = this.replay!
    const p = replay.pipeline
    const n = replay.frameSamples
    if (this.batchFrames === 0) this.batchFrom = k
    const i = this.batchFrames++
    this.batchNear.set(p.nearInput.subarray(0, n), i * n)
    this.batchFar.set(p.farInput.subarray(0, n), i * n)
    this.batchProcessed.set(this.out, i * n)
    writeFrameMetrics(p, this.batchMetrics, i)
    this.frameEvents(k)
  }

  private readCounters(into: Counters): void {
    const p = this.replay!.pipeline
    const jb = p.networkReceiver.jitterBuffer.metrics
    const buffer = p.inputBufferMetrics
    into.late = jb.late
    into.missing = jb.missing
    into.duplicate = jb.duplicate
    into.jitterUnderruns = jb.underruns
    into.overruns = buffer.overruns
    into.readUnderruns = buffer.underruns
    into.configApplied = p.metrics.configApplied
  }

  private frameEvents(k: number): void {
    const before = this.counters
    const after: Counters = { ...before }
    this.readCounters(after)
    const add = (kind: FrameEventKind, count: number, detail?: string): void => {
      // A negative difference is a stage rebuilt with fresh counters: nothing happened.
      if (count > 0)
        this.batchEvents.push(detail === undefined ? { frame: k, kind, count } : { frame: k, kind, count, detail })
    }
    add('packet-late', after.late - before.late)
    add('packet-lost', after.missing - before.missing)
    add('packet-duplicate', after.duplicate - before.duplicate)
    add('underrun', after.jitterUnderruns - before.jitterUnderruns + after.readUnderruns - before.readUnderruns)
    add('overrun', after.overruns - before.overruns)
    if (after.configApplied > before.configApplied) {
      add('config-applied', 1, [...this.pendingKeys].join(','))
      this.pendingKeys.clear()
    }
    this.counters = after
  }

  /** Posts the batch being filled (if any frames), transferring copies of its arrays. */
  private flush(): void {
    const replay = this.replay
    if (replay === null || (this.batchFrames === 0 && this.batchEvents.length === 0)) return
    const frames = this.batchFrames
    const n = replay.frameSamples
    const metrics = {} as Record<FrameMetricName, Float32Array>
    const transfer: ArrayBuffer[] = []
    const take = (source: Float32Array, length: number): Float32Array => {
      const copy = source.slice(0, length)
      transfer.push(copy.buffer)
      return copy
    }
    for (const name of FRAME_METRICS) metrics[name] = take(this.batchMetrics[name], frames)
    this.lastHealth = { status: replay.pipeline.metrics.health, reasons: replay.pipeline.healthReasons() }
    const batch: TapBatch = {
      sequence: this.sequence++,
      fromFrame: frames > 0 ? this.batchFrom : replay.position,
      frameCount: frames,
      frameSamples: n,
      sampleRateHz: SAMPLE_RATE_HZ,
      frameMs: replay.frameMs,
      near: take(this.batchNear, frames * n),
      far: take(this.batchFar, frames * n),
      processed: take(this.batchProcessed, frames * n),
      metrics,
      events: this.batchEvents,
      health: this.lastHealth,
    }
    this.batchFrames = 0
    this.batchEvents = []
    this.inFlight++
    this.sink.tap(batch, transfer)
  }

  // -------------------------------------------------------------------------------------------------------------
  // Settings

  private configure(patch: Partial<PipelineSettings>): Result<ConfigureReply> {
    const checked = validatePatch(this.settings, patch)
    if (!checked.ok) return fail('invalid-settings', checked.errors.map((e) => e.message).join('; '))
    return this.applySettings(checked.settings)
  }

  private applySettings(settings: PipelineSettings): Result<ConfigureReply> {
    const previous = this.settings
    const changed = (Object.keys(settings) as SettingKey[])
      .filter((key) => !Object.is(settings[key], previous[key]))
      .map((key) => ({ key, from: previous[key], to: settings[key] }))
    if (this.liveMode.isActive && changed.length > 0) {
      // Live mode: the live pipeline takes the change; the replay is rebuilt with it when live mode ends.
      const effectiveFrame = this.liveMode.configure(settings, changed)
      this.settings = settings
      this.emitState()
      return ok({ effectiveFrame, changed, settings: { ...settings } })
    }
    const replay = this.replay
    if (replay === null || changed.length === 0) {
      this.settings = settings
      if (changed.length > 0) this.emitState()
      return ok({ effectiveFrame: replay?.position ?? 0, changed, settings: { ...settings } })
    }
    if (changed.some((c) => c.key === 'audioChunkDurationMs')) {
      // Cold: a new frame duration rebuilds the replay at the same position.
      const positionMs = replay.position * replay.frameMs
      this.settings = settings
      this.flush()
      this.rebuild()
      this.startSeek(Math.round(positionMs / this.replay!.frameMs))
      this.emitState()
      return ok({ effectiveFrame: this.seekTarget ?? this.replay!.position, changed, settings: { ...settings } })
    }
    const patch: Record<string, unknown> = {}
    for (const change of changed) patch[change.key] = change.to
    // Pipeline.configure checks again (a RangeError naming the field, turned into a result by handle()).
    const { effectiveFrame } = replay.pipeline.configure(patch)
    this.settings = settings
    for (const change of changed) this.pendingKeys.add(change.key)
    this.emitState()
    return ok({ effectiveFrame, changed, settings: { ...settings } })
  }

  private importEnv(request: ParsedRequests['importEnv']): Result<ConfigureReply & { warnings: string[] }> {
    const name = request.name ?? 'imported.env'
    const resolved = resolveSettings({ envText: request.text, envFile: name })
    if (!resolved.ok) {
      // Nothing is applied; the message names every bad line at once (`name:line: problem`), not just the first
      // layer's: the preview also checks the good lines against each other.
      const all = previewEnvText(request.text, name).errors
      const errors = all.length > 0 ? all : resolved.errors
      return fail('invalid-settings', errors.map((e) => e.message).join('; '))
    }
    const applied = this.applySettings(resolved.settings)
    if (!applied.ok) return applied
    return ok({ ...applied.value, warnings: resolved.warnings.map((w) => w.message) })
  }

  private exportEnv(request: { includeWorkbench?: boolean }): Result<ExportEnvReply> {
    const info = this.captureInfo()
    const text = formatEnvFile(this.settings, {
      includeWorkbench: request.includeWorkbench ?? false,
      header: {
        generatedAt: new Date(),
        ...(info !== null
          ? {
              capture: info.impairment
                ? `${info.name} (impaired: ${info.impairment.profile}, seed ${info.impairment.seed})`
                : info.name,
            }
          : {}),
        metrics: this.keyMetrics(),
      },
    })
    const stem = info !== null ? info.name.replace(/\.[^.]*$/, '') : 'workbench'
    return ok({ text, suggestedName: `${stem}.env` })
  }

  // -------------------------------------------------------------------------------------------------------------
  // Read-outs and exports (exports.ts): none of them changes the session, its replay or its live input

  private previewEnv(request: ParsedRequests['previewEnv']): Result<PreviewEnvReply> {
    return ok(previewEnv(request.text, request.name ?? 'preview.env', this.settings))
  }

  /** The live pipeline's echo path while live, else the replay's. */
  private getEchoPath(): Result<EchoPathReply> {
    const live = this.liveMode.pipeline
    if (live !== null) return ok(echoPath(live, this.settings, this.liveMode.state()?.far !== 'none'))
    const replay = this.replay
    if (replay === null) return fail('no-capture', 'getEchoPath: no capture is open and live mode is off')
    return ok(echoPath(replay.pipeline, this.settings, this.capture?.far !== null))
  }

  /** The capture, its description and the settings an offline render uses (null: no capture open). */
  private exportSource(): ExportSource | null {
    const info = this.captureInfo()
    if (this.capture === null || info === null) return null
    return { capture: this.capture, info, settings: { ...this.settings } }
  }

  private exportAudio(request: ParsedRequests['exportAudio']): Result<FileReply> {
    const source = this.exportSource()
    if (source === null) return fail('no-capture', 'exportAudio: no capture is open')
    return exportAudio(source, request.track)
  }

  private exportReport(): Result<FileReply> {
    const source = this.exportSource()
    if (source === null) return fail('no-capture', 'exportReport: no capture is open')
    const played = this.playedFrames > 0
    return ok(
      exportReport(source, {
        positionMs: this.transport().positionMs,
        keyMetrics: this.keyMetrics(),
        latency: {
          meanMs: played ? round1(this.latencySumMs / this.playedFrames) : null,
          maxMs: played ? round1(this.latencyMaxMs) : null,
          budgetMs: this.settings.maxAudioLatencyMs,
        },
        health: this.lastHealth,
      }),
    )
  }

  /** The session's key metrics for the .env header (what the settings were tuned on). */
  keyMetrics(): Record<string, string | number> {
    const replay = this.replay
    if (replay === null || replay.stats.frames === 0) return {}
    const s = replay.stats
    const p = replay.pipeline
    const out: Record<string, string | number> = { 'frames analysed': s.frames }
    if (s.echoFrames > 0 && s.echoOutEnergy > 0) out['ERLE (dB, far single talk)'] = round1(replayErleDb(s))
    if (s.echoFrames > 0 && s.echoLinearErrorEnergy > 0)
      out['linear filter ERLE (dB, far single talk)'] = round1(replayErleDb(s, true))
    if (this.settings.echoCancellationEnabled) out['echo delay (ms)'] = round1(p.echoCanceller.metrics.bulkDelayMs)
    if (s.noiseFrames > 0) out['noise attenuation (dB, mean)'] = round1(s.noiseAttenuationSumDb / s.noiseFrames)
    if (this.capture?.near.kind === 'packets') {
      const jb = p.networkReceiver.jitterBuffer.metrics
      out['jitter (ms, mean RFC 3550)'] = round1(jb.meanJitterMs)
      out['packet loss (%)'] = round1(100 * jb.lossRate)
      out['late packets (%)'] = round1(100 * jb.lateRate)
      out['mean buffer delay (ms)'] = round1(jb.meanBufferDelayMs)
    }
    if (this.playedFrames > 0)
      out['latency (ms)'] =
        `mean ${round1(this.latencySumMs / this.playedFrames)}, max ${round1(this.latencyMaxMs)}, ` +
        `budget ${p.metrics.latency.maxMs}`
    out['health'] = this.playedHealth
    return out
  }
}

function round1(x: number): number {
  return Math.round(x * 10) / 10
}

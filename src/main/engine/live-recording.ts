/**
 * Recording a live session as a capture: three files in the recordings directory, written as the session runs.
 *   <stem>.wav            near (channel 0, the microphone) and far (channel 1, the reference played) as the pipeline
 *                         took them, 16 kHz, 32-bit float stereo: a WAV capture that replays in replay mode
 *                         (openCapture by path) and in the CLI (`voip-workbench analyze <stem>.wav`)
 *   <stem>.processed.wav  the pipeline's processed near end, frame by frame as it was produced, 16 kHz float mono
 *   <stem>.json           sidecar: settings (and every change, by frame), devices and rates, far-end source, the live
 *                         figures (missing blocks, dropouts, latency) and a metrics timeline (one point per second)
 * Float samples keep the recording exact: the WAV reader hands the same Float32 values back at 16 kHz (no resampling),
 * so replaying <stem>.wav with the same settings feeds the pipeline the very frames live mode fed it; when recording
 * started with live mode and no setting changed, the replay's processed output equals <stem>.processed.wav.
 *
 * Nothing recorded is lost when the session ends abruptly: audio is buffered for FLUSH_SAMPLES (0.5 s) at most, then
 * written with the WAV headers' sizes patched, so the files on disk are complete, valid WAVs after every flush; the
 * sidecar is rewritten every SIDECAR_EVERY_FLUSHES flushes and at the end. Synchronous writes: this runs in the
 * engine's worker thread, a flush is ~64 KB and takes well under a millisecond. Plain Node, no Electron.
 */
import { closeSync, existsSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import type { PipelineSettings } from '../../shared/config'
import { APP_NAME, type LiveFarSource, type RecordingInfo, type SettingsChangeSummary } from '../../shared/contract'

export const RECORDING_SAMPLE_RATE_HZ = 16000
export const RECORDING_FORMAT_VERSION = 1
/** Audio buffered before a write, samples per channel (0.5 s). */
const FLUSH_SAMPLES = RECORDING_SAMPLE_RATE_HZ / 2
/** The sidecar is rewritten every this many flushes (2 s). */
const SIDECAR_EVERY_FLUSHES = 4
/** RIFF + fmt (18-byte IEEE float) + fact + data chunk headers. */
const WAV_HEADER_BYTES = 58
const WAVE_FORMAT_IEEE_FLOAT = 3

/**
 * A 32-bit float WAV written as it grows: samples are interleaved into a buffer and appended on flush, and the RIFF,
 * fact and data sizes are rewritten at every flush, so the file is a valid WAV of everything flushed so far.
 */
export class FloatWavWriter {
  private readonly fd: number
  /** Interleaved samples waiting to be written. */
  private readonly buffer: Float32Array
  private buffered = 0
  private written = 0
  private closed = false

  constructor(
    readonly path: string,
    readonly channels: number,
    readonly sampleRateHz: number,
    bufferFrames = FLUSH_SAMPLES,
  ) {
    this.buffer = new Float32Array(bufferFrames * channels)
    this.fd = openSync(path, 'wx')
    this.writeHeader()
  }

  /** Sample frames appended (flushed or not). */
  get frames(): number {
    return this.written + this.buffered
  }

  /** Appends n sample frames, one array per channel. */
  append(channels: readonly Float32Array[], n: number): void {
    const c = this.channels
    let offset = 0
    while (offset < n) {
      const capacity = this.buffer.length / c - this.buffered
      const take = Math.min(capacity, n - offset)
      for (let ch = 0; ch < c; ch++) {
        const source = channels[ch]!
        let j = this.buffered * c + ch
        for (let i = 0; i < take; i++, j += c) this.buffer[j] = source[offset + i]!
      }
      this.buffered += take
      offset += take
      if (this.buffered * c === this.buffer.length) this.flush()
    }
  }

  /** Writes the buffered samples and the header's sizes. */
  flush(): void {
    if (this.closed) return
    if (this.buffered > 0) {
      const bytes = this.buffered * this.channels * 4
      const data = Buffer.from(this.buffer.buffer, this.buffer.byteOffset, bytes)
      writeSync(this.fd, data, 0, bytes, WAV_HEADER_BYTES + this.written * this.channels * 4)
      this.written += this.buffered
      this.buffered = 0
    }
    this.writeHeader()
  }

  close(): void {
    if (this.closed) return
    this.flush()
    this.closed = true
    closeSync(this.fd)
  }

  private writeHeader(): void {
    const dataBytes = this.written * this.channels * 4
    const header = Buffer.alloc(WAV_HEADER_BYTES)
    header.write('RIFF', 0, 'ascii')
    header.writeUInt32LE(WAV_HEADER_BYTES - 8 + dataBytes, 4)
    header.write('WAVE', 8, 'ascii')
    header.write('fmt ', 12, 'ascii')
    header.writeUInt32LE(18, 16)
    header.writeUInt16LE(WAVE_FORMAT_IEEE_FLOAT, 20)
    header.writeUInt16LE(this.channels, 22)
    header.writeUInt32LE(this.sampleRateHz, 24)
    header.writeUInt32LE(this.sampleRateHz * this.channels * 4, 28) // bytes per second
    header.writeUInt16LE(this.channels * 4, 32) // block align
    header.writeUInt16LE(32, 34) // bits per sample
    header.writeUInt16LE(0, 36) // cbSize
    header.write('fact', 38, 'ascii')
    header.writeUInt32LE(4, 42)
    header.writeUInt32LE(this.written, 46) // sample frames
    header.write('data', 50, 'ascii')
    header.writeUInt32LE(dataBytes, 54)
    writeSync(this.fd, header, 0, WAV_HEADER_BYTES, 0)
  }
}

/** What the sidecar says about the live session. */
export interface RecordingContext {
  settings: PipelineSettings
  devices: { input: string; output: string; inputRateHz: number; outputRateHz: number }
  far: { source: LiveFarSource; description: string }
  frameMs: number
  /** The live frame the recording starts at (0: from the start of live mode). */
  startedAtFrame: number
}

/** One second of the live session, for the sidecar's timeline. */
export interface TimelinePoint {
  /** Recording time at the end of the second, ms. */
  tMs: number
  /** Means over the second (dB values averaged as dB). */
  erleDb: number
  echoDelayMs: number
  noiseAttenuationDb: number
  inputLevelDb: number
  farLevelDb: number
  outputLevelDb: number
  /** Added latency over the second's blocks, ms. */
  latencyMeanMs: number
  latencyMaxMs: number
  /** Totals since live mode started. */
  missingBlocks: number
  dropouts: number
}

export interface RecordingSummary {
  missingBlocks: number
  dropouts: number
  latencyMs: { p50: number; p99: number }
}

export class LiveRecorder {
  readonly directory: string
  readonly files: RecordingInfo['files']
  private readonly capture: FloatWavWriter
  private readonly processed: FloatWavWriter
  private readonly timeline: TimelinePoint[] = []
  private readonly configChanges: { frame: number; changes: SettingsChangeSummary[] }[] = []
  private readonly createdAt: string
  private flushes = 0
  private finished: RecordingInfo | null = null

  /** Creates the directory and the files (named after the start time; never overwrites). */
  constructor(
    directory: string,
    private readonly context: RecordingContext,
    now = new Date(),
  ) {
    mkdirSync(directory, { recursive: true })
    this.directory = directory
    const base = `live-${now.toISOString().slice(0, 19).replace(/:/g, '-')}`
    let stem = base
    for (let i = 2; existsSync(join(directory, `${stem}.wav`)) || existsSync(join(directory, `${stem}.json`)); i++)
      stem = `${base}-${i}`
    this.files = { capture: `${stem}.wav`, processed: `${stem}.processed.wav`, sidecar: `${stem}.json` }
    this.createdAt = now.toISOString()
    this.capture = new FloatWavWriter(join(directory, this.files.capture), 2, RECORDING_SAMPLE_RATE_HZ)
    this.processed = new FloatWavWriter(join(directory, this.files.processed), 1, RECORDING_SAMPLE_RATE_HZ)
    this.writeSidecar(null, null)
  }

  /** Frames (samples at 16 kHz per channel) recorded. */
  get samples(): number {
    return this.capture.frames
  }

  get durationMs(): number {
    return (this.capture.frames * 1000) / RECORDING_SAMPLE_RATE_HZ
  }

  get startedAtFrame(): number {
    return this.context.startedAtFrame
  }

  get isFinished(): boolean {
    return this.finished !== null
  }

  /** One frame of n samples: near and far as the pipeline took them, and the processed output. */
  addFrame(near: Float32Array, far: Float32Array, processed: Float32Array, n: number): void {
    const before = this.capture.frames
    this.capture.append([near, far], n)
    this.processed.append([processed], n)
    // The capture writer flushed (its buffer filled): flush the processed one with it, and now and then the sidecar.
    if (Math.floor(this.capture.frames / FLUSH_SAMPLES) > Math.floor(before / FLUSH_SAMPLES)) this.flush()
  }

  addTimeline(point: TimelinePoint): void {
    this.timeline.push(point)
  }

  noteConfig(frame: number, changes: SettingsChangeSummary[]): void {
    this.configChanges.push({ frame, changes })
  }

  /** Writes everything buffered (audio and, every few flushes, the sidecar). */
  flush(summary: RecordingSummary | null = null): void {
    this.capture.flush()
    this.processed.flush()
    if (++this.flushes % SIDECAR_EVERY_FLUSHES === 0) this.writeSidecar(summary, null)
  }

  /** Writes the rest, closes the files and the sidecar. Idempotent: a second call returns the same info. */
  finish(reason: string, summary: RecordingSummary | null): RecordingInfo {
    if (this.finished !== null) return this.finished
    this.capture.close()
    this.processed.close()
    const info: RecordingInfo = {
      directory: this.directory,
      files: { ...this.files },
      durationMs: this.durationMs,
      frames: Math.round(this.durationMs / this.context.frameMs),
    }
    this.writeSidecar(summary, reason)
    this.finished = info
    return info
  }

  private writeSidecar(summary: RecordingSummary | null, stopReason: string | null): void {
    const samples = this.capture.frames
    const sidecar = {
      format: 'voip-workbench-live-recording',
      version: RECORDING_FORMAT_VERSION,
      app: APP_NAME,
      createdAt: this.createdAt,
      finishedAt: stopReason === null ? null : new Date().toISOString(),
      stopReason,
      files: this.files,
      audio: {
        sampleRateHz: RECORDING_SAMPLE_RATE_HZ,
        encoding: '32-bit float',
        captureChannels: { near: 0, far: 1 },
        samples,
        durationMs: (samples * 1000) / RECORDING_SAMPLE_RATE_HZ,
        frameMs: this.context.frameMs,
      },
      replay:
        'Open the capture WAV (replay mode: openCapture by path; CLI: voip-workbench analyze) with the settings below. ' +
        'The processed WAV is the live output; a replay gives the same samples when the recording started with live ' +
        'mode and no setting changed during it.',
      settings: this.context.settings,
      configChanges: this.configChanges,
      devices: this.context.devices,
      far: this.context.far,
      live: { startedAtFrame: this.context.startedAtFrame, ...summary },
      timeline: this.timeline,
    }
    writeFileSync(join(this.directory, this.files.sidecar), JSON.stringify(sidecar, null, 2) + '\n')
  }
}

/**
 * Offline analysis of one capture: replays it through the pipeline as fast as the CPU allows and reports what the
 * pipeline saw and did (levels, echo, noise, network, latency budget, speed), plus the processed near end.
 * Shared by the CLI (`voip-workbench analyze`) and the engine. Plain Node, no Electron.
 */
import type { PipelineSettings } from '../shared/config'
import { impairCapture, loadCapture } from './capture'
import type { Capture, LoadCaptureOptions } from './capture/types'
import { Replay, replayErleDb } from './engine/replay'
import type { NetworkParams, NetworkProfileName } from '../dsp/network-simulator'

export interface CaptureReport {
  file: string
  format: Capture['format']
  description: string
  durationS: number
  warnings: string[]
  input: { nearRmsDb: number; nearPeakDb: number; farRmsDb: number | null; clippedSamples: number }
  echo: {
    enabled: boolean
    erleDb: number | null
    /** Median, min and max of the canceller's per-frame ERLE over its last 500 far single-talk frames (0: none). */
    erleMedianDb: number | null
    erleMinDb: number | null
    erleMaxDb: number | null
    /** The adaptive filter's ERLE alone, before the residual echo suppressor, over the same frames as erleDb. */
    linearErleDb: number | null
    erlDb: number | null
    delayMs: number | null
    delayConfidence: number | null
    driftPpm: number | null
    state: string | null
  }
  noise: {
    enabled: boolean
    noiseFloorDb: number | null
    /** The noise reducer's estimated SNR over the frames its VAD called speech (null: none was). */
    snrInDb: number | null
    snrOutDb: number | null
    /** Seconds of those frames. */
    speechS: number
    attenuationDb: number | null
  }
  network: {
    packets: number
    lost: number
    late: number
    duplicates: number
    reordered: number
    concealedFrames: number
    /** Late packets as a fraction of packets sent, 0–1. */
    lateLossRate: number
    /** RFC 3550 interarrival jitter averaged over the capture (Wireshark's Mean Jitter), ms. */
    jitterMs: number
    jitterMaxMs: number
    /** Mean of playout − arrival over the packets played, ms (METRICS.md). */
    meanBufferDelayMs: number
    /** Largest buffer depth of a played frame (playout − send − the fastest packet's delay), ms. */
    maxBufferDelayMs: number
  } | null
  latency: {
    totalMs: number
    jitterBufferMs: number
    networkAlgorithmicMs: number
    echoMs: number
    noiseMs: number
    framingMs: number
    maxMs: number
    /** Delay removed from the processed WAV to align it with the input, ms (0 with --no-align). */
    alignedMs: number
  }
  health: { status: string; reasons: string[] }
  speed: { realtimeFactor: number; usPerFrame: number }
}

export interface AnalyzeOptions {
  settings: PipelineSettings
  load?: LoadCaptureOptions
  /** What-if replay through the network simulator: a named profile and/or explicit parameters, seeded. */
  impair?: { profile?: NetworkProfileName; params?: Partial<NetworkParams>; seed: number }
  /** Remove the pipeline's reported delay from the processed audio (default true). */
  align?: boolean
  /** Also return the near end as it entered the echo canceller and the far-end reference (the engine's export). */
  tracks?: boolean
}

export interface AnalyzeResult {
  report: CaptureReport
  /** The processed near end, 16 kHz mono. */
  processed: Float32Array
  /**
   * With `tracks`: the near end as received (after the jitter buffer and concealment, before echo cancellation and
   * noise reduction) and the far-end reference as the canceller saw it, both as long as `processed` and aligned
   * with it (shifted by the network part of its delay, so near and far keep the echo's lag between them).
   */
  near?: Float32Array
  far?: Float32Array
}

const round = (value: number, digits = 2): number => Number(value.toFixed(digits))
/** 10·log10(a / b), at most 200 dB either way (a speech estimate of exactly 0). */
const powerRatioDb = (a: number, b: number): number => 10 * Math.log10(Math.max(a, 1e-20 * b) / b)
const finiteOrNull = (value: number, digits = 2): number | null =>
  Number.isFinite(value) ? round(value, digits) : null

export async function analyzeCapture(path: string, options: AnalyzeOptions): Promise<AnalyzeResult> {
  let capture = await loadCapture(path, options.load)
  if (options.impair) {
    const { profile, params, seed } = options.impair
    capture = impairCapture(capture, { ...(profile ? { profile } : {}), ...params }, seed)
  }
  return analyzeLoaded(capture, options)
}

export function analyzeLoaded(capture: Capture, options: AnalyzeOptions): AnalyzeResult {
  const replay = new Replay(capture, options.settings)
  const n = replay.frameSamples
  const output = new Float32Array(replay.totalFrames * n)
  const frame = new Float32Array(n)
  const pipeline = replay.pipeline
  // Latency, noise and health are read when the near track has been fed in full, before the drain's silence.
  // The echo canceller's figures too: in the drain the jitter buffer holds its pointer on an empty buffer (the delay
  // grows, and the canceller's window follows it), which says nothing about the call.
  let snapshot = {
    latency: { ...pipeline.metrics.latency },
    echo: { ...pipeline.echoCanceller.metrics },
    noiseFloorDb: -120,
    health: 'healthy',
    reasons: [] as string[],
  }
  const takeSnapshot = () => {
    snapshot = {
      latency: { ...pipeline.metrics.latency },
      echo: { ...pipeline.echoCanceller.metrics },
      noiseFloorDb: pipeline.noiseReducer.metrics.noiseFloorDb,
      health: pipeline.metrics.health,
      reasons: pipeline.healthReasons(),
    }
  }
  const nearOutput = options.tracks ? new Float32Array(output.length) : null
  const farOutput = options.tracks ? new Float32Array(output.length) : null
  const started = performance.now()
  let frames = 0
  while (replay.step(frame)) {
    if (nearOutput !== null && farOutput !== null) {
      nearOutput.set(pipeline.nearInput.subarray(0, n), frames * n)
      farOutput.set(pipeline.farInput.subarray(0, n), frames * n)
    }
    output.set(frame, frames++ * n)
    if (frames === replay.nearEndFrame) takeSnapshot()
  }
  const elapsedMs = performance.now() - started

  const config = pipeline.currentConfig
  const stats = replay.stats
  const echoMetrics = snapshot.echo
  const latency = snapshot.latency
  const align = options.align ?? true
  const alignSamples = align ? replay.alignmentSamples : 0
  const inputSamples =
    capture.near.kind === 'pcm' ? capture.near.samples.length : Math.round((capture.durationMs * 16000) / 1000)
  const processed = new Float32Array(inputSamples)
  processed.set(output.subarray(alignSamples, Math.min(output.length, alignSamples + inputSamples)))
  let tracks: Pick<AnalyzeResult, 'near' | 'far'> = {}
  if (nearOutput !== null && farOutput !== null) {
    // The echo canceller's and noise reducer's algorithmic delays lie between its input and the processed output.
    const end = pipeline.metrics.latency
    const stageSamples = Math.round(((end.echoMs + end.noiseMs) * 16000) / 1000)
    const inputShift = align ? Math.max(0, alignSamples - stageSamples) : 0
    const near = new Float32Array(inputSamples)
    const far = new Float32Array(inputSamples)
    near.set(nearOutput.subarray(inputShift, Math.min(nearOutput.length, inputShift + inputSamples)))
    far.set(farOutput.subarray(inputShift, Math.min(farOutput.length, inputShift + inputSamples)))
    tracks = { near, far }
  }

  let network: CaptureReport['network'] = null
  if (capture.near.kind === 'packets') {
    const jb = pipeline.networkReceiver.jitterBuffer.metrics
    const stream = capture.streams.find((s) => s.role === 'near')
    const packets = capture.near.packets
    const unique = new Set(packets.map((p) => p.seq)).size
    const sent = stream?.sent ?? jb.expected
    network = {
      packets: packets.length,
      lost: stream?.lost ?? Math.max(0, sent - unique),
      late: jb.late,
      duplicates: stream?.duplicates ?? packets.length - unique,
      reordered: stream?.reordered ?? jb.outOfOrder,
      concealedFrames: pipeline.networkReceiver.metrics.framesConcealed,
      lateLossRate: round(sent > 0 ? jb.late / sent : 0, 5),
      jitterMs: round(jb.meanJitterMs, 3),
      jitterMaxMs: round(jb.maxJitterMs, 3),
      meanBufferDelayMs: round(jb.meanBufferDelayMs),
      maxBufferDelayMs: round(stats.maxBufferDelayMs),
    }
  }

  const report: CaptureReport = {
    file: capture.file,
    format: capture.format,
    description: capture.description,
    durationS: round(capture.durationMs / 1000, 3),
    warnings: capture.warnings,
    input: {
      nearRmsDb: round(stats.nearRmsDb),
      nearPeakDb: round(stats.nearPeakDb),
      farRmsDb: capture.far ? round(stats.farRmsDb) : null,
      clippedSamples: stats.clippedSamples,
    },
    echo: {
      enabled: config.echoCancellationEnabled && capture.far !== null,
      erleDb: config.echoCancellationEnabled && stats.echoFrames > 0 ? finiteOrNull(replayErleDb(stats)) : null,
      erleMedianDb: capture.far ? finiteOrNull(echoMetrics.erleMedianDb) : null,
      erleMinDb: capture.far ? finiteOrNull(echoMetrics.erleMinDb) : null,
      erleMaxDb: capture.far ? finiteOrNull(echoMetrics.erleMaxDb) : null,
      linearErleDb:
        config.echoCancellationEnabled && stats.echoFrames > 0 ? finiteOrNull(replayErleDb(stats, true)) : null,
      erlDb: capture.far ? finiteOrNull(echoMetrics.erlDb) : null,
      delayMs: capture.far ? round(echoMetrics.bulkDelayMs) : null,
      delayConfidence: capture.far ? round(echoMetrics.delayConfidence, 3) : null,
      driftPpm: capture.far ? round(echoMetrics.driftPpm, 1) : null,
      state: capture.far ? echoMetrics.state : null,
    },
    noise: {
      enabled: config.noiseReductionEnabled,
      noiseFloorDb: config.noiseReductionEnabled ? round(snapshot.noiseFloorDb) : null,
      snrInDb: stats.speechFrames > 0 ? finiteOrNull(powerRatioDb(stats.speechInPower, stats.speechNoisePower)) : null,
      snrOutDb:
        stats.speechFrames > 0 ? finiteOrNull(powerRatioDb(stats.speechOutPower, stats.speechNoisePower)) : null,
      speechS: round((stats.speechFrames * n) / 16000),
      attenuationDb: stats.noiseFrames > 0 ? round(stats.noiseAttenuationSumDb / stats.noiseFrames) : null,
    },
    network,
    latency: {
      totalMs: round(latency.totalMs),
      jitterBufferMs: round(latency.jitterBufferMs),
      networkAlgorithmicMs: round(latency.networkAlgorithmicMs),
      echoMs: round(latency.echoMs),
      noiseMs: round(latency.noiseMs),
      framingMs: round(latency.framingMs),
      maxMs: latency.maxMs,
      alignedMs: round((alignSamples * 1000) / 16000),
    },
    health: { status: snapshot.health, reasons: snapshot.reasons },
    speed: {
      realtimeFactor: round((frames * replay.frameMs) / Math.max(elapsedMs, 1e-3), 1),
      usPerFrame: round((elapsedMs * 1000) / Math.max(frames, 1)),
    },
  }
  return { report, processed, ...tracks }
}

/** KSDATAFORMAT_SUBTYPE_PCM, the GUID that ends a WAVE_FORMAT_EXTENSIBLE fmt chunk. */
const PCM_SUBFORMAT = [1, 0, 0, 0, 0, 0, 16, 0, 128, 0, 0, 170, 0, 56, 155, 113]

/**
 * 16-bit PCM WAV bytes of equally long Float32 channels in [-1, 1] (clamped), at `sampleRateHz`, written straight
 * into one buffer: the canonical 44-byte header for mono and stereo (byte-identical to wavefile's
 * `fromScratch(…, '16', …).toBuffer()`, tested), WAVE_FORMAT_EXTENSIBLE with a channel mask beyond two channels (as
 * the WAV spec asks), then the interleaved samples. wavefile's writer packs sample by sample and took ~70 µs per
 * 20 ms frame of a replay; reading WAVs stays with wavefile (every format, checked).
 */
export function encodeWav(channels: readonly Float32Array[], sampleRateHz = 16000): Uint8Array {
  const channelCount = channels.length
  const frames = channelCount > 0 ? channels[0]!.length : 0
  const extensible = channelCount > 2
  const fmtBytes = extensible ? 40 : 16
  const headerBytes = 20 + fmtBytes + 8
  const dataBytes = frames * channelCount * 2
  const bytes = new Uint8Array(headerBytes + dataBytes)
  const view = new DataView(bytes.buffer)
  const ascii = (at: number, text: string): void => {
    for (let i = 0; i < text.length; i++) bytes[at + i] = text.charCodeAt(i)
  }
  ascii(0, 'RIFF')
  view.setUint32(4, headerBytes - 8 + dataBytes, true)
  ascii(8, 'WAVE')
  ascii(12, 'fmt ')
  view.setUint32(16, fmtBytes, true)
  view.setUint16(20, extensible ? 0xfffe : 1, true) // PCM, or WAVE_FORMAT_EXTENSIBLE
  view.setUint16(22, channelCount, true)
  view.setUint32(24, sampleRateHz, true)
  view.setUint32(28, sampleRateHz * channelCount * 2, true) // byte rate
  view.setUint16(32, channelCount * 2, true) // block align
  view.setUint16(34, 16, true) // bits per sample
  if (extensible) {
    view.setUint16(36, 22, true) // extension size
    view.setUint16(38, 16, true) // valid bits per sample
    view.setUint32(40, channelCount <= 18 ? 2 ** channelCount - 1 : 0, true) // speakers: front left, right, centre…
    bytes.set(PCM_SUBFORMAT, 44)
  }
  ascii(20 + fmtBytes, 'data')
  view.setUint32(24 + fmtBytes, dataBytes, true)
  // Little endian on every platform the workbench runs on (as the wire format assumes): an Int16Array view is exact.
  const pcm = new Int16Array(bytes.buffer, headerBytes, frames * channelCount)
  for (let c = 0; c < channelCount; c++) {
    const samples = channels[c]!
    if (samples.length !== frames)
      throw new RangeError(`encodeWav: channel ${c} has ${samples.length} samples, not ${frames}`)
    for (let i = 0, at = c; i < frames; i++, at += channelCount) {
      const v = Math.round(samples[i]! * 32768)
      pcm[at] = v > 32767 ? 32767 : v < -32768 ? -32768 : v
    }
  }
  return bytes
}

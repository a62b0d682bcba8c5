/**
 * The session's read-outs and exports (issue 6): a .env preview with its problems by line and its diff against the
 * tuned settings, the echo canceller's current filter (the echo path view), the whole capture rendered offline as a
 * WAV, and the metrics report as JSON. Runs in the engine's worker, beside Session; plain Node, no Electron.
 *
 * - The preview reads the text with the settings module (env-file.ts previewEnvText) and applies nothing.
 * - Audio and report reuse the CLI's offline analysis (analyze.ts analyzeLoaded): a separate Replay of the whole
 *   capture with the session's current settings, so the live replay's pipeline, position and stream are untouched.
 *   The last render per capture is kept, so several exports with the same settings render once.
 *   A 60 s capture renders in about half a second (the replay runs at ~100× real time), blocking the worker that
 *   long: the live replay's next batch comes late, nothing is lost.
 * - Taps and WAV bytes are typed arrays: structured clone over IPC, binary frames over the WebSocket (encodeWire).
 */
import type { Pipeline } from '../../dsp/pipeline'
import { diffSettings, type PipelineSettings } from '../../shared/config'
import {
  APP_NAME,
  CONTRACT_VERSION,
  fail,
  ok,
  type AudioTrack,
  type CaptureInfo,
  type EchoPathReply,
  type EnvLineIssue,
  type FileReply,
  type PreviewEnvReply,
  type Result,
  type SessionHealth,
} from '../../shared/contract'
import { analyzeLoaded, encodeWav, type AnalyzeResult, type CaptureReport } from '../analyze'
import type { Capture } from '../capture'
import { previewEnvText, type EnvIssue } from '../settings/env-file'

const SAMPLE_RATE_HZ = 16000

// ---------------------------------------------------------------------------------------------------------------
// .env preview

/** What a .env text would give, without applying it: settings, issues by line, diff from the tuned settings. */
export function previewEnv(text: string, name: string, tuned: PipelineSettings): PreviewEnvReply {
  const preview = previewEnvText(text, name)
  const issues = [
    ...preview.errors.map((issue) => lineIssue(issue, 'error')),
    ...preview.warnings.map((issue) => lineIssue(issue, 'warning')),
  ]
  // In file order; issues not tied to a line last; errors before warnings on the same line (sort is stable).
  issues.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity))
  return {
    settings: preview.settings,
    issues,
    diff: diffSettings(tuned, preview.settings).map(({ key, from, to }) => ({ key, from, to })),
  }
}

function lineIssue(issue: EnvIssue, severity: EnvLineIssue['severity']): EnvLineIssue {
  return { line: issue.line, name: issue.name, severity, message: issue.message }
}

// ---------------------------------------------------------------------------------------------------------------
// Echo path

/**
 * The echo canceller's current filter: taps (tap 0 at the window start, i.e. the compensated bulk delay), the bulk
 * delay estimate and the filter's state. Cold path (an inverse FFT per partition); runs between frames.
 */
export function echoPath(pipeline: Pipeline, settings: PipelineSettings, hasFar: boolean): EchoPathReply {
  const echo = pipeline.echoCanceller
  const m = echo.metrics
  const effectiveLength = echo.filterTaps
  const active = settings.echoCancellationEnabled && hasFar
  const taps = new Float32Array(effectiveLength)
  // The response holds the compensated delay as leading zeros, then the taps.
  const windowStartSamples = Math.round((m.compensatedDelayMs * SAMPLE_RATE_HZ) / 1000)
  if (active) {
    const response = new Float32Array(windowStartSamples + effectiveLength)
    const written = echo.getFilterResponse(response)
    taps.set(response.subarray(windowStartSamples, written))
    for (let i = 0; i < taps.length; i++) if (!Number.isFinite(taps[i]!)) taps[i] = 0
  }
  const estimated = active && settings.echoDelayEstimationEnabled && m.delayConfidence > 0
  return {
    sampleRateHz: SAMPLE_RATE_HZ,
    // What the canceller runs now (a change applies at the next frame: while paused it may still be pending).
    engine: echo.currentConfig.engine,
    filterLength: echo.currentConfig.filterLength,
    effectiveLength,
    bulkDelayMs: estimated ? m.bulkDelayMs : NaN,
    windowStartMs: active ? (windowStartSamples * 1000) / SAMPLE_RATE_HZ : 0,
    delayConfidence: active ? m.delayConfidence : 0,
    delayStable: active && m.delayStable,
    taps,
    state: active ? m.state : 'idle',
    active,
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Audio and report

export interface ExportSource {
  capture: Capture
  /** The capture as the session describes it (its name gives the suggested file names). */
  info: CaptureInfo
  settings: PipelineSettings
}

/**
 * The last offline render of each capture, with the settings it used: exporting the processed audio, then all
 * tracks, then the report renders once (~12 MB for a 60 s capture, dropped with the capture).
 */
const renders = new WeakMap<Capture, { settingsKey: string; result: AnalyzeResult }>()

/** The whole capture through a pipeline of its own, with the given settings (the CLI's analysis, all tracks). */
function render(source: ExportSource): AnalyzeResult {
  const settingsKey = JSON.stringify(source.settings)
  const cached = renders.get(source.capture)
  if (cached !== undefined && cached.settingsKey === settingsKey) return cached.result
  const result = analyzeLoaded(source.capture, { settings: source.settings, tracks: true })
  renders.set(source.capture, { settingsKey, result })
  return result
}

/** The whole capture rendered with the session's settings, as a 16 kHz 16-bit WAV of the track asked for. */
export function exportAudio(source: ExportSource, track: AudioTrack): Result<FileReply> {
  const { capture, info } = source
  if (track === 'far' && capture.far === null)
    return fail('invalid-request', `exportAudio: track: 'far', but ${info.name} has no far-end track`)
  const result = render(source)
  const channels =
    track === 'processed'
      ? [result.processed]
      : track === 'near'
        ? [result.near!]
        : track === 'far'
          ? [result.far!]
          : [result.near!, result.far!, result.processed]
  return ok({
    bytes: encodeWav(channels, SAMPLE_RATE_HZ),
    suggestedName: `${stem(info.name)}.${track}.wav`,
    mimeType: 'audio/wav',
  })
}

/** What the live session has measured so far (the replay in progress). */
export interface LiveFigures {
  positionMs: number
  /** Session.keyMetrics(): the .env header's figures. */
  keyMetrics: Record<string, string | number>
  /** Latency over the frames that played audio, ms (null before any). */
  latency: { meanMs: number | null; maxMs: number | null; budgetMs: number }
  health: SessionHealth
}

/** The JSON document exportReport writes. */
export interface MetricsReport {
  generatedBy: string
  contractVersion: number
  /** ISO 8601. */
  generatedAt: string
  capture: CaptureInfo
  settings: PipelineSettings
  /** The CLI's `analyze --json` report of the whole capture with these settings. */
  report: CaptureReport
  /** The replay in progress (what the UI shows). */
  session: LiveFigures
}

/**
 * The metrics report as JSON text: the CLI's `analyze --json` report of the whole capture with the current settings,
 * the live session's figures, the settings and the capture.
 */
export function exportReport(source: ExportSource, live: LiveFigures): FileReply {
  const { report } = render(source)
  const document: MetricsReport = {
    generatedBy: APP_NAME,
    contractVersion: CONTRACT_VERSION,
    generatedAt: new Date().toISOString(),
    capture: source.info,
    settings: source.settings,
    report,
    session: live,
  }
  return {
    bytes: new TextEncoder().encode(JSON.stringify(document, null, 2) + '\n'),
    suggestedName: `${stem(source.info.name)}.report.json`,
    mimeType: 'application/json',
  }
}

function stem(name: string): string {
  return name.replace(/\.[^.]*$/, '') || 'workbench'
}

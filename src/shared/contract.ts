/**
 * The typed contract between the engine (main process, or the browser-mode server) and the renderer: every command
 * (request → reply) and every stream (event), defined once here and imported by both sides. Pure TypeScript: no
 * Node, Electron or DOM.
 *
 * - Commands: `REQUESTS` holds the zod schema of each command's request; the engine parses every request with it
 *   (the renderer is untrusted). Replies are `Result<T>`: `{ ok: true, value }` or `{ ok: false, error: { code,
 *   message } }`, because an error thrown across IPC loses its type; the message names the field, the value and the
 *   allowed range.
 * - Streams (`EngineEvents`): `tap` (~30 batches/s of near/far/processed PCM and per-frame metrics as typed arrays),
 *   `state` (the session: capture, transport, settings, health; sent when it changes) and `event` (session-level
 *   notices: errors, capture opened, engine restarted).
 * - Version: a client's first command is `hello({ contractVersion: CONTRACT_VERSION })`; a mismatch is refused.
 * - Wire: IPC carries these objects as they are (structured clone). The browser mode's WebSocket carries
 *   `ClientMessage` / `ServerMessage` as JSON text, or, when a message holds typed arrays (PCM, metrics, an uploaded
 *   capture), as one binary frame (`encodeWire` / `decodeWire`): the arrays are never JSON numbers.
 */
import { z } from 'zod'
import { settingsPatchPayload, type PipelineSettings, type SettingKey } from './config'
import type { EchoPath, EchoState } from '../dsp/echo-canceller'
import type { NetworkProfileName } from '../dsp/network-simulator'

export const APP_NAME = 'VoIP Audio Workbench'

/** Bumped whenever a command or event changes shape; checked by `hello` when a client connects. */
export const CONTRACT_VERSION = 5

// ---------------------------------------------------------------------------------------------------------------
// Results

export type ErrorCode =
  | 'version-mismatch' // hello with another contract version
  | 'not-connected' // a command before hello
  | 'malformed' // not a message of this contract (bad JSON, bad binary frame, wrong envelope)
  | 'unknown-command'
  | 'too-large' // a message over the size limit
  | 'invalid-request' // the request does not match the command's schema
  | 'invalid-settings' // a setting out of range (the message names key, value and range)
  | 'capture' // a capture could not be read (the message names the file and the problem)
  | 'no-capture' // a transport command with no capture open
  | 'unsupported' // e.g. native dialogs in browser mode
  | 'cancelled' // superseded by a later command (a seek replaced by another)
  | 'engine-restarted' // the engine's worker died while the command was pending
  | 'internal'

export interface EngineError {
  code: ErrorCode
  message: string
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: EngineError }

export function ok<T>(value: T): Result<T> {
  return { ok: true, value }
}

export function fail<T = never>(code: ErrorCode, message: string): Result<T> {
  return { ok: false, error: { code, message } }
}

/** One line per zod issue: `path: message` (the settings schema's messages already name the key). */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.map(String).join('.')
      return path === '' || issue.message.startsWith(`${path} `) || issue.message.startsWith(`${path}:`)
        ? issue.message
        : `${path}: ${issue.message}`
    })
    .join('; ')
}

// ---------------------------------------------------------------------------------------------------------------
// Shared shapes

export const NETWORK_PROFILE_NAMES = ['good', 'wifi', 'congested', 'lossy'] as const satisfies NetworkProfileName[]
export type Speed = 'realtime' | 'max'
export const AUDIO_TRACKS = ['processed', 'near', 'far', 'all'] as const
export type AudioTrack = (typeof AUDIO_TRACKS)[number]
export const LIVE_FAR_SOURCES = ['capture', 'bot', 'none'] as const
export type LiveFarSource = (typeof LIVE_FAR_SOURCES)[number]
export type TrackKind = 'pcm' | 'packets'
export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy'

/** One RTP stream of a pcap capture, as the UI lists it for the near/far choice. */
export interface StreamSummary {
  index: number
  source: string
  destination: string
  ssrc: number
  codec: 'PCMU' | 'PCMA' | 'other'
  packets: number
  lost: number
  meanJitterMs: number
  role: 'near' | 'far' | null
}

export interface CaptureInfo {
  /** The file's base name (or 'demo-call.pcap' for the demo). */
  name: string
  /** The path as opened ('' for uploaded bytes). */
  path: string
  isDemo: boolean
  format: 'wav' | 'twilio' | 'pcap' | 'pcapng'
  description: string
  durationMs: number
  near: TrackKind
  far: TrackKind | null
  warnings: string[]
  streams: StreamSummary[]
  impairment: { profile: NetworkProfileName | null; seed: number } | null
}

export interface TransportState {
  playing: boolean
  /** The replay reached its end (and loop is off). */
  ended: boolean
  speed: Speed
  loop: boolean
  /** The next frame to be processed. */
  positionFrame: number
  totalFrames: number
  frameMs: number
  positionMs: number
  durationMs: number
  /** 'seeking' while a seek fast-forwards the pipeline to its target. */
  busy: 'loading' | 'seeking' | null
}

export interface SessionHealth {
  status: HealthStatus
  reasons: string[]
}

export interface SessionState {
  capture: CaptureInfo | null
  transport: TransportState
  settings: PipelineSettings
  health: SessionHealth
  /** Live mode (microphone and speaker), null while replaying a capture. */
  live: LiveState | null
}

export interface LiveState {
  inputRateHz: number
  outputRateHz: number
  far: LiveFarSource
  inputDevice: string
  outputDevice: string
  /** Frames processed since live mode started. */
  frames: number
  /** Renderer blocks missing from the sequence, and audio-callback dropouts the renderer reported. */
  missingBlocks: number
  dropouts: number
  /** Added latency from a frame captured to its processed frame being available (algorithmic delays included), ms. */
  latencyMs: { last: number; p50: number; p99: number }
  recording: { startedAtFrame: number; durationMs: number } | null
}

export interface SettingsChangeSummary {
  key: SettingKey
  from: PipelineSettings[SettingKey]
  to: PipelineSettings[SettingKey]
}

// ---------------------------------------------------------------------------------------------------------------
// The tap: what a batch carries

/**
 * Per-frame metrics, one Float32Array each (frameCount values) in a tap batch. Levels in dBFS, times in ms or µs,
 * flags as 0/1, `networkOutcome` as the index in NETWORK_OUTCOMES.
 */
export const FRAME_METRICS = [
  'jitterMs', // RFC 3550 interarrival jitter J
  'bufferDelayMs', // jitter buffer depth of the frame played
  'targetDelayMs', // jitter buffer target
  'lossRate', // network loss so far, 0–1
  'networkOutcome', // NETWORK_OUTCOMES index
  'erleDb', // echo canceller's smoothed ERLE
  'erleMinDb', // min / median / max of the per-frame ERLE over the last 500 far single-talk frames
  'erleMedianDb',
  'erleMaxDb',
  'linearErleDb', // the adaptive filter's ERLE alone (mic over the error, before the residual echo suppressor)
  'erlDb', // echo return loss: far end over mic, far single talk
  'echoState', // ECHO_STATES index: idle, converging, converged, diverged
  'echoDelayMs', // estimated far-to-near bulk delay
  'echoDelayConfidence', // 0–1
  'echoDriftPpm', // near clock minus far clock, from the delay's slope
  'doubleTalk', // 0/1
  'echoPath', // ECHO_PATH_STATES index: is there an echo path at all (none: a headset, or the far end never reaches the mic)
  'noiseAttenuationDb', // noise reducer: input over output power of the frame
  'noiseFloorDb',
  'inputLevelDb', // near end entering the echo canceller
  'farLevelDb', // far-end reference
  'outputLevelDb', // processed
  'latencyTotalMs',
  'latencyJitterBufferMs',
  'latencyNetworkMs',
  'latencyEchoMs',
  'latencyNoiseMs',
  'latencyFramingMs',
  'networkUs', // per-stage processing time of the frame
  'echoUs',
  'noiseUs',
  'framingUs',
] as const
export type FrameMetricName = (typeof FRAME_METRICS)[number]
export const NETWORK_OUTCOMES = ['ok', 'concealed', 'recovered', 'idle'] as const
/** The echo canceller's echo-path decision (EchoCanceller.metrics.echoPath), as the `echoPath` metric's index. */
export const ECHO_PATH_STATES = ['searching', 'found', 'none'] as const satisfies readonly EchoPath[]
/** The echo canceller's state (EchoCanceller.metrics.state), as the `echoState` metric's index. */
export const ECHO_STATES = ['idle', 'converging', 'converged', 'diverged'] as const satisfies readonly EchoState[]

export type FrameEventKind =
  | 'packet-late'
  | 'packet-lost'
  | 'packet-duplicate'
  | 'underrun'
  | 'overrun'
  | 'config-applied'
  | 'looped'
  | 'ended'
  | 'error'

export interface FrameEvent {
  /** The frame it happened in. */
  frame: number
  kind: FrameEventKind
  /** How many (packets, underruns…) in that frame. */
  count: number
  /** config-applied: the keys that took effect; error: what went wrong. */
  detail?: string
}

export interface TapBatch {
  /** Counts batches from 0 in this session (a gap means a batch was dropped). */
  sequence: number
  /** Index of the first frame; frames fromFrame … fromFrame + frameCount − 1. */
  fromFrame: number
  frameCount: number
  frameSamples: number
  sampleRateHz: number
  frameMs: number
  /** frameCount · frameSamples samples each, 16 kHz, Float32 in [-1, 1]. */
  near: Float32Array
  far: Float32Array
  processed: Float32Array
  metrics: Record<FrameMetricName, Float32Array>
  events: FrameEvent[]
  health: SessionHealth
}

export type EngineEvent =
  | { kind: 'error'; code: ErrorCode; message: string }
  | { kind: 'capture-opened'; capture: CaptureInfo }
  | { kind: 'engine-restarted'; message: string }

export interface EngineEvents {
  tap: TapBatch
  state: SessionState
  event: EngineEvent
}
export type EventName = keyof EngineEvents
export const EVENT_NAMES = ['tap', 'state', 'event'] as const satisfies readonly EventName[]

// ---------------------------------------------------------------------------------------------------------------
// Commands

const streamSelector = z.union([z.number().int().min(0).max(65535), z.string().min(1).max(200)])
const path = z.string().min(1).max(4096)
const empty = z.object({}).strict().optional()

/** Largest capture uploaded as bytes (browser mode's file input). Larger files are opened by path. */
export const MAX_UPLOAD_BYTES = 64 * 1024 * 1024

export const captureSource = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('demo'), format: z.enum(['pcap', 'wav']).optional() }).strict(),
  z.object({ kind: z.literal('path'), path }).strict(),
  z
    .object({
      kind: z.literal('bytes'),
      name: z.string().min(1).max(256),
      bytes: z.instanceof(Uint8Array).refine((b) => b.byteLength <= MAX_UPLOAD_BYTES, {
        message: `bytes: over the ${MAX_UPLOAD_BYTES}-byte upload limit (open the file by path)`,
      }),
    })
    .strict(),
])

/** The settings patch schema, typed with the patch as its input (it accepts any value and reports what is wrong). */
const patchPayload = settingsPatchPayload as unknown as z.ZodType<Partial<PipelineSettings>, Partial<PipelineSettings>>

export type CaptureSource = z.input<typeof captureSource>

/** The request schema of every command. */
export const REQUESTS = {
  /** First command of a connection: checks the contract version. */
  hello: z.object({ contractVersion: z.number().int(), client: z.string().max(100).optional() }).strict(),
  /** Opens a capture (the bundled demo, a path, or uploaded bytes) and makes it the session's source. */
  openCapture: z
    .object({
      source: captureSource,
      /** A separate far-end WAV for a WAV capture. */
      farPath: path.optional(),
      nearStream: streamSelector.optional(),
      farStream: streamSelector.nullable().optional(),
      /** WAV channel map (0-based; far null: none). */
      channels: z
        .object({ near: z.number().int().min(0).max(63), far: z.number().int().min(0).max(63).nullable() })
        .strict()
        .optional(),
      play: z.boolean().optional(),
    })
    .strict(),
  /** pcap: which streams are near and far (re-reads the capture; the position is kept). */
  selectStreams: z.object({ nearStream: streamSelector, farStream: streamSelector.nullable() }).strict(),
  /** What-if: the capture replayed through a simulated network profile (null: the capture as recorded). */
  setImpairment: z
    .object({
      profile: z.enum(NETWORK_PROFILE_NAMES).nullable(),
      seed: z
        .number()
        .int()
        .min(0)
        .max(2 ** 32 - 1)
        .optional(),
    })
    .strict(),
  play: empty,
  pause: empty,
  seek: z.object({ positionMs: z.number().finite().min(0) }).strict(),
  setSpeed: z.object({ speed: z.enum(['realtime', 'max']) }).strict(),
  setLoop: z.object({ enabled: z.boolean() }).strict(),
  /** Hot reconfiguration: a partial settings object, applied at the next frame boundary. */
  configure: z.custom<Partial<PipelineSettings>>().pipe(patchPayload),
  /** Replaces the settings with those of a .env file's text (defaults for what it leaves out). */
  importEnv: z.object({ text: z.string().max(1024 * 1024), name: z.string().max(256).optional() }).strict(),
  /** The session's settings as .env text, with its key metrics in the header. */
  exportEnv: z.object({ includeWorkbench: z.boolean().optional() }).strict().optional(),
  getState: empty,
  /** Desktop only: the native open dialog, then openCapture on the file chosen. */
  pickCapture: empty,
  /** Desktop only: exportEnv, then the native save dialog. */
  saveEnv: z.object({ includeWorkbench: z.boolean().optional() }).strict().optional(),
  /**
   * Reads a .env text (e.g. the service's current one) without applying it: the settings it gives, its problems by
   * line, and how it differs from the session's tuned settings.
   */
  previewEnv: z.object({ text: z.string().max(1024 * 1024), name: z.string().max(256).optional() }).strict(),
  /** The echo canceller's current filter (the estimated echo impulse response) and bulk delay. */
  getEchoPath: empty,
  /**
   * The whole capture rendered offline with the session's current settings, as a 16 kHz WAV: the processed near end,
   * the near end as received (before echo cancellation and noise reduction), the far-end reference, or all three.
   */
  exportAudio: z.object({ track: z.enum(AUDIO_TRACKS) }).strict(),
  /** The session's metrics report as JSON text (the CLI's `analyze --json` shape plus the live session's figures). */
  exportReport: empty,
  /** Desktop only: exportAudio, then the native save dialog. */
  saveAudio: z.object({ track: z.enum(AUDIO_TRACKS) }).strict(),
  /** Desktop only: exportReport, then the native save dialog. */
  saveReport: empty,

  // Live mode: the renderer captures the microphone and plays the far end; the engine runs the pipeline on them.
  /**
   * Switches the session to live input (a replay pauses). The reply carries the far-end talker the renderer must play
   * (resampled to the device rate), or null for none.
   */
  startLive: z
    .object({
      /** The capture device's rate (AudioContext.sampleRate). */
      inputRateHz: z.number().int().min(8000).max(192000),
      /** The playback device's rate (the far end is resampled to it). */
      outputRateHz: z.number().int().min(8000).max(192000),
      /** The far-end talker: the loaded capture's far end, the bundled bot voice, or none. */
      far: z.enum(LIVE_FAR_SOURCES),
      /** Record from the start. */
      record: z.boolean().optional(),
      /** Device names, for the recording's sidecar and the status line. */
      inputDevice: z.string().max(256).optional(),
      outputDevice: z.string().max(256).optional(),
    })
    .strict(),
  /**
   * One block of live audio, in order: the microphone samples captured (at inputRateHz) and the far-end samples the
   * speaker played over the same period (at outputRateHz); `sequence` counts blocks from 0 (a gap is a dropout).
   */
  pushLive: z
    .object({
      sequence: z.number().int().min(0),
      near: z.instanceof(Float32Array).refine((a) => a.length <= 192000, { message: 'near: over one second' }),
      far: z.instanceof(Float32Array).refine((a) => a.length <= 192000, { message: 'far: over one second' }),
      /** Audio callback underruns/dropouts the renderer saw since the previous block. */
      dropouts: z.number().int().min(0).max(1_000_000).optional(),
      /** performance.now() in the renderer when the block's last sample was captured. */
      capturedAtMs: z.number().finite().optional(),
    })
    .strict(),
  /** Ends live mode (a recording in progress is finished and kept). */
  stopLive: z
    .object({ reason: z.string().max(500).optional() })
    .strict()
    .optional(),
  /** Starts recording the live session. */
  startRecording: empty,
  /** Finishes the recording: near and far as a stereo WAV, the processed WAV and a JSON sidecar. */
  stopRecording: empty,
  /** The files of the last recording, for a download in browser mode. */
  exportRecording: empty,
} as const

export type CommandName = keyof typeof REQUESTS
export const COMMAND_NAMES = Object.keys(REQUESTS) as CommandName[]
export type Requests = { [C in CommandName]: z.input<(typeof REQUESTS)[C]> }
/** A request after validation. */
export type ParsedRequests = { [C in CommandName]: z.output<(typeof REQUESTS)[C]> }

export interface HelloReply {
  appName: string
  contractVersion: number
  mode: 'desktop' | 'browser'
  capabilities: { nativeDialogs: boolean; openPath: boolean }
  versions: Record<string, string>
}

export interface ConfigureReply {
  /** The frame index at which the change takes effect (the next frame processed). */
  effectiveFrame: number
  changed: SettingsChangeSummary[]
  settings: PipelineSettings
}

export interface ExportEnvReply {
  text: string
  suggestedName: string
}

/** One problem of a .env text, by line (line null: not tied to one line). */
export interface EnvLineIssue {
  line: number | null
  /** The .env name as written, when the problem is about one setting. */
  name: string | null
  severity: 'error' | 'warning'
  /** One line naming where and what, e.g. `service.env:3: JITTER_BUFFER_TARGET_MS: 900 is over the maximum 500`. */
  message: string
}

export interface PreviewEnvReply {
  /** The settings the file gives (defaults for what it leaves out; its bad lines ignored). */
  settings: PipelineSettings
  issues: EnvLineIssue[]
  /** The session's tuned settings (from) against the file's (to), only the keys that differ. */
  diff: SettingsChangeSummary[]
}

export interface EchoPathReply {
  sampleRateHz: number
  engine: 'mdf' | 'nlms'
  /** ECHO_FILTER_LENGTH as set, and the length the engine runs (whole partitions). */
  filterLength: number
  effectiveLength: number
  /** Estimated far-to-near bulk delay (the strongest path), ms; NaN before any estimate. */
  bulkDelayMs: number
  /** Where the filter window starts, ms after the far-end sample (bulk delay − margin once compensated). */
  windowStartMs: number
  delayConfidence: number
  delayStable: boolean
  /** The filter's taps (effectiveLength of them), tap 0 at windowStartMs: the echo impulse response it models. */
  taps: Float32Array
  state: 'idle' | 'converging' | 'converged' | 'diverged'
  /** False when echo cancellation is off or there is no far end (taps all 0). */
  active: boolean
}

export interface FileReply {
  /** The file's content (WAV bytes or UTF-8 text). */
  bytes: Uint8Array
  suggestedName: string
  mimeType: string
}

export interface LiveStartReply {
  /** The far end to play, mono at outputRateHz, looped by the renderer; null for none. */
  farAudio: Float32Array | null
  farDescription: string
  /** Device samples per 20 ms (may be fractional: the renderer frames by time, not by a fixed count). */
  inputFrameSamples: number
  recording: boolean
}

export interface LivePushReply {
  /** Frames processed so far in this live session. */
  frames: number
  /** Blocks missing from the sequence so far (dropouts between renderer and engine). */
  missingBlocks: number
}

export interface RecordingInfo {
  /** Directory the files were written to ('' in browser mode when kept in memory only). */
  directory: string
  /** File names: near/far stereo WAV, processed WAV, JSON sidecar. */
  files: { capture: string; processed: string; sidecar: string }
  durationMs: number
  frames: number
}

export interface Replies {
  hello: HelloReply
  openCapture: SessionState
  selectStreams: SessionState
  setImpairment: SessionState
  play: TransportState
  pause: TransportState
  seek: TransportState
  setSpeed: TransportState
  setLoop: TransportState
  configure: ConfigureReply
  importEnv: ConfigureReply & { warnings: string[] }
  exportEnv: ExportEnvReply
  getState: SessionState
  pickCapture: SessionState | null
  saveEnv: { path: string | null }
  previewEnv: PreviewEnvReply
  getEchoPath: EchoPathReply
  exportAudio: FileReply
  exportReport: FileReply
  saveAudio: { path: string | null }
  saveReport: { path: string | null }
  startLive: LiveStartReply & SessionState
  pushLive: LivePushReply
  stopLive: { recording: RecordingInfo | null } & SessionState
  startRecording: SessionState
  stopRecording: RecordingInfo
  exportRecording: { files: FileReply[] }
}

/** Validates a request for a command; the error names the field. */
export function parseRequest<C extends CommandName>(command: C, request: unknown): Result<ParsedRequests[C]> {
  const parsed = REQUESTS[command].safeParse(request)
  if (parsed.success) return ok(parsed.data as ParsedRequests[C])
  const settings = command === 'configure' || command === 'importEnv'
  return fail(settings ? 'invalid-settings' : 'invalid-request', `${command}: ${describeZodError(parsed.error)}`)
}

export function isCommandName(name: unknown): name is CommandName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(REQUESTS, name)
}

type Args<C extends CommandName> = undefined extends Requests[C] ? [request?: Requests[C]] : [request: Requests[C]]

/** What the renderer sees, over IPC (preload) or WebSocket alike. */
export type EngineApi = {
  [C in CommandName]: (...args: Args<C>) => Promise<Result<Replies[C]>>
} & {
  /** Subscribes to a stream; returns the unsubscribe function. */
  on<E extends EventName>(event: E, listener: (payload: EngineEvents[E]) => void): () => void
}

/** IPC channel names: one per command, plus the port that carries the streams. */
export const Channel = {
  ...(Object.fromEntries(COMMAND_NAMES.map((name) => [name, `engine:${name}`])) as {
    [C in CommandName]: `engine:${C}`
  }),
  /** main → renderer: the MessagePort the streams come over (sent after each hello). */
  port: 'engine:port',
} as const

// ---------------------------------------------------------------------------------------------------------------
// WebSocket envelope

/** Largest text message the server reads; larger ones get a 'too-large' reply. */
export const MAX_TEXT_MESSAGE_BYTES = 1024 * 1024
/** Largest binary message (an uploaded capture plus its envelope). */
export const MAX_BINARY_MESSAGE_BYTES = MAX_UPLOAD_BYTES + 64 * 1024

export const clientMessage = z
  .object({
    kind: z.literal('request'),
    id: z.number().int().min(0),
    command: z.string().max(64),
    request: z.unknown().optional(),
  })
  .strict()
export type ClientMessage = z.infer<typeof clientMessage>

export type ServerMessage =
  | { kind: 'reply'; id: number | null; result: Result<unknown> }
  | { [E in EventName]: { kind: 'event'; event: E; payload: EngineEvents[E] } }[EventName]

export const serverMessage = z.union([
  z.object({
    kind: z.literal('reply'),
    id: z.number().int().nullable(),
    result: z.union([
      z.object({ ok: z.literal(true), value: z.unknown() }),
      z.object({ ok: z.literal(false), error: z.object({ code: z.string(), message: z.string() }) }),
    ]),
  }),
  z.object({ kind: z.literal('event'), event: z.enum(EVENT_NAMES), payload: z.unknown() }),
])

/** The tap batch's header fields (its arrays are checked by type and length in checkTapBatch). */
const tapHeader = z.object({
  sequence: z.number().int(),
  fromFrame: z.number().int(),
  frameCount: z.number().int().min(0),
  frameSamples: z.number().int().min(1),
  sampleRateHz: z.number(),
  frameMs: z.number(),
  events: z.array(
    z.object({ frame: z.number(), kind: z.string(), count: z.number(), detail: z.string().optional() }).strict(),
  ),
  health: z.object({ status: z.enum(['healthy', 'degraded', 'unhealthy']), reasons: z.array(z.string()) }),
})

/** Checks a received tap batch: header fields, and every array a Float32Array of the right length. */
export function checkTapBatch(value: unknown): TapBatch | null {
  if (typeof value !== 'object' || value === null || !tapHeader.safeParse(value).success) return null
  const batch = value as TapBatch
  const samples = batch.frameCount * batch.frameSamples
  for (const track of [batch.near, batch.far, batch.processed])
    if (!(track instanceof Float32Array) || track.length !== samples) return null
  if (typeof batch.metrics !== 'object' || batch.metrics === null) return null
  for (const name of FRAME_METRICS) {
    const column = batch.metrics[name]
    if (!(column instanceof Float32Array) || column.length !== batch.frameCount) return null
  }
  return batch
}

// ---------------------------------------------------------------------------------------------------------------
// Binary wire format (WebSocket): a message holding typed arrays, without turning samples into JSON numbers.
//
//   bytes 0–3   'VWB1'
//   bytes 4–7   JSON length L (uint32, little endian)
//   bytes 8…    JSON text (UTF-8) of the message, each typed array replaced by {"$typed": type, "offset", "length"}
//   padding to a multiple of 8, then the arrays' bytes, each starting at a multiple of 8 (offset: from there)
// Typed arrays are little endian (every platform the workbench runs on).

const WIRE_MAGIC = 0x31425756 // 'VWB1' read as uint32 LE
const TYPED_KEY = '$typed'
const TYPED = { Float32Array, Float64Array, Int16Array, Uint8Array } as const
type TypedName = keyof typeof TYPED
type Typed = InstanceType<(typeof TYPED)[TypedName]>

function typedName(value: unknown): TypedName | null {
  if (value instanceof Float32Array) return 'Float32Array'
  if (value instanceof Float64Array) return 'Float64Array'
  if (value instanceof Int16Array) return 'Int16Array'
  if (value instanceof Uint8Array) return 'Uint8Array'
  return null
}

const align8 = (n: number): number => (n + 7) & ~7

/** A message as WebSocket data: JSON text, or a binary frame when it holds typed arrays. */
export function encodeWire(message: unknown): string | Uint8Array<ArrayBuffer> {
  const arrays: Typed[] = []
  let dataBytes = 0
  const json = JSON.stringify(message, function (this: unknown, _key, value: unknown) {
    const name = typedName(value)
    if (name === null) return value
    const array = value as Typed
    const placeholder = { [TYPED_KEY]: name, offset: dataBytes, length: array.length }
    arrays.push(array)
    dataBytes = align8(dataBytes + array.byteLength)
    return placeholder
  })
  if (arrays.length === 0) return json
  const text = new TextEncoder().encode(json)
  const dataStart = align8(8 + text.length)
  const out = new Uint8Array(dataStart + dataBytes)
  const view = new DataView(out.buffer)
  view.setUint32(0, WIRE_MAGIC, true)
  view.setUint32(4, text.length, true)
  out.set(text, 8)
  let offset = dataStart
  for (const array of arrays) {
    out.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), offset)
    offset += align8(array.byteLength)
  }
  return out
}

export class WireError extends Error {}

/** Reads WebSocket data written by encodeWire; throws WireError on anything malformed. */
export function decodeWire(data: string | Uint8Array): unknown {
  if (typeof data === 'string') {
    try {
      return JSON.parse(data) as unknown
    } catch (error) {
      throw new WireError(`not JSON: ${(error as Error).message}`)
    }
  }
  if (data.byteLength < 8) throw new WireError('binary message shorter than its 8-byte header')
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  if (view.getUint32(0, true) !== WIRE_MAGIC) throw new WireError('binary message without the VWB1 magic')
  const jsonLength = view.getUint32(4, true)
  if (8 + jsonLength > data.byteLength) throw new WireError('binary message: JSON length past the end')
  const dataStart = align8(8 + jsonLength)
  let parsed: unknown
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data.subarray(8, 8 + jsonLength)))
  } catch (error) {
    throw new WireError(`binary message: bad JSON header (${(error as Error).message})`)
  }
  const revive = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(revive)
    if (typeof value !== 'object' || value === null) return value
    const record = value as Record<string, unknown>
    if (TYPED_KEY in record) {
      const name = record[TYPED_KEY]
      const offset = record['offset']
      const length = record['length']
      if (typeof name !== 'string' || !Object.prototype.hasOwnProperty.call(TYPED, name))
        throw new WireError(`binary message: unknown array type ${JSON.stringify(name)}`)
      const Type = TYPED[name as TypedName]
      if (
        !Number.isSafeInteger(offset) ||
        !Number.isSafeInteger(length) ||
        (offset as number) < 0 ||
        (length as number) < 0
      )
        throw new WireError('binary message: bad array offset or length')
      const start = dataStart + (offset as number)
      const bytes = (length as number) * Type.BYTES_PER_ELEMENT
      if (start % 8 !== 0 || start + bytes > data.byteLength) throw new WireError('binary message: array past the end')
      // A copy, so the array owns an aligned buffer whatever the socket's buffer was.
      const copy = Uint8Array.prototype.slice.call(data, start, start + bytes)
      return new Type(copy.buffer, 0, length as number)
    }
    const out: Record<string, unknown> = {}
    // defineProperty: a "__proto__" key stays a plain property.
    for (const key of Object.keys(record))
      Object.defineProperty(out, key, {
        value: revive(record[key]),
        enumerable: true,
        writable: true,
        configurable: true,
      })
    return out
  }
  return revive(parsed)
}

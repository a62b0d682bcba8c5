/**
 * The pipeline's settings: one schema for every setting, the defaults, ranges and descriptions, the validation that
 * main runs on every payload (the renderer is untrusted), and the map between setting keys and .env names.
 *
 * Two kinds of settings:
 * - service keys: the voice service's own settings (its design document, "Configuration"), with its defaults. An
 *   exported .env holds only these by default, because the service's settings loader rejects keys it does not know.
 * - workbench keys (prefix WORKBENCH_): choices the workbench adds for tuning (PLC method, AEC and NR engines…).
 *
 * Pure TypeScript (shared by main and renderer): no Node, Electron or DOM. The .env names appear only in this file.
 * Error messages name the key, the .env name, the value and the allowed range, e.g.
 * `jitterBufferTargetMs (JITTER_BUFFER_TARGET_MS): 900 is outside 40–200 ms (JITTER_BUFFER_MIN_MS–JITTER_BUFFER_MAX_MS)`.
 *
 * Text values (.env files, the environment, `--set`) are read by parseSettingText(), accepting what the service's
 * pydantic settings accept (checked against pydantic 2.13), except non-finite numbers, which no range allows:
 * - booleans: true/false, 1/0, yes/no, on/off, t/f, y/n, any case;
 * - integers: decimal digits with an optional sign, `_` between digits and a zero fraction ("80", "+80", "1_000",
 *   "80.0"); "80.5", "1e3", "0x10" are refused (pydantic refuses them too);
 * - numbers: decimal notation with an optional exponent ("0.8", ".8", "8.", "8e-1", "1e3"); "0x10", "NaN",
 *   "Infinity" are refused;
 * - enums: the listed words, any case;
 * - surrounding whitespace is ignored; an empty value is an error, never "unset" (the service's loader refuses it too).
 */
import { z } from 'zod'
import type { EchoEngine } from '../dsp/echo-canceller'
import type { JitterBufferMode } from '../dsp/jitter-buffer'
import type { NoiseReducerEngine, NoiseReducerMode } from '../dsp/noise-reducer'
import type { PipelineConfig } from '../dsp/pipeline'
import type { PlcMethod } from '../dsp/plc'

export interface PipelineSettings {
  // ---- voice service keys ----
  echoCancellationEnabled: boolean
  noiseReductionEnabled: boolean
  jitterBufferEnabled: boolean
  /** Chunk the pipeline processes and frames, ms: 10, 20, 30 or 40. */
  audioChunkDurationMs: number
  /** Jitter buffer target delay (fixed-mode delay, adaptive starting point), ms, within min…max. */
  jitterBufferTargetMs: number
  jitterBufferMinMs: number
  jitterBufferMaxMs: number
  /** 0–1: scales the noise attenuation (0 = passthrough). */
  noiseReductionStrength: number
  /** Echo canceller adaptive filter length, taps (1024 = 64 ms at 16 kHz). */
  echoFilterLengthTaps: number
  /** Capacity of the framing buffer (the service's AudioBufferManager ring), ms. */
  audioBufferDurationMs: number
  /** Latency budget the health status checks the pipeline's total latency against, ms. */
  maxAudioLatencyMs: number
  // ---- workbench keys ----
  plcMethod: PlcMethod
  jitterBufferMode: JitterBufferMode
  echoCancellationEngine: EchoEngine
  /** Residual echo suppressor (post-filter) on/off. */
  echoSuppressorEnabled: boolean
  /** 0–1 (0: the linear filter alone). */
  echoSuppressorStrength: number
  echoDelayEstimationEnabled: boolean
  /** Largest far-to-near bulk delay searched and compensated, ms. */
  echoMaxBulkDelayMs: number
  noiseReductionEngine: NoiseReducerEngine
  noiseReductionMode: NoiseReducerMode
}

export type SettingKey = keyof PipelineSettings

/**
 * The settings are the DSP pipeline's configuration, key for key (the pipeline adds only the codec, `law`), so a
 * validated settings object or patch goes to Pipeline.configure as it is. This line fails to compile if they drift.
 */
export type SettingsMatchPipeline = [PipelineSettings, Omit<PipelineConfig, 'law'>] extends [
  Omit<PipelineConfig, 'law'>,
  PipelineSettings,
]
  ? true
  : never
export const SETTINGS_MATCH_PIPELINE: SettingsMatchPipeline = true
export type SettingScope = 'service' | 'workbench'
export type SettingGroup = 'pipeline' | 'jitterBuffer' | 'echo' | 'noise'

interface SpecBase<K extends SettingKey> {
  key: K
  /** The .env / environment variable name. */
  envName: string
  scope: SettingScope
  group: SettingGroup
  /** Short UI label. */
  label: string
  description: string
  /** Unit shown after the value ('' when none). */
  unit: string
}

export interface BooleanSettingSpec<K extends SettingKey = SettingKey> extends SpecBase<K> {
  type: 'boolean'
  default: boolean
}

export interface NumericSettingSpec<K extends SettingKey = SettingKey> extends SpecBase<K> {
  /** 'integer' values are whole numbers; 'number' values any finite number. */
  type: 'integer' | 'number'
  default: number
  min: number
  max: number
  /** Slider step for the UI (validation does not round to it). */
  step: number
  /** When set, the only values allowed (within min…max). */
  values?: readonly number[]
  /** Settings that narrow the range at run time: value ≥ settings[minKey], value ≤ settings[maxKey]. */
  bounds?: { minKey?: SettingKey; maxKey?: SettingKey }
}

export interface EnumSettingSpec<K extends SettingKey = SettingKey, V extends string = string> extends SpecBase<K> {
  type: 'enum'
  default: V
  values: readonly V[]
}

export type SettingSpec = BooleanSettingSpec | NumericSettingSpec | EnumSettingSpec

/** The spec a key's value type calls for ([V] keeps unions such as PlcMethod whole). */
type SpecFor<K extends SettingKey, V> = [V] extends [boolean]
  ? BooleanSettingSpec<K>
  : [V] extends [number]
    ? NumericSettingSpec<K>
    : [V] extends [string]
      ? EnumSettingSpec<K, V>
      : never

type SpecTable = { readonly [K in SettingKey]: SpecFor<K, PipelineSettings[K]> }

const JITTER_MS_STEP = 10
const STRENGTH_STEP = 0.05

/**
 * The single table. Service defaults and names: SERVICE-PIPELINE.md "Configuration"; service ranges: issue #4.
 * Ranges the service document leaves open are chosen here:
 * - AUDIO_BUFFER_DURATION_MS 100–5000: at least 5 chunks of 20 ms (a ring that cannot absorb a scheduling hiccup
 *   underruns constantly), at most 5 s (the ring holds speech the STT has not read yet: beyond that it is a queue).
 * - MAX_AUDIO_LATENCY_MS 20–1000: from one 20 ms chunk (nothing less is achievable) to 1 s, well past ITU-T G.114's
 *   400 ms limit for acceptable conversation (the default 200 is the service's own target).
 * - WORKBENCH_ECHO_MAX_DELAY_MS 10–1000: the echo canceller's delay search range (src/dsp/echo-canceller.ts).
 */
const SPECS: SpecTable = {
  echoCancellationEnabled: {
    key: 'echoCancellationEnabled',
    envName: 'ENABLE_ECHO_CANCELLATION',
    scope: 'service',
    group: 'echo',
    type: 'boolean',
    default: true,
    unit: '',
    label: 'Echo cancellation',
    description: 'Remove the bot’s own TTS audio (the far end) from the caller’s audio.',
  },
  noiseReductionEnabled: {
    key: 'noiseReductionEnabled',
    envName: 'ENABLE_NOISE_REDUCTION',
    scope: 'service',
    group: 'noise',
    type: 'boolean',
    default: true,
    unit: '',
    label: 'Noise reduction',
    description: 'Attenuate background noise in the caller’s audio.',
  },
  jitterBufferEnabled: {
    key: 'jitterBufferEnabled',
    envName: 'ENABLE_JITTER_BUFFER',
    scope: 'service',
    group: 'jitterBuffer',
    type: 'boolean',
    default: true,
    unit: '',
    label: 'Jitter buffer',
    description: 'Reorder packets and smooth network jitter; lost and late packets are concealed.',
  },
  audioChunkDurationMs: {
    key: 'audioChunkDurationMs',
    envName: 'AUDIO_CHUNK_DURATION_MS',
    scope: 'service',
    group: 'pipeline',
    type: 'integer',
    default: 20,
    unit: 'ms',
    min: 10,
    max: 40,
    step: 10,
    values: [10, 20, 30, 40],
    label: 'Chunk duration',
    description: 'Duration of the audio chunks the pipeline processes and hands on.',
  },
  jitterBufferTargetMs: {
    key: 'jitterBufferTargetMs',
    envName: 'JITTER_BUFFER_TARGET_MS',
    scope: 'service',
    group: 'jitterBuffer',
    type: 'integer',
    default: 80,
    unit: 'ms',
    min: 0,
    max: 1000,
    step: JITTER_MS_STEP,
    bounds: { minKey: 'jitterBufferMinMs', maxKey: 'jitterBufferMaxMs' },
    label: 'Jitter target',
    description:
      'Jitter buffer delay in fixed mode, and the starting point of the adaptive delay; between min and max.',
  },
  jitterBufferMinMs: {
    key: 'jitterBufferMinMs',
    envName: 'JITTER_BUFFER_MIN_MS',
    scope: 'service',
    group: 'jitterBuffer',
    type: 'integer',
    default: 40,
    unit: 'ms',
    min: 0,
    max: 500,
    step: JITTER_MS_STEP,
    label: 'Jitter min',
    description: 'Lowest delay the adaptive jitter buffer may shrink to.',
  },
  jitterBufferMaxMs: {
    key: 'jitterBufferMaxMs',
    envName: 'JITTER_BUFFER_MAX_MS',
    scope: 'service',
    group: 'jitterBuffer',
    type: 'integer',
    default: 200,
    unit: 'ms',
    min: 20,
    max: 1000,
    step: JITTER_MS_STEP,
    bounds: { minKey: 'jitterBufferMinMs' },
    label: 'Jitter max',
    description: 'Highest delay the adaptive jitter buffer may grow to; at least min.',
  },
  noiseReductionStrength: {
    key: 'noiseReductionStrength',
    envName: 'NOISE_REDUCTION_STRENGTH',
    scope: 'service',
    group: 'noise',
    type: 'number',
    default: 0.8,
    unit: '',
    min: 0,
    max: 1,
    step: STRENGTH_STEP,
    label: 'Noise reduction strength',
    description: 'Scales the attenuation in dB: 0 passes the audio through, 1 applies the full attenuation.',
  },
  echoFilterLengthTaps: {
    key: 'echoFilterLengthTaps',
    envName: 'ECHO_FILTER_LENGTH',
    scope: 'service',
    group: 'echo',
    type: 'integer',
    default: 1024,
    unit: 'taps',
    min: 128,
    max: 8192,
    step: 128,
    label: 'Echo filter length',
    description: 'Adaptive filter length (16 taps = 1 ms at 16 kHz): the echo tail it can cancel after the bulk delay.',
  },
  audioBufferDurationMs: {
    key: 'audioBufferDurationMs',
    envName: 'AUDIO_BUFFER_DURATION_MS',
    scope: 'service',
    group: 'pipeline',
    type: 'integer',
    default: 500,
    unit: 'ms',
    min: 100,
    max: 5000,
    step: 20,
    label: 'Audio buffer',
    description: 'Capacity of the framing ring buffer; when full the oldest chunk is dropped (an overrun).',
  },
  maxAudioLatencyMs: {
    key: 'maxAudioLatencyMs',
    envName: 'MAX_AUDIO_LATENCY_MS',
    scope: 'service',
    group: 'pipeline',
    type: 'integer',
    default: 200,
    unit: 'ms',
    min: 20,
    max: 1000,
    step: 10,
    label: 'Latency budget',
    description: 'Total pipeline latency (jitter buffer + algorithmic delays + framing) the health check allows.',
  },
  plcMethod: {
    key: 'plcMethod',
    envName: 'WORKBENCH_PLC_METHOD',
    scope: 'workbench',
    group: 'jitterBuffer',
    type: 'enum',
    default: 'pitch',
    values: ['pitch', 'spectral', 'linear', 'repeat'],
    unit: '',
    label: 'PLC method',
    description: 'How lost frames are synthesised: pitch repetition, spectral prediction, linear prediction, repeat.',
  },
  jitterBufferMode: {
    key: 'jitterBufferMode',
    envName: 'WORKBENCH_JITTER_BUFFER_MODE',
    scope: 'workbench',
    group: 'jitterBuffer',
    type: 'enum',
    default: 'adaptive',
    values: ['adaptive', 'fixed'],
    unit: '',
    label: 'Jitter buffer mode',
    description: 'Adaptive: the delay follows the measured jitter within min…max. Fixed: the delay stays at target.',
  },
  echoCancellationEngine: {
    key: 'echoCancellationEngine',
    envName: 'WORKBENCH_ECHO_ENGINE',
    scope: 'workbench',
    group: 'echo',
    type: 'enum',
    default: 'mdf',
    values: ['mdf', 'nlms'],
    unit: '',
    label: 'AEC engine',
    description: 'mdf: partitioned frequency-domain filter (speexdsp-style); nlms: the service’s time-domain fallback.',
  },
  echoSuppressorEnabled: {
    key: 'echoSuppressorEnabled',
    envName: 'WORKBENCH_ENABLE_ECHO_SUPPRESSOR',
    scope: 'workbench',
    group: 'echo',
    type: 'boolean',
    default: true,
    unit: '',
    label: 'Residual echo suppressor',
    description: 'Suppress the echo the linear filter leaves (post-filter).',
  },
  echoSuppressorStrength: {
    key: 'echoSuppressorStrength',
    envName: 'WORKBENCH_ECHO_SUPPRESSOR_STRENGTH',
    scope: 'workbench',
    group: 'echo',
    type: 'number',
    default: 1,
    unit: '',
    min: 0,
    max: 1,
    step: STRENGTH_STEP,
    label: 'Suppressor strength',
    description: 'Strength of the residual echo suppressor: 0 leaves the linear filter alone, 1 suppresses fully.',
  },
  echoDelayEstimationEnabled: {
    key: 'echoDelayEstimationEnabled',
    envName: 'WORKBENCH_ENABLE_ECHO_DELAY_ESTIMATION',
    scope: 'workbench',
    group: 'echo',
    type: 'boolean',
    default: true,
    unit: '',
    label: 'Delay estimation',
    description: 'Find the far-to-near bulk delay and place the filter window behind it.',
  },
  echoMaxBulkDelayMs: {
    key: 'echoMaxBulkDelayMs',
    envName: 'WORKBENCH_ECHO_MAX_DELAY_MS',
    scope: 'workbench',
    group: 'echo',
    type: 'integer',
    default: 400,
    unit: 'ms',
    min: 10,
    max: 1000,
    step: 10,
    label: 'Max echo delay',
    description: 'Largest far-to-near bulk delay the delay estimator searches and compensates.',
  },
  noiseReductionEngine: {
    key: 'noiseReductionEngine',
    envName: 'WORKBENCH_NOISE_REDUCTION_ENGINE',
    scope: 'workbench',
    group: 'noise',
    type: 'enum',
    default: 'gate',
    values: ['gate', 'subtract'],
    unit: '',
    label: 'NR engine',
    description: 'gate: spectral gating (noisereduce-style); subtract: spectral subtraction with a floor.',
  },
  noiseReductionMode: {
    key: 'noiseReductionMode',
    envName: 'WORKBENCH_NOISE_REDUCTION_MODE',
    scope: 'workbench',
    group: 'noise',
    type: 'enum',
    default: 'stationary',
    values: ['stationary', 'nonstationary'],
    unit: '',
    label: 'NR mode',
    description: 'stationary: a noise profile learned in pauses; nonstationary: continuous tracking (fans, traffic).',
  },
}

/** Every setting in display and export order (service keys first, in the service document's order). */
export const SETTINGS_SCHEMA: readonly SettingSpec[] = Object.freeze(Object.values(SPECS) as SettingSpec[])

export const SETTING_KEYS: readonly SettingKey[] = Object.freeze(SETTINGS_SCHEMA.map((spec) => spec.key))
export const SERVICE_SETTING_KEYS: readonly SettingKey[] = Object.freeze(
  SETTINGS_SCHEMA.filter((spec) => spec.scope === 'service').map((spec) => spec.key),
)
export const WORKBENCH_SETTING_KEYS: readonly SettingKey[] = Object.freeze(
  SETTINGS_SCHEMA.filter((spec) => spec.scope === 'workbench').map((spec) => spec.key),
)

/** The .env name map: setting key → .env name, and back. */
export const ENV_NAME_BY_KEY: Readonly<Record<SettingKey, string>> = Object.freeze(
  Object.fromEntries(SETTINGS_SCHEMA.map((spec) => [spec.key, spec.envName])) as Record<SettingKey, string>,
)
export const KEY_BY_ENV_NAME: ReadonlyMap<string, SettingKey> = new Map(
  SETTINGS_SCHEMA.map((spec) => [spec.envName, spec.key]),
)

export const DEFAULT_SETTINGS: Readonly<PipelineSettings> = Object.freeze(
  Object.fromEntries(SETTINGS_SCHEMA.map((spec) => [spec.key, spec.default])) as unknown as PipelineSettings,
)

export function settingSpec(key: SettingKey): SettingSpec {
  return SPECS[key] as SettingSpec
}

export function isSettingKey(name: string): name is SettingKey {
  return Object.prototype.hasOwnProperty.call(SPECS, name)
}

/**
 * The setting a name refers to: a .env name (exact) or a setting key (exact). With `caseInsensitive`, also a .env
 * name in any case (`jitter_buffer_target_ms`, as the service's pydantic loader would read it).
 */
export function findSettingKey(name: string, caseInsensitive = false): SettingKey | undefined {
  const byEnv = KEY_BY_ENV_NAME.get(name)
  if (byEnv !== undefined) return byEnv
  if (isSettingKey(name)) return name
  if (caseInsensitive) return KEY_BY_ENV_NAME.get(name.toUpperCase())
  return undefined
}

/** A close setting name for an unknown one (case, '-' for '_', the camelCase key), for "did you mean" hints. */
export function suggestEnvName(name: string): string | undefined {
  const normalised = name
    .trim()
    .toUpperCase()
    .replace(/[-.\s]/g, '_')
  const key = KEY_BY_ENV_NAME.get(normalised) ?? (isSettingKey(name.trim()) ? name.trim() : undefined)
  if (key !== undefined) return ENV_NAME_BY_KEY[key as SettingKey]
  for (const spec of SETTINGS_SCHEMA) {
    if (spec.key.toUpperCase() === normalised.replace(/_/g, '')) return spec.envName
  }
  return undefined
}

// ---------------------------------------------------------------------------------------------------------------
// Validation

export type SettingErrorKind = 'shape' | 'unknown' | 'missing' | 'type' | 'range' | 'values' | 'cross-field'

export interface SettingError {
  kind: SettingErrorKind
  /** The setting key, or the name as given when it is not a setting ('' for the payload as a whole). */
  key: string
  /** The .env name, null when the name is not a setting. */
  envName: string | null
  /** The value as given (text from .env files, the environment or --set). */
  value: unknown
  /** The allowed values in words: '0–500 ms', '10, 20, 30, 40 ms', 'true or false', 'pitch, spectral, …'. */
  allowed: string
  /** Other settings a cross-field check involved. */
  related: SettingKey[]
  /** One line naming the key, the .env name, the value and the allowed range. */
  message: string
}

export type SettingsResult = { ok: true; settings: PipelineSettings } | { ok: false; errors: SettingError[] }

export interface SettingChange {
  key: SettingKey
  envName: string
  from: PipelineSettings[SettingKey]
  to: PipelineSettings[SettingKey]
}

export type PatchResult =
  { ok: true; settings: PipelineSettings; changes: SettingChange[] } | { ok: false; errors: SettingError[] }

function formatNumber(value: number): string {
  return String(value)
}

/** A value as shown in a message: numbers and booleans bare, text quoted (JSON, so blanks and newlines show). */
export function formatValueForMessage(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)
  if (typeof value === 'number') return formatNumber(value)
  if (typeof value === 'boolean' || value === null || value === undefined) return String(value)
  if (Array.isArray(value)) return 'an array'
  return `a ${typeof value}`
}

function withUnit(text: string, unit: string): string {
  return unit === '' ? text : `${text} ${unit}`
}

/** The allowed values of a setting in words (its static range, before cross-field bounds). */
export function describeAllowed(key: SettingKey): string {
  const spec = settingSpec(key)
  switch (spec.type) {
    case 'boolean':
      return 'true or false'
    case 'enum':
      return spec.values.join(', ')
    default:
      if (spec.values !== undefined) return withUnit(spec.values.join(', '), spec.unit)
      return withUnit(`${formatNumber(spec.min)}–${formatNumber(spec.max)}`, spec.unit)
  }
}

/** The range a numeric setting may take given the other settings (min…max narrowed by its bounds). */
export function effectiveRange(key: SettingKey, settings: PipelineSettings): { min: number; max: number } | null {
  const spec = settingSpec(key)
  if (spec.type !== 'integer' && spec.type !== 'number') return null
  let min = spec.min
  let max = spec.max
  const minKey = spec.bounds?.minKey
  const maxKey = spec.bounds?.maxKey
  if (minKey !== undefined) min = Math.max(min, settings[minKey] as number)
  if (maxKey !== undefined) max = Math.min(max, settings[maxKey] as number)
  return { min, max }
}

function settingError(
  kind: SettingErrorKind,
  spec: SettingSpec,
  value: unknown,
  problem: string,
  allowed = describeAllowed(spec.key),
  related: SettingKey[] = [],
): SettingError {
  return {
    kind,
    key: spec.key,
    envName: spec.envName,
    value,
    allowed,
    related,
    message: `${spec.key} (${spec.envName}): ${problem}`,
  }
}

/** Checks one value of the right kind against its static range; null when valid. */
function checkValue(spec: SettingSpec, value: unknown, shown = formatValueForMessage(value)): SettingError | null {
  const allowed = describeAllowed(spec.key)
  switch (spec.type) {
    case 'boolean':
      if (typeof value !== 'boolean') return settingError('type', spec, value, `${shown} is not true or false`)
      return null
    case 'enum':
      if (typeof value !== 'string' || !spec.values.includes(value)) {
        return settingError('values', spec, value, `${shown} is not one of ${allowed}`)
      }
      return null
    default: {
      if (typeof value !== 'number') {
        return settingError('type', spec, value, `${shown} is not a number (${allowed})`)
      }
      if (!Number.isFinite(value))
        return settingError('type', spec, value, `${shown} is not a finite number (${allowed})`)
      if (spec.type === 'integer' && !Number.isInteger(value)) {
        return settingError('type', spec, value, `${shown} is not an integer (${allowed})`)
      }
      if (spec.values !== undefined) {
        if (!spec.values.includes(value))
          return settingError('values', spec, value, `${shown} is not one of ${allowed}`)
        return null
      }
      if (value < spec.min || value > spec.max) {
        return settingError('range', spec, value, `${shown} is outside ${allowed}`)
      }
      return null
    }
  }
}

/** Cross-field checks (bounds) on settings whose fields are each valid; `valid` lists the keys that passed. */
function checkBounds(settings: PipelineSettings, valid: ReadonlySet<SettingKey>): SettingError[] {
  const errors: SettingError[] = []
  for (const spec of SETTINGS_SCHEMA) {
    if ((spec.type !== 'integer' && spec.type !== 'number') || spec.bounds === undefined) continue
    const { minKey, maxKey } = spec.bounds
    const involved = [minKey, maxKey].filter((k): k is SettingKey => k !== undefined)
    // An invalid bound is reported on its own key only.
    if (!valid.has(spec.key) || involved.some((k) => !valid.has(k))) continue
    const range = effectiveRange(spec.key, settings)!
    // Bounds that contradict each other (min > max) are reported on the bound (max ≥ min), not here too.
    if (range.min > range.max) continue
    const value = settings[spec.key] as number
    if (value >= range.min && value <= range.max) continue
    const minName = minKey !== undefined ? ENV_NAME_BY_KEY[minKey] : formatNumber(spec.min)
    const maxName = maxKey !== undefined ? ENV_NAME_BY_KEY[maxKey] : formatNumber(spec.max)
    const rangeText = withUnit(`${formatNumber(range.min)}–${formatNumber(range.max)}`, spec.unit)
    errors.push(
      settingError(
        'cross-field',
        spec,
        value,
        `${formatNumber(value)} is outside ${rangeText} (${minName}–${maxName})`,
        rangeText,
        involved,
      ),
    )
  }
  return errors
}

/** A -0 becomes 0, so that a value and its text form compare equal. */
function normaliseValue(value: unknown): unknown {
  return Object.is(value, -0) ? 0 : value
}

const payloadObject = z.record(z.string(), z.unknown())

function shapeError(candidate: unknown, what: string): SettingError {
  const kind = candidate === null ? 'null' : Array.isArray(candidate) ? 'an array' : `a ${typeof candidate}`
  return {
    kind: 'shape',
    key: '',
    envName: null,
    value: candidate,
    allowed: `an object of settings`,
    related: [],
    message: `${what}: expected an object of settings, got ${kind}`,
  }
}

function unknownError(name: string): SettingError {
  const hint = suggestEnvName(name)
  const suggestion = hint !== undefined ? `; did you mean ${KEY_BY_ENV_NAME.get(hint)} (${hint})?` : ''
  return {
    kind: 'unknown',
    key: name,
    envName: null,
    value: undefined,
    allowed: 'a setting key',
    related: [],
    message: `${name}: not a setting${suggestion}`,
  }
}

/**
 * Validates a complete settings object (every key present, no other key). Returns every error at once: per field
 * (type, range, allowed values) and then across fields (jitter min ≤ target ≤ max).
 */
export function validateSettings(candidate: unknown): SettingsResult {
  if (!payloadObject.safeParse(candidate).success) return { ok: false, errors: [shapeError(candidate, 'settings')] }
  // The own keys as given (zod's copy drops a '__proto__' key, which must be reported, not ignored).
  const input = candidate as Record<string, unknown>
  const errors: SettingError[] = []
  for (const name of Object.keys(input)) if (!isSettingKey(name)) errors.push(unknownError(name))
  const settings = { ...DEFAULT_SETTINGS } as Record<SettingKey, unknown>
  const valid = new Set<SettingKey>()
  for (const spec of SETTINGS_SCHEMA) {
    if (!Object.prototype.hasOwnProperty.call(input, spec.key) || input[spec.key] === undefined) {
      errors.push(settingError('missing', spec, undefined, `missing (${describeAllowed(spec.key)})`))
      continue
    }
    const value = normaliseValue(input[spec.key])
    const error = checkValue(spec, value)
    if (error !== null) {
      errors.push(error)
      continue
    }
    settings[spec.key] = value
    valid.add(spec.key)
  }
  errors.push(...checkBounds(settings as unknown as PipelineSettings, valid))
  return errors.length === 0 ? { ok: true, settings: settings as unknown as PipelineSettings } : { ok: false, errors }
}

/**
 * Validates a partial update against the current settings (hot reconfiguration). Every key of the patch must be a
 * setting; the merged result must pass validateSettings (so a patch of the target alone is checked against the
 * current min and max). Undefined values are ignored. Returns the merged settings and what changed.
 */
export function validatePatch(current: PipelineSettings, patch: unknown): PatchResult {
  if (!payloadObject.safeParse(patch).success) return { ok: false, errors: [shapeError(patch, 'patch')] }
  const input = patch as Record<string, unknown>
  const errors: SettingError[] = []
  const merged = { ...current } as Record<SettingKey, unknown>
  const valid = new Set<SettingKey>(SETTING_KEYS)
  for (const name of Object.keys(input)) {
    if (input[name] === undefined) continue
    if (!isSettingKey(name)) {
      errors.push(unknownError(name))
      continue
    }
    const value = normaliseValue(input[name])
    const error = checkValue(settingSpec(name), value)
    if (error !== null) {
      errors.push(error)
      valid.delete(name)
      continue
    }
    merged[name] = value
  }
  errors.push(...checkBounds(merged as unknown as PipelineSettings, valid))
  if (errors.length > 0) return { ok: false, errors }
  const settings = merged as unknown as PipelineSettings
  return { ok: true, settings, changes: diffSettings(current, settings) }
}

/** The settings that differ between a and b, in schema order. */
export function diffSettings(a: PipelineSettings, b: PipelineSettings): SettingChange[] {
  const changes: SettingChange[] = []
  for (const spec of SETTINGS_SCHEMA) {
    const from = a[spec.key]
    const to = b[spec.key]
    if (!Object.is(from, to)) changes.push({ key: spec.key, envName: spec.envName, from, to })
  }
  return changes
}

// ---------------------------------------------------------------------------------------------------------------
// Text values (.env files, the environment, --set)

const BOOLEAN_TRUE = ['true', '1', 'yes', 'on', 't', 'y']
const BOOLEAN_FALSE = ['false', '0', 'no', 'off', 'f', 'n']
/** Python-style digits: `_` only between digits ("1_000"). */
const DIGITS = String.raw`\d+(?:_\d+)*`
/** Optional sign, digits, an optional all-zero fraction ("80.0", as pydantic's int accepts); no exponent, no hex. */
const INTEGER_TEXT = new RegExp(String.raw`^[+-]?${DIGITS}(?:\.0+)?$`)
/** Decimal notation with an optional exponent: "0.8", ".8", "8.", "8e-1"; no hex, no NaN, no Infinity. */
const NUMBER_TEXT = new RegExp(String.raw`^[+-]?(?:${DIGITS}(?:\.(?:${DIGITS})?)?|\.${DIGITS})(?:[eE][+-]?${DIGITS})?$`)

export type ParsedSettingText = { ok: true; value: PipelineSettings[SettingKey] } | { ok: false; error: SettingError }

/** Reads a setting from text (see the file header for the accepted forms) and checks its static range. */
export function parseSettingText(key: SettingKey, text: string): ParsedSettingText {
  const spec = settingSpec(key)
  const trimmed = text.trim()
  const allowed = describeAllowed(key)
  const fail = (problem: string): ParsedSettingText => ({
    ok: false,
    error: settingError('type', spec, text, problem),
  })
  if (trimmed === '') return fail(`empty value (${allowed})`)
  let value: boolean | number | string
  switch (spec.type) {
    case 'boolean': {
      const lower = trimmed.toLowerCase()
      if (BOOLEAN_TRUE.includes(lower)) value = true
      else if (BOOLEAN_FALSE.includes(lower)) value = false
      else return fail(`${formatValueForMessage(text)} is not a boolean (true/false, 1/0, yes/no, on/off)`)
      break
    }
    case 'enum': {
      const lower = trimmed.toLowerCase()
      const match = spec.values.find((v) => v.toLowerCase() === lower)
      if (match === undefined) return fail(`${formatValueForMessage(text)} is not one of ${allowed}`)
      value = match
      break
    }
    case 'integer':
      if (!INTEGER_TEXT.test(trimmed)) return fail(`${formatValueForMessage(text)} is not an integer (${allowed})`)
      value = normaliseValue(Number(trimmed.replace(/_/g, ''))) as number
      break
    case 'number':
      if (!NUMBER_TEXT.test(trimmed)) return fail(`${formatValueForMessage(text)} is not a number (${allowed})`)
      value = normaliseValue(Number(trimmed.replace(/_/g, ''))) as number
      break
  }
  // A range error shows the text as written when it reads differently ("1e3" (= 1000) is outside 0–1).
  const canonical = formatValueForMessage(value)
  const shown = trimmed === canonical ? canonical : `${formatValueForMessage(text)} (= ${canonical})`
  const error = checkValue(spec, value, shown)
  if (error !== null) return { ok: false, error: { ...error, value: text } }
  return { ok: true, value: value as PipelineSettings[SettingKey] }
}

/**
 * A setting's value as .env text that parseSettingText reads back to the same value: booleans as true/false,
 * numbers in JavaScript's shortest round-trip form (0.8, 1e-7), enum words as they are.
 */
export function formatSettingValue(key: SettingKey, value: PipelineSettings[SettingKey]): string {
  const spec = settingSpec(key)
  if (spec.type === 'boolean') return value ? 'true' : 'false'
  if (typeof value === 'number') return formatNumber(normaliseValue(value) as number)
  return String(value)
}

// ---------------------------------------------------------------------------------------------------------------
// zod schemas for the IPC contract: the same checks and the same messages as validateSettings / validatePatch.

function addErrors(ctx: z.RefinementCtx, errors: SettingError[]): void {
  for (const error of errors) {
    ctx.addIssue({ code: 'custom', message: error.message, path: error.key === '' ? [] : [error.key] })
  }
}

/** A complete settings payload; parses to PipelineSettings. */
export const settingsPayload = z.unknown().transform((value, ctx): PipelineSettings => {
  const result = validateSettings(value)
  if (result.ok) return result.settings
  addErrors(ctx, result.errors)
  return z.NEVER
})

/** A patch payload: an object of known keys with valid values (cross-field checks need the current settings). */
export const settingsPatchPayload = z.unknown().transform((value, ctx): Partial<PipelineSettings> => {
  const result = validatePatch(DEFAULT_SETTINGS, value)
  if (!result.ok) {
    // Only the per-field errors: the bounds depend on the session's current settings, checked by validatePatch.
    const fieldErrors = result.errors.filter((e) => e.kind !== 'cross-field')
    if (fieldErrors.length > 0) {
      addErrors(ctx, fieldErrors)
      return z.NEVER
    }
  }
  const patch: Partial<Record<SettingKey, unknown>> = {}
  for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
    if (v !== undefined && isSettingKey(name)) patch[name] = normaliseValue(v)
  }
  return patch as Partial<PipelineSettings>
})

/**
 * The tuning panel's logic, kept out of React so it is tested on its own: the controls generated from the settings
 * schema (src/shared/config.ts: nothing is listed by hand here), the slider ranges (narrowed by the other settings,
 * e.g. the jitter target between min and max), the planning of a change (a dependent setting pushed back into its
 * range, or the schema's own message when the user's value cannot be taken), the list of settings that differ from
 * the defaults, the echo filter's effective length (the MDF runs whole partitions) and a throttle that merges
 * patches while a slider is dragged.
 */
import { EchoCanceller } from '../../dsp/echo-canceller'
import {
  DEFAULT_SETTINGS,
  SETTINGS_SCHEMA,
  diffSettings,
  effectiveRange,
  formatSettingValue,
  settingSpec,
  validatePatch,
  type PipelineSettings,
  type SettingChange,
  type SettingGroup,
  type SettingKey,
  type SettingSpec,
} from '../../shared/config'

// ---------------------------------------------------------------------------------------------------------------
// Controls generated from the schema

/** toggle: a checkbox; slider: a range input and a number input; choice: a select (enums, fixed value lists). */
export type ControlKind = 'toggle' | 'slider' | 'choice'

export interface SettingControl {
  key: SettingKey
  spec: SettingSpec
  kind: ControlKind
  /** The choices of a 'choice' control. */
  options: readonly (string | number)[]
}

export interface SettingGroupView {
  group: SettingGroup
  title: string
  /** The stage's on/off setting (shown in the group's heading), if the group has one. */
  stage: SettingControl | null
  controls: SettingControl[]
}

/** Groups in the order a support engineer tunes them: network first, then the audio stages. */
const GROUP_TITLES: Readonly<Record<SettingGroup, string>> = {
  jitterBuffer: 'Jitter buffer and PLC',
  echo: 'Echo cancellation',
  noise: 'Noise reduction',
  pipeline: 'Pipeline',
}
const GROUP_ORDER: readonly SettingGroup[] = ['jitterBuffer', 'echo', 'noise', 'pipeline']

/** The stage toggles: the service's ENABLE_* settings, one per stage. */
export function isStageToggle(spec: SettingSpec): boolean {
  return spec.type === 'boolean' && spec.scope === 'service'
}

export function controlFor(spec: SettingSpec): SettingControl {
  if (spec.type === 'boolean') return { key: spec.key, spec, kind: 'toggle', options: [] }
  if (spec.type === 'enum') return { key: spec.key, spec, kind: 'choice', options: spec.values }
  if (spec.values !== undefined) return { key: spec.key, spec, kind: 'choice', options: spec.values }
  return { key: spec.key, spec, kind: 'slider', options: [] }
}

/** Every setting of the schema, once, grouped; within a group in schema order (service keys first). */
export function settingGroups(schema: readonly SettingSpec[] = SETTINGS_SCHEMA): SettingGroupView[] {
  return GROUP_ORDER.map((group) => {
    const specs = schema.filter((spec) => spec.group === group)
    const stageSpec = specs.find(isStageToggle) ?? null
    return {
      group,
      title: GROUP_TITLES[group],
      stage: stageSpec === null ? null : controlFor(stageSpec),
      controls: specs.filter((spec) => spec !== stageSpec).map(controlFor),
    }
  }).filter((view) => view.stage !== null || view.controls.length > 0)
}

// ---------------------------------------------------------------------------------------------------------------
// Ranges and changes

export interface SliderRange {
  min: number
  max: number
  step: number
}

/**
 * A numeric setting's slider range given the other settings: the schema's min…max narrowed by its bounds (the jitter
 * target between JITTER_BUFFER_MIN_MS and JITTER_BUFFER_MAX_MS, the max at least the min). Null for other settings.
 */
export function sliderRange(key: SettingKey, settings: PipelineSettings): SliderRange | null {
  const spec = settingSpec(key)
  if (spec.type !== 'integer' && spec.type !== 'number') return null
  const range = effectiveRange(key, settings)!
  // Contradicting bounds (min above max) cannot come from a valid session; show the static range then.
  if (range.min > range.max) return { min: spec.min, max: spec.max, step: spec.step }
  return { min: range.min, max: range.max, step: spec.step }
}

/** A value clamped into a numeric setting's current range (integers rounded), for the slider's drag. */
export function clampSetting(key: SettingKey, value: number, settings: PipelineSettings): number {
  const range = sliderRange(key, settings)
  if (range === null || !Number.isFinite(value)) return value
  const spec = settingSpec(key)
  const rounded = spec.type === 'integer' ? Math.round(value) : value
  return Math.min(range.max, Math.max(range.min, rounded))
}

export type PlannedChange =
  | {
      ok: true
      /** What to send to configure: the value, plus any dependent setting pushed back into its range. */
      patch: Partial<PipelineSettings>
      /** The dependent settings moved to keep the settings valid (e.g. the jitter target raised with the min). */
      adjusted: SettingChange[]
    }
  | { ok: false; key: SettingKey; message: string }

const MAX_ADJUST_PASSES = 4

/**
 * Plans setting `key` to `value` on top of `current`. A value the setting itself cannot take (out of its range, or of
 * the range its bounds leave it, e.g. a jitter target over the max) is refused with the schema's message, which
 * names the key, the .env name and the allowed range: the same message the engine gives (validatePatch). A change
 * that leaves another setting out of its bounds (the min raised over the target) moves that setting to the nearest
 * allowed value, and says so in `adjusted`.
 */
export function planChange(current: PipelineSettings, key: SettingKey, value: unknown): PlannedChange {
  const patch: Record<string, unknown> = { [key]: value }
  for (let pass = 0; pass < MAX_ADJUST_PASSES; pass++) {
    const checked = validatePatch(current, patch)
    if (checked.ok) {
      return {
        ok: true,
        patch: patch as Partial<PipelineSettings>,
        adjusted: checked.changes.filter((change) => change.key !== key),
      }
    }
    const own = checked.errors.find((error) => error.key === key || error.kind !== 'cross-field')
    if (own !== undefined) return { ok: false, key, message: own.message }
    const merged = { ...current, ...patch } as PipelineSettings
    for (const error of checked.errors) {
      const dependent = error.key as SettingKey
      patch[dependent] = clampSetting(dependent, merged[dependent] as number, merged)
    }
  }
  const checked = validatePatch(current, patch)
  return { ok: false, key, message: checked.ok ? `${key}: cannot apply` : checked.errors[0]!.message }
}

/** The patch that takes `from` to `to` (the keys that differ), empty when they are the same. */
export function patchBetween(from: PipelineSettings, to: PipelineSettings): Partial<PipelineSettings> {
  const patch: Record<string, unknown> = {}
  for (const change of diffSettings(from, to)) patch[change.key] = change.to
  return patch as Partial<PipelineSettings>
}

export function sameSettings(a: PipelineSettings, b: PipelineSettings): boolean {
  return diffSettings(a, b).length === 0
}

// ---------------------------------------------------------------------------------------------------------------
// The settings that differ from the defaults

export interface ChangedSettingRow {
  key: SettingKey
  label: string
  envName: string
  /** The default and current values as .env text, with the unit ("40 ms", "0.8", "pitch"). */
  defaultText: string
  currentText: string
  /** Workbench keys are only exported when asked for. */
  isWorkbench: boolean
}

/** A setting's value as shown: the .env text and the unit. */
export function formatSetting(key: SettingKey, value: PipelineSettings[SettingKey]): string {
  const spec = settingSpec(key)
  const text = formatSettingValue(key, value)
  return spec.unit === '' ? text : `${text} ${spec.unit}`
}

export function changedSettings(
  settings: PipelineSettings,
  defaults: PipelineSettings = DEFAULT_SETTINGS,
): ChangedSettingRow[] {
  return diffSettings(defaults, settings).map((change) => {
    const spec = settingSpec(change.key)
    return {
      key: change.key,
      label: spec.label,
      envName: spec.envName,
      defaultText: formatSetting(change.key, change.from),
      currentText: formatSetting(change.key, change.to),
      isWorkbench: spec.scope === 'workbench',
    }
  })
}

// ---------------------------------------------------------------------------------------------------------------
// Echo filter length

export const ECHO_SAMPLE_RATE_HZ = 16000

export interface EchoLength {
  /** Taps the engine runs. */
  effectiveTaps: number
  /** Partition size (taps) of the MDF, null for NLMS (exact length). */
  partitionTaps: number | null
}

const echoLengthCache = new Map<string, EchoLength>()

/**
 * The filter length the echo canceller runs for a setting: the MDF rounds up to whole partitions, NLMS runs it as
 * set. Asked of src/dsp/echo-canceller.ts itself (a probe instance: its `filterTaps` and `blockLength`), so this is
 * the engine's own rule, not a copy; cached (a cold path, a few ms per new length).
 */
export function echoEffectiveLength(settings: PipelineSettings): EchoLength {
  const engine = settings.echoCancellationEngine
  const filterLength = settings.echoFilterLengthTaps
  const frameSamples = (settings.audioChunkDurationMs * ECHO_SAMPLE_RATE_HZ) / 1000
  const cacheKey = `${engine}:${filterLength}:${frameSamples}`
  const cached = echoLengthCache.get(cacheKey)
  if (cached !== undefined) return cached
  let length: EchoLength
  try {
    const probe = new EchoCanceller({ sampleRateHz: ECHO_SAMPLE_RATE_HZ, frameSamples, filterLength, engine })
    length = { effectiveTaps: probe.filterTaps, partitionTaps: engine === 'mdf' ? probe.blockLength : null }
  } catch {
    // A length the canceller refuses never reaches the engine (validatePatch): show it as set.
    length = { effectiveTaps: filterLength, partitionTaps: null }
  }
  echoLengthCache.set(cacheKey, length)
  return length
}

/** Taps as milliseconds at 16 kHz (16 taps = 1 ms). */
export function tapsToMs(taps: number): number {
  return (taps * 1000) / ECHO_SAMPLE_RATE_HZ
}

export function formatMs(ms: number): string {
  return `${Number.isInteger(ms) ? ms : ms.toFixed(1)} ms`
}

// ---------------------------------------------------------------------------------------------------------------
// Throttled configure

export interface Clock {
  now(): number
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

const realClock: Clock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
}

/**
 * Sends setting patches at most every `intervalMs` while a slider is dragged: the first change at once, then the
 * merged changes of each interval (the latest value of each key), and the last one always. `flush()` sends what is
 * waiting now (before an undo, an import or a reset, so the order of changes is kept).
 */
export class PatchThrottle {
  private waiting: Record<string, unknown> | null = null
  private timer: unknown = null
  private lastSentMs = -Infinity

  constructor(
    private readonly send: (patch: Partial<PipelineSettings>) => void,
    private readonly intervalMs: number,
    private readonly clock: Clock = realClock,
  ) {}

  push(patch: Partial<PipelineSettings>): void {
    this.waiting = { ...this.waiting, ...patch }
    if (this.timer !== null) return
    const wait = this.lastSentMs + this.intervalMs - this.clock.now()
    if (wait <= 0) this.flush()
    else this.timer = this.clock.setTimeout(() => this.flush(), wait)
  }

  flush(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer)
    this.timer = null
    const patch = this.waiting
    if (patch === null) return
    this.waiting = null
    this.lastSentMs = this.clock.now()
    this.send(patch as Partial<PipelineSettings>)
  }

  get hasWaiting(): boolean {
    return this.waiting !== null
  }

  dispose(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer)
    this.timer = null
    this.waiting = null
  }
}

// ---------------------------------------------------------------------------------------------------------------
// .env import errors

/**
 * The separate problems of an import error: the engine joins them with '; ', each starting with `file:line:`
 * (`bad.env:3: cannot read …; bad.env:5: noiseReductionStrength …`). A '; ' inside one message (a "did you mean"
 * hint) is not a split point, since what follows it does not start with `name:line:`.
 */
export function splitEnvErrors(message: string): string[] {
  return message
    .split(/; (?=[^\s;:]+:\d+: )/)
    .map((part) => part.trim())
    .filter((part) => part !== '')
}

/**
 * The range input's step for a value: the schema's step when the value is on its grid (min + k·step), else 1 for an
 * integer and 'any' for a number, so that a typed value off the grid (ECHO_FILTER_LENGTH=1100 with a 128-tap step)
 * is shown where it is instead of being snapped by the browser.
 */
export function sliderStep(range: SliderRange, value: number, integer: boolean): number | 'any' {
  const steps = (value - range.min) / range.step
  if (Math.abs(steps - Math.round(steps)) < 1e-9) return range.step
  return integer ? 1 : 'any'
}

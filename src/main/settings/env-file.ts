/**
 * .env import and export for the pipeline settings (plain Node, no Electron).
 *
 * Import: values come from dotenv's own parser (`dotenv.parse`), so a file means here what it means to dotenv.
 * dotenv silently drops the lines it cannot read; scanEnvText() runs the same line pattern to give every entry its
 * line number and to report the lines nothing matched. Values are converted and range-checked by the shared schema
 * (src/shared/config.ts); a file with any error applies nothing. Unknown keys are kept (the voice service's .env holds
 * many settings besides the audio ones) and warned about.
 *
 * Precedence (resolveSettings): defaults < .env file < environment < `--set KEY=VALUE`, later --set wins. The
 * cross-field checks (jitter min ≤ target ≤ max) run on the merged result and name where each value came from.
 *
 * Export (formatEnvFile): a .env the voice service loads as is (only its keys unless asked), with a comment header
 * (when, from which capture, key metrics), in ASCII; importing it gives the same settings back.
 */
import { readFileSync } from 'node:fs'
import dotenv from 'dotenv'
import { APP_NAME } from '../../shared/contract'
import {
  DEFAULT_SETTINGS,
  ENV_NAME_BY_KEY,
  KEY_BY_ENV_NAME,
  SETTINGS_SCHEMA,
  describeAllowed,
  findSettingKey,
  formatSettingValue,
  parseSettingText,
  suggestEnvName,
  validateSettings,
  type PipelineSettings,
  type SettingError,
  type SettingKey,
} from '../../shared/config'

// ---------------------------------------------------------------------------------------------------------------
// Scanning: dotenv's lines with their line numbers

/**
 * dotenv 17/18's LINE pattern (lib/main.js, the default parser), with the `d` flag for group offsets. It must stay
 * the same as the installed dotenv's: the tests check that both find the same keys on random text.
 */
const DOTENV_LINE =
  /(?:^|^)\s*(?:export\s+)?([\w.-]+)(?:\s*=\s*?|:\s+?)(\s*'(?:\\'|[^'])*'|\s*"(?:\\"|[^"])*"|\s*`(?:\\`|[^`])*`|[^#\r\n]+)?\s*(?:#.*)?(?:$|$)/dgm

export interface EnvEntry {
  /** The name as written. */
  name: string
  /** The value as dotenv reads it (quotes removed, `\n` expanded in double quotes). */
  value: string
  /** 1-based line of the name (the last assignment when the name repeats: dotenv keeps the last). */
  line: number
  /** Earlier lines that assigned the same name (overridden). */
  overriddenLines: number[]
  /** Written as `NAME: value` (dotenv accepts it; the service's loader may not). */
  colonSyntax: boolean
}

export interface UnreadableLine {
  line: number
  text: string
}

export interface ScannedEnvText {
  /** In order of first appearance. */
  entries: EnvEntry[]
  /** Non-blank, non-comment lines dotenv drops without a word. */
  unreadable: UnreadableLine[]
}

/** Splits .env text into entries (values from dotenv.parse) and the lines dotenv cannot read. */
export function scanEnvText(text: string): ScannedEnvText {
  const source = text.replace(/\r\n?/g, '\n') // as dotenv does
  const values = dotenv.parse(source)
  const lines = source.split('\n')
  const lineStarts: number[] = [0]
  for (let i = 0; i < source.length; i++) if (source.charCodeAt(i) === 10) lineStarts.push(i + 1)
  const lineOf = (offset: number): number => {
    let lo = 0
    let hi = lineStarts.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (lineStarts[mid]! <= offset) lo = mid
      else hi = mid - 1
    }
    return lo + 1
  }
  const covered = new Uint8Array(lines.length + 2)
  const byName = new Map<string, EnvEntry>()
  DOTENV_LINE.lastIndex = 0
  for (let match = DOTENV_LINE.exec(source); match !== null; match = DOTENV_LINE.exec(source)) {
    const indices = match.indices!
    const name = match[1]!
    const [nameStart, nameEnd] = indices[1]!
    const matchEnd = match.index + match[0].length
    // The match may begin with blank lines (\s* eats newlines): coverage starts at its first visible character.
    const firstVisible = match.index + match[0].search(/\S/)
    const endLine = lineOf(Math.max(firstVisible, matchEnd - 1))
    for (let line = lineOf(firstVisible); line <= endLine; line++) covered[line] = 1
    const separator = source.slice(nameEnd, indices[2]?.[0] ?? matchEnd)
    const line = lineOf(nameStart)
    const previous = byName.get(name)
    if (previous === undefined) {
      byName.set(name, { name, value: '', line, overriddenLines: [], colonSyntax: !separator.includes('=') })
    } else {
      previous.overriddenLines.push(previous.line)
      previous.line = line
      previous.colonSyntax = !separator.includes('=')
    }
  }
  const entries: EnvEntry[] = []
  for (const entry of byName.values()) {
    if (!Object.prototype.hasOwnProperty.call(values, entry.name)) continue
    entry.value = values[entry.name]!
    entries.push(entry)
  }
  // A key dotenv found that the pattern above did not (a dotenv upgrade changed its parser): line unknown (0).
  for (const name of Object.keys(values)) {
    if (!byName.has(name))
      entries.push({ name, value: values[name]!, line: 0, overriddenLines: [], colonSyntax: false })
  }
  const unreadable: UnreadableLine[] = []
  lines.forEach((lineText, index) => {
    const trimmed = lineText.trim()
    if (trimmed === '' || trimmed.startsWith('#') || covered[index + 1] === 1) return
    unreadable.push({ line: index + 1, text: lineText })
  })
  return { entries, unreadable }
}

// ---------------------------------------------------------------------------------------------------------------
// Reading layers

export type SettingSource =
  | { layer: 'default' }
  | { layer: 'file'; file: string; line: number }
  | { layer: 'environment'; name: string }
  | { layer: 'set'; index: number; text: string }

export type EnvIssueKind =
  'io' | 'unreadable-line' | 'value' | 'cross-field' | 'unknown-key' | 'bad-set' | 'duplicate' | 'syntax' | 'override'

export interface EnvIssue {
  kind: EnvIssueKind
  /** Where: the file name, 'environment', '--set' or 'default'. */
  source: string
  /** 1-based line in the file, null elsewhere. */
  line: number | null
  /** The name as written (.env name, or the key given to --set), null for a whole line or file. */
  name: string | null
  /** The text as written. */
  value: string | null
  /** The allowed values in words, when a value was wrong. */
  allowed: string | null
  /** One line: where, then what (e.g. `tuned.env:3: jitterBufferTargetMs (JITTER_BUFFER_TARGET_MS): …`). */
  message: string
}

export interface EnvLayer {
  /** Empty when `errors` is not: a layer applies all or nothing. */
  values: Partial<PipelineSettings>
  sources: Partial<Record<SettingKey, SettingSource>>
  /** Names that are not settings, with their values, in file order (kept for export). */
  unknown: Record<string, string>
  warnings: EnvIssue[]
  errors: EnvIssue[]
}

function where(source: SettingSource): string {
  switch (source.layer) {
    case 'default':
      return 'default'
    case 'file':
      return source.line > 0 ? `${source.file}:${source.line}` : source.file
    case 'environment':
      return 'environment'
    case 'set':
      return '--set'
  }
}

function issue(
  kind: EnvIssueKind,
  source: SettingSource,
  message: string,
  fields: { name?: string; value?: string; allowed?: string } = {},
): EnvIssue {
  return {
    kind,
    source: source.layer === 'file' ? source.file : where(source),
    line: source.layer === 'file' && source.line > 0 ? source.line : null,
    name: fields.name ?? null,
    value: fields.value ?? null,
    allowed: fields.allowed ?? null,
    message: `${where(source)}: ${message}`,
  }
}

function valueIssue(source: SettingSource, name: string, value: string, error: SettingError): EnvIssue {
  return issue('value', source, error.message, { name, value, allowed: error.allowed })
}

function emptyLayer(): EnvLayer {
  return { values: {}, sources: {}, unknown: {}, warnings: [], errors: [] }
}

/**
 * Reads .env text as one layer. `file` names it in messages. Nothing is applied when anything is wrong, unless
 * `keepGoodLines` (a preview): then the values of the lines that read well stay beside the errors.
 */
export function readEnvText(text: string, file: string, { keepGoodLines = false } = {}): EnvLayer {
  const layer = emptyLayer()
  const scanned = scanEnvText(text)
  for (const bad of scanned.unreadable) {
    const source: SettingSource = { layer: 'file', file, line: bad.line }
    layer.errors.push(
      issue('unreadable-line', source, `cannot read ${JSON.stringify(bad.text.trim())} (expected NAME=value)`, {
        value: bad.text,
      }),
    )
  }
  for (const entry of scanned.entries) {
    const source: SettingSource = { layer: 'file', file, line: entry.line }
    if (entry.overriddenLines.length > 0) {
      const earlier = entry.overriddenLines.join(', ')
      layer.warnings.push(
        issue('duplicate', source, `${entry.name} is also set on line ${earlier}; this line wins (as in dotenv)`, {
          name: entry.name,
          value: entry.value,
        }),
      )
    }
    if (entry.colonSyntax) {
      layer.warnings.push(
        issue('syntax', source, `${entry.name}: written "NAME: value"; the voice service's loader expects NAME=value`, {
          name: entry.name,
          value: entry.value,
        }),
      )
    }
    const key = KEY_BY_ENV_NAME.get(entry.name)
    if (key === undefined) {
      layer.unknown[entry.name] = entry.value
      const hint = suggestEnvName(entry.name)
      const suggestion = hint !== undefined ? `; did you mean ${hint}?` : ''
      layer.warnings.push(
        issue('unknown-key', source, `${entry.name} is not a workbench setting; kept as is${suggestion}`, {
          name: entry.name,
          value: entry.value,
        }),
      )
      continue
    }
    const parsed = parseSettingText(key, entry.value)
    if (!parsed.ok) {
      layer.errors.push(valueIssue(source, entry.name, entry.value, parsed.error))
      continue
    }
    ;(layer.values as Record<SettingKey, unknown>)[key] = parsed.value
    layer.sources[key] = source
  }
  if (layer.errors.length > 0 && !keepGoodLines) {
    layer.values = {}
    layer.sources = {}
  }
  return layer
}

/** Reads a .env file from disk; an unreadable file is an 'io' error. */
export function readEnvFile(path: string): EnvLayer {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    const layer = emptyLayer()
    const reason = error instanceof Error ? error.message : String(error)
    layer.errors.push(issue('io', { layer: 'file', file: path, line: 0 }, `cannot read the file (${reason})`))
    return layer
  }
  return readEnvText(text, path)
}

/** The known settings among environment variables (exact names; other variables are ignored). */
export function readEnvironment(environment: Readonly<Record<string, string | undefined>>): EnvLayer {
  const layer = emptyLayer()
  for (const spec of SETTINGS_SCHEMA) {
    const text = environment[spec.envName]
    if (text === undefined) continue
    const source: SettingSource = { layer: 'environment', name: spec.envName }
    const parsed = parseSettingText(spec.key, text)
    if (!parsed.ok) {
      layer.errors.push(valueIssue(source, spec.envName, text, parsed.error))
      continue
    }
    ;(layer.values as Record<SettingKey, unknown>)[spec.key] = parsed.value
    layer.sources[spec.key] = source
  }
  if (layer.errors.length > 0) {
    layer.values = {}
    layer.sources = {}
  }
  return layer
}

/**
 * `--set NAME=VALUE` items in order (a later one wins). NAME is a .env name (any case) or a setting key. An unknown
 * name is an error here, unlike in a file: a command-line typo should stop the run.
 */
export function readSets(sets: readonly string[]): EnvLayer {
  const layer = emptyLayer()
  sets.forEach((text, index) => {
    const source: SettingSource = { layer: 'set', index, text }
    const equals = text.indexOf('=')
    if (equals <= 0) {
      layer.errors.push(issue('bad-set', source, `${JSON.stringify(text)} is not NAME=value`, { value: text }))
      return
    }
    const name = text.slice(0, equals).trim()
    const value = text.slice(equals + 1)
    const key = findSettingKey(name, true)
    if (key === undefined) {
      const hint = suggestEnvName(name)
      const suggestion = hint !== undefined ? `; did you mean ${hint}?` : ''
      layer.errors.push(issue('unknown-key', source, `${name} is not a setting${suggestion}`, { name, value }))
      return
    }
    const parsed = parseSettingText(key, value)
    if (!parsed.ok) {
      layer.errors.push(valueIssue(source, name, value, parsed.error))
      return
    }
    ;(layer.values as Record<SettingKey, unknown>)[key] = parsed.value
    layer.sources[key] = source
  })
  if (layer.errors.length > 0) {
    layer.values = {}
    layer.sources = {}
  }
  return layer
}

// ---------------------------------------------------------------------------------------------------------------
// Resolving: defaults < file < environment < --set

export interface ResolveOptions {
  /** Path of a .env file: read from disk unless envText is given, then only its name in messages. */
  envFile?: string
  /** .env text (named envFile, or '.env', in messages). */
  envText?: string
  /** Environment variables (pass process.env): only the settings' exact .env names are read. */
  environment?: Readonly<Record<string, string | undefined>>
  /** `--set NAME=VALUE` items, in command-line order. */
  sets?: readonly string[]
}

export type ResolveResult =
  | {
      ok: true
      settings: PipelineSettings
      /** Where each value came from. */
      sources: Record<SettingKey, SettingSource>
      /** Names in the file that are not settings, with their values (pass to formatEnvFile to keep them). */
      unknown: Record<string, string>
      warnings: EnvIssue[]
    }
  | { ok: false; errors: EnvIssue[]; warnings: EnvIssue[] }

export function resolveSettings(options: ResolveOptions = {}): ResolveResult {
  const fileName = options.envFile ?? '.env'
  const file =
    options.envText !== undefined
      ? readEnvText(options.envText, fileName)
      : options.envFile !== undefined
        ? readEnvFile(options.envFile)
        : emptyLayer()
  const environment = options.environment !== undefined ? readEnvironment(options.environment) : emptyLayer()
  const sets = options.sets !== undefined ? readSets(options.sets) : emptyLayer()
  const layers = [file, environment, sets]
  const warnings = layers.flatMap((layer) => layer.warnings)
  const errors = layers.flatMap((layer) => layer.errors)
  if (errors.length > 0) return { ok: false, errors, warnings }

  const merged = { ...DEFAULT_SETTINGS } as Record<SettingKey, unknown>
  const sources = Object.fromEntries(SETTINGS_SCHEMA.map((spec) => [spec.key, { layer: 'default' }])) as Record<
    SettingKey,
    SettingSource
  >
  for (const layer of layers) {
    for (const [key, source] of Object.entries(layer.sources) as [SettingKey, SettingSource][]) {
      const previous = sources[key]
      if (source.layer === 'environment' && previous.layer === 'file') {
        const text = formatSettingValue(key, layer.values[key]!)
        warnings.push(
          issue('override', source, `${ENV_NAME_BY_KEY[key]}=${text} overrides ${where(previous)}`, {
            name: ENV_NAME_BY_KEY[key],
            value: text,
          }),
        )
      }
      merged[key] = layer.values[key]
      sources[key] = source
    }
  }

  const checked = validateSettings(merged)
  if (!checked.ok) {
    const crossErrors = checked.errors.map((error) => crossFieldIssue(error, merged, sources))
    return { ok: false, errors: crossErrors, warnings }
  }
  return { ok: true, settings: checked.settings, sources, unknown: file.unknown, warnings }
}

export interface EnvPreview {
  /** Defaults < the file's good lines; a value that breaks a cross-field check falls back to its default. */
  settings: PipelineSettings
  sources: Record<SettingKey, SettingSource>
  unknown: Record<string, string>
  errors: EnvIssue[]
  warnings: EnvIssue[]
}

/**
 * Reads .env text without the all-or-nothing rule, for showing a file (e.g. the service's current .env) before
 * applying it: every issue with its line, and the settings its good lines give. A cross-field error (jitter
 * min ≤ target ≤ max) drops the file's values of the keys involved, so the settings returned are always valid.
 */
export function previewEnvText(text: string, file: string): EnvPreview {
  const layer = readEnvText(text, file, { keepGoodLines: true })
  const errors = [...layer.errors]
  const fromFile = { ...layer.values } as Record<SettingKey, unknown>
  const sources = Object.fromEntries(SETTINGS_SCHEMA.map((spec) => [spec.key, { layer: 'default' }])) as Record<
    SettingKey,
    SettingSource
  >
  for (const [key, source] of Object.entries(layer.sources) as [SettingKey, SettingSource][]) sources[key] = source
  // Each round drops at least one file value, so this ends within SETTINGS_SCHEMA.length rounds.
  for (;;) {
    const merged = { ...DEFAULT_SETTINGS, ...fromFile } as Record<SettingKey, unknown>
    const checked = validateSettings(merged)
    if (checked.ok)
      return { settings: checked.settings, sources, unknown: layer.unknown, errors, warnings: layer.warnings }
    let dropped = false
    for (const error of checked.errors) {
      errors.push(crossFieldIssue(error, merged, sources))
      for (const key of [error.key as SettingKey, ...error.related]) {
        if (!(key in fromFile)) continue
        delete fromFile[key]
        sources[key] = { layer: 'default' }
        dropped = true
      }
    }
    if (!dropped)
      return { settings: { ...DEFAULT_SETTINGS }, sources, unknown: layer.unknown, errors, warnings: layer.warnings }
  }
}

/**
 * A cross-field error, located at the highest-precedence source among the keys involved (the value most likely
 * just changed), with where each involved value came from.
 */
function crossFieldIssue(
  error: SettingError,
  merged: Record<SettingKey, unknown>,
  sources: Record<SettingKey, SettingSource>,
): EnvIssue {
  const rank = { default: 0, file: 1, environment: 2, set: 3 } as const
  const own = error.key as SettingKey
  const involved = [own, ...error.related]
  let primary = own
  for (const key of error.related) if (rank[sources[key].layer] > rank[sources[primary].layer]) primary = key
  const origins = involved
    .map(
      (key) => `${ENV_NAME_BY_KEY[key]}=${formatSettingValue(key, merged[key] as never)} from ${where(sources[key])}`,
    )
    .join(', ')
  return issue('cross-field', sources[primary], `${error.message}; ${origins}`, {
    name: ENV_NAME_BY_KEY[own],
    value: formatSettingValue(own, merged[own] as never),
    allowed: error.allowed,
  })
}

// ---------------------------------------------------------------------------------------------------------------
// Export

export interface EnvFileHeader {
  /** When the settings were exported. */
  generatedAt: Date | string
  /** The capture the settings were tuned on. */
  capture?: string
  /** Key metrics of that capture (ERLE, jitter…), one comment line each. */
  metrics?: Record<string, string | number>
}

export interface FormatEnvOptions {
  /** Also write the workbench's own keys (the voice service refuses keys it does not know). Default false. */
  includeWorkbench?: boolean
  header: EnvFileHeader
  /** Names that are not settings, kept from an imported file (resolveSettings' `unknown`), written after the rest. */
  unknown?: Readonly<Record<string, string>>
}

/**
 * Text for one comment line, in ASCII: control characters would end the comment (they become spaces), and the
 * service may open the file in a non-UTF-8 locale encoding (en dashes become '-', other non-ASCII '?').
 */
function commentText(text: string): string {
  return text
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ') // eslint-disable-line no-control-regex
    .replace(/[\u2013\u2014]/g, '-')
    .replace(/[^\u0020-\u007e]/g, '?')
    .trim()
}

/**
 * A value as .env text that dotenv reads back unchanged: bare when it can be, else single quotes (no escapes), else
 * double quotes, else backticks. Throws when no form can hold it (all three quote characters and a newline…).
 */
export function quoteEnvValue(value: string): string {
  const bareSafe = /^[^\s#'"`]([^#\r\n]*[^\s#])?$/.test(value)
  if (value === '' || bareSafe) return value
  const reads = (candidate: string): boolean => dotenv.parse(`X=${candidate}`).X === value
  for (const quote of ["'", '"', '`']) {
    const candidate = `${quote}${value}${quote}`
    if (!value.includes(quote) && reads(candidate)) return candidate
  }
  throw new RangeError(`value ${JSON.stringify(value)} cannot be written to a .env file so that it reads back the same`)
}

const ENV_NAME_PATTERN = /^[\w.-]+$/

/**
 * The .env text for `settings`: a comment header, then the voice service's keys (and the workbench's when asked),
 * each under a comment with its label and range, then any kept unknown names. Throws a RangeError when the settings
 * are invalid (a file the service cannot load must not be written).
 */
export function formatEnvFile(settings: PipelineSettings, options: FormatEnvOptions): string {
  const checked = validateSettings(settings)
  if (!checked.ok) throw new RangeError(checked.errors.map((error) => error.message).join('; '))
  const { includeWorkbench = false, header, unknown = {} } = options
  const generatedAt = header.generatedAt instanceof Date ? header.generatedAt.toISOString() : header.generatedAt
  const out: string[] = [
    `# Voice service audio settings, exported by ${APP_NAME}`,
    `# Generated: ${commentText(generatedAt)}`,
  ]
  if (header.capture !== undefined) out.push(`# Capture: ${commentText(header.capture)}`)
  const metrics = Object.entries(header.metrics ?? {})
  if (metrics.length > 0) {
    out.push('# Metrics:')
    for (const [name, value] of metrics) out.push(`#   ${commentText(name)}: ${commentText(String(value))}`)
  }
  const writeSection = (scope: 'service' | 'workbench'): void => {
    for (const spec of SETTINGS_SCHEMA) {
      if (spec.scope !== scope) continue
      const bounds = 'bounds' in spec && spec.bounds !== undefined ? spec.bounds : undefined
      const lowerName = bounds?.minKey !== undefined ? ENV_NAME_BY_KEY[bounds.minKey] : undefined
      const upperName = bounds?.maxKey !== undefined ? ENV_NAME_BY_KEY[bounds.maxKey] : undefined
      let allowed = describeAllowed(spec.key)
      if (lowerName !== undefined && upperName !== undefined) allowed += `; within ${lowerName}-${upperName}`
      else if (lowerName !== undefined) allowed += `; at least ${lowerName}`
      else if (upperName !== undefined) allowed += `; at most ${upperName}`
      out.push(commentText(`# ${spec.label} (${allowed})`))
      out.push(`${spec.envName}=${formatSettingValue(spec.key, checked.settings[spec.key])}`)
    }
  }
  out.push('')
  writeSection('service')
  if (includeWorkbench) {
    out.push('', '# Workbench-only settings: remove them before deploying (the voice service refuses unknown keys)')
    writeSection('workbench')
  }
  const kept = Object.entries(unknown).filter(([name]) => !KEY_BY_ENV_NAME.has(name))
  if (kept.length > 0) {
    out.push('', '# Other settings, kept from the imported file')
    for (const [name, value] of kept) {
      if (!ENV_NAME_PATTERN.test(name)) throw new RangeError(`${JSON.stringify(name)} is not a valid .env name`)
      out.push(`${name}=${quoteEnvValue(value)}`)
    }
  }
  return `${out.join('\n')}\n`
}

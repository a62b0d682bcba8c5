import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ECHO_FILTER_LENGTH_MAX, ECHO_FILTER_LENGTH_MIN } from '../../src/dsp/echo-canceller'
import { JITTER_BUFFER_DEFAULTS } from '../../src/dsp/jitter-buffer'
import { NOISE_REDUCER_DEFAULTS } from '../../src/dsp/noise-reducer'
import { PLC_METHODS } from '../../src/dsp/plc'
import {
  DEFAULT_SETTINGS,
  ENV_NAME_BY_KEY,
  KEY_BY_ENV_NAME,
  SERVICE_SETTING_KEYS,
  SETTINGS_SCHEMA,
  SETTING_KEYS,
  WORKBENCH_SETTING_KEYS,
  describeAllowed,
  diffSettings,
  effectiveRange,
  findSettingKey,
  formatSettingValue,
  parseSettingText,
  settingSpec,
  settingsPatchPayload,
  settingsPayload,
  validatePatch,
  validateSettings,
  type PipelineSettings,
  type SettingError,
  type SettingKey,
} from '../../src/shared/config'
import { validSettings } from './settings-arbitrary'

/** The voice service's documented settings (SERVICE-PIPELINE.md "Configuration", issue #4), as .env text. */
const SERVICE_DOCUMENTED: Record<string, string> = {
  ENABLE_ECHO_CANCELLATION: 'true',
  ENABLE_NOISE_REDUCTION: 'true',
  ENABLE_JITTER_BUFFER: 'true',
  AUDIO_CHUNK_DURATION_MS: '20',
  JITTER_BUFFER_TARGET_MS: '80',
  JITTER_BUFFER_MIN_MS: '40',
  JITTER_BUFFER_MAX_MS: '200',
  NOISE_REDUCTION_STRENGTH: '0.8',
  ECHO_FILTER_LENGTH: '1024',
  AUDIO_BUFFER_DURATION_MS: '500',
  MAX_AUDIO_LATENCY_MS: '200',
}

/** The service's documented ranges (issue #4): [env name, lowest, highest]. */
const SERVICE_RANGES: [string, number, number][] = [
  ['JITTER_BUFFER_MIN_MS', 0, 500],
  ['JITTER_BUFFER_MAX_MS', 20, 1000],
  ['ECHO_FILTER_LENGTH', 128, 8192],
  ['NOISE_REDUCTION_STRENGTH', 0, 1],
]

function keyOf(envName: string): SettingKey {
  const key = KEY_BY_ENV_NAME.get(envName)
  if (key === undefined) throw new Error(`${envName} is not in the map`)
  return key
}

function errorsOf(candidate: unknown): SettingError[] {
  const result = validateSettings(candidate)
  return result.ok ? [] : result.errors
}

function messagesOf(candidate: unknown): string[] {
  return errorsOf(candidate).map((e) => e.message)
}

/** Every out-of-range or wrongly typed value of a setting, with a reason. */
function badValues(key: SettingKey): unknown[] {
  const spec = settingSpec(key)
  switch (spec.type) {
    case 'boolean':
      return ['true', 1, 0, null, 'yes']
    case 'enum':
      return ['', 'PITCH-ish', 42, null, `${spec.default} `]
    default: {
      const values: unknown[] = [spec.min - 1, spec.max + 1, -1e9, 1e9, NaN, Infinity, -Infinity, '80', null, true]
      if (spec.type === 'integer') values.push(spec.min + 0.5)
      else values.push(spec.min - 1e-9, spec.max + 1e-9)
      if (spec.values !== undefined) values.push(spec.values[0]! + 5)
      return values.filter(
        (v) => !(typeof v === 'number' && v >= spec.min && v <= spec.max && spec.values === undefined),
      )
    }
  }
}

describe('settings schema', () => {
  it('has the service documented defaults under their documented .env names', () => {
    expect(SERVICE_SETTING_KEYS.map((key) => ENV_NAME_BY_KEY[key]).sort()).toEqual(
      Object.keys(SERVICE_DOCUMENTED).sort(),
    )
    for (const [envName, text] of Object.entries(SERVICE_DOCUMENTED)) {
      const key = keyOf(envName)
      expect(formatSettingValue(key, DEFAULT_SETTINGS[key]), envName).toBe(text)
    }
    expect(DEFAULT_SETTINGS).toMatchObject({
      echoCancellationEnabled: true,
      noiseReductionEnabled: true,
      jitterBufferEnabled: true,
      audioChunkDurationMs: 20,
      jitterBufferTargetMs: 80,
      jitterBufferMinMs: 40,
      jitterBufferMaxMs: 200,
      noiseReductionStrength: 0.8,
      echoFilterLengthTaps: 1024,
      audioBufferDurationMs: 500,
      maxAudioLatencyMs: 200,
    })
  })

  it('has the service documented ranges and chunk durations', () => {
    for (const [envName, min, max] of SERVICE_RANGES) {
      const spec = settingSpec(keyOf(envName))
      expect(spec.type === 'integer' || spec.type === 'number').toBe(true)
      if (spec.type === 'integer' || spec.type === 'number') expect([spec.min, spec.max], envName).toEqual([min, max])
    }
    const chunk = settingSpec('audioChunkDurationMs')
    expect(chunk.type === 'integer' && chunk.values).toEqual([10, 20, 30, 40])
    const target = settingSpec('jitterBufferTargetMs')
    expect(target.type === 'integer' && target.bounds).toEqual({
      minKey: 'jitterBufferMinMs',
      maxKey: 'jitterBufferMaxMs',
    })
  })

  it('has the workbench defaults the DSP stages use, and the same choices', () => {
    expect(DEFAULT_SETTINGS).toMatchObject({
      plcMethod: 'pitch',
      jitterBufferMode: JITTER_BUFFER_DEFAULTS.mode,
      echoCancellationEngine: 'mdf',
      echoSuppressorEnabled: true,
      echoSuppressorStrength: 1,
      echoDelayEstimationEnabled: true,
      noiseReductionEngine: NOISE_REDUCER_DEFAULTS.engine,
      noiseReductionMode: NOISE_REDUCER_DEFAULTS.mode,
    })
    expect(DEFAULT_SETTINGS.noiseReductionStrength).toBe(NOISE_REDUCER_DEFAULTS.strength)
    expect([
      DEFAULT_SETTINGS.jitterBufferMinMs,
      DEFAULT_SETTINGS.jitterBufferTargetMs,
      DEFAULT_SETTINGS.jitterBufferMaxMs,
    ]).toEqual([
      JITTER_BUFFER_DEFAULTS.minDelayMs,
      JITTER_BUFFER_DEFAULTS.targetDelayMs,
      JITTER_BUFFER_DEFAULTS.maxDelayMs,
    ])
    const plc = settingSpec('plcMethod')
    expect(plc.type === 'enum' && [...plc.values]).toEqual([...PLC_METHODS])
    const taps = settingSpec('echoFilterLengthTaps')
    expect(taps.type === 'integer' && [taps.min, taps.max]).toEqual([ECHO_FILTER_LENGTH_MIN, ECHO_FILTER_LENGTH_MAX])
  })

  it('names every key and .env name once, workbench names with the WORKBENCH_ prefix', () => {
    expect(new Set(SETTING_KEYS).size).toBe(SETTING_KEYS.length)
    expect(KEY_BY_ENV_NAME.size).toBe(SETTING_KEYS.length)
    expect([...SERVICE_SETTING_KEYS, ...WORKBENCH_SETTING_KEYS].sort()).toEqual([...SETTING_KEYS].sort())
    for (const key of WORKBENCH_SETTING_KEYS) expect(ENV_NAME_BY_KEY[key]).toMatch(/^WORKBENCH_[A-Z0-9_]+$/)
    for (const key of SERVICE_SETTING_KEYS) expect(ENV_NAME_BY_KEY[key]).not.toMatch(/^WORKBENCH_/)
    for (const key of SETTING_KEYS) expect(KEY_BY_ENV_NAME.get(ENV_NAME_BY_KEY[key])).toBe(key)
  })

  it('puts the unit in the key, and gives the UI a label, description and slider step', () => {
    for (const spec of SETTINGS_SCHEMA) {
      expect(spec.label.length, spec.key).toBeGreaterThan(0)
      expect(spec.description.length, spec.key).toBeGreaterThan(10)
      if (spec.unit === 'ms') expect(spec.key).toMatch(/Ms$/)
      if (spec.unit === 'taps') expect(spec.key).toMatch(/Taps$/)
      if (spec.type === 'boolean') expect(spec.key).toMatch(/Enabled$/)
      if (spec.type === 'integer' || spec.type === 'number') {
        expect(spec.step).toBeGreaterThan(0)
        expect(spec.min).toBeLessThan(spec.max)
      }
    }
  })

  it('accepts its own defaults', () => {
    const result = validateSettings(DEFAULT_SETTINGS)
    expect(result.ok && result.settings).toEqual(DEFAULT_SETTINGS)
  })

  it('finds settings by .env name or key, and by .env name in any case only when asked', () => {
    expect(findSettingKey('JITTER_BUFFER_TARGET_MS')).toBe('jitterBufferTargetMs')
    expect(findSettingKey('jitterBufferTargetMs')).toBe('jitterBufferTargetMs')
    expect(findSettingKey('jitter_buffer_target_ms')).toBeUndefined()
    expect(findSettingKey('jitter_buffer_target_ms', true)).toBe('jitterBufferTargetMs')
    expect(findSettingKey('NOPE', true)).toBeUndefined()
  })
})

describe('validateSettings', () => {
  it('rejects every out-of-range or mistyped value with a message naming the key, .env name, value and range', () => {
    for (const key of SETTING_KEYS) {
      const spec = settingSpec(key)
      for (const value of badValues(key)) {
        const errors = errorsOf({ ...DEFAULT_SETTINGS, [key]: value })
        expect(errors, `${key} = ${String(value)}`).toHaveLength(1)
        const [error] = errors
        expect(error!.key).toBe(key)
        expect(error!.envName).toBe(spec.envName)
        expect(error!.message.startsWith(`${key} (${spec.envName}): `)).toBe(true)
        const shown = typeof value === 'string' ? JSON.stringify(value) : String(value)
        expect(error!.message).toContain(shown)
        expect(error!.message).toContain(describeAllowed(key))
        expect(error!.allowed).toBe(describeAllowed(key))
      }
    }
  })

  it('says the range with its unit', () => {
    expect(messagesOf({ ...DEFAULT_SETTINGS, jitterBufferMinMs: 900 })).toEqual([
      'jitterBufferMinMs (JITTER_BUFFER_MIN_MS): 900 is outside 0–500 ms',
    ])
    expect(messagesOf({ ...DEFAULT_SETTINGS, audioChunkDurationMs: 25 })).toEqual([
      'audioChunkDurationMs (AUDIO_CHUNK_DURATION_MS): 25 is not one of 10, 20, 30, 40 ms',
    ])
    expect(messagesOf({ ...DEFAULT_SETTINGS, echoFilterLengthTaps: 1024.5 })).toEqual([
      'echoFilterLengthTaps (ECHO_FILTER_LENGTH): 1024.5 is not an integer (128–8192 taps)',
    ])
    expect(messagesOf({ ...DEFAULT_SETTINGS, plcMethod: 'cubic' })).toEqual([
      'plcMethod (WORKBENCH_PLC_METHOD): "cubic" is not one of pitch, spectral, linear, repeat',
    ])
    expect(messagesOf({ ...DEFAULT_SETTINGS, noiseReductionStrength: NaN })).toEqual([
      'noiseReductionStrength (NOISE_REDUCTION_STRENGTH): NaN is not a finite number (0–1)',
    ])
  })

  it('accepts the range ends and every allowed chunk duration', () => {
    for (const spec of SETTINGS_SCHEMA) {
      if (spec.type !== 'integer' && spec.type !== 'number') continue
      const ends = spec.values ?? [spec.min, spec.max]
      for (const value of ends) {
        // Keep the jitter bounds consistent while probing one end.
        const settings = { ...DEFAULT_SETTINGS, [spec.key]: value }
        if (spec.key === 'jitterBufferTargetMs')
          Object.assign(settings, { jitterBufferMinMs: 0, jitterBufferMaxMs: 1000 })
        if (spec.key === 'jitterBufferMinMs')
          Object.assign(settings, { jitterBufferTargetMs: 500, jitterBufferMaxMs: 500 })
        if (spec.key === 'jitterBufferMaxMs')
          Object.assign(settings, { jitterBufferMinMs: 0, jitterBufferTargetMs: 20 })
        expect(messagesOf(settings), `${spec.key} = ${value}`).toEqual([])
      }
    }
  })

  it('reports every error at once, fields first, then unknown and missing keys', () => {
    const { maxAudioLatencyMs: _dropped, ...withoutLatency } = DEFAULT_SETTINGS
    const errors = errorsOf({
      ...withoutLatency,
      jitterBufferMinMs: -5,
      noiseReductionStrength: 1.5,
      echoFilterLengthTaps: 64,
      plcMethod: 'nope',
      echoCancellationEnabled: 'yes',
      jitterTarget: 80,
    })
    expect(errors.map((e) => [e.kind, e.key])).toEqual([
      ['unknown', 'jitterTarget'],
      ['type', 'echoCancellationEnabled'],
      ['range', 'jitterBufferMinMs'],
      ['range', 'noiseReductionStrength'],
      ['range', 'echoFilterLengthTaps'],
      ['missing', 'maxAudioLatencyMs'],
      ['values', 'plcMethod'],
    ])
  })

  it('checks jitter min ≤ target ≤ max, naming the bounds by their .env names', () => {
    expect(messagesOf({ ...DEFAULT_SETTINGS, jitterBufferTargetMs: 900 })).toEqual([
      'jitterBufferTargetMs (JITTER_BUFFER_TARGET_MS): 900 is outside 40–200 ms (JITTER_BUFFER_MIN_MS–JITTER_BUFFER_MAX_MS)',
    ])
    expect(messagesOf({ ...DEFAULT_SETTINGS, jitterBufferTargetMs: 30 })).toEqual([
      'jitterBufferTargetMs (JITTER_BUFFER_TARGET_MS): 30 is outside 40–200 ms (JITTER_BUFFER_MIN_MS–JITTER_BUFFER_MAX_MS)',
    ])
    const [error] = errorsOf({ ...DEFAULT_SETTINGS, jitterBufferTargetMs: 30 })
    expect(error).toMatchObject({ kind: 'cross-field', allowed: '40–200 ms' })
    expect(error!.related).toEqual(['jitterBufferMinMs', 'jitterBufferMaxMs'])
    for (const target of [40, 200])
      expect(messagesOf({ ...DEFAULT_SETTINGS, jitterBufferTargetMs: target })).toEqual([])
  })

  it('reports min above max once, on max, not again on the target', () => {
    expect(messagesOf({ ...DEFAULT_SETTINGS, jitterBufferMinMs: 300, jitterBufferMaxMs: 100 })).toEqual([
      'jitterBufferMaxMs (JITTER_BUFFER_MAX_MS): 100 is outside 300–1000 ms (JITTER_BUFFER_MIN_MS–1000)',
    ])
  })

  it('skips the cross-field check when a bound is itself invalid', () => {
    expect(messagesOf({ ...DEFAULT_SETTINGS, jitterBufferMinMs: 600, jitterBufferTargetMs: 900 })).toEqual([
      'jitterBufferMinMs (JITTER_BUFFER_MIN_MS): 600 is outside 0–500 ms',
    ])
  })

  it('rejects payloads that are not a settings object', () => {
    for (const candidate of [null, undefined, 42, 'settings', [DEFAULT_SETTINGS]]) {
      const errors = errorsOf(candidate)
      expect(errors).toHaveLength(1)
      expect(errors[0]!.kind).toBe('shape')
      expect(errors[0]!.message).toMatch(/^settings: expected an object of settings, got /)
    }
  })

  it('suggests the key for a misspelt or .env-style name', () => {
    expect(messagesOf({ ...DEFAULT_SETTINGS, JITTER_BUFFER_TARGET_MS: 80 })).toEqual([
      'JITTER_BUFFER_TARGET_MS: not a setting; did you mean jitterBufferTargetMs (JITTER_BUFFER_TARGET_MS)?',
    ])
  })

  it('accepts any valid settings unchanged (property)', () => {
    fc.assert(
      fc.property(validSettings, (settings) => {
        const result = validateSettings(settings)
        expect(result.ok && result.settings).toEqual(settings)
      }),
    )
  })

  it('turns -0 into 0', () => {
    const result = validateSettings({ ...DEFAULT_SETTINGS, noiseReductionStrength: -0 })
    expect(result.ok && Object.is(result.settings.noiseReductionStrength, 0)).toBe(true)
  })
})

describe('validatePatch', () => {
  it('checks a target against the current min and max, with the same message', () => {
    const result = validatePatch(DEFAULT_SETTINGS, { jitterBufferTargetMs: 900 })
    expect(!result.ok && result.errors.map((e) => e.message)).toEqual([
      'jitterBufferTargetMs (JITTER_BUFFER_TARGET_MS): 900 is outside 40–200 ms (JITTER_BUFFER_MIN_MS–JITTER_BUFFER_MAX_MS)',
    ])
  })

  it('rejects a new min above the current target, naming the target', () => {
    const result = validatePatch(DEFAULT_SETTINGS, { jitterBufferMinMs: 100 })
    expect(!result.ok && result.errors.map((e) => e.message)).toEqual([
      'jitterBufferTargetMs (JITTER_BUFFER_TARGET_MS): 80 is outside 100–200 ms (JITTER_BUFFER_MIN_MS–JITTER_BUFFER_MAX_MS)',
    ])
  })

  it('accepts bounds and target moved together, and lists what changed', () => {
    const result = validatePatch(DEFAULT_SETTINGS, {
      jitterBufferMinMs: 300,
      jitterBufferTargetMs: 400,
      jitterBufferMaxMs: 600,
      plcMethod: 'pitch',
    })
    expect(result.ok).toBe(true)
    if (!result.ok) return
    expect(result.settings).toEqual({
      ...DEFAULT_SETTINGS,
      jitterBufferMinMs: 300,
      jitterBufferTargetMs: 400,
      jitterBufferMaxMs: 600,
    })
    expect(result.changes.map((c) => [c.key, c.envName, c.from, c.to])).toEqual([
      ['jitterBufferTargetMs', 'JITTER_BUFFER_TARGET_MS', 80, 400],
      ['jitterBufferMinMs', 'JITTER_BUFFER_MIN_MS', 40, 300],
      ['jitterBufferMaxMs', 'JITTER_BUFFER_MAX_MS', 200, 600],
    ])
  })

  it('reports every bad field of a patch and leaves the current settings alone', () => {
    const current = { ...DEFAULT_SETTINGS }
    const result = validatePatch(current, { noiseReductionStrength: 2, echoCancellationEngine: 'speex', bogus: 1 })
    expect(!result.ok && result.errors.map((e) => e.key)).toEqual([
      'noiseReductionStrength',
      'echoCancellationEngine',
      'bogus',
    ])
    expect(current).toEqual(DEFAULT_SETTINGS)
  })

  it('ignores undefined values and accepts an empty patch', () => {
    const result = validatePatch(DEFAULT_SETTINGS, { noiseReductionStrength: undefined })
    expect(result.ok && result.changes).toEqual([])
  })

  it('rejects a patch that is not an object', () => {
    for (const patch of [null, [], 'x', 3]) {
      const result = validatePatch(DEFAULT_SETTINGS, patch)
      expect(!result.ok && result.errors[0]!.message).toMatch(/^patch: expected an object of settings/)
    }
  })

  it('does not let __proto__ or other inherited names through', () => {
    const patch = JSON.parse('{"__proto__": {"noiseReductionStrength": 5}, "constructor": 1}') as unknown
    const result = validatePatch(DEFAULT_SETTINGS, patch)
    expect(!result.ok && result.errors.map((e) => e.key)).toEqual(['__proto__', 'constructor'])
  })

  it('applies any valid settings as a patch, exactly (property)', () => {
    fc.assert(
      fc.property(validSettings, validSettings, (current, next) => {
        const result = validatePatch(current, next)
        expect(result.ok).toBe(true)
        if (!result.ok) return
        expect(result.settings).toEqual(next)
        expect(result.changes).toEqual(diffSettings(current, next))
      }),
    )
  })
})

describe('diffSettings', () => {
  it('lists the changed keys in schema order with their .env names', () => {
    const b: PipelineSettings = { ...DEFAULT_SETTINGS, noiseReductionMode: 'nonstationary', audioChunkDurationMs: 10 }
    expect(diffSettings(DEFAULT_SETTINGS, b)).toEqual([
      { key: 'audioChunkDurationMs', envName: 'AUDIO_CHUNK_DURATION_MS', from: 20, to: 10 },
      { key: 'noiseReductionMode', envName: 'WORKBENCH_NOISE_REDUCTION_MODE', from: 'stationary', to: 'nonstationary' },
    ])
    expect(diffSettings(b, b)).toEqual([])
  })
})

describe('effectiveRange', () => {
  it('narrows the target to min…max and max to min…1000', () => {
    const settings = { ...DEFAULT_SETTINGS, jitterBufferMinMs: 60, jitterBufferMaxMs: 300 }
    expect(effectiveRange('jitterBufferTargetMs', settings)).toEqual({ min: 60, max: 300 })
    expect(effectiveRange('jitterBufferMaxMs', settings)).toEqual({ min: 60, max: 1000 })
    expect(effectiveRange('jitterBufferMaxMs', { ...settings, jitterBufferMinMs: 0 })).toEqual({ min: 20, max: 1000 })
    expect(effectiveRange('noiseReductionStrength', settings)).toEqual({ min: 0, max: 1 })
    expect(effectiveRange('plcMethod', settings)).toBeNull()
  })
})

describe('parseSettingText', () => {
  const value = (key: SettingKey, text: string): unknown => {
    const result = parseSettingText(key, text)
    return result.ok ? result.value : result.error.message
  }

  it('reads booleans in the forms the service accepts, any case', () => {
    for (const text of ['true', 'TRUE', 'True', '1', 'yes', 'YES', 'on', 't', 'y', ' true ']) {
      expect(value('jitterBufferEnabled', text), text).toBe(true)
    }
    for (const text of ['false', 'FALSE', '0', 'no', 'off', 'f', 'n', '\tno\n']) {
      expect(value('jitterBufferEnabled', text), text).toBe(false)
    }
    for (const text of ['2', 'enabled', 'truee', '0.0', '-1']) {
      expect(value('jitterBufferEnabled', text), text).toBe(
        `jitterBufferEnabled (ENABLE_JITTER_BUFFER): ${JSON.stringify(text)} is not a boolean (true/false, 1/0, yes/no, on/off)`,
      )
    }
  })

  it('reads decimal numbers with blanks and exponents, and refuses hex, NaN and Infinity', () => {
    expect(value('noiseReductionStrength', ' 0.80 ')).toBe(0.8)
    expect(value('noiseReductionStrength', '.5')).toBe(0.5)
    expect(value('noiseReductionStrength', '+.5')).toBe(0.5)
    expect(value('noiseReductionStrength', '1.')).toBe(1)
    expect(value('noiseReductionStrength', '8e-1')).toBe(0.8)
    expect(value('noiseReductionStrength', '1E-1')).toBe(0.1)
    expect(value('noiseReductionStrength', '1e3')).toBe(
      'noiseReductionStrength (NOISE_REDUCTION_STRENGTH): "1e3" (= 1000) is outside 0–1',
    )
    expect(value('noiseReductionStrength', '1e400')).toBe(
      'noiseReductionStrength (NOISE_REDUCTION_STRENGTH): "1e400" (= Infinity) is not a finite number (0–1)',
    )
    for (const text of ['0x10', 'NaN', 'Infinity', '-Infinity', 'inf', '0.8.1', '1e', 'e3', '0,8', '80%', '_1']) {
      expect(value('noiseReductionStrength', text), text).toBe(
        `noiseReductionStrength (NOISE_REDUCTION_STRENGTH): ${JSON.stringify(text)} is not a number (0–1)`,
      )
    }
  })

  it('reads integers with a sign, underscores or a zero fraction, and refuses exponents, hex and fractions', () => {
    expect(value('jitterBufferTargetMs', '80')).toBe(80)
    expect(value('jitterBufferTargetMs', ' +80 ')).toBe(80)
    expect(value('jitterBufferTargetMs', '080')).toBe(80)
    expect(value('jitterBufferTargetMs', '80.0')).toBe(80)
    expect(value('echoFilterLengthTaps', '2_048')).toBe(2048)
    for (const text of ['1e3', '0x10', '80.5', '80.', 'NaN', 'Infinity', '8__0', '_80', 'eighty']) {
      expect(value('jitterBufferTargetMs', text), text).toBe(
        `jitterBufferTargetMs (JITTER_BUFFER_TARGET_MS): ${JSON.stringify(text)} is not an integer (0–1000 ms)`,
      )
    }
    expect(value('jitterBufferMinMs', '900')).toBe('jitterBufferMinMs (JITTER_BUFFER_MIN_MS): 900 is outside 0–500 ms')
    expect(value('jitterBufferMinMs', '0900')).toBe(
      'jitterBufferMinMs (JITTER_BUFFER_MIN_MS): "0900" (= 900) is outside 0–500 ms',
    )
    expect(value('audioChunkDurationMs', '25')).toBe(
      'audioChunkDurationMs (AUDIO_CHUNK_DURATION_MS): 25 is not one of 10, 20, 30, 40 ms',
    )
  })

  it('reads -0 as 0', () => {
    expect(Object.is(value('jitterBufferMinMs', '-0'), 0)).toBe(true)
    expect(Object.is(value('noiseReductionStrength', '-0.0'), 0)).toBe(true)
  })

  it('reads enum words in any case, as the canonical word', () => {
    expect(value('plcMethod', ' Spectral ')).toBe('spectral')
    expect(value('noiseReductionMode', 'NONSTATIONARY')).toBe('nonstationary')
    expect(value('plcMethod', 'cubic')).toBe(
      'plcMethod (WORKBENCH_PLC_METHOD): "cubic" is not one of pitch, spectral, linear, repeat',
    )
  })

  it('refuses an empty value for every setting, naming the range', () => {
    for (const key of SETTING_KEYS) {
      for (const text of ['', '   ']) {
        expect(value(key, text)).toBe(`${key} (${ENV_NAME_BY_KEY[key]}): empty value (${describeAllowed(key)})`)
      }
    }
  })

  it('reads back every value formatSettingValue writes (property)', () => {
    fc.assert(
      fc.property(validSettings, (settings) => {
        for (const key of SETTING_KEYS) {
          const text = formatSettingValue(key, settings[key])
          const result = parseSettingText(key, text)
          expect(result.ok && Object.is(result.value, settings[key]), `${key}=${text}`).toBe(true)
        }
      }),
    )
  })
})

describe('zod payload schemas', () => {
  it('parse valid settings and give the project messages for invalid ones', () => {
    expect(settingsPayload.parse(DEFAULT_SETTINGS)).toEqual(DEFAULT_SETTINGS)
    const result = settingsPayload.safeParse({ ...DEFAULT_SETTINGS, jitterBufferTargetMs: 900 })
    expect(result.success).toBe(false)
    expect(result.error?.issues.map((issue) => [issue.path, issue.message])).toEqual([
      [
        ['jitterBufferTargetMs'],
        'jitterBufferTargetMs (JITTER_BUFFER_TARGET_MS): 900 is outside 40–200 ms (JITTER_BUFFER_MIN_MS–JITTER_BUFFER_MAX_MS)',
      ],
    ])
  })

  it('check a patch field by field and leave the bounds to validatePatch', () => {
    expect(settingsPatchPayload.parse({ jitterBufferTargetMs: 900, plcMethod: 'linear' })).toEqual({
      jitterBufferTargetMs: 900,
      plcMethod: 'linear',
    })
    const result = settingsPatchPayload.safeParse({ noiseReductionStrength: '0.5', foo: 1 })
    expect(result.error?.issues.map((issue) => issue.message)).toEqual([
      'noiseReductionStrength (NOISE_REDUCTION_STRENGTH): "0.5" is not a number (0–1)',
      'foo: not a setting',
    ])
    expect(settingsPatchPayload.safeParse(null).error?.issues[0]?.message).toMatch(/^patch: expected an object/)
  })
})

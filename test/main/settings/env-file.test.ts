import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import dotenv from 'dotenv'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import {
  formatEnvFile,
  quoteEnvValue,
  readEnvText,
  resolveSettings,
  scanEnvText,
  type ResolveResult,
} from '../../../src/main/settings/env-file'
import {
  DEFAULT_SETTINGS,
  SERVICE_SETTING_KEYS,
  SETTING_KEYS,
  WORKBENCH_SETTING_KEYS,
  type PipelineSettings,
} from '../../../src/shared/config'
import { validSettings } from '../../shared/settings-arbitrary'

const HEADER = { generatedAt: '2026-01-02T03:04:05.000Z' }

function settingsOf(result: ResolveResult): PipelineSettings {
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'))
  return result.settings
}

function errorMessages(result: ResolveResult): string[] {
  return result.ok ? [] : result.errors.map((e) => e.message)
}

function warningMessages(result: ResolveResult): string[] {
  return result.warnings.map((w) => w.message)
}

/** The .env lines that assign something (not blank, not comments). */
function assignments(text: string): string[] {
  return text.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'))
}

describe('scanEnvText', () => {
  it('reads export, quotes, comments and blanks as dotenv does, with line numbers', () => {
    const text = [
      '# tuned for call 42', // 1
      '', // 2
      'export JITTER_BUFFER_TARGET_MS=100', // 3
      "NOISE_REDUCTION_STRENGTH='0.6' # softer", // 4
      'ECHO_FILTER_LENGTH = "2048"', // 5
      'ENABLE_JITTER_BUFFER=`false`', // 6
      '   # indented comment', // 7
      'AUDIO_CHUNK_DURATION_MS=20 # inline comment', // 8
    ].join('\n')
    const scanned = scanEnvText(text)
    expect(scanned.unreadable).toEqual([])
    expect(scanned.entries.map((e) => [e.name, e.value, e.line])).toEqual([
      ['JITTER_BUFFER_TARGET_MS', '100', 3],
      ['NOISE_REDUCTION_STRENGTH', '0.6', 4],
      ['ECHO_FILTER_LENGTH', '2048', 5],
      ['ENABLE_JITTER_BUFFER', 'false', 6],
      ['AUDIO_CHUNK_DURATION_MS', '20', 8],
    ])
  })

  it('reports the lines dotenv drops, with their line numbers', () => {
    const text = ['A=1', 'JITTER BUFFER=5', '=80', '  80', 'B=2', 'naked-word', 'export'].join('\n')
    expect(Object.keys(dotenv.parse(text))).toEqual(['A', 'B'])
    expect(scanEnvText(text).unreadable).toEqual([
      { line: 2, text: 'JITTER BUFFER=5' },
      { line: 3, text: '=80' },
      { line: 4, text: '  80' },
      { line: 6, text: 'naked-word' },
      { line: 7, text: 'export' },
    ])
  })

  it('counts lines the same with CRLF endings and a byte order mark', () => {
    const text = '\uFEFF# header\r\nA=1\r\nnot a line\r\nB=2\r\n'
    const scanned = scanEnvText(text)
    expect(scanned.entries.map((e) => [e.name, e.line])).toEqual([
      ['A', 2],
      ['B', 4],
    ])
    expect(scanned.unreadable).toEqual([{ line: 3, text: 'not a line' }])
  })

  it('covers every line of a multi-line quoted value', () => {
    const scanned = scanEnvText('KEY="first\nsecond line\nthird"\nNEXT=1')
    expect(scanned.unreadable).toEqual([])
    expect(scanned.entries.map((e) => [e.name, e.value, e.line])).toEqual([
      ['KEY', 'first\nsecond line\nthird', 1],
      ['NEXT', '1', 4],
    ])
  })

  it('finds the same names and values as dotenv.parse on random text, and only drops what dotenv drops (property)', () => {
    const fragment = fc.oneof(
      fc.constantFrom(
        '',
        '# comment',
        'A=1',
        'export B=2',
        ' C = 3 # note',
        "D='single'",
        'E="double\\nescaped"',
        'F=`back`',
        'G: colon',
        'G:nospace',
        'bad line',
        '=5',
        'H="open',
        "I='multi",
        "line'",
        'export',
        'K.L-M=x',
        '\t',
        'A=again',
      ),
      fc.stringMatching(/^[ABC=:#'"` \te\-.x1]{0,12}$/),
    )
    fc.assert(
      fc.property(fc.array(fragment, { maxLength: 12 }), fc.constantFrom('\n', '\r\n'), (lines, eol) => {
        const text = lines.join(eol)
        const parsed = dotenv.parse(text)
        const scanned = scanEnvText(text)
        expect(Object.fromEntries(scanned.entries.map((e) => [e.name, e.value]))).toEqual(parsed)
        const sourceLines = text.replace(/\r\n?/g, '\n').split('\n')
        for (const entry of scanned.entries) expect(sourceLines[entry.line - 1]).toContain(entry.name)
        for (const bad of scanned.unreadable) {
          expect(bad.text.trim()).not.toBe('')
          expect(bad.text.trim().startsWith('#')).toBe(false)
          expect(dotenv.parse(bad.text)).toEqual({})
        }
      }),
      { numRuns: 500 },
    )
  })
})

describe('readEnvText', () => {
  it('applies nothing when one line cannot be read, and names the file and line', () => {
    const layer = readEnvText('JITTER_BUFFER_TARGET_MS=100\nNOISE REDUCTION STRENGTH=0.5\n', 'tuned.env')
    expect(layer.values).toEqual({})
    expect(layer.errors.map((e) => [e.kind, e.source, e.line, e.message])).toEqual([
      [
        'unreadable-line',
        'tuned.env',
        2,
        'tuned.env:2: cannot read "NOISE REDUCTION STRENGTH=0.5" (expected NAME=value)',
      ],
    ])
  })

  it('reports every bad value at once with file, line, key, value and range, and applies none', () => {
    const text = [
      'ENABLE_ECHO_CANCELLATION=maybe',
      'JITTER_BUFFER_TARGET_MS=abc',
      'NOISE_REDUCTION_STRENGTH=1.5',
      'ECHO_FILTER_LENGTH=4096',
      'AUDIO_CHUNK_DURATION_MS=25',
      'WORKBENCH_PLC_METHOD=cubic',
    ].join('\n')
    const layer = readEnvText(text, 'tuned.env')
    expect(layer.values).toEqual({})
    expect(layer.errors.map((e) => e.message)).toEqual([
      'tuned.env:1: echoCancellationEnabled (ENABLE_ECHO_CANCELLATION): "maybe" is not a boolean (true/false, 1/0, yes/no, on/off)',
      'tuned.env:2: jitterBufferTargetMs (JITTER_BUFFER_TARGET_MS): "abc" is not an integer (0–1000 ms)',
      'tuned.env:3: noiseReductionStrength (NOISE_REDUCTION_STRENGTH): 1.5 is outside 0–1',
      'tuned.env:5: audioChunkDurationMs (AUDIO_CHUNK_DURATION_MS): 25 is not one of 10, 20, 30, 40 ms',
      'tuned.env:6: plcMethod (WORKBENCH_PLC_METHOD): "cubic" is not one of pitch, spectral, linear, repeat',
    ])
    expect(layer.errors[2]).toMatchObject({
      source: 'tuned.env',
      line: 3,
      name: 'NOISE_REDUCTION_STRENGTH',
      value: '1.5',
      allowed: '0–1',
    })
  })

  it('treats an empty value as an error, not as unset', () => {
    const layer = readEnvText('JITTER_BUFFER_MIN_MS=\n', 'x.env')
    expect(layer.errors.map((e) => e.message)).toEqual([
      'x.env:1: jitterBufferMinMs (JITTER_BUFFER_MIN_MS): empty value (0–500 ms)',
    ])
  })

  it('keeps unknown keys and warns about them, with a hint for a near miss', () => {
    const layer = readEnvText('TWILIO_ACCOUNT_SID=AC123\njitter_buffer_min_ms=60\nJITTER_BUFFER_MAX_MS=300\n', 'x.env')
    expect(layer.errors).toEqual([])
    expect(layer.values).toEqual({ jitterBufferMaxMs: 300 })
    expect(layer.unknown).toEqual({ TWILIO_ACCOUNT_SID: 'AC123', jitter_buffer_min_ms: '60' })
    expect(layer.warnings.map((w) => w.message)).toEqual([
      'x.env:1: TWILIO_ACCOUNT_SID is not a workbench setting; kept as is',
      'x.env:2: jitter_buffer_min_ms is not a workbench setting; kept as is; did you mean JITTER_BUFFER_MIN_MS?',
    ])
  })

  it('lets the last of repeated names win, as dotenv does, and warns', () => {
    const layer = readEnvText('JITTER_BUFFER_TARGET_MS=60\nJITTER_BUFFER_TARGET_MS=120\n', 'x.env')
    expect(layer.values).toEqual({ jitterBufferTargetMs: 120 })
    expect(layer.sources.jitterBufferTargetMs).toEqual({ layer: 'file', file: 'x.env', line: 2 })
    expect(layer.warnings.map((w) => w.message)).toEqual([
      'x.env:2: JITTER_BUFFER_TARGET_MS is also set on line 1; this line wins (as in dotenv)',
    ])
  })

  it('reads dotenv-only colon syntax but warns that the service may not', () => {
    const layer = readEnvText('ENABLE_NOISE_REDUCTION: false\n', 'x.env')
    expect(layer.values).toEqual({ noiseReductionEnabled: false })
    expect(layer.warnings.map((w) => w.kind)).toEqual(['syntax'])
  })

  it('reads booleans and numbers with blanks, quotes and any case', () => {
    const text = [
      'ENABLE_ECHO_CANCELLATION=TRUE',
      'ENABLE_NOISE_REDUCTION=0',
      'ENABLE_JITTER_BUFFER="yes"',
      'NOISE_REDUCTION_STRENGTH=" 0.80 "',
      'JITTER_BUFFER_TARGET_MS=100.0',
      'WORKBENCH_NOISE_REDUCTION_MODE=NonStationary',
    ].join('\n')
    expect(readEnvText(text, 'x.env').values).toEqual({
      echoCancellationEnabled: true,
      noiseReductionEnabled: false,
      jitterBufferEnabled: true,
      noiseReductionStrength: 0.8,
      jitterBufferTargetMs: 100,
      noiseReductionMode: 'nonstationary',
    })
  })
})

describe('resolveSettings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'env-file-test-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('gives the defaults, all from "default", when there is nothing to read', () => {
    const result = resolveSettings()
    expect(settingsOf(result)).toEqual(DEFAULT_SETTINGS)
    expect(result.ok && Object.values(result.sources).every((s) => s.layer === 'default')).toBe(true)
  })

  it('layers defaults < file < environment < --set, recording the source of each value', () => {
    const result = resolveSettings({
      envFile: 'tuned.env',
      envText: 'JITTER_BUFFER_TARGET_MS=100\nNOISE_REDUCTION_STRENGTH=0.5\nECHO_FILTER_LENGTH=2048\n',
      environment: { NOISE_REDUCTION_STRENGTH: '0.6', ECHO_FILTER_LENGTH: '4096', PATH: '/usr/bin', HOME: '/root' },
      sets: ['ECHO_FILTER_LENGTH=512', 'echoFilterLengthTaps=256', 'workbench_plc_method=linear'],
    })
    expect(settingsOf(result)).toEqual({
      ...DEFAULT_SETTINGS,
      jitterBufferTargetMs: 100,
      noiseReductionStrength: 0.6,
      echoFilterLengthTaps: 256,
      plcMethod: 'linear',
    })
    if (!result.ok) return
    expect(result.sources.jitterBufferMinMs).toEqual({ layer: 'default' })
    expect(result.sources.jitterBufferTargetMs).toEqual({ layer: 'file', file: 'tuned.env', line: 1 })
    expect(result.sources.noiseReductionStrength).toEqual({ layer: 'environment', name: 'NOISE_REDUCTION_STRENGTH' })
    expect(result.sources.echoFilterLengthTaps).toEqual({ layer: 'set', index: 1, text: 'echoFilterLengthTaps=256' })
    expect(warningMessages(result)).toEqual([
      'environment: NOISE_REDUCTION_STRENGTH=0.6 overrides tuned.env:2',
      'environment: ECHO_FILTER_LENGTH=4096 overrides tuned.env:3',
    ])
  })

  it('reads the file from disk, and reports a missing file as an error', () => {
    const path = join(dir, 'service.env')
    writeFileSync(path, 'JITTER_BUFFER_MAX_MS=400\n')
    expect(settingsOf(resolveSettings({ envFile: path })).jitterBufferMaxMs).toBe(400)
    const missing = resolveSettings({ envFile: join(dir, 'missing.env') })
    expect(errorMessages(missing)).toHaveLength(1)
    expect(errorMessages(missing)[0]).toMatch(/missing\.env: cannot read the file \(ENOENT/)
  })

  it('checks min ≤ target ≤ max on the merged layers and names where each value came from', () => {
    const result = resolveSettings({
      envFile: 'tuned.env',
      envText: 'JITTER_BUFFER_MIN_MS=60\nJITTER_BUFFER_MAX_MS=150\n',
      sets: ['JITTER_BUFFER_TARGET_MS=200'],
    })
    expect(errorMessages(result)).toEqual([
      '--set: jitterBufferTargetMs (JITTER_BUFFER_TARGET_MS): 200 is outside 60–150 ms (JITTER_BUFFER_MIN_MS–JITTER_BUFFER_MAX_MS); ' +
        'JITTER_BUFFER_TARGET_MS=200 from --set, JITTER_BUFFER_MIN_MS=60 from tuned.env:1, JITTER_BUFFER_MAX_MS=150 from tuned.env:2',
    ])
    // A file whose min passes the default target is located at the file's line.
    const fileOnly = resolveSettings({ envFile: 'tuned.env', envText: '# x\nJITTER_BUFFER_MIN_MS=100\n' })
    expect(errorMessages(fileOnly)).toEqual([
      'tuned.env:2: jitterBufferTargetMs (JITTER_BUFFER_TARGET_MS): 80 is outside 100–200 ms (JITTER_BUFFER_MIN_MS–JITTER_BUFFER_MAX_MS); ' +
        'JITTER_BUFFER_TARGET_MS=80 from default, JITTER_BUFFER_MIN_MS=100 from tuned.env:2, JITTER_BUFFER_MAX_MS=200 from default',
    ])
    // Bounds from one layer, target from another: fine when consistent.
    const consistent = resolveSettings({
      envText: 'JITTER_BUFFER_MIN_MS=300\n',
      environment: { JITTER_BUFFER_MAX_MS: '500', JITTER_BUFFER_TARGET_MS: '400' },
    })
    expect(settingsOf(consistent)).toMatchObject({ jitterBufferMinMs: 300, jitterBufferTargetMs: 400 })
  })

  it('collects the errors of every layer and applies none of them', () => {
    const result = resolveSettings({
      envFile: 'tuned.env',
      envText: 'JITTER_BUFFER_MIN_MS=-1\n',
      environment: { ENABLE_JITTER_BUFFER: 'sometimes', JITTER_BUFFER_MAX_MS: '' },
      sets: ['NO_SUCH_SETTING=1', 'novalue', 'noise_reduction_strenght=0.5', 'WORKBENCH_ECHO_ENGINE=speex'],
    })
    expect(errorMessages(result)).toEqual([
      'tuned.env:1: jitterBufferMinMs (JITTER_BUFFER_MIN_MS): -1 is outside 0–500 ms',
      'environment: jitterBufferEnabled (ENABLE_JITTER_BUFFER): "sometimes" is not a boolean (true/false, 1/0, yes/no, on/off)',
      'environment: jitterBufferMaxMs (JITTER_BUFFER_MAX_MS): empty value (20–1000 ms)',
      '--set: NO_SUCH_SETTING is not a setting',
      '--set: "novalue" is not NAME=value',
      '--set: noise_reduction_strenght is not a setting',
      '--set: echoCancellationEngine (WORKBENCH_ECHO_ENGINE): "speex" is not one of mdf, nlms',
    ])
  })

  it('suggests the .env name for a --set key written in another style', () => {
    const result = resolveSettings({ sets: ['jitter-buffer-target-ms=90'] })
    expect(errorMessages(result)).toEqual([
      '--set: jitter-buffer-target-ms is not a setting; did you mean JITTER_BUFFER_TARGET_MS?',
    ])
  })

  it('reads a --set value containing "=" whole', () => {
    const result = resolveSettings({ sets: ['WORKBENCH_PLC_METHOD==repeat'] })
    expect(errorMessages(result)[0]).toMatch(/"=repeat" is not one of/)
  })

  it('keeps unknown file keys in the result for a later export', () => {
    const result = resolveSettings({ envText: 'OPENAI_API_KEY="sk-#1"\nENABLE_NOISE_REDUCTION=false\n' })
    expect(result.ok && result.unknown).toEqual({ OPENAI_API_KEY: 'sk-#1' })
    expect(warningMessages(result)).toEqual(['.env:1: OPENAI_API_KEY is not a workbench setting; kept as is'])
  })
})

describe('formatEnvFile', () => {
  it('writes only the service keys by default, as plain NAME=value lines the service can load', () => {
    const text = formatEnvFile(DEFAULT_SETTINGS, { header: HEADER })
    const lines = assignments(text)
    expect(lines).toEqual([
      'ENABLE_ECHO_CANCELLATION=true',
      'ENABLE_NOISE_REDUCTION=true',
      'ENABLE_JITTER_BUFFER=true',
      'AUDIO_CHUNK_DURATION_MS=20',
      'JITTER_BUFFER_TARGET_MS=80',
      'JITTER_BUFFER_MIN_MS=40',
      'JITTER_BUFFER_MAX_MS=200',
      'NOISE_REDUCTION_STRENGTH=0.8',
      'ECHO_FILTER_LENGTH=1024',
      'AUDIO_BUFFER_DURATION_MS=500',
      'MAX_AUDIO_LATENCY_MS=200',
    ])
    expect(lines).toHaveLength(SERVICE_SETTING_KEYS.length)
    expect(text).not.toMatch(/WORKBENCH_/)
  })

  it('adds the workbench keys when asked', () => {
    const lines = assignments(formatEnvFile(DEFAULT_SETTINGS, { includeWorkbench: true, header: HEADER }))
    expect(lines).toHaveLength(SETTING_KEYS.length)
    expect(lines.filter((line) => line.startsWith('WORKBENCH_'))).toHaveLength(WORKBENCH_SETTING_KEYS.length)
  })

  it('opens with a comment header: when, from which capture, the key metrics', () => {
    const text = formatEnvFile(DEFAULT_SETTINGS, {
      header: {
        generatedAt: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)),
        capture: 'calls/2026-01-02 complaint.pcap',
        metrics: { erleDb: 31.2, jitterMs: 12.5, lateLossRate: '0.4 %' },
      },
    })
    expect(text.split('\n').slice(0, 8)).toEqual([
      '# Voice service audio settings, exported by VoIP Audio Workbench',
      '# Generated: 2026-01-02T03:04:05.000Z',
      '# Capture: calls/2026-01-02 complaint.pcap',
      '# Metrics:',
      '#   erleDb: 31.2',
      '#   jitterMs: 12.5',
      '#   lateLossRate: 0.4 %',
      '',
    ])
  })

  it('writes ASCII only, and keeps newlines in header text from escaping the comment', () => {
    const text = formatEnvFile(DEFAULT_SETTINGS, {
      header: { generatedAt: 'now', capture: 'démo\nJITTER_BUFFER_TARGET_MS=999', metrics: { 'a\rb': 'x\u2028y' } },
    })
    expect(text).toMatch(/^[\x20-\x7e\n]*$/)
    expect(text).toContain('# Capture: d?mo JITTER_BUFFER_TARGET_MS=999')
    expect(settingsOf(resolveSettings({ envText: text })).jitterBufferTargetMs).toBe(80)
  })

  it('keeps unknown keys when given them, quoted so they read back the same', () => {
    const unknown = { OPENAI_API_KEY: 'sk-#1', GREETING: 'it\'s "here"', EMPTY: '', SPACED: ' padded ' }
    const text = formatEnvFile(DEFAULT_SETTINGS, { header: HEADER, unknown })
    const result = resolveSettings({ envText: text })
    expect(result.ok && result.unknown).toEqual(unknown)
    expect(settingsOf(result)).toEqual(DEFAULT_SETTINGS)
  })

  it('refuses invalid settings, naming the key', () => {
    expect(() => formatEnvFile({ ...DEFAULT_SETTINGS, jitterBufferTargetMs: 900 }, { header: HEADER })).toThrowError(
      /jitterBufferTargetMs \(JITTER_BUFFER_TARGET_MS\): 900 is outside 40–200 ms/,
    )
  })

  it('round-trips exactly: export then import gives the same settings, and the same text again (property)', () => {
    const headerText = fc.string({ maxLength: 30, unit: 'binary' })
    fc.assert(
      fc.property(
        validSettings,
        headerText,
        fc.dictionary(headerText, fc.oneof(fc.double({ noNaN: true }), headerText), { maxKeys: 3 }),
        (settings, capture, metrics) => {
          const options = { includeWorkbench: true, header: { ...HEADER, capture, metrics } }
          const text = formatEnvFile(settings, options)
          const result = resolveSettings({ envFile: 'export.env', envText: text })
          expect(errorMessages(result)).toEqual([])
          expect(warningMessages(result)).toEqual([])
          expect(settingsOf(result)).toEqual(settings)
          expect(formatEnvFile(settingsOf(result), options)).toBe(text)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('round-trips the service keys and leaves the workbench keys at their defaults without includeWorkbench (property)', () => {
    fc.assert(
      fc.property(validSettings, (settings) => {
        const back = settingsOf(resolveSettings({ envText: formatEnvFile(settings, { header: HEADER }) }))
        for (const key of SERVICE_SETTING_KEYS) expect(Object.is(back[key], settings[key]), key).toBe(true)
        for (const key of WORKBENCH_SETTING_KEYS) expect(back[key]).toBe(DEFAULT_SETTINGS[key])
      }),
      { numRuns: 200 },
    )
  })
})

describe('quoteEnvValue', () => {
  it('writes any value so that dotenv reads it back the same, or refuses it (property)', () => {
    // Mostly the characters that need quoting, plus any text.
    const tricky = fc.string({
      maxLength: 12,
      unit: fc.constantFrom(' ', '\t', '\n', '\r', '#', "'", '"', '`', '\\', '=', 'n', 'a', 'é'),
    })
    fc.assert(
      fc.property(fc.oneof(tricky, fc.string({ maxLength: 20, unit: 'binary' })), (value) => {
        let quoted: string
        try {
          quoted = quoteEnvValue(value)
        } catch (error) {
          // dotenv turns a carriage return into a newline, and with ' and ` taken only double quotes remain, which
          // expand a literal \n: such values cannot be written.
          expect(error).toBeInstanceOf(RangeError)
          expect(value.includes('\r') || (value.includes("'") && value.includes('`'))).toBe(true)
          return
        }
        expect(dotenv.parse(`X=${quoted}`).X).toBe(value)
      }),
      { numRuns: 2000 },
    )
  })

  it('leaves plain values bare', () => {
    expect(quoteEnvValue('AC123')).toBe('AC123')
    expect(quoteEnvValue('a b')).toBe('a b')
    expect(quoteEnvValue('x#y')).toBe("'x#y'")
    expect(quoteEnvValue(' x')).toBe("' x'")
  })
})

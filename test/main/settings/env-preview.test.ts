import { describe, expect, it } from 'vitest'
import { previewEnvText, readEnvText } from '../../../src/main/settings/env-file'
import { DEFAULT_SETTINGS } from '../../../src/shared/config'

describe('previewEnvText (a .env read without the all-or-nothing rule)', () => {
  it('keeps the good lines, reports each bad line by number, and leaves defaults for what the file omits', () => {
    const text = [
      '# the service',
      'NOISE_REDUCTION_STRENGTH=0.4',
      'this is not a setting line',
      'JITTER_BUFFER_TARGET_MS=900',
      'ECHO_FILTER_LENGTH=2048',
      'SOME_OTHER_SERVICE_KEY=1',
    ].join('\n')
    const preview = previewEnvText(text, 'service.env')
    expect(preview.settings).toEqual({
      ...DEFAULT_SETTINGS,
      noiseReductionStrength: 0.4,
      echoFilterLengthTaps: 2048,
    })
    expect(preview.errors.map((e) => [e.line, e.name])).toEqual([
      [3, null],
      [4, 'JITTER_BUFFER_TARGET_MS'],
    ])
    expect(preview.errors[0]!.message).toMatch(/^service\.env:3: /)
    expect(preview.errors[1]!.message).toMatch(/^service\.env:4: .*900/)
    expect(preview.warnings.map((w) => [w.line, w.kind])).toEqual([[6, 'unknown-key']])
    // The strict reader applies nothing from the same text.
    expect(readEnvText(text, 'service.env').values).toEqual({})
  })

  it('a cross-field conflict drops the file values involved, so the settings stay valid', () => {
    const text = 'JITTER_BUFFER_MIN_MS=150\nJITTER_BUFFER_MAX_MS=100\nNOISE_REDUCTION_STRENGTH=0.9\n'
    const preview = previewEnvText(text, 'bad.env')
    expect(preview.errors.length).toBeGreaterThanOrEqual(1)
    expect(preview.errors.every((e) => e.kind === 'cross-field' && e.line !== null)).toBe(true)
    expect(preview.settings.jitterBufferMinMs).toBe(DEFAULT_SETTINGS.jitterBufferMinMs)
    expect(preview.settings.jitterBufferMaxMs).toBe(DEFAULT_SETTINGS.jitterBufferMaxMs)
    expect(preview.settings.noiseReductionStrength).toBe(0.9)
  })
})

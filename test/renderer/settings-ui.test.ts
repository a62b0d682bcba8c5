import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_SETTINGS,
  SETTINGS_SCHEMA,
  validatePatch,
  validateSettings,
  type PipelineSettings,
} from '../../src/shared/config'
import {
  PatchThrottle,
  changedSettings,
  clampSetting,
  echoEffectiveLength,
  patchBetween,
  planChange,
  settingGroups,
  sliderRange,
  sliderStep,
  splitEnvErrors,
  tapsToMs,
  type Clock,
} from '../../src/renderer/src/settings-ui'

const defaults = (): PipelineSettings => ({ ...DEFAULT_SETTINGS })

describe('settingGroups', () => {
  it('lists every setting of the schema exactly once', () => {
    const keys = settingGroups().flatMap((group) => [
      ...(group.stage ? [group.stage.key] : []),
      ...group.controls.map((c) => c.key),
    ])
    expect(keys.slice().sort()).toEqual(SETTINGS_SCHEMA.map((spec) => spec.key).sort())
  })

  it('puts each stage switch in its group heading and picks the control from the type', () => {
    const groups = new Map(settingGroups().map((group) => [group.group, group]))
    expect(groups.get('echo')?.stage?.key).toBe('echoCancellationEnabled')
    expect(groups.get('noise')?.stage?.key).toBe('noiseReductionEnabled')
    expect(groups.get('jitterBuffer')?.stage?.key).toBe('jitterBufferEnabled')
    expect(groups.get('pipeline')?.stage).toBeNull()
    const control = (key: string) =>
      settingGroups()
        .flatMap((g) => g.controls)
        .find((c) => c.key === key)!
    expect(control('noiseReductionStrength').kind).toBe('slider')
    expect(control('echoFilterLengthTaps').kind).toBe('slider')
    expect(control('plcMethod')).toMatchObject({ kind: 'choice', options: ['pitch', 'spectral', 'linear', 'repeat'] })
    // A numeric setting with a fixed list of values is a choice, not a slider.
    expect(control('audioChunkDurationMs')).toMatchObject({ kind: 'choice', options: [10, 20, 30, 40] })
    expect(control('echoSuppressorEnabled').kind).toBe('toggle')
  })

  it('follows the schema given, so a new setting gets a control without a code change', () => {
    const extra = { ...SETTINGS_SCHEMA.find((s) => s.key === 'echoMaxBulkDelayMs')!, group: 'noise' as const }
    const groups = settingGroups([...SETTINGS_SCHEMA.filter((s) => s.key !== 'echoMaxBulkDelayMs'), extra])
    expect(groups.find((g) => g.group === 'noise')!.controls.map((c) => c.key)).toContain('echoMaxBulkDelayMs')
    expect(groups.find((g) => g.group === 'echo')!.controls.map((c) => c.key)).not.toContain('echoMaxBulkDelayMs')
  })
})

describe('slider ranges', () => {
  it('keeps the jitter target slider between the current min and max', () => {
    const settings = { ...defaults(), jitterBufferMinMs: 60, jitterBufferMaxMs: 150 }
    expect(sliderRange('jitterBufferTargetMs', settings)).toEqual({ min: 60, max: 150, step: 10 })
    expect(sliderRange('jitterBufferMaxMs', settings)).toMatchObject({ min: 60, max: 1000 })
    expect(sliderRange('noiseReductionStrength', settings)).toEqual({ min: 0, max: 1, step: 0.05 })
    expect(sliderRange('plcMethod', settings)).toBeNull()
  })

  it('clamps a dragged value into the range and rounds integers', () => {
    const settings = defaults()
    expect(clampSetting('jitterBufferTargetMs', 900, settings)).toBe(200)
    expect(clampSetting('jitterBufferTargetMs', 3, settings)).toBe(40)
    expect(clampSetting('jitterBufferTargetMs', 81.6, settings)).toBe(82)
    expect(clampSetting('noiseReductionStrength', 1.7, settings)).toBe(1)
    expect(clampSetting('noiseReductionStrength', 0.33, settings)).toBe(0.33)
  })
})

describe('planChange', () => {
  it('sends a value in range as it is', () => {
    const plan = planChange(defaults(), 'noiseReductionStrength', 1)
    expect(plan).toEqual({ ok: true, patch: { noiseReductionStrength: 1 }, adjusted: [] })
  })

  it('refuses a target outside min…max with the engine’s message naming the key and the bounds', () => {
    const plan = planChange(defaults(), 'jitterBufferTargetMs', 900)
    expect(plan.ok).toBe(false)
    if (plan.ok) return
    expect(plan.message).toBe(
      'jitterBufferTargetMs (JITTER_BUFFER_TARGET_MS): 900 is outside 40–200 ms (JITTER_BUFFER_MIN_MS–JITTER_BUFFER_MAX_MS)',
    )
    // The same words as the engine's own check.
    const engine = validatePatch(defaults(), { jitterBufferTargetMs: 900 })
    expect(engine.ok).toBe(false)
    if (!engine.ok) expect(engine.errors[0]!.message).toBe(plan.message)
  })

  it('refuses a value outside the static range and a value of the wrong type', () => {
    const range = planChange(defaults(), 'echoFilterLengthTaps', 10000)
    expect(range).toMatchObject({
      ok: false,
      message: expect.stringMatching(/echoFilterLengthTaps.*ECHO_FILTER_LENGTH.*128–8192/),
    })
    const text = planChange(defaults(), 'noiseReductionStrength', 'loud')
    expect(text).toMatchObject({ ok: false, message: expect.stringMatching(/noiseReductionStrength/) })
  })

  it('raises the target (and the max) with a min raised above them, and says so', () => {
    const plan = planChange(defaults(), 'jitterBufferMinMs', 300)
    expect(plan.ok).toBe(true)
    if (!plan.ok) return
    expect(plan.patch).toEqual({ jitterBufferMinMs: 300, jitterBufferMaxMs: 300, jitterBufferTargetMs: 300 })
    expect(plan.adjusted.map((a) => [a.key, a.from, a.to])).toEqual([
      ['jitterBufferTargetMs', 80, 300],
      ['jitterBufferMaxMs', 200, 300],
    ])
  })

  it('lowers the target with a max lowered below it', () => {
    const plan = planChange(defaults(), 'jitterBufferMaxMs', 60)
    expect(plan).toMatchObject({ ok: true, patch: { jitterBufferMaxMs: 60, jitterBufferTargetMs: 60 } })
  })

  it('refuses a max below the min rather than moving the min', () => {
    const plan = planChange(defaults(), 'jitterBufferMaxMs', 30)
    expect(plan).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^jitterBufferMaxMs .*JITTER_BUFFER_MIN_MS/),
    })
  })

  it('always gives a patch the engine accepts, or a message naming the setting (random jitter values)', () => {
    const jitterKeys = ['jitterBufferMinMs', 'jitterBufferMaxMs', 'jitterBufferTargetMs'] as const
    fc.assert(
      fc.property(
        fc.constantFrom(...jitterKeys),
        fc.integer({ min: -100, max: 1200 }),
        fc.integer({ min: 0, max: 500 }),
        fc.integer({ min: 0, max: 500 }),
        (key, value, a, b) => {
          const min = Math.min(a, b)
          const max = Math.max(a, b, 20)
          const current = { ...defaults(), jitterBufferMinMs: min, jitterBufferMaxMs: max, jitterBufferTargetMs: min }
          expect(validateSettings(current).ok).toBe(true)
          const plan = planChange(current, key, value)
          if (!plan.ok) {
            expect(plan.message.startsWith(`${key} (`)).toBe(true)
            return
          }
          const checked = validatePatch(current, plan.patch)
          expect(checked.ok).toBe(true)
          if (checked.ok) expect(checked.settings[key]).toBe(value)
        },
      ),
    )
  })
})

describe('changedSettings and patchBetween', () => {
  it('lists nothing at the defaults', () => {
    expect(changedSettings(defaults())).toEqual([])
  })

  it('lists the changed settings in schema order with .env names, default and current values with units', () => {
    const rows = changedSettings({
      ...defaults(),
      noiseReductionStrength: 1,
      jitterBufferTargetMs: 120,
      plcMethod: 'repeat',
    })
    expect(rows).toEqual([
      {
        key: 'jitterBufferTargetMs',
        label: 'Jitter target',
        envName: 'JITTER_BUFFER_TARGET_MS',
        defaultText: '80 ms',
        currentText: '120 ms',
        isWorkbench: false,
      },
      {
        key: 'noiseReductionStrength',
        label: 'Noise reduction strength',
        envName: 'NOISE_REDUCTION_STRENGTH',
        defaultText: '0.8',
        currentText: '1',
        isWorkbench: false,
      },
      {
        key: 'plcMethod',
        label: 'PLC method',
        envName: 'WORKBENCH_PLC_METHOD',
        defaultText: 'pitch',
        currentText: 'repeat',
        isWorkbench: true,
      },
    ])
  })

  it('gives the patch from one state to another, which validatePatch turns into the second', () => {
    const from = { ...defaults(), jitterBufferMinMs: 100, jitterBufferTargetMs: 150 }
    const to = { ...defaults(), echoCancellationEnabled: false }
    const patch = patchBetween(from, to)
    expect(patch).toEqual({ jitterBufferMinMs: 40, jitterBufferTargetMs: 80, echoCancellationEnabled: false })
    const checked = validatePatch(from, patch)
    expect(checked.ok && checked.settings).toEqual(to)
  })
})

describe('echoEffectiveLength', () => {
  it('rounds the MDF up to whole partitions and keeps NLMS as set', () => {
    expect(echoEffectiveLength(defaults())).toEqual({ effectiveTaps: 1024, partitionTaps: 128 })
    const odd = echoEffectiveLength({ ...defaults(), echoFilterLengthTaps: 1100 })
    expect(odd.effectiveTaps).toBe(1152)
    expect(odd.effectiveTaps % odd.partitionTaps!).toBe(0)
    expect(echoEffectiveLength({ ...defaults(), echoFilterLengthTaps: 1100, echoCancellationEngine: 'nlms' })).toEqual({
      effectiveTaps: 1100,
      partitionTaps: null,
    })
  })

  it('converts taps to ms at 16 kHz', () => {
    expect(tapsToMs(1024)).toBe(64)
    expect(tapsToMs(16)).toBe(1)
  })
})

describe('splitEnvErrors', () => {
  it('splits the engine’s joined import errors at each file:line, not inside a message', () => {
    const message =
      'bad.env:3: cannot read "this is not a line" (expected NAME=value); bad.env:2: NOISE_REDUCTION_STRENGTH: "banana" is not a number (0–1); x; did you mean y'
    expect(splitEnvErrors(message)).toEqual([
      'bad.env:3: cannot read "this is not a line" (expected NAME=value)',
      'bad.env:2: NOISE_REDUCTION_STRENGTH: "banana" is not a number (0–1); x; did you mean y',
    ])
  })
})

/** A clock the test moves by hand. */
function manualClock(): Clock & { advance(ms: number): void } {
  let now = 0
  let timers: { at: number; callback: () => void; id: number }[] = []
  let nextId = 1
  return {
    now: () => now,
    setTimeout: (callback, ms) => {
      const id = nextId++
      timers.push({ at: now + ms, callback, id })
      return id
    },
    clearTimeout: (id) => {
      timers = timers.filter((t) => t.id !== id)
    },
    advance(ms) {
      const end = now + ms
      for (;;) {
        const due = timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0]
        if (!due) break
        timers = timers.filter((t) => t !== due)
        now = due.at
        due.callback()
      }
      now = end
    },
  }
}

describe('PatchThrottle', () => {
  it('sends the first change at once, then at most one merged patch per interval, and the last value always', () => {
    const clock = manualClock()
    const sent: { at: number; patch: object }[] = []
    const throttle = new PatchThrottle((patch) => sent.push({ at: clock.now(), patch }), 50, clock)
    // A drag: a change every 10 ms for 200 ms.
    for (let i = 0; i <= 20; i++) {
      throttle.push({ noiseReductionStrength: i / 20 })
      clock.advance(10)
    }
    clock.advance(100)
    expect(sent[0]).toEqual({ at: 0, patch: { noiseReductionStrength: 0 } })
    for (let i = 1; i < sent.length; i++) expect(sent[i]!.at - sent[i - 1]!.at).toBeGreaterThanOrEqual(50)
    expect(sent.length).toBeLessThanOrEqual(6)
    expect(sent.at(-1)!.patch).toEqual({ noiseReductionStrength: 1 })
  })

  it('merges the keys changed within one interval and flushes on demand', () => {
    const clock = manualClock()
    const sent: object[] = []
    const throttle = new PatchThrottle((patch) => sent.push(patch), 50, clock)
    throttle.push({ jitterBufferMinMs: 60 })
    throttle.push({ jitterBufferMaxMs: 300 })
    throttle.push({ jitterBufferMinMs: 70 })
    expect(throttle.hasWaiting).toBe(true)
    throttle.flush()
    expect(sent).toEqual([{ jitterBufferMinMs: 60 }, { jitterBufferMaxMs: 300, jitterBufferMinMs: 70 }])
    clock.advance(200)
    expect(sent).toHaveLength(2)
  })
})

describe('sliderStep', () => {
  it('keeps the schema step on its grid and a fine step off it, so the browser does not snap a typed value', () => {
    const echo = sliderRange('echoFilterLengthTaps', DEFAULT_SETTINGS)!
    expect(sliderStep(echo, 1024, true)).toBe(128)
    expect(sliderStep(echo, 1100, true)).toBe(1)
    const strength = sliderRange('noiseReductionStrength', DEFAULT_SETTINGS)!
    expect(sliderStep(strength, 0.35, false)).toBe(0.05)
    expect(sliderStep(strength, 0.33, false)).toBe('any')
  })
})

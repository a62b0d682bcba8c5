/**
 * The tuning panel and the source panel in browser mode, against the real engine: sliders and number inputs reach
 * the engine (read back with the engine's own getState, sent on the page's connection), the noise attenuation meter
 * follows the noise reduction strength, the echo filter length agrees across the panel, the engine and the exported
 * .env, a .env with a bad line is refused with the line named, undo and reset, the service .env comparison, and the
 * timeline, stream and what-if controls.
 */
import { readFile } from 'node:fs/promises'
import { expect, test, type Page, type TestInfo } from '@playwright/test'
import { DEFAULT_SETTINGS, SETTINGS_SCHEMA, formatSettingValue, type PipelineSettings } from '../../src/shared/config'
import { decodeWire, type Result, type SessionState } from '../../src/shared/contract'
import { startWebServer, type WebServer } from './web-server'

let web: WebServer | undefined
let url = ''

test.beforeAll(async () => {
  web = await startWebServer()
  url = web.url
})

test.afterAll(() => {
  web?.stop()
})

/**
 * Sends commands to the engine on the page's own WebSocket (one session per connection): the page's traffic passes
 * through untouched, the replies to these requests are kept from it.
 */
interface EngineProbe {
  call<T>(command: string, request?: unknown): Promise<Result<T>>
  state(): Promise<SessionState>
}

const PROBE_FIRST_ID = 1_000_000_000

async function openWorkbench(page: Page): Promise<EngineProbe> {
  const waiting = new Map<number, (result: Result<unknown>) => void>()
  let toServer: ((message: string) => void) | null = null
  let nextId = PROBE_FIRST_ID
  await page.routeWebSocket(/\/ws\?token=/, (socket) => {
    const upstream = socket.connectToServer()
    socket.onMessage((message) => upstream.send(message))
    upstream.onMessage((message) => {
      // Replies holding typed arrays (getEchoPath) come as binary frames: decodeWire reads both kinds.
      if (waiting.size > 0) {
        const parsed = decodeWire(typeof message === 'string' ? message : new Uint8Array(message)) as {
          kind: string
          id?: number | null
          result?: Result<unknown>
        }
        const resolve = parsed.kind === 'reply' && typeof parsed.id === 'number' ? waiting.get(parsed.id) : undefined
        if (resolve) {
          waiting.delete(parsed.id!)
          return resolve(parsed.result!)
        }
      }
      socket.send(message)
    })
    toServer = (message) => upstream.send(message)
  })
  await page.setViewportSize({ width: 1280, height: 720 })
  await page.goto(url)
  await expect(page.getByTestId('connection')).toHaveText(/Connected · browser mode/)
  await expect(page.getByTestId('capture')).toContainText('demo-call.pcap')
  const probe: EngineProbe = {
    call<T>(command: string, request?: unknown) {
      return new Promise<Result<T>>((resolve) => {
        const id = nextId++
        waiting.set(id, resolve as (result: Result<unknown>) => void)
        toServer!(JSON.stringify({ kind: 'request', id, command, ...(request === undefined ? {} : { request }) }))
      })
    },
    async state() {
      const result = await probe.call<SessionState>('getState')
      if (!result.ok) throw new Error(result.error.message)
      return result.value
    },
  }
  return probe
}

async function engineSetting<K extends keyof PipelineSettings>(
  probe: EngineProbe,
  key: K,
): Promise<PipelineSettings[K]> {
  return (await probe.state()).settings[key]
}

/** Types a value into a setting's number input and applies it (Enter). */
async function typeSetting(page: Page, key: string, value: string): Promise<void> {
  const input = page.getByTestId(`setting-${key}-number`)
  await input.fill(value)
  await input.press('Enter')
}

/** The .env text the panel's Export button downloads. */
async function exportEnvText(page: Page): Promise<{ name: string; text: string }> {
  const download = page.waitForEvent('download')
  await page.getByTestId('env-export').click()
  const file = await download
  return { name: file.suggestedFilename(), text: await readFile(await file.path(), 'utf8') }
}

/** NAME=value lines of a .env text (comments and blank lines skipped). */
function envEntries(text: string): Map<string, string> {
  const entries = new Map<string, string>()
  for (const line of text.split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim())
    if (match) entries.set(match[1]!, match[2]!)
  }
  return entries
}

/**
 * The noise attenuation meter (dB) sampled every 100 ms for `ms`: the median of the samples where the noise reducer
 * attenuates at all (the demo's first seconds read 0 dB while the noise floor is learned, for a time that depends on
 * when playback started).
 */
async function attenuationDb(page: Page, ms: number): Promise<number> {
  const values: number[] = []
  const meter = page.getByTestId('metric-noise')
  for (let t = 0; t < ms; t += 100) {
    const match = /(-?\d+(?:\.\d+)?) dB/.exec((await meter.textContent()) ?? '')
    if (match) values.push(Number(match[1]))
    await page.waitForTimeout(100)
  }
  const active = values.filter((v) => v > 0.5).sort((a, b) => a - b)
  expect(active.length, `attenuating samples among ${values.join(' ')}`).toBeGreaterThanOrEqual(8)
  return active[Math.floor(active.length / 2)]!
}

async function screenshot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const path = testInfo.outputPath(`${name}.png`)
  await page.screenshot({ path })
  await testInfo.attach(name, { path })
}

test('tuning: the noise strength slider from 0.2 to 1.0 reaches the engine and raises the noise attenuation', async ({
  page,
}) => {
  const probe = await openWorkbench(page)
  await page.getByTestId('loop').click()
  await expect(page.getByTestId('loop')).toBeChecked()
  await typeSetting(page, 'noiseReductionStrength', '0.2')
  await expect.poll(() => engineSetting(probe, 'noiseReductionStrength')).toBe(0.2)
  await expect(page.getByTestId('setting-noiseReductionStrength')).toHaveValue('0.2')

  // The same stretch of the demo for each strength: from the start, 5 s after the first 1.5 s.
  const measure = async (): Promise<number> => {
    await page.getByRole('button', { name: 'Pause' }).click()
    await page.getByRole('button', { name: 'To start' }).click()
    await expect(page.getByTestId('position')).toContainText('Paused · 0.0 s')
    await page.getByRole('button', { name: 'Play' }).click()
    await page.waitForTimeout(1500)
    return attenuationDb(page, 5000)
  }
  const weak = await measure()

  // Drag the thumb from 0.2 to the right end, as a user does (the changes go out throttled while dragging).
  const slider = page.getByTestId('setting-noiseReductionStrength')
  await slider.scrollIntoViewIfNeeded()
  const box = (await slider.boundingBox())!
  const thumbX = (fraction: number): number => box.x + 8 + fraction * (box.width - 16)
  // Onto the thumb with Playwright's checks (visible, stable, the slider itself under the pointer: on a loaded machine
  // the live panels re-laying out while the demo plays once moved it between measuring and pressing), then press.
  await slider.hover({ position: { x: thumbX(0.2) - box.x, y: box.height / 2 } })
  await page.mouse.down()
  for (let i = 1; i <= 10; i++) await page.mouse.move(thumbX(0.2 + 0.09 * i), box.y + box.height / 2)
  await page.mouse.move(box.x + box.width + 20, box.y + box.height / 2)
  await page.mouse.up()
  await expect(slider).toHaveValue('1')
  await expect(page.getByTestId('setting-noiseReductionStrength-number')).toHaveValue('1')
  await expect.poll(() => engineSetting(probe, 'noiseReductionStrength')).toBe(1)
  await expect(page.getByTestId('changed-noiseReductionStrength')).toContainText('NOISE_REDUCTION_STRENGTH')
  await expect(page.getByTestId('changed-noiseReductionStrength')).toContainText('0.8 → 1')
  await expect(page.getByTestId('tuning-status')).toContainText('Noise reduction strength')

  const strong = await measure()
  console.log(`noise attenuation: strength 0.2 → ${weak.toFixed(1)} dB, 1.0 → ${strong.toFixed(1)} dB`)
  // Strength scales the attenuation in dB: 1.0 attenuates about five times as much as 0.2.
  expect(strong).toBeGreaterThan(weak + 6)
  expect(strong).toBeGreaterThan(2 * weak)
})

test('tuning: the echo filter length shown, the engine’s setting and the exported .env agree', async ({ page }) => {
  const probe = await openWorkbench(page)
  // A length off the 128-tap partition grid: the MDF runs it rounded up.
  await typeSetting(page, 'echoFilterLengthTaps', '2000')
  await expect(page.getByTestId('setting-echoFilterLengthTaps-number')).toHaveValue('2000')
  await expect(page.getByTestId('setting-echoFilterLengthTaps')).toHaveValue('2000')
  await expect(page.getByTestId('setting-echoFilterLengthTaps-ms')).toHaveText('125 ms')
  await expect(page.getByTestId('setting-echoFilterLengthTaps-effective-taps')).toHaveText('2048')
  await expect(page.getByTestId('setting-echoFilterLengthTaps-effective')).toContainText('rounded up')
  await expect.poll(() => engineSetting(probe, 'echoFilterLengthTaps')).toBe(2000)
  await expect(page.getByTestId('changed-echoFilterLengthTaps')).toContainText('ECHO_FILTER_LENGTH')
  await expect(page.getByTestId('changed-echoFilterLengthTaps')).toContainText('1024 taps → 2000 taps')
  expect(envEntries((await exportEnvText(page)).text).get('ECHO_FILTER_LENGTH')).toBe('2000')

  // The slider too: the right end is the maximum, 8192 taps (512 ms).
  const slider = page.getByTestId('setting-echoFilterLengthTaps')
  await slider.focus()
  await page.keyboard.press('End')
  await expect(page.getByTestId('setting-echoFilterLengthTaps-number')).toHaveValue('8192')
  await expect(page.getByTestId('setting-echoFilterLengthTaps-ms')).toHaveText('512 ms')
  await expect.poll(() => engineSetting(probe, 'echoFilterLengthTaps')).toBe(8192)
  expect(envEntries((await exportEnvText(page)).text).get('ECHO_FILTER_LENGTH')).toBe('8192')
  // The engine runs the length shown as effective (getEchoPath, once a frame has run with it).
  await page.getByRole('button', { name: 'Play' }).click()
  await expect
    .poll(async () => {
      const path = await probe.call<{ effectiveLength: number }>('getEchoPath')
      return path.ok ? path.value.effectiveLength : path.error.code
    })
    .toBe(8192)
})

test('tuning: the exported .env holds the settings shown, the workbench keys only on request', async ({
  page,
}, testInfo) => {
  const probe = await openWorkbench(page)
  await typeSetting(page, 'noiseReductionStrength', '0.45')
  await typeSetting(page, 'jitterBufferTargetMs', '120')
  await page.getByTestId('setting-plcMethod').selectOption('repeat')
  await page.getByTestId('setting-noiseReductionEnabled').uncheck()
  await page.getByTestId('setting-audioChunkDurationMs').selectOption('40')
  await expect.poll(async () => (await probe.state()).settings.audioChunkDurationMs).toBe(40)
  await expect.poll(async () => (await probe.state()).settings.plcMethod).toBe('repeat')

  // What the panel shows, control by control, as .env text.
  const shown = async (key: keyof PipelineSettings): Promise<string> => {
    const spec = SETTINGS_SCHEMA.find((s) => s.key === key)!
    const control = page.getByTestId(`setting-${key}`)
    if (spec.type === 'boolean') return (await control.isChecked()) ? 'true' : 'false'
    if (spec.type === 'enum' || spec.values !== undefined) return control.inputValue()
    return page.getByTestId(`setting-${key}-number`).inputValue()
  }
  const { name, text } = await exportEnvText(page)
  expect(name).toBe('demo-call.env')
  const exported = envEntries(text)
  const engine = (await probe.state()).settings
  for (const spec of SETTINGS_SCHEMA) {
    if (spec.scope === 'workbench') {
      expect(exported.has(spec.envName), `${spec.envName} left out`).toBe(false)
      continue
    }
    expect(exported.get(spec.envName), spec.envName).toBe(await shown(spec.key))
    expect(exported.get(spec.envName), spec.envName).toBe(formatSettingValue(spec.key, engine[spec.key]))
  }
  expect(exported.get('NOISE_REDUCTION_STRENGTH')).toBe('0.45')
  expect(exported.get('ENABLE_NOISE_REDUCTION')).toBe('false')
  // Every row of the changed list is in the file with its current value.
  for (const key of ['noiseReductionStrength', 'jitterBufferTargetMs', 'noiseReductionEnabled'] as const)
    await expect(page.getByTestId(`changed-${key}`)).toBeVisible()

  await page.getByTestId('env-include-workbench').check()
  const withWorkbench = envEntries((await exportEnvText(page)).text)
  for (const spec of SETTINGS_SCHEMA) expect(withWorkbench.get(spec.envName), spec.envName).toBe(await shown(spec.key))
  expect(withWorkbench.get('WORKBENCH_PLC_METHOD')).toBe('repeat')
  await page.getByTestId('tuning-panel').scrollIntoViewIfNeeded()
  await screenshot(page, testInfo, 'tuning-changed-settings')
})

test('tuning: a .env with a bad line is refused with the line named; a good one applies and undoes', async ({
  page,
}, testInfo) => {
  const probe = await openWorkbench(page)
  await page.getByTestId('env-import-input').setInputFiles({
    name: 'bad.env',
    mimeType: 'text/plain',
    buffer: Buffer.from('# service settings\nENABLE_NOISE_REDUCTION=false\nNOISE_REDUCTION_STRENGTH=banana\n'),
  })
  await expect(page.getByTestId('error-banner')).toContainText('bad.env:3')
  await expect(page.getByTestId('error-banner')).toContainText('NOISE_REDUCTION_STRENGTH')
  await expect(page.getByTestId('env-import-error').first()).toContainText('bad.env:3')
  await expect(page.getByTestId('env-import-problems')).toContainText('bad.env was not applied')
  // Nothing applied: not even the good line.
  expect((await probe.state()).settings.noiseReductionEnabled).toBe(true)
  await expect(page.getByTestId('setting-noiseReductionEnabled')).toBeChecked()
  await page.getByTestId('env-import-problems').scrollIntoViewIfNeeded()
  await screenshot(page, testInfo, 'tuning-import-error')
  await page.getByRole('button', { name: 'Dismiss' }).click()

  await page.getByTestId('env-import-input').setInputFiles({
    name: 'good.env',
    mimeType: 'text/plain',
    buffer: Buffer.from('ENABLE_NOISE_REDUCTION=false\nJITTER_BUFFER_TARGET_MS=150\nLOG_LEVEL=debug\n'),
  })
  await expect.poll(async () => (await probe.state()).settings.jitterBufferTargetMs).toBe(150)
  expect((await probe.state()).settings.noiseReductionEnabled).toBe(false)
  await expect(page.getByTestId('setting-jitterBufferTargetMs-number')).toHaveValue('150')
  await expect(page.getByTestId('env-import-warning')).toContainText('LOG_LEVEL')
  // One undo takes the whole import back.
  await page.getByTestId('undo').click()
  await expect.poll(async () => (await probe.state()).settings).toEqual(DEFAULT_SETTINGS)
})

test('tuning: undo, redo, reset to defaults, and the jitter target kept between min and max', async ({ page }) => {
  const probe = await openWorkbench(page)
  await typeSetting(page, 'noiseReductionStrength', '0.3')
  await typeSetting(page, 'jitterBufferTargetMs', '120')
  await page.getByTestId('setting-echoCancellationEnabled').uncheck()
  await expect.poll(() => engineSetting(probe, 'echoCancellationEnabled')).toBe(false)

  // Ctrl+Z with the focus on a checkbox (not a text field) undoes the last change.
  await page.getByTestId('setting-echoCancellationEnabled').focus()
  await page.keyboard.press('Control+z')
  await expect.poll(() => engineSetting(probe, 'echoCancellationEnabled')).toBe(true)
  await expect(page.getByTestId('setting-echoCancellationEnabled')).toBeChecked()
  await page.getByTestId('undo').click()
  await expect.poll(() => engineSetting(probe, 'jitterBufferTargetMs')).toBe(80)
  await page.getByTestId('redo').click()
  await expect.poll(() => engineSetting(probe, 'jitterBufferTargetMs')).toBe(120)
  // In a number field, Ctrl+Z is the field's own: the settings stay.
  await page.getByTestId('setting-jitterBufferMaxMs-number').focus()
  await page.keyboard.press('Control+z')
  await page.waitForTimeout(300)
  expect(await engineSetting(probe, 'jitterBufferTargetMs')).toBe(120)

  // A target outside min…max is refused with the message naming the setting and the bounds.
  await typeSetting(page, 'jitterBufferTargetMs', '900')
  await expect(page.getByTestId('setting-jitterBufferTargetMs-error')).toContainText(
    'jitterBufferTargetMs (JITTER_BUFFER_TARGET_MS): 900 is outside 40–200 ms',
  )
  await expect(page.getByTestId('setting-jitterBufferTargetMs-number')).toHaveValue('120')
  expect(await engineSetting(probe, 'jitterBufferTargetMs')).toBe(120)
  // The min raised above the target takes the target (and the max) with it, and says so.
  await typeSetting(page, 'jitterBufferMinMs', '250')
  await expect.poll(async () => (await probe.state()).settings.jitterBufferTargetMs).toBe(250)
  const settings = (await probe.state()).settings
  expect([settings.jitterBufferMinMs, settings.jitterBufferMaxMs]).toEqual([250, 250])
  await expect(page.getByTestId('setting-jitterBufferMinMs-note')).toContainText('Jitter target 120 ms → 250 ms')
  await expect(page.getByTestId('setting-jitterBufferTargetMs-error')).toHaveCount(0)

  await page.getByTestId('reset-defaults').click()
  await expect.poll(async () => (await probe.state()).settings).toEqual(DEFAULT_SETTINGS)
  await expect(page.getByTestId('changed-settings-none')).toBeVisible()
  await expect(page.getByTestId('setting-noiseReductionStrength-number')).toHaveValue('0.8')
  // The reset is one step: undo brings every setting back.
  await page.getByTestId('undo').click()
  await expect.poll(async () => (await probe.state()).settings.jitterBufferMinMs).toBe(250)
  expect((await probe.state()).settings.noiseReductionStrength).toBe(0.3)
})

test('tuning: compare with the service .env, keep the tuned settings or apply the file', async ({ page }, testInfo) => {
  const probe = await openWorkbench(page)
  await typeSetting(page, 'noiseReductionStrength', '1')
  await expect.poll(() => engineSetting(probe, 'noiseReductionStrength')).toBe(1)
  const serviceEnv = {
    name: 'service.env',
    mimeType: 'text/plain',
    buffer: Buffer.from(
      '# voice service\nLOG_LEVEL=info\nNOISE_REDUCTION_STRENGTH=0.6\nJITTER_BUFFER_TARGET_MS=100\nECHO_FILTER_LENGTH=2048\n',
    ),
  }
  await page.getByTestId('env-compare-input').setInputFiles(serviceEnv)
  const table = page.getByTestId('env-compare-table')
  await expect(table).toBeVisible()
  const row = (key: string) => page.getByTestId(`env-compare-${key}`)
  await expect(row('noiseReductionStrength').getByTestId('env-compare-service')).toHaveText('0.6')
  await expect(row('noiseReductionStrength').getByTestId('env-compare-tuned')).toHaveText('1')
  await expect(row('jitterBufferTargetMs').getByTestId('env-compare-service')).toHaveText('100 ms')
  await expect(row('echoFilterLengthTaps').getByTestId('env-compare-service')).toHaveText('2048 taps')
  await expect(page.getByTestId('env-compare-issues')).toContainText('LOG_LEVEL')
  // Comparing applies nothing.
  expect(await engineSetting(probe, 'noiseReductionStrength')).toBe(1)
  await page.getByTestId('env-compare').scrollIntoViewIfNeeded()
  await screenshot(page, testInfo, 'tuning-compare-service-env')

  await page.getByTestId('env-compare-keep').click()
  await expect(page.getByTestId('env-compare')).toHaveCount(0)
  expect(await engineSetting(probe, 'noiseReductionStrength')).toBe(1)

  await page.getByTestId('env-compare-input').setInputFiles(serviceEnv)
  await page.getByTestId('env-compare-apply').click()
  await expect.poll(() => engineSetting(probe, 'noiseReductionStrength')).toBe(0.6)
  const settings = (await probe.state()).settings
  expect([settings.jitterBufferTargetMs, settings.echoFilterLengthTaps]).toEqual([100, 2048])
  await expect(page.getByTestId('setting-noiseReductionStrength-number')).toHaveValue('0.6')
})

test('source: timeline seek, capture warnings, near/far streams and the what-if network', async ({
  page,
}, testInfo) => {
  const probe = await openWorkbench(page)
  const duration = (await probe.state()).transport.durationMs
  await expect(page.getByTestId('timeline-duration')).toHaveText(
    new RegExp(`^0:${String(Math.round(duration / 100) / 10).padStart(4, '0')}`),
  )
  // Seek by setting the timeline (keyboard-like: seeks at once).
  await page.getByTestId('timeline').fill('6000')
  await expect.poll(async () => (await probe.state()).transport.positionMs).toBe(6000)
  await expect(page.getByTestId('position')).toContainText('Paused · 6.0 s')
  await expect(page.getByTestId('timeline-position')).toHaveText('0:06.0')
  // A click on the timeline seeks there (about a quarter in).
  const box = (await page.getByTestId('timeline').boundingBox())!
  await page.mouse.click(box.x + box.width * 0.25, box.y + box.height / 2)
  await expect.poll(async () => (await probe.state()).transport.positionMs).toBeGreaterThan(duration * 0.15)
  expect((await probe.state()).transport.positionMs).toBeLessThan(duration * 0.35)

  // The warnings, one click away.
  const state = await probe.state()
  const warnings = page.getByTestId('capture-warnings')
  await expect(warnings).toContainText(`${state.capture!.warnings.length} warning`)
  await warnings.locator('summary').click()
  await expect(warnings).toContainText(state.capture!.warnings[0]!)

  // The near/far choice: the far stream set to none, then back.
  const streams = state.capture!.streams
  expect(streams.length).toBe(2)
  const near = streams.find((s) => s.role === 'near')!
  const far = streams.find((s) => s.role === 'far')!
  await expect(page.getByTestId('near-stream')).toHaveValue(String(near.index))
  await expect(page.getByTestId('far-stream')).toHaveValue(String(far.index))
  await page.getByTestId('far-stream').selectOption('none')
  await expect.poll(async () => (await probe.state()).capture!.far).toBeNull()
  await page.getByTestId('far-stream').selectOption(String(far.index))
  await expect.poll(async () => (await probe.state()).capture!.far).not.toBeNull()

  // What-if: the lossy profile with seed 7, then as recorded again.
  await page.getByTestId('impairment-profile').selectOption('lossy')
  await expect.poll(async () => (await probe.state()).capture!.impairment?.profile).toBe('lossy')
  await page.getByTestId('impairment-seed').fill('7')
  await page.getByTestId('impairment-seed').press('Enter')
  await expect.poll(async () => (await probe.state()).capture!.impairment).toEqual({ profile: 'lossy', seed: 7 })
  await expect(page.getByTestId('impairment-profile')).toHaveValue('lossy')
  await expect(page.getByTestId('impairment-seed')).toHaveValue('7')
  await page.getByRole('button', { name: 'Play' }).click()
  await page.waitForTimeout(1500)
  await screenshot(page, testInfo, 'source-what-if')
  await page.getByTestId('impairment-profile').selectOption('as-recorded')
  await expect.poll(async () => (await probe.state()).capture!.impairment?.profile ?? null).toBeNull()
})

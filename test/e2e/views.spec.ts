import { readFile } from 'node:fs/promises'
import { expect, test, type Page, type TestInfo } from '@playwright/test'
import { startWebServer, type WebServer } from './web-server'

// The views of issue 6 in browser mode against the real engine: echo path, exports, spectrogram readout and
// controls, theme, keyboard shortcuts, A/B listening; screenshots of both themes at 1280×720.
let web: WebServer | undefined
let url = ''

test.beforeAll(async () => {
  web = await startWebServer()
  url = web.url
})

test.afterAll(() => {
  web?.stop()
})

/** Opens the workbench at 1280×720 with the demo loaded (each page has its own engine session). */
async function open(page: Page, theme: 'light' | 'dark' = 'dark'): Promise<void> {
  await page.setViewportSize({ width: 1280, height: 720 })
  await page.addInitScript((t) => localStorage.setItem('voip-workbench.theme', t), theme)
  await page.goto(url)
  await expect(page.getByTestId('capture')).toContainText('demo-call.pcap')
}

async function play(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Play', exact: true }).click()
  await expect(page.getByTestId('position')).toContainText('Playing')
}

/** A number in an element's text (the first one), NaN when none. */
async function numberIn(page: Page, testId: string): Promise<number> {
  const text = (await page.getByTestId(testId).textContent()) ?? ''
  const match = /−?-?\d+(\.\d+)?/.exec(text)
  return match ? Number(match[0].replace('−', '-')) : NaN
}

/** The page's CSS variable (#rrggbb) as [r, g, b]. */
async function cssRgb(page: Page, variable: string): Promise<number[]> {
  const hex = await page.evaluate(
    (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim(),
    variable,
  )
  const match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex)
  if (!match) throw new Error(`${variable} is not a #rrggbb colour: ${hex}`)
  return [1, 2, 3].map((i) => parseInt(match[i]!, 16))
}

/** Fraction of a canvas's pixels further than 12 per channel from `background`. */
async function drawnFraction(page: Page, testId: string, background: number[]): Promise<number> {
  return page.getByTestId(testId).evaluate((element, [r, g, b]) => {
    const canvas = element as HTMLCanvasElement
    const ctx = canvas.getContext('2d')
    if (!ctx || canvas.width === 0 || canvas.height === 0) return 0
    const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height)
    let drawn = 0
    for (let i = 0; i < data.length; i += 4)
      if (Math.abs(data[i]! - r!) > 12 || Math.abs(data[i + 1]! - g!) > 12 || Math.abs(data[i + 2]! - b!) > 12) drawn++
    return drawn / (data.length / 4)
  }, background)
}

async function screenshot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const path = testInfo.outputPath(`${name}.png`)
  await page.screenshot({ path })
  await testInfo.attach(name, { path, contentType: 'image/png' })
}

test('echo path: the filter is drawn and the delay shown agrees with the echo-delay metric', async ({ page }) => {
  await open(page)
  await play(page)
  await expect(page.getByTestId('echo-path-status')).toContainText(/converg/, { timeout: 15_000 })
  const background = await cssRgb(page, '--canvas-bg')
  await expect
    .poll(() => drawnFraction(page, 'echo-path-canvas', background), { timeout: 10_000 })
    .toBeGreaterThan(0.02)
  await expect(page.getByTestId('echo-path-delay')).toHaveText(/^\d+\.\d ms/, { timeout: 10_000 })
  await expect(page.getByTestId('metric-echo-delay')).toHaveText(/^\d+\.\d ms$/)
  // The estimate is stable over the demo: both read within a few ms of each other (they are sampled ~0.5 s apart).
  await expect
    .poll(async () => Math.abs((await numberIn(page, 'echo-path-delay')) - (await numberIn(page, 'metric-echo-delay'))))
    .toBeLessThan(3)
  await expect(page.getByTestId('echo-path-length')).toContainText(/\d+ taps \(\d+ ms\) set/)
})

test('exports: the WAV downloads with a RIFF header and the capture’s duration, the report parses', async ({
  page,
}) => {
  await open(page)
  await page.getByTestId('export-track').selectOption('all')
  const [wav] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-audio').click()])
  expect(wav.suggestedFilename()).toMatch(/\.all\.wav$/)
  const bytes = await readFile((await wav.path())!)
  expect(bytes.subarray(0, 4).toString('latin1')).toBe('RIFF')
  expect(bytes.subarray(8, 12).toString('latin1')).toBe('WAVE')
  // Walk the chunks (a 3-channel file has a WAVE_FORMAT_EXTENSIBLE fmt chunk, so data is not at byte 36).
  const chunks = new Map<string, { offset: number; size: number }>()
  for (
    let offset = 12;
    offset + 8 <= bytes.length;
    offset += 8 + bytes.readUInt32LE(offset + 4) + (bytes.readUInt32LE(offset + 4) & 1)
  )
    chunks.set(bytes.subarray(offset, offset + 4).toString('latin1'), {
      offset: offset + 8,
      size: bytes.readUInt32LE(offset + 4),
    })
  const fmt = chunks.get('fmt ')!
  const data = chunks.get('data')!
  expect(fmt).toBeDefined()
  expect(data).toBeDefined()
  const channels = bytes.readUInt16LE(fmt.offset + 2)
  const sampleRateHz = bytes.readUInt32LE(fmt.offset + 4)
  const blockAlign = bytes.readUInt16LE(fmt.offset + 12)
  expect(channels).toBe(3)
  expect(sampleRateHz).toBe(16000)
  // The demo capture is 10.0 s.
  const durationS = data.size / blockAlign / sampleRateHz
  expect(Math.abs(durationS - 10)).toBeLessThan(0.25)
  await expect(page.locator('.notice')).toContainText('Exported')

  const [report] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-report').click()])
  expect(report.suggestedFilename()).toMatch(/\.json$/)
  const parsed = JSON.parse(await readFile((await report.path())!, 'utf8')) as Record<string, unknown>
  expect(typeof parsed).toBe('object')
  expect(Object.keys(parsed).length).toBeGreaterThan(2)
})

test('spectrograms: the cursor readout gives time, frequency and levels; controls re-colour the view', async ({
  page,
}) => {
  await open(page)
  await play(page)
  await page.waitForTimeout(2500)
  const canvas = page.getByTestId('spectrogram-near')
  const box = (await canvas.boundingBox())!
  await page.mouse.move(box.x + box.width * 0.9, box.y + box.height * 0.7)
  await expect(page.getByTestId('spectrogram-readout')).toHaveText(
    /^\d+\.\d\d s ago · \d+ Hz \(bin \d+\) · before (−?\d+\.\d|< −199) dBFS · after (−?\d+\.\d|< −199) dBFS · (removed|added) \d+\.\d dB$/,
  )
  await page.getByRole('button', { name: 'Pause' }).click()
  await expect(page.getByTestId('position')).toContainText('Paused')
  // Grey map: every pixel of both spectrograms is re-coloured from the kept levels (r = g = b), without new data.
  await page.getByTestId('spectrogram-colour-map').selectOption('grey')
  for (const id of ['spectrogram-near', 'spectrogram-processed'])
    await expect
      .poll(() =>
        page.getByTestId(id).evaluate((element) => {
          const c = element as HTMLCanvasElement
          const { data } = c.getContext('2d')!.getImageData(0, 0, c.width, c.height)
          let coloured = 0
          let bright = 0
          for (let i = 0; i < data.length; i += 4) {
            if (data[i] !== data[i + 1] || data[i + 1] !== data[i + 2]) coloured++
            if (data[i]! > 40) bright++
          }
          return { coloured, bright: bright > 100 }
        }),
      )
      .toEqual({ coloured: 0, bright: true })
  // A narrower range and the log axis repaint too (the picture changes while paused).
  const pixels = () =>
    canvas.evaluate((element) => {
      const c = element as HTMLCanvasElement
      const { data } = c.getContext('2d')!.getImageData(0, 0, c.width, c.height)
      let sum = 0
      for (let i = 0; i < data.length; i += 4) sum += data[i]!
      return sum
    })
  const before = await pixels()
  await page.getByTestId('spectrogram-min-db').selectOption('-60')
  await expect.poll(pixels).toBeLessThan(before)
  const narrowed = await pixels()
  await page.getByTestId('spectrogram-scale').selectOption('log')
  await expect.poll(pixels).not.toBe(narrowed)
})

test('theme: the toggle and T switch the page background and the canvases follow', async ({ page }) => {
  await open(page, 'dark')
  const bodyBackground = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor)
  const dark = await bodyBackground()
  const corner = () =>
    page.getByTestId('waveform-canvas').evaluate((element) => {
      const c = element as HTMLCanvasElement
      return Array.from(
        c
          .getContext('2d')!
          .getImageData(1, c.height - 2, 1, 1)
          .data.subarray(0, 3),
      )
    })
  await expect.poll(corner).toEqual(await cssRgb(page, '--canvas-bg'))
  await page.getByTestId('theme-toggle').click()
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light')
  expect(await bodyBackground()).not.toBe(dark)
  await expect.poll(corner).toEqual(await cssRgb(page, '--canvas-bg'))
  await page.locator('h1').click() // focus out of the button
  await page.keyboard.press('t')
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark')
  expect(await bodyBackground()).toBe(dark)
})

test('shortcuts: Space plays and pauses (also with focus on a button), ? lists them, not while typing', async ({
  page,
}) => {
  await open(page)
  const position = page.getByTestId('position')
  await expect(position).toContainText('Paused')
  await page.locator('h1').click()
  await page.keyboard.press('Space')
  await expect(position).toContainText('Playing')
  await page.keyboard.press('Space')
  await expect(position).toContainText('Paused')
  // After clicking Play, Space pauses (not a second click of the focused Play button).
  await play(page)
  await page.keyboard.press('Space')
  await expect(position).toContainText('Paused')
  // Typing into a field is not a shortcut.
  await page.getByTestId('spectrogram-scale').focus()
  await page.keyboard.press('t')
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark')
  await page.locator('h1').click()
  await page.keyboard.press('?')
  await expect(page.getByTestId('shortcuts-help')).toContainText('Play / pause')
  await page.keyboard.press('Escape')
  await expect(page.getByTestId('shortcuts-help')).toHaveCount(0)
})

test('A/B: the toggle and B switch the source while playing; Listen starts the player', async ({ page }) => {
  await open(page)
  const panel = page.getByTestId('listen-panel')
  await expect(panel).toHaveAttribute('data-ab-source', 'processed')
  await expect(panel).toHaveAttribute('data-ab-status', 'muted')
  await play(page)
  await page.getByTestId('ab-listen').click()
  await expect(panel).toHaveAttribute('data-ab-status', 'playing')
  await page.getByTestId('ab-toggle').click()
  await expect(panel).toHaveAttribute('data-ab-source', 'original')
  await expect(page.getByTestId('ab-source')).toContainText('A · near end as received')
  await page.locator('h1').click()
  await page.keyboard.press('b')
  await expect(panel).toHaveAttribute('data-ab-source', 'processed')
  await expect(panel).toHaveAttribute('data-ab-status', 'playing')
  await page.getByTestId('ab-listen').click()
  await expect(panel).toHaveAttribute('data-ab-status', 'muted')
})

for (const theme of ['dark', 'light'] as const)
  test(`screenshots: the main views in the ${theme} theme at 1280×720`, async ({ page }, testInfo) => {
    await open(page, theme)
    await play(page)
    await expect(page.getByTestId('echo-path-status')).toContainText(/converg/, { timeout: 15_000 })
    await page.waitForTimeout(4000)
    const readout = page.getByTestId('spectrogram-near')
    const box = (await readout.boundingBox())!
    await page.mouse.move(box.x + box.width * 0.8, box.y + box.height * 0.75)
    await screenshot(page, testInfo, `workbench-${theme}-top`)
    await page.getByTestId('echo-path-panel').scrollIntoViewIfNeeded()
    await screenshot(page, testInfo, `workbench-${theme}-echo-path`)
    await page.getByTestId('export-panel').scrollIntoViewIfNeeded()
    await screenshot(page, testInfo, `workbench-${theme}-listen-export`)
    const full = testInfo.outputPath(`workbench-${theme}-full.png`)
    await page.screenshot({ path: full, fullPage: true })
    await testInfo.attach(`workbench-${theme}-full`, { path: full, contentType: 'image/png' })
  })

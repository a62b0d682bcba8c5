import { expect, test, type Page } from '@playwright/test'
import { viridisRgb } from '../../src/renderer/src/live/colormap'
import { startWebServer, type WebServer } from './web-server'

// `npm run web` as a user runs it: it builds, starts the engine, and prints the URL (with its token) on stdout.
let web: WebServer | undefined
let url = ''

test.beforeAll(async () => {
  web = await startWebServer()
  url = web.url
})

/** Fraction of a canvas's pixels whose colour is none of `backgrounds` (each channel within 12). */
async function drawnFraction(page: Page, testId: string, backgrounds: number[][]): Promise<number> {
  return page.getByTestId(testId).evaluate((element, backgrounds) => {
    const canvas = element as HTMLCanvasElement
    const ctx = canvas.getContext('2d')
    if (!ctx || canvas.width === 0 || canvas.height === 0) return 0
    const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height)
    let drawn = 0
    for (let i = 0; i < data.length; i += 4) {
      const isBackground = backgrounds.some(
        ([r, g, b]) =>
          Math.abs(data[i]! - r!) <= 12 && Math.abs(data[i + 1]! - g!) <= 12 && Math.abs(data[i + 2]! - b!) <= 12,
      )
      if (!isBackground) drawn++
    }
    return drawn / (data.length / 4)
  }, backgrounds)
}

/** The page's CSS variables (#rrggbb) as [r, g, b]. */
async function themeRgb(page: Page, variables: string[]): Promise<number[][]> {
  const values = await page.evaluate(
    (names) => names.map((name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim()),
    variables,
  )
  return values.map((hex) => {
    const match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex)
    if (!match) throw new Error(`not a #rrggbb colour: ${hex}`)
    return [1, 2, 3].map((i) => parseInt(match[i]!, 16))
  })
}

test.afterAll(() => {
  web?.stop()
})

test('browser mode: connects, loads the demo, plays, and the live metrics change', async ({ page }) => {
  await page.goto(url)
  await expect(page.getByTestId('connection')).toHaveText(/Connected · browser mode · contract v\d+/)
  // The renderer opens the demo when the session has no capture.
  await expect(page.getByTestId('capture')).toContainText('demo-call.pcap')
  await page.getByRole('button', { name: 'Open demo' }).click()
  await expect(page.getByTestId('capture')).toContainText('pcap, 2 RTP streams')
  await page.getByRole('button', { name: 'Play' }).click()
  await expect(page.getByTestId('position')).toContainText('Playing')
  const frame = page.getByTestId('metric-frame')
  await expect(frame).toHaveText(/^\d+$/)
  const first = Number(await frame.textContent())
  await expect.poll(async () => Number(await frame.textContent()), { timeout: 10_000 }).toBeGreaterThan(first + 10)
  await expect(page.getByTestId('metric-erle')).toHaveText(/^-?\d+\.\d dB$/)
  await expect(page.getByTestId('metric-noise')).toHaveText(/^-?\d+\.\d dB$/)
})

test('browser mode: a corrupt capture shows an error banner and the stream goes on', async ({ page }) => {
  await page.goto(url)
  await expect(page.getByTestId('capture')).toContainText('demo-call.pcap')
  await page.getByRole('button', { name: 'Play' }).click()
  const frame = page.getByTestId('metric-frame')
  await expect(frame).toHaveText(/^\d+$/)
  await page.getByTestId('file-input').setInputFiles({
    name: 'broken.wav',
    mimeType: 'audio/wav',
    buffer: Buffer.from('RIFF\u0000\u0000\u0000\u0000WAVEjunkjunkjunk'),
  })
  await expect(page.getByTestId('error-banner')).toContainText('broken.wav')
  await expect(page.getByTestId('capture')).toContainText('demo-call.pcap')
  const before = Number(await frame.textContent())
  await expect.poll(async () => Number(await frame.textContent()), { timeout: 10_000 }).toBeGreaterThan(before)
})

test('browser mode: playing the demo draws the waveforms and both spectrograms', async ({ page }, testInfo) => {
  await page.setViewportSize({ width: 1280, height: 900 })
  await page.goto(url)
  await expect(page.getByTestId('capture')).toContainText('demo-call.pcap')
  // The engine session outlives the page: stop it at the start, then a fresh page has empty rings.
  await page.getByRole('button', { name: 'Pause' }).click()
  await page.getByRole('button', { name: 'To start' }).click()
  await expect(page.getByTestId('position')).toContainText('Paused')
  await page.reload()
  await expect(page.getByTestId('capture')).toContainText('demo-call.pcap')
  // The waveform canvas's background and lane axes: the theme's --canvas-bg and --canvas-axis.
  const waveformBackgrounds = await themeRgb(page, ['--canvas-bg', '--canvas-axis'])
  const spectrogramBackground = [viridisRgb(0)]
  // Before playing, nothing but the background (and the lane axes and labels) is drawn.
  await expect.poll(() => drawnFraction(page, 'waveform-canvas', waveformBackgrounds)).toBeLessThan(0.01)
  for (const id of ['spectrogram-near', 'spectrogram-processed'])
    await expect.poll(() => drawnFraction(page, id, spectrogramBackground)).toBeLessThan(0.01)
  await page.getByTestId('waveform-window').selectOption('5')
  // The demo's processed output is the caller's noise after echo cancellation and noise reduction (−80…−105 dBFS):
  // a range down to −140 dBFS shows it, as an engineer would set it to look at what is left.
  await page.getByTestId('spectrogram-min-db').selectOption('-140')
  await page.getByRole('button', { name: 'Play' }).click()
  await expect(page.getByTestId('position')).toContainText('Playing')
  await expect
    .poll(() => drawnFraction(page, 'waveform-canvas', waveformBackgrounds), { timeout: 15_000 })
    .toBeGreaterThan(0.05)
  for (const id of ['spectrogram-near', 'spectrogram-processed'])
    await expect.poll(() => drawnFraction(page, id, spectrogramBackground), { timeout: 15_000 }).toBeGreaterThan(0.05)
  await page.screenshot({ path: testInfo.outputPath('workbench-playing.png'), fullPage: true })
  await testInfo.attach('workbench-playing', { path: testInfo.outputPath('workbench-playing.png') })
})

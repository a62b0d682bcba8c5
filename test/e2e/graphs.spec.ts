import { expect, test, type Page, type TestInfo } from '@playwright/test'
import { startWebServer, type WebServer } from './web-server'

// The network and latency graphs and the meters, as a support engineer sees them while the demo plays (browser mode,
// `npm run web` as a user runs it; WORKBENCH_OUT_DIR builds elsewhere for parallel runs).
let web: WebServer | undefined
let url = ''

test.beforeAll(async () => {
  web = await startWebServer()
  url = web.url
})

test.afterAll(() => {
  web?.stop()
})

/** The demo from its start, looping, playing at 1×. */
async function playDemo(page: Page): Promise<void> {
  await page.setViewportSize({ width: 1280, height: 720 })
  await page.goto(url)
  await expect(page.getByTestId('connection')).toHaveText(/Connected/)
  await page.getByRole('button', { name: 'Open demo' }).click()
  await expect(page.getByTestId('capture')).toContainText('demo-call.pcap')
  // The checkbox follows the engine's state (the click sends setLoop; the state comes back).
  const loop = page.getByRole('checkbox', { name: 'Loop' })
  if (!(await loop.isChecked())) await loop.click()
  await expect(loop).toBeChecked()
  await page.getByRole('button', { name: 'Play' }).click()
  await expect(page.getByTestId('position')).toContainText('Playing')
}

const points = async (page: Page, testId: string): Promise<number> =>
  Number(await page.getByTestId(testId).getAttribute('data-points'))

async function screenshotPanels(page: Page, testInfo: TestInfo): Promise<void> {
  const theme = await page.evaluate(() => document.documentElement.dataset['theme'] ?? 'unknown')
  for (const id of ['network-panel', 'latency-panel', 'metrics']) {
    const path = testInfo.outputPath(`${id}-${theme}.png`)
    await page.getByTestId(id).screenshot({ path })
    await testInfo.attach(`${id}-${theme}`, { path })
  }
  await page.getByTestId('network-panel').evaluate((element) => element.scrollIntoView({ block: 'start' }))
  const path = testInfo.outputPath(`graphs-1280x720-${theme}.png`)
  await page.screenshot({ path })
  await testInfo.attach(`graphs-1280x720-${theme}`, { path })
}

test('graphs: the jitter, buffer, event and latency charts fill with points while the demo plays', async ({ page }) => {
  await playDemo(page)
  // Charts are drawn while on screen (1280x720 shows the waveforms first): scroll to them as a user does.
  await page.getByTestId('network-panel').evaluate((element) => element.scrollIntoView({ block: 'start' }))
  for (const id of ['jitter-chart', 'buffer-chart', 'events-chart'])
    await expect.poll(() => points(page, id), { timeout: 15_000, message: `${id} has points` }).toBeGreaterThan(50)
  await page.getByTestId('latency-chart').scrollIntoViewIfNeeded()
  await expect.poll(() => points(page, 'latency-chart'), { timeout: 15_000 }).toBeGreaterThan(50)
  await page.getByTestId('jitter-chart').scrollIntoViewIfNeeded()
  // The jitter graph keeps drawing: more points as the window fills (the window is 10 s: up to 500 frames).
  const before = await points(page, 'jitter-chart')
  if (before < 450) await expect.poll(() => points(page, 'jitter-chart'), { timeout: 10_000 }).toBeGreaterThan(before)
  // Every chart is a uPlot canvas (axes with units drawn on it) with a legend naming its series.
  await expect(page.getByTestId('jitter-chart').locator('canvas')).toHaveCount(1)
  await expect(page.getByTestId('jitter-chart')).toContainText('Interarrival jitter')
  await expect(page.getByTestId('buffer-chart')).toContainText('Target')
  await expect(page.getByTestId('buffer-chart')).toContainText('Actual delay')
  await expect(page.getByTestId('events-chart')).toContainText('Loss rate')
  await expect(page.getByTestId('network-summary')).toHaveText(/^Last 10 s: \d+ late, \d+ lost packets, \d+ concealed/)
})

test('graphs: the meters show numbers and the health line says what is wrong', async ({ page }) => {
  await playDemo(page)
  await expect(page.getByTestId('metric-frame')).toHaveText(/^\d+$/)
  await expect(page.getByTestId('metric-erle')).toHaveText(/^-?\d+\.\d dB$/)
  await expect(page.getByTestId('metric-noise')).toHaveText(/^-?\d+\.\d dB$/)
  await expect(page.getByTestId('metric-echo-delay')).toHaveText(/^-?\d+\.\d ms$/)
  // The canceller's own figures once it has found the demo's echo path: the ERLE's median with its spread over far
  // single talk, the linear filter's share, ERL, and how sure the delay estimator is.
  await expect(page.getByTestId('metric-erle-median')).toHaveText(/^-?\d+\.\d dB \(-?\d+ – -?\d+\)$/, {
    timeout: 15_000,
  })
  await expect(page.getByTestId('metric-linear-erle')).toHaveText(/^-?\d+\.\d dB$/)
  await expect(page.getByTestId('metric-erl')).toHaveText(/^-?\d+\.\d dB$/)
  await expect(page.getByTestId('metric-echo-confidence')).toHaveText(/^\d+ %$/)
  await expect(page.getByTestId('metric-noise-floor')).toHaveText(/^-?\d+\.\d dBFS$/)
  await expect(page.getByTestId('metric-input-level')).toHaveText(/^-?\d+\.\d dBFS$/)
  await expect(page.getByTestId('metric-time-echo')).toHaveText(/^\d+ µs · \d+\.\d %$/)
  await expect(page.getByTestId('metric-processing-total')).toHaveText(/^\d+ µs = \d+\.\d % of 20 ms$/)
  await expect(page.getByTestId('metric-lost')).toHaveText(/^\d+$/)
  await expect(page.getByTestId('metric-late')).toHaveText(/^\d+$/)
  // The health line: a status, and for anything but healthy the engine's reasons in words.
  const health = page.getByTestId('metric-health')
  await expect(health).toBeVisible()
  await expect(health).toHaveText(/^(healthy|degraded: .{10,}|unhealthy: .{10,})$/)
})

test('graphs: the latency budget shows the stages summing to the total, against the limit', async ({ page }) => {
  await playDemo(page)
  await expect(page.getByTestId('latency-limit')).toContainText('200 ms limit')
  const ids = ['jitter-buffer', 'network', 'echo', 'noise', 'framing']
  // Read every number in one go (one React render, one snapshot).
  const read = (): Promise<{ stages: number[]; total: number }> =>
    page.evaluate((ids) => {
      const ms = (id: string): number => {
        const text = document.querySelector(`[data-testid="${id}"]`)?.textContent ?? ''
        return /^-?\d+\.\d ms$/.test(text) ? Number.parseFloat(text) : NaN
      }
      return { stages: ids.map((id) => ms(`latency-stage-${id}`)), total: ms('latency-total') }
    }, ids)
  await expect.poll(async () => (await read()).total, { timeout: 15_000 }).toBeGreaterThan(20)
  for (let i = 0; i < 3; i++) {
    const { stages, total } = await read()
    for (const value of stages) expect(value).toBeGreaterThanOrEqual(0)
    expect(Math.abs(stages.reduce((a, b) => a + b, 0) - total)).toBeLessThanOrEqual(1)
    await page.waitForTimeout(300)
  }
  // The bar has one segment per stage and the limit marker.
  await expect(page.getByTestId('latency-bar').locator('div')).toHaveCount(ids.length + 1)
})

test('graphs: screenshots of the graphs and meters at 1280x720, in both themes', async ({ page }, testInfo) => {
  await playDemo(page)
  await page.getByTestId('network-panel').evaluate((element) => element.scrollIntoView({ block: 'start' }))
  // Most of the 10 s window filled (the demo is 10.3 s and loops: the rings start afresh at the loop), then paused so
  // both themes show the same frames.
  await expect.poll(() => points(page, 'jitter-chart'), { timeout: 20_000 }).toBeGreaterThan(400)
  await page.getByRole('button', { name: 'Pause' }).click()
  await expect(page.getByTestId('position')).toContainText('Paused')
  await page.waitForTimeout(300)
  await screenshotPanels(page, testInfo)
  const first = await page.evaluate(() => document.documentElement.dataset['theme'])
  await page.getByTestId('theme-toggle').click()
  await expect.poll(() => page.evaluate(() => document.documentElement.dataset['theme'])).not.toBe(first)
  // The charts are rebuilt in the new theme's colours on the next frames.
  await page.waitForTimeout(500)
  await screenshotPanels(page, testInfo)
})

import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { chromium, expect, test, type Page } from '@playwright/test'
import { readWav } from '../../src/main/capture'
import { startWebServer, type WebServer } from './web-server'

// Live mode in browser mode, on Chromium's fake capture device fed from a WAV (a noisy room: speech plus steady
// noise, test/fixtures/make-live-fixtures.sh). `npm run web` builds and serves the app as a user runs it.
const FIXTURE = fileURLToPath(new URL('../fixtures/live-noisy-speech-16k.wav', import.meta.url))
const systemChromium = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium'
const BASE_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
]
const FAKE_DEVICE = ['--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${FIXTURE}`]
const launch = (args: string[]) => ({
  launchOptions: { executablePath: existsSync(systemChromium) ? systemChromium : undefined, args },
})

let web: WebServer | undefined
let url = ''

test.beforeAll(async () => {
  expect(existsSync(FIXTURE)).toBe(true) // a missing file would give the fake device silence
  web = await startWebServer()
  url = web.url
})

test.afterAll(() => {
  web?.stop()
})

const number = async (page: Page, testId: string): Promise<number> =>
  Number.parseFloat((await page.getByTestId(testId).textContent()) ?? 'NaN')

/** Fraction of the waveform canvas's near-end lane (its top third) drawn in the near-end colour. */
async function nearLaneInk(page: Page): Promise<number> {
  return page.getByTestId('waveform-canvas').evaluate((element) => {
    const canvas = element as HTMLCanvasElement
    const ctx = canvas.getContext('2d')
    if (!ctx || canvas.width === 0 || canvas.height === 0) return 0
    const hex = getComputedStyle(document.documentElement).getPropertyValue('--near').trim()
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16))
    const lane = Math.floor(canvas.height / 3)
    const { data } = ctx.getImageData(0, 0, canvas.width, lane)
    let ink = 0
    for (let i = 0; i < data.length; i += 4)
      if (Math.abs(data[i]! - r!) <= 40 && Math.abs(data[i + 1]! - g!) <= 40 && Math.abs(data[i + 2]! - b!) <= 40) ink++
    return ink / (data.length / 4)
  })
}

test.use(launch([...BASE_ARGS, ...FAKE_DEVICE, '--use-fake-ui-for-media-stream']))

test.describe('live mode on the fake microphone', () => {
  test('frames add up to the captured audio, the noise is attenuated, the waveform shows the input, and the recording replays with the same samples', async ({
    page,
  }, testInfo) => {
    await page.setViewportSize({ width: 1280, height: 1000 })
    await page.goto(url)
    await expect(page.getByTestId('connection')).toContainText('browser mode')
    await page.getByTestId('waveform-window').selectOption('5')
    const inkBefore = await nearLaneInk(page)
    await page.getByTestId('live-record-on-start').check()
    // The monitor plays the processed near end on the default output (another AudioContext, at the tap's rate).
    await page.getByTestId('live-monitor').check()
    await page.getByTestId('live-start').click()
    await expect(page.getByTestId('live-status')).toHaveText('Live · recording')
    await expect(page.getByTestId('live-rates')).toHaveText(/^\d{4,6} \/ \d{4,6} Hz$/)
    // 5 s of live audio.
    await expect.poll(() => number(page, 'live-frames'), { timeout: 30_000 }).toBeGreaterThan(250)
    // The input is not silent (a missing fixture gives the fake device silence: −120 dBFS).
    await expect.poll(() => number(page, 'metric-input-level')).toBeGreaterThan(-70)
    // The noise reducer removes something of the room noise.
    await expect.poll(() => number(page, 'metric-noise'), { timeout: 10_000 }).toBeGreaterThan(0)
    // The waveform's near lane shows the microphone.
    await expect.poll(() => nearLaneInk(page), { timeout: 10_000 }).toBeGreaterThan(inkBefore + 0.02)
    await expect(page.getByTestId('live-latency')).toHaveText(/^\d+\.\d \/ \d+\.\d \/ \d+\.\d ms$/)
    await page.screenshot({ path: testInfo.outputPath('live-mode.png'), fullPage: true })
    await testInfo.attach('live-mode', { path: testInfo.outputPath('live-mode.png') })

    await expect(page.getByTestId('error-banner')).toHaveCount(0)
    await page.getByTestId('live-stop').click()
    await expect(page.getByTestId('live-status')).toHaveText('Stopped.')
    const sent = await number(page, 'live-frames-sent')
    const processed = await number(page, 'live-frames')
    const capturedS = await number(page, 'live-captured')
    // Every frame the worklet cut reached the engine and was processed…
    expect(processed).toBe(sent)
    expect(await number(page, 'live-missing')).toBe(0)
    // …and the frames add up to the audio captured on the device clock (20 ms each).
    expect(Math.abs(sent * 0.02 - capturedS)).toBeLessThanOrEqual(0.02)

    // The recording: as many frames as were processed, and its capture WAV has that many samples at 16 kHz.
    await expect(page.getByTestId('live-last-recording-frames')).toHaveText(String(processed))
    const downloads: { name: string; path: string }[] = []
    page.on('download', (download) => {
      void download.path().then((path) => downloads.push({ name: download.suggestedFilename(), path }))
    })
    await page.getByTestId('live-download').click()
    await expect.poll(() => downloads.length).toBe(3)
    const captureFile = downloads.find((d) => d.name.endsWith('.wav') && !d.name.endsWith('.processed.wav'))!
    const wav = readWav(readFileSync(captureFile.path), captureFile.name)
    expect(wav).toMatchObject({ sampleRateHz: 16000, channelCount: 2 })
    expect(Math.abs(wav.frameCount - processed * 320)).toBeLessThanOrEqual(320)
    const sidecar = JSON.parse(readFileSync(downloads.find((d) => d.name.endsWith('.json'))!.path, 'utf8'))
    expect(sidecar).toMatchObject({ stopReason: 'stopped by the user', devices: { inputRateHz: expect.any(Number) } })

    // Replay mode: the recording opens as a capture of the same duration and plays.
    await page.getByTestId('live-replay').click()
    await expect(page.getByTestId('capture')).toContainText(captureFile.name)
    // Its duration as shown (in seconds, to one or two decimals) is the frames recorded × 20 ms.
    const shownSeconds = async () =>
      [...((await page.getByTestId('capture').textContent()) ?? '').matchAll(/(\d+(?:\.\d+)?) s\b/g)].map((m) =>
        Number(m[1]),
      )
    await expect.poll(async () => (await shownSeconds()).some((s) => Math.abs(s - processed * 0.02) <= 0.05)).toBe(true)
    await page.getByRole('button', { name: 'Play', exact: true }).click()
    await expect(page.getByTestId('position')).toContainText('Playing')
  })

  test('a microphone unplugged mid-session stops live mode with a message and keeps the recording', async ({
    page,
  }) => {
    // Keep a handle on the stream the page opens, to unplug its track.
    await page.addInitScript(() => {
      const media = navigator.mediaDevices
      const original = media.getUserMedia.bind(media)
      media.getUserMedia = async (constraints) => {
        const stream = await original(constraints)
        ;(window as unknown as { liveStream: MediaStream }).liveStream = stream
        return stream
      }
    })
    await page.goto(url)
    await page.getByTestId('live-record-on-start').check()
    await page.getByTestId('live-start').click()
    await expect(page.getByTestId('live-status')).toHaveText('Live · recording')
    await expect.poll(() => number(page, 'live-frames'), { timeout: 20_000 }).toBeGreaterThan(50)
    // What the browser does when the device goes away: the track ends.
    await page.evaluate(() => {
      const track = (window as unknown as { liveStream: MediaStream }).liveStream.getAudioTracks()[0]!
      track.stop()
      track.dispatchEvent(new Event('ended'))
    })
    await expect(page.getByTestId('error-banner')).toContainText('The microphone was disconnected')
    await expect(page.getByTestId('live-status')).toContainText('The microphone was disconnected')
    await expect(page.getByTestId('live-start')).toBeEnabled()
    await expect(page.getByTestId('live-last-recording')).toBeVisible()
    expect(await number(page, 'live-last-recording-frames')).toBeGreaterThan(50)
  })
})

test.describe('live mode without microphone permission', () => {
  test('permission denied: a clear message, and the session is not left in live mode', async () => {
    // Its own browser, without --use-fake-ui-for-media-stream: the permission prompt is dismissed, as a user refusing it.
    const browser = await chromium.launch(launch([...BASE_ARGS, ...FAKE_DEVICE]).launchOptions)
    try {
      const page = await browser.newPage()
      await page.goto(url)
      await expect(page.getByTestId('capture')).toContainText('demo-call.pcap')
      await page.getByTestId('live-start').click()
      await expect(page.getByTestId('error-banner')).toContainText('Microphone access was denied')
      await expect(page.getByTestId('live-status')).toContainText('Microphone access was denied')
      await expect(page.getByTestId('live-start')).toBeEnabled()
      // The session was not switched to live mode: the replay still plays.
      await page.getByRole('button', { name: 'Play', exact: true }).click()
      await expect(page.getByTestId('position')).toContainText('Playing')
    } finally {
      await browser.close()
    }
  })
})

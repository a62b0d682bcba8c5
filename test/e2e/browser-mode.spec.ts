import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { expect, test } from '@playwright/test'

// `npm run web` as a user runs it: it builds, starts the engine, and prints the URL (with its token) on stdout.
let server: ChildProcess
let url = ''

test.beforeAll(async () => {
  server = spawn(process.execPath, ['scripts/web.mjs', '--no-demo'], { stdio: ['ignore', 'pipe', 'inherit'] })
  url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: server.stdout! })
    lines.on('line', (line) => {
      if (/^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64}$/.test(line)) resolve(line)
    })
    server.once('exit', (code) => reject(new Error(`npm run web exited with ${code} before printing its URL`)))
  })
})

test.afterAll(() => {
  server?.kill('SIGTERM')
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

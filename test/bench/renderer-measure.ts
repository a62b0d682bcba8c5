/**
 * Renderer figures for `npm run bench` (renderer.bench.ts runs this in a child process: the harness is synchronous).
 * Browser mode as a user runs it (`node scripts/web.mjs`: build, engine, URL), Debian's Chromium at 1280x720 through
 * Playwright, the demo replayed at 1× with loop on, every panel mounted; the page is scrolled top → middle → bottom
 * every few seconds so each panel is on screen (and composited) for part of the run. Measured in the page:
 * - frames per second from requestAnimationFrame timestamps (target ≥ 55), the 1st-percentile frame rate and the
 *   frames over 1.5 display intervals (dropped);
 * - long tasks (PerformanceObserver 'longtask', > 50 ms: target none);
 * - the JS heap (CDP Performance.getMetrics, JSHeapUsedSize): after a forced GC at the start and at the end, as a
 *   slope in MB/min (target ~0: flat), plus the slope of a regression over samples every 5 s;
 * - main-thread busy time (CDP TaskDuration) per 20 ms of audio played: usPerFrame, and the real-time factor.
 *
 *   RENDERER_BENCH_S=600 npm run bench -- renderer     (the 10-minute replay; default 30 s)
 *   WORKBENCH_OUT_DIR=/abs/dir                          (build there; default .out-bench)
 *   RENDERER_BENCH_PLAY=0                               (paused: the machine's own baseline)
 *
 * Prints one JSON object on its last line.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { chromium, type CDPSession, type Page } from '@playwright/test'

const DURATION_S = Number(process.env['RENDERER_BENCH_S'] ?? 30)
const WARMUP_S = 3
const SCROLL_EVERY_S = 5
const HEAP_SAMPLE_EVERY_S = 5
/** RENDERER_BENCH_PLAY=0: the same page paused, a baseline of what the machine itself costs (e.g. when busy). */
const PLAY = process.env['RENDERER_BENCH_PLAY'] !== '0'
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium'
const outDir = resolve(process.env['WORKBENCH_OUT_DIR'] ?? '.out-bench')

if (!(DURATION_S >= 5)) throw new RangeError(`RENDERER_BENCH_S: ${process.env['RENDERER_BENCH_S']} (≥ 5 s)`)

const server = spawn(process.execPath, ['scripts/web.mjs', '--no-demo'], {
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, WORKBENCH_OUT_DIR: outDir },
})
const url = await new Promise<string>((resolveUrl, reject) => {
  createInterface({ input: server.stdout! }).on('line', (line) => {
    if (/^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64}$/.test(line)) resolveUrl(line)
  })
  server.once('exit', (code) => reject(new Error(`scripts/web.mjs exited with ${code} before printing its URL`)))
})

const browser = await chromium.launch({
  executablePath: existsSync(CHROMIUM) ? CHROMIUM : undefined,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--enable-precise-memory-info',
  ],
})

async function metric(cdp: CDPSession, name: string): Promise<number> {
  const { metrics } = await cdp.send('Performance.getMetrics')
  return metrics.find((m) => m.name === name)?.value ?? NaN
}

async function heapAfterGcMB(cdp: CDPSession): Promise<number> {
  await cdp.send('HeapProfiler.collectGarbage')
  return (await metric(cdp, 'JSHeapUsedSize')) / 2 ** 20
}

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length
  const mx = xs.reduce((a, b) => a + b, 0) / n
  const my = ys.reduce((a, b) => a + b, 0) / n
  let sxy = 0
  let sxx = 0
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my)
    sxx += (xs[i]! - mx) ** 2
  }
  return sxx > 0 ? sxy / sxx : 0
}

async function startDemo(page: Page): Promise<void> {
  await page.goto(url)
  await page.getByText(/Connected/).waitFor()
  await page.getByRole('button', { name: 'Open demo' }).click()
  await page.getByTestId('capture').getByText('demo-call.pcap').waitFor()
  const loop = page.getByRole('checkbox', { name: 'Loop' })
  if (!(await loop.isChecked())) await loop.click()
  // The checkbox follows the engine's state: wait for it to come back.
  for (let i = 0; i < 50 && !(await loop.isChecked()); i++) await page.waitForTimeout(100)
  if (!(await loop.isChecked())) throw new Error('loop did not turn on')
  if (!PLAY) return
  await page.getByRole('button', { name: 'Play' }).click()
  await page
    .getByTestId('position')
    .getByText(/Playing/)
    .waitFor()
}

try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } })
  const cdp = await page.context().newCDPSession(page)
  await cdp.send('Performance.enable')
  await startDemo(page)
  await page.waitForTimeout(WARMUP_S * 1000)
  // Before the measurement starts: a forced GC is itself a main-thread pause.
  const heapStartMB = await heapAfterGcMB(cdp)

  // In the page: rAF timestamps into a preallocated array, long tasks from the observer. A string, not a function:
  // tsx would wrap a function's inner functions in a helper the page does not have.
  await page.evaluate(`(() => {
    window.benchFrames = new Float64Array(${Math.ceil(DURATION_S * 250)})
    window.benchCount = 0
    window.benchLong = []
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) window.benchLong.push(entry.duration)
    }).observe({ type: 'longtask' })
    const tick = (now) => {
      if (window.benchCount < window.benchFrames.length) window.benchFrames[window.benchCount++] = now
      requestAnimationFrame(tick)
    }
    requestAnimationFrame(tick)
  })()`)

  const taskStartS = await metric(cdp, 'TaskDuration')
  const startMs = Date.now()
  const sampleTimes: number[] = []
  const sampleHeaps: number[] = []
  const scrollTargets = ['top', 'middle', 'bottom'] as const
  let step = 0
  while ((Date.now() - startMs) / 1000 < DURATION_S) {
    await page.waitForTimeout(1000)
    const elapsedS = (Date.now() - startMs) / 1000
    if (elapsedS >= (sampleTimes.length + 1) * HEAP_SAMPLE_EVERY_S) {
      sampleTimes.push(elapsedS / 60)
      sampleHeaps.push((await metric(cdp, 'JSHeapUsedSize')) / 2 ** 20)
    }
    if (elapsedS >= (step + 1) * SCROLL_EVERY_S) {
      step++
      const target = scrollTargets[step % scrollTargets.length]!
      await page.evaluate(`(() => {
        const max = document.documentElement.scrollHeight - window.innerHeight
        window.scrollTo(0, ${target === 'top' ? 0 : target === 'middle' ? 0.5 : 1} * max)
      })()`)
    }
  }
  const elapsedS = (Date.now() - startMs) / 1000
  const taskS = (await metric(cdp, 'TaskDuration')) - taskStartS
  const { frames, long, playing } = (await page.evaluate(`({
    frames: Array.from(window.benchFrames.subarray(0, window.benchCount)),
    long: window.benchLong,
    playing: document.querySelector('[data-testid=position]')?.textContent ?? '',
  })`)) as { frames: number[]; long: number[]; playing: string }
  const heapEndMB = await heapAfterGcMB(cdp)
  if (PLAY && !/Playing/.test(playing)) throw new Error(`the replay stopped: ${playing}`)

  const intervals = frames.slice(1).map((t, i) => t - frames[i]!)
  const spanMs = frames.at(-1)! - frames[0]!
  const sorted = [...intervals].sort((a, b) => a - b)
  const median = sorted[Math.floor(sorted.length / 2)]!
  const p99 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!
  const audioFrames = (elapsedS * 1000) / 20
  const figures = {
    usPerFrame: (taskS * 1e6) / audioFrames,
    realtimeFactor: elapsedS / taskS,
    fps: ((frames.length - 1) * 1000) / spanMs,
    fpsLow1pct: 1000 / p99,
    droppedFrames: intervals.filter((d) => d > 1.5 * median).length,
    longTasks: long.length,
    longestTaskMs: long.length > 0 ? Math.max(...long) : 0,
    heapStartMB,
    heapEndMB,
    heapSlopeMBPerMin: ((heapEndMB - heapStartMB) * 60) / elapsedS,
    heapSampleSlopeMBPerMin: sampleHeaps.length >= 3 ? slope(sampleTimes, sampleHeaps) : NaN,
    mainThreadBusyPct: (100 * taskS) / elapsedS,
    durationS: elapsedS,
  }
  console.log(JSON.stringify(figures))
} finally {
  await browser.close()
  server.kill('SIGTERM')
}

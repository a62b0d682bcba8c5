/**
 * The workbench's renderer under a 1× replay with every panel mounted (see renderer-measure.ts, run in a child
 * process because it drives a browser): frames per second (target ≥ 55), long tasks over 50 ms (target none), the
 * JS heap's slope after GC (target flat), and main-thread time per 20 ms of audio (usPerFrame / realtimeFactor).
 * RENDERER_BENCH_S sets the replay's length (default 30 s; the memory check is 600).
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Bench, BenchFigures } from './harness'

const SCRIPT = fileURLToPath(new URL('./renderer-measure.ts', import.meta.url))
const DURATION_S = Number(process.env['RENDERER_BENCH_S'] ?? 30)

export const benches: Bench[] = [
  {
    name: 'renderer.ui',
    description: `workbench in Chromium 1280x720, demo at 1× looping ${DURATION_S} s: fps, long tasks, heap slope`,
    frameMs: 20,
    figures(): BenchFigures | null {
      const child = spawnSync(process.execPath, ['--import', 'tsx', SCRIPT], {
        encoding: 'utf8',
        // Build + browser start + the replay.
        timeout: (DURATION_S + 240) * 1000,
      })
      const line = child.stdout.trim().split('\n').at(-1)
      if (child.status !== 0 || !line?.startsWith('{')) {
        console.error(`renderer.ui: ${child.stderr.trim().split('\n').slice(-3).join(' | ') || 'failed'}`)
        return null
      }
      return JSON.parse(line) as BenchFigures
    },
  },
]

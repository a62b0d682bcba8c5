/**
 * Live mode under a browser-mode client (see live-measure.ts, run in a child process because it is asynchronous):
 * 15 s of 48 kHz blocks pushed in real time through the WebSocket and the worker; the added latency from a complete
 * 20 ms block to its processed frame, algorithmic delays included (latencyP50Ms / latencyP99Ms, target p99 < 40 ms),
 * frames pushed and processed (conservation), the mean noise attenuation, and the pipeline's time per frame
 * (usPerFrame / realtimeFactor). LIVE_BENCH_S sets the duration.
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Bench, BenchFigures } from './harness'

const SCRIPT = fileURLToPath(new URL('./live-measure.ts', import.meta.url))

export const benches: Bench[] = [
  {
    name: 'live.latency',
    description: 'live mode, 48 kHz blocks in real time through worker + WebSocket: added latency p50/p99 (ms)',
    frameMs: 20,
    figures(): BenchFigures | null {
      const child = spawnSync(process.execPath, ['--import', 'tsx', SCRIPT], { encoding: 'utf8', timeout: 120_000 })
      const line = child.stdout.trim().split('\n').at(-1)
      if (child.status !== 0 || !line) {
        console.error(`live.latency: ${child.stderr.trim().split('\n').at(-1) ?? 'failed'}`)
        return null
      }
      return JSON.parse(line) as BenchFigures
    },
  },
]

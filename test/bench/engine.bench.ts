/**
 * The engine under a browser-mode client (see engine-measure.ts, run in a child process because it is
 * asynchronous): configure round trip under a live 1× replay (target p99 < 25 ms), main-thread event-loop lag while
 * streaming (target p99 < 10 ms), and tap throughput at 'max' speed (usPerFrame / realtimeFactor: frames delivered
 * to the client, worker and WebSocket included).
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Bench, BenchFigures } from './harness'

const SCRIPT = fileURLToPath(new URL('./engine-measure.ts', import.meta.url))

export const benches: Bench[] = [
  {
    name: 'engine.session',
    description: 'demo replay through worker + WebSocket: tap throughput, configure p99, event-loop lag p99',
    frameMs: 20,
    figures(): BenchFigures | null {
      const child = spawnSync(process.execPath, ['--import', 'tsx', SCRIPT], { encoding: 'utf8', timeout: 120_000 })
      const line = child.stdout.trim().split('\n').at(-1)
      if (child.status !== 0 || !line) {
        console.error(`engine.session: ${child.stderr.trim().split('\n').at(-1) ?? 'failed'}`)
        return null
      }
      return JSON.parse(line) as BenchFigures
    },
  },
]

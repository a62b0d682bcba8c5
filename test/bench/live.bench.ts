/**
 * Live mode under a browser-mode client (see live-measure.ts, run in a child process because it is asynchronous):
 * 15 s of 48 kHz blocks pushed in real time through the WebSocket and the worker; the added latency from a complete
 * 20 ms block to its processed frame, algorithmic delays included (latencyP50Ms / latencyP99Ms, target p99 < 40 ms),
 * frames pushed and processed (conservation), the mean noise attenuation, and the pipeline's time per frame
 * (usPerFrame / realtimeFactor). LIVE_BENCH_S sets the duration.
 * live.push: the engine's own cost per 20 ms block in this thread (48 kHz → 16 kHz for near and far, the pipeline
 * tick, the tap), and the algorithmic delay every block carries (resampler + echo canceller + noise reducer), the
 * floor under the added latency.
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { resampleSignal } from '../../src/main/capture/audio'
import { LiveInput, type LiveHost } from '../../src/main/engine/live'
import { DEFAULT_SETTINGS } from '../../src/shared/config'
import { readWavFixture } from '../helpers/signals'
import type { Bench, BenchFigures } from './harness'

const SCRIPT = fileURLToPath(new URL('./live-measure.ts', import.meta.url))

const BLOCK = 960

/** A LiveInput on a host that drops the tap (no worker, no socket). */
function liveInput(): LiveInput {
  const host: LiveHost = {
    demoDir: '',
    recordingsDir: '',
    sink: { tap: () => undefined, event: () => undefined },
    settings: () => DEFAULT_SETTINGS,
    capture: () => null,
    nextSequence: () => 0,
    enter: () => undefined,
    leave: () => undefined,
    emitState: () => undefined,
    clock: () => performance.now(),
  }
  return new LiveInput(host, { inputRateHz: 48000, outputRateHz: 48000, far: 'bot' }, 'bench')
}

export const benches: Bench[] = [
  {
    name: 'live.push',
    description: 'live block (48 kHz near + far → 16 kHz, pipeline, tap) in this thread; algorithmic delay (ms)',
    frameMs: 20,
    setup() {
      const fixture = readWavFixture('live-noisy-speech-16k.wav')
      const near = Float32Array.from(resampleSignal(fixture.samples, fixture.sampleRateHz, 48000))
      const far = near.map((_, i) => 0.5 * near[(i + 24000) % near.length]!)
      const input = liveInput()
      const frames = 50
      let sequence = 0
      let offset = 0
      return {
        frames,
        run() {
          for (let k = 0; k < frames; k++) {
            if (offset + BLOCK > near.length) offset = 0
            input.push({
              sequence: sequence++,
              near: near.subarray(offset, offset + BLOCK),
              far: far.subarray(offset, offset + BLOCK),
            })
            offset += BLOCK
          }
        },
        extra: () => {
          const latency = input.pipeline.metrics.latency
          return { algorithmicMs: latency.echoMs + latency.noiseMs + input.nearResamplerDelayMs }
        },
      }
    },
  },
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

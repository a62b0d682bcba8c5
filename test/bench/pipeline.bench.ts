import { g711EncodeFloat } from '../../src/dsp/g711'
import { Pipeline } from '../../src/dsp/pipeline'
import { Resampler } from '../../src/dsp/resampler'
import { echoScene } from '../helpers/scenes'
import type { Bench } from './harness'
import { simulatedTrace } from '../helpers/traces'

/**
 * The whole input path per 20 ms frame, as in a call: the caller's audio (the rt250 echo scene's mic, 8 kHz µ-law
 * packets over a 'wifi' network) → decode → jitter buffer → PLC → 8→16 kHz → AEC (1024 taps, suppressor) → NR (0.8)
 * → framing, with the bot's audio as the far-end reference; plus the output path (TTS → 16→8 kHz → µ-law).
 */
export const benches: Bench[] = [
  {
    name: 'pipeline',
    description: 'full input path (network → AEC 1024 → NR → framing) + output path, rt250 call',
    frameMs: 20,
    setup() {
      const scene = echoScene('rt250')
      const frames = Math.floor(scene.mic.length / 320)
      const mic8k = new Float32Array(frames * 160)
      new Resampler({ inputRateHz: 16000, outputRateHz: 8000 }).process(scene.mic, mic8k, frames * 320)
      const payloads = Array.from({ length: frames }, (_, p) => {
        const codes = new Uint8Array(160)
        g711EncodeFloat('ulaw', mic8k.subarray(p * 160, (p + 1) * 160), codes)
        return codes
      })
      const { seqs, timestamps, arrivalMs, indices } = simulatedTrace('wifi', 2, frames)
      const pipeline = new Pipeline()
      const out = new Float32Array(320)
      const codesOut = new Uint8Array(160)
      return {
        frames,
        run() {
          pipeline.reset()
          let next = 0
          for (let f = 0; f < frames; f++) {
            const nowMs = f * 20
            while (next < seqs.length && arrivalMs[next]! <= nowMs) {
              pipeline.pushPacket(payloads[indices[next]!]!, seqs[next]!, timestamps[next]!, arrivalMs[next]!)
              next++
            }
            pipeline.pushOutput(scene.far.subarray(f * 320, (f + 1) * 320))
            pipeline.pullOutput(codesOut)
            pipeline.tick(nowMs, out)
          }
        },
        extra: () => ({
          stateKiB: pipeline.stateBytes / 1024,
          latencyMs: pipeline.metrics.latency.totalMs,
          echoUs: pipeline.metrics.stageMeanUs.echo,
          noiseUs: pipeline.metrics.stageMeanUs.noise,
          networkUs: pipeline.metrics.stageMeanUs.network,
        }),
      }
    },
  },
]

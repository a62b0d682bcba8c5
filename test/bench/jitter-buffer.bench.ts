import { JitterBuffer } from '../../src/dsp/jitter-buffer'
import { FRAME_SAMPLES_8K } from '../../src/dsp/units'
import type { Bench } from './harness'
import { simulatedTrace } from '../helpers/traces'

const PACKETS = 3000 // 60 s of 20 ms packets

export const benches: Bench[] = [
  {
    name: 'jitterBuffer',
    description: "push + playout per 20 ms frame, 60 s 'wifi' trace (seed 1)",
    frameMs: 20,
    setup() {
      const { seqs, timestamps, arrivalMs } = simulatedTrace('wifi', 1, PACKETS)
      const endMs = arrivalMs[arrivalMs.length - 1]! + 500
      const ticks = Math.ceil(endMs / 20)
      const jb = new JitterBuffer({ minDelayMs: 0 })
      const payload = new Float32Array(FRAME_SAMPLES_8K).fill(0.1)
      const out = new Float32Array(FRAME_SAMPLES_8K)
      return {
        frames: ticks,
        run() {
          jb.reset()
          let next = 0
          for (let tick = 0; tick < ticks; tick++) {
            const nowMs = tick * 20
            while (next < seqs.length && arrivalMs[next]! <= nowMs) {
              jb.push(payload, seqs[next]!, timestamps[next]!, arrivalMs[next]!)
              next++
            }
            jb.playout(nowMs, out)
          }
        },
        extra: () => ({
          latePercent: 100 * jb.metrics.lateRate,
          lossPercent: 100 * jb.metrics.lossRate,
          targetMs: jb.metrics.targetDelayMs,
          jitterMs: jb.metrics.jitterMs,
        }),
      }
    },
  },
]

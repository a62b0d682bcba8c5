import { g711EncodeFloat } from '../../src/dsp/g711'
import { NetworkReceiver } from '../../src/dsp/network-receiver'
import { FRAME_SAMPLES_16K, FRAME_SAMPLES_8K } from '../../src/dsp/units'
import type { Bench } from './harness'
import { simulatedTrace } from '../helpers/traces'

const PACKETS = 3000 // 60 s of 20 ms packets

/**
 * The whole network half per 20 ms frame: µ-law decode → jitter buffer push/playout → PLC → resample 8 → 16 kHz,
 * on a 60 s 'wifi' trace (jitter, spikes, some loss, so the PLC conceals now and then).
 */
export const benches: Bench[] = [
  {
    name: 'network',
    description: "decode → jitter buffer → PLC → resample 8→16, 60 s 'wifi' trace",
    frameMs: 20,
    setup() {
      const { seqs, timestamps, arrivalMs, indices } = simulatedTrace('wifi', 1, PACKETS)
      // A speech-like µ-law signal, one payload per packet, encoded before timing.
      const pcm = new Float32Array(PACKETS * FRAME_SAMPLES_8K)
      for (let i = 0; i < pcm.length; i++)
        pcm[i] = 0.3 * Math.sin(i * 0.07) * Math.sin(i * 0.0011) + 0.02 * Math.sin(i * 1.3)
      const codes = new Uint8Array(pcm.length)
      g711EncodeFloat('ulaw', pcm, codes)
      const payloads = Array.from({ length: PACKETS }, (_, p) =>
        codes.subarray(p * FRAME_SAMPLES_8K, (p + 1) * FRAME_SAMPLES_8K),
      )
      const ticks = Math.ceil((arrivalMs[arrivalMs.length - 1]! + 200) / 20)
      const receiver = new NetworkReceiver({ jitterBuffer: { minDelayMs: 0 } })
      const out = new Float32Array(FRAME_SAMPLES_16K)
      return {
        frames: ticks,
        run() {
          receiver.reset()
          let next = 0
          for (let tick = 0; tick < ticks; tick++) {
            const nowMs = tick * 20
            while (next < seqs.length && arrivalMs[next]! <= nowMs) {
              receiver.push(payloads[indices[next]!]!, seqs[next]!, timestamps[next]!, arrivalMs[next]!)
              next++
            }
            receiver.pull(nowMs, out)
          }
        },
        extra: () => ({
          concealedPercent: (100 * receiver.metrics.framesConcealed) / receiver.metrics.framesOut,
          algorithmicDelayMs: receiver.metrics.algorithmicDelayMs,
        }),
      }
    },
  },
]

import { g711DecodeFloat, g711EncodeFloat } from '../../src/dsp/g711'
import { FRAME_SAMPLES_8K } from '../../src/dsp/units'
import type { Bench } from './harness'

const FRAMES = 5000

function speechLike(length: number): Float32Array {
  const out = new Float32Array(length)
  for (let i = 0; i < length; i++) out[i] = 0.3 * Math.sin(i * 0.07) * Math.sin(i * 0.0011) + 0.05 * Math.sin(i * 1.3)
  return out
}

export const benches: Bench[] = [
  {
    name: 'g711.ulaw.decode',
    description: 'µ-law → Float32, 160 samples',
    frameMs: 20,
    setup() {
      const codes = new Uint8Array(FRAMES * FRAME_SAMPLES_8K)
      g711EncodeFloat('ulaw', speechLike(codes.length), codes)
      const out = new Float32Array(FRAME_SAMPLES_8K)
      return {
        frames: FRAMES,
        run() {
          for (let f = 0; f < FRAMES; f++)
            g711DecodeFloat('ulaw', codes.subarray(f * FRAME_SAMPLES_8K, (f + 1) * FRAME_SAMPLES_8K), out)
        },
      }
    },
  },
  {
    name: 'g711.ulaw.encode',
    description: 'Float32 → µ-law, 160 samples',
    frameMs: 20,
    setup() {
      const input = speechLike(FRAMES * FRAME_SAMPLES_8K)
      const out = new Uint8Array(FRAME_SAMPLES_8K)
      return {
        frames: FRAMES,
        run() {
          for (let f = 0; f < FRAMES; f++)
            g711EncodeFloat('ulaw', input.subarray(f * FRAME_SAMPLES_8K, (f + 1) * FRAME_SAMPLES_8K), out)
        },
      }
    },
  },
]

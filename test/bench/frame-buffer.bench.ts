import { FrameBuffer } from '../../src/dsp/frame-buffer'
import { FRAME_SAMPLES_16K } from '../../src/dsp/units'
import type { Bench } from './harness'

const FRAMES = 5000

export const benches: Bench[] = [
  {
    name: 'frameBuffer',
    description: 'write + read of a 320-sample frame',
    frameMs: 20,
    setup() {
      const buffer = new FrameBuffer({ clock: () => 0 })
      const frame = new Float32Array(FRAME_SAMPLES_16K).fill(0.1)
      const out = new Float32Array(FRAME_SAMPLES_16K)
      return {
        frames: FRAMES,
        run() {
          for (let f = 0; f < FRAMES; f++) {
            buffer.write(frame, f * 20)
            buffer.read(out, f * 20 + 20)
          }
        },
      }
    },
  },
]

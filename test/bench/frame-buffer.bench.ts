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
  {
    name: 'frameBuffer.int16',
    description: "append + read of a 320-sample speech-like frame, sampleFormat 'int16' (the pipeline's buffers)",
    frameMs: 20,
    setup() {
      const buffer = new FrameBuffer({ clock: () => 0, sampleFormat: 'int16' })
      const frame = new Float32Array(FRAME_SAMPLES_16K)
      for (let i = 0; i < frame.length; i++) frame[i] = 0.3 * Math.sin(i * 0.07) + 0.05 * Math.sin(i * 1.3)
      const out = new Float32Array(FRAME_SAMPLES_16K)
      return {
        frames: FRAMES,
        run() {
          for (let f = 0; f < FRAMES; f++) {
            buffer.append(frame, f * 20)
            buffer.read(out, f * 20 + 20)
          }
        },
      }
    },
  },
]

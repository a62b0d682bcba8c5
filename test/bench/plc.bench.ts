import { PacketLossConcealer, type PlcMethod } from '../../src/dsp/plc'
import { Random } from '../../src/dsp/random'
import { FRAME_SAMPLES_8K } from '../../src/dsp/units'
import { readFileSync } from 'node:fs'
import type { Bench } from './harness'

const FRAMES = 5000
const LOSS_RATE = 0.05

/**
 * The 8 kHz speech fixture as Float32. A minimal RIFF reader (16-bit PCM mono) instead of readWavFixture: under tsx
 * (plain Node ESM) `import { WaveFile } from 'wavefile'` in test/helpers/signals.ts has no named export.
 */
function readSpeech8k(): Float32Array {
  const bytes = readFileSync(new URL('../fixtures/speech-8k.wav', import.meta.url))
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let offset = 12
  while (offset + 8 <= bytes.length) {
    const id = bytes.toString('ascii', offset, offset + 4)
    const size = view.getUint32(offset + 4, true)
    if (id === 'data') {
      const samples = new Float32Array(size / 2)
      for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(offset + 8 + 2 * i, true) / 32768
      return samples
    }
    offset += 8 + size + (size & 1)
  }
  throw new Error('speech-8k.wav: no data chunk')
}

/** 5000 frames of the 8 kHz speech fixture (looped), each lost with probability 5 % (seeded). */
function plcBench(method: PlcMethod): Bench {
  return {
    name: `plc.${method}`,
    description: `${method} PLC, 160-sample frames of speech, 5 % random loss`,
    frameMs: 20,
    setup() {
      const speech = readSpeech8k()
      const speechFrames = Math.floor(speech.length / FRAME_SAMPLES_8K)
      const frames: Float32Array[] = []
      for (let f = 0; f < FRAMES; f++) {
        const start = (f % speechFrames) * FRAME_SAMPLES_8K
        frames.push(speech.subarray(start, start + FRAME_SAMPLES_8K))
      }
      const random = new Random(5)
      const isLost = frames.map(() => random.next() < LOSS_RATE)
      const plc = new PacketLossConcealer({ method })
      const out = new Float32Array(FRAME_SAMPLES_8K)
      return {
        frames: FRAMES,
        run() {
          for (let f = 0; f < FRAMES; f++) plc.process(isLost[f] ? null : frames[f]!, out)
        },
        extra() {
          // Cost of a received frame far from any loss (the common case), best of 20 loss-free passes.
          let best = Infinity
          for (let r = 0; r < 20; r++) {
            const t0 = performance.now()
            for (let f = 0; f < FRAMES; f++) plc.process(frames[f]!, out)
            best = Math.min(best, performance.now() - t0)
          }
          return { usPerGoodFrame: (best * 1000) / FRAMES, lossRate: LOSS_RATE }
        },
      }
    },
  }
}

export const benches: Bench[] = [plcBench('pitch'), plcBench('spectral')]

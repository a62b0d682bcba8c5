import { PacketLossConcealer, type PlcMethod } from '../../src/dsp/plc'
import { Random } from '../../src/dsp/random'
import { FRAME_SAMPLES_8K } from '../../src/dsp/units'
import { readFileSync } from 'node:fs'
import type { Bench } from './harness'

const FRAMES = 5000
const LOSS_RATE = 0.05
const BURSTY_LOSS_RATE = 0.03
const BURST_FRAMES = 2.5

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

/**
 * 5000 frames of the 8 kHz speech fixture (looped), each lost with probability 5 % (seeded). With lookaheadFrames > 0,
 * 3 % bursty loss (Gilbert–Elliott, mean burst 2.5 frames) instead, and before each lost frame the next received frame
 * within that many frames is offered (offerNext), as NetworkReceiver does from its jitter buffer.
 */
function plcBench(method: PlcMethod, lookaheadFrames = 0): Bench {
  const isBursty = lookaheadFrames > 0
  return {
    name: isBursty ? `plc.${method}.lookahead` : `plc.${method}`,
    description: isBursty
      ? `${method} PLC, 160-sample frames of speech, 3 % bursty loss, next packet offered ${lookaheadFrames} frames ahead`
      : `${method} PLC, 160-sample frames of speech, 5 % random loss`,
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
      const leaveBad = 1 / BURST_FRAMES
      const enterBad = (BURSTY_LOSS_RATE * leaveBad) / (1 - BURSTY_LOSS_RATE)
      let isBad = false
      const isLost = isBursty
        ? frames.map(() => (isBad = isBad ? random.next() >= leaveBad : random.next() < enterBad))
        : frames.map(() => random.next() < LOSS_RATE)
      // Per lost frame: the index of the frame offered (−1: none within reach) and the lost frames before it.
      const offered = new Int32Array(FRAMES).fill(-1)
      for (let f = 0; f < FRAMES; f++) {
        if (!isLost[f]) continue
        let next = f + 1
        while (next < FRAMES && isLost[next]) next++
        if (next < FRAMES && next - f <= lookaheadFrames) offered[f] = next
      }
      const plc = new PacketLossConcealer({ method })
      const out = new Float32Array(FRAME_SAMPLES_8K)
      return {
        frames: FRAMES,
        run() {
          for (let f = 0; f < FRAMES; f++) {
            const next = offered[f]!
            if (next >= 0) plc.offerNext(frames[next]!, next - f - 1)
            plc.process(isLost[f] ? null : frames[f]!, out)
          }
        },
        extra() {
          // Cost of a received frame far from any loss (the common case), best of 20 loss-free passes.
          let best = Infinity
          for (let r = 0; r < 20; r++) {
            const t0 = performance.now()
            for (let f = 0; f < FRAMES; f++) plc.process(frames[f]!, out)
            best = Math.min(best, performance.now() - t0)
          }
          const lossRate = isBursty ? isLost.filter(Boolean).length / FRAMES : LOSS_RATE
          const m = plc.metrics
          const result: Record<string, number> = { usPerGoodFrame: (best * 1000) / FRAMES, lossRate }
          if (isBursty) result.interpolatedShare = m.interpolatedFrames / m.concealedFrames
          return result
        },
      }
    },
  }
}

export const benches: Bench[] = [plcBench('pitch'), plcBench('spectral'), plcBench('pitch', 2)]

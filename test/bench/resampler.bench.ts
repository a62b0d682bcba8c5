import { Resampler } from '../../src/dsp/resampler'
import { FRAME_MS, SAMPLE_RATE_16K } from '../../src/dsp/units'
import { Random } from '../../src/dsp/random'
import type { Bench } from './harness'

/** 20 ms frames per run: 10 s of speech. */
const FRAMES = 500

/**
 * Speech-like test signal at rateHz, FRAMES long: a voiced source (30 harmonics of a 90–210 Hz gliding pitch, shaped
 * by formant-like peaks at 500, 1500 and 2500 Hz) plus a little noise, under a 4 Hz syllabic envelope. Sampled
 * analytically at each rate, so every bench sees the same sound. (The cost of the resampler does not depend on the
 * signal; readWavFixture is not used because wavefile's named export does not load under plain-Node tsx.)
 */
function speechAt(rateHz: number): Float32Array {
  const random = new Random(7)
  const out = new Float32Array((FRAMES * rateHz * FRAME_MS) / 1000)
  let pitchPhase = 0
  for (let i = 0; i < out.length; i++) {
    const t = i / rateHz
    const pitchHz = 150 + 60 * Math.sin(2 * Math.PI * 0.7 * t)
    pitchPhase += (2 * Math.PI * pitchHz) / rateHz
    let voiced = 0
    for (let k = 1; k <= 30; k++) {
      const f = k * pitchHz
      const formants =
        1 / (1 + ((f - 500) / 150) ** 2) + 0.5 / (1 + ((f - 1500) / 200) ** 2) + 0.25 / (1 + ((f - 2500) / 250) ** 2)
      voiced += formants * Math.sin(k * pitchPhase)
    }
    const envelope = 0.5 + 0.5 * Math.sin(2 * Math.PI * 4 * t)
    out[i] = 0.2 * envelope * voiced + 0.01 * random.normal()
  }
  return out
}

function resamplerBench(name: string, inputRateHz: number, outputRateHz: number): Bench {
  return {
    name,
    description: `${inputRateHz / 1000} → ${outputRateHz / 1000} kHz, ${(inputRateHz * FRAME_MS) / 1000} samples in per 20 ms frame, speech`,
    frameMs: FRAME_MS,
    setup() {
      const resampler = new Resampler({ inputRateHz, outputRateHz })
      const frameSamples = (inputRateHz * FRAME_MS) / 1000
      const signal = speechAt(inputRateHz)
      const frames: Float32Array[] = []
      for (let f = 0; f < FRAMES; f++) frames.push(signal.subarray(f * frameSamples, (f + 1) * frameSamples))
      const output = new Float32Array(resampler.maxOutputLength(frameSamples))
      return {
        frames: FRAMES,
        run() {
          for (let f = 0; f < FRAMES; f++) resampler.process(frames[f]!, output)
        },
        extra: () => ({
          delayMs: resampler.delayMs,
          taps: resampler.filterLength,
          tapsPerOutput: resampler.tapsPerPhase,
        }),
      }
    },
  }
}

export const benches: Bench[] = [
  resamplerBench('resampler.8to16', 8000, SAMPLE_RATE_16K),
  resamplerBench('resampler.16to8', SAMPLE_RATE_16K, 8000),
  resamplerBench('resampler.48kto16', 48000, SAMPLE_RATE_16K),
  resamplerBench('resampler.16to48k', SAMPLE_RATE_16K, 48000),
  resamplerBench('resampler.44k1to16', 44100, SAMPLE_RATE_16K),
]

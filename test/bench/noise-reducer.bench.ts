import { NoiseReducer, type NoiseReducerConfig } from '../../src/dsp/noise-reducer'
import { Random } from '../../src/dsp/random'
import { Resampler } from '../../src/dsp/resampler'
import { FRAME_SAMPLES_16K, SAMPLE_RATE_16K } from '../../src/dsp/units'
import type { Bench } from './harness'

/** Frames per timed run: 10 s. */
const FRAMES = 500

/**
 * 10 s of white noise at −40 dBFS with 0.5 s bursts of a voiced-like harmonic tone (150 Hz, 20 harmonics) every
 * second, so the VAD's speech and noise paths and the noise learning all run. (Not the WAV scenes: the bench stays
 * independent of the fixtures.)
 */
function benchSignal(): Float32Array {
  const random = new Random(42)
  const x = new Float32Array(FRAMES * FRAME_SAMPLES_16K)
  for (let i = 0; i < x.length; i++) {
    let v = 0.01 * random.normal()
    if (i % SAMPLE_RATE_16K < SAMPLE_RATE_16K / 2) {
      for (let h = 1; h <= 20; h++) v += (0.05 / h) * Math.sin((2 * Math.PI * 150 * h * i) / SAMPLE_RATE_16K)
    }
    x[i] = v
  }
  return x
}

/** x through 16 → 8 → 16 kHz: a G.711 call's band (nothing above the resampler's 4.6 kHz stopband edge). */
function telephoneBand(x: Float32Array): Float32Array {
  const down = new Resampler({ inputRateHz: 16000, outputRateHz: 8000 })
  const up = new Resampler({ inputRateHz: 8000, outputRateHz: 16000 })
  const narrow = new Float32Array(down.maxOutputLength(x.length))
  const n = down.process(x, narrow)
  const y = new Float32Array(x.length)
  const wide = new Float32Array(up.maxOutputLength(n))
  y.set(wide.subarray(0, Math.min(x.length, up.process(narrow, wide, n))))
  return y
}

function nrBench(name: string, description: string, config: Partial<NoiseReducerConfig>, telephone = false): Bench {
  return {
    name,
    description,
    frameMs: 20,
    setup() {
      const noisy = telephone ? telephoneBand(benchSignal()) : benchSignal()
      const frames = FRAMES
      const reducer = new NoiseReducer(config)
      const out = new Float32Array(FRAME_SAMPLES_16K)
      return {
        frames,
        run() {
          for (let f = 0; f < frames; f++) {
            reducer.process(noisy.subarray(f * FRAME_SAMPLES_16K, (f + 1) * FRAME_SAMPLES_16K), out)
          }
        },
        extra: () => ({ delayMs: (reducer.delaySamples / 16000) * 1000, stateKiB: reducer.stateBytes / 1024 }),
      }
    },
  }
}

export const benches: Bench[] = [
  nrBench('nr.gate', 'noise reducer, spectral gate (stationary), 320-sample frame', { engine: 'gate' }),
  nrBench(
    'nr.gate.telephone',
    'noise reducer, spectral gate, full band, on the bench signal through 16 → 8 → 16 kHz (nr.gate.band4600 without the limit)',
    { engine: 'gate' },
    true,
  ),
  nrBench(
    'nr.gate.band4600',
    "noise reducer, spectral gate with bandwidthHz 4600 on the bench signal through 16 → 8 → 16 kHz (the pipeline's packet sources)",
    { engine: 'gate', bandwidthHz: 4600 },
    true,
  ),
  nrBench('nr.subtract', 'noise reducer, spectral subtraction, 320-sample frame', { engine: 'subtract' }),
  nrBench('nr.gate.nonstationary', 'noise reducer, spectral gate with MCRA noise tracking', {
    engine: 'gate',
    mode: 'nonstationary',
  }),
]

import { EchoCanceller, type EchoCancellerConfig } from '../../src/dsp/echo-canceller'
import { NoiseReducer } from '../../src/dsp/noise-reducer'
import { FRAME_SAMPLES_16K, SAMPLE_RATE_16K } from '../../src/dsp/units'
import { echoScene } from '../helpers/scenes'
import type { Bench } from './harness'

/** Frames per timed run: the whole 20 s scene (the NLMS engine: 2 s). */
const FRAMES = 1000

/**
 * The rt250 echo scene (test/helpers/scenes.ts): TTS speech with its natural pauses through a room with RT60 250 ms
 * behind a 40 ms bulk delay, ERL 12 dB, −55 dBFS mic noise. The canceller's cost depends on the far end's activity
 * (it skips digital silence), so a real far end with pauses gives the average cost of a call.
 */
let signals: { far: Float32Array; mic: Float32Array } | null = null

/** The rt250 scene's first `frames` 20 ms frames, near and far (views; the scene is made once per process). */
function rt250Frames(frames: number): { nearFrames: Float32Array[]; farFrames: Float32Array[] } {
  if (!signals) {
    const scene = echoScene('rt250')
    signals = { far: scene.far, mic: scene.mic }
  }
  const { far, mic } = signals
  const nearFrames: Float32Array[] = []
  const farFrames: Float32Array[] = []
  for (let f = 0; f < frames; f++) {
    nearFrames.push(mic.subarray(f * FRAME_SAMPLES_16K, (f + 1) * FRAME_SAMPLES_16K))
    farFrames.push(far.subarray(f * FRAME_SAMPLES_16K, (f + 1) * FRAME_SAMPLES_16K))
  }
  return { nearFrames, farFrames }
}

function aecBench(name: string, description: string, config: Partial<EchoCancellerConfig>, frames = FRAMES): Bench {
  return {
    name,
    description,
    frameMs: 20,
    setup() {
      const { nearFrames, farFrames } = rt250Frames(frames)
      const aec = new EchoCanceller(config)
      const out = new Float32Array(FRAME_SAMPLES_16K)
      // Converge first: the bench times the steady state, as a call spends most of its time there.
      for (let f = 0; f < frames; f++) aec.process(nearFrames[f]!, farFrames[f]!, out)
      return {
        frames,
        run() {
          for (let f = 0; f < frames; f++) aec.process(nearFrames[f]!, farFrames[f]!, out)
        },
        extra: () => ({
          delayMs: (aec.delaySamples / SAMPLE_RATE_16K) * 1000,
          stateKiB: aec.stateBytes / 1024,
          erleMedianDb: aec.metrics.erleMedianDb,
        }),
      }
    },
  }
}

/**
 * The canceller and the noise reducer in a chain on the rt250 scene, as the pipeline runs them (the noise learnt only
 * from frames the suppressor left untouched): the same work as peer.speexdsp.echo.rt250 (speexdsp's echo canceller
 * and preprocessor), timed like the rows above (steady state, best run).
 */
function chainBench(): Bench {
  return {
    name: 'aec.mdf.1024.nr',
    description: 'echo canceller (MDF 1024 taps, suppressor, delay estimation) → noise reducer (gate, 0.8) on rt250',
    frameMs: 20,
    setup() {
      const frames = FRAMES
      const { nearFrames, farFrames } = rt250Frames(frames)
      const aec = new EchoCanceller({ filterLength: 1024 })
      const nr = new NoiseReducer()
      const out = new Float32Array(FRAME_SAMPLES_16K)
      const run = () => {
        for (let f = 0; f < frames; f++) {
          aec.process(nearFrames[f]!, farFrames[f]!, out)
          nr.process(out, out, undefined, aec.metrics.untouched)
        }
      }
      run() // converged, as the rows above
      return {
        frames,
        run,
        extra: () => ({ erleMedianDb: aec.metrics.erleMedianDb, noiseFloorDb: nr.metrics.noiseFloorDb }),
      }
    },
  }
}

export const benches: Bench[] = [
  aecBench('aec.mdf.1024', 'echo canceller, MDF two-path, 1024 taps, suppressor, delay estimation, 20 ms frame', {
    filterLength: 1024,
  }),
  aecBench('aec.mdf.1024.linear', 'echo canceller, MDF 1024 taps, suppressor off, no delay estimation', {
    filterLength: 1024,
    postFilter: false,
    delayEstimation: false,
  }),
  chainBench(),
  aecBench('aec.mdf.2048', 'echo canceller, MDF two-path, 2048 taps, suppressor, delay estimation', {
    filterLength: 2048,
  }),
  aecBench('aec.mdf.4096', 'echo canceller, MDF two-path, 4096 taps, suppressor, delay estimation', {
    filterLength: 4096,
  }),
  aecBench(
    'aec.nlms.1024',
    'echo canceller, time-domain NLMS (seed fallback), 1024 taps, suppressor',
    { engine: 'nlms', filterLength: 1024 },
    100,
  ),
]

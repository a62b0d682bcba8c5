import { describe, expect, it } from 'vitest'
import { DelayEstimator } from '../../src/dsp/delay-estimator'
import { Random } from '../../src/dsp/random'
import { echoScene } from '../helpers/scenes'
import { readWavFixture, whiteNoise } from '../helpers/signals'

const FRAME = 320

/** Feeds whole signals frame by frame; calls onFrame after each frame. */
function run(
  estimator: DelayEstimator,
  near: Float32Array,
  far: Float32Array,
  onFrame?: (timeS: number) => void,
  frame = FRAME,
): void {
  for (let start = 0; start + frame <= near.length; start += frame) {
    estimator.push(near.subarray(start, start + frame), far.subarray(start, start + frame))
    onFrame?.((start + frame) / estimator.sampleRateHz)
  }
}

/** y[n] = gain·x[n − delay] (delay may be negative) plus white noise. */
function delayed(x: Float32Array, delay: number, gain: number, noise: number, seed: number): Float32Array {
  const random = new Random(seed)
  const y = new Float32Array(x.length)
  for (let n = 0; n < x.length; n++) {
    const m = n - delay
    y[n] = (m >= 0 && m < x.length ? gain * x[m]! : 0) + noise * random.normal()
  }
  return y
}

describe('DelayEstimator', () => {
  it('finds the 40 ms bulk delay of a reverberant room within 2 ms and holds it stable', () => {
    const scene = echoScene('rt250')
    const estimator = new DelayEstimator({ sampleRateHz: 16000, maxDelayMs: 400 })
    let stableAtS = Infinity
    run(estimator, scene.mic, scene.far, (t) => {
      if (estimator.estimate.stable && stableAtS === Infinity) stableAtS = t
    })
    const e = estimator.estimate
    expect(Math.abs(e.delaySamples - scene.bulkDelaySamples)).toBeLessThan(32) // 2 ms at 16 kHz
    expect(e.stable).toBe(true)
    expect(e.nonCausal).toBe(false)
    expect(e.confidence).toBeGreaterThan(0.4)
    expect(stableAtS).toBeLessThan(2)
  })

  it('finds the 120 ms bulk delay of a long tail (RT60 600 ms) within 2 ms', () => {
    const scene = echoScene('longTail')
    const estimator = new DelayEstimator({ sampleRateHz: 16000 })
    run(estimator, scene.mic, scene.far)
    expect(Math.abs(estimator.estimate.delayMs - scene.bulkDelaySamples / 16)).toBeLessThan(2)
    expect(estimator.estimate.stable).toBe(true)
  })

  it('finds delays across the search range, at 8 kHz too', () => {
    const speech = readWavFixture('far-talker-16k.wav').samples.subarray(0, 16000 * 8)
    for (const delayMs of [0, 7, 95, 230, 390]) {
      const mic = delayed(speech, delayMs * 16, 0.25, 3e-4, delayMs)
      const estimator = new DelayEstimator({ sampleRateHz: 16000, maxDelayMs: 400 })
      run(estimator, mic, speech)
      expect(Math.abs(estimator.estimate.delayMs - delayMs)).toBeLessThan(1)
    }
    const speech8k = new Float32Array(speech.length / 2)
    for (let i = 0; i < speech8k.length; i++) speech8k[i] = speech[2 * i]!
    const estimator = new DelayEstimator({ sampleRateHz: 8000 })
    run(estimator, delayed(speech8k, 8 * 150, 0.25, 3e-4, 3), speech8k, undefined, 160)
    expect(Math.abs(estimator.estimate.delayMs - 150)).toBeLessThan(1)
  })

  it('reports a negative (non-causal) delay when the echo arrives before its reference', () => {
    const speech = readWavFixture('far-talker-16k.wav').samples.subarray(0, 16000 * 8)
    const mic = delayed(speech, -30 * 16, 0.25, 3e-4, 11) // the mic hears it 30 ms before the far frame says so
    const estimator = new DelayEstimator({ sampleRateHz: 16000 })
    run(estimator, mic, speech)
    expect(estimator.estimate.delayMs).toBeCloseTo(-30, 0)
    expect(estimator.estimate.nonCausal).toBe(true)
  })

  it('claims no delay between unrelated signals', () => {
    const far = readWavFixture('far-talker-16k.wav').samples.subarray(0, 16000 * 8)
    const near = readWavFixture('near-talker-16k.wav').samples.subarray(0, 16000 * 8)
    const noisy = new Float32Array(near.length)
    const noise = whiteNoise(near.length, 1e-3, 5)
    for (let i = 0; i < near.length; i++) noisy[i] = near[i]! + noise[i]!
    const estimator = new DelayEstimator({ sampleRateHz: 16000 })
    let everStable = false
    run(estimator, noisy, far, () => {
      everStable ||= estimator.estimate.stable
    })
    expect(everStable).toBe(false)
    expect(estimator.estimate.confidence).toBeLessThan(0.25)
  })

  it('measures a 100 ppm clock drift within 30 ppm from the delay slope', () => {
    const scene = echoScene('drift100ppm')
    const estimator = new DelayEstimator({ sampleRateHz: 16000 })
    run(estimator, scene.mic, scene.far)
    expect(estimator.estimate.driftPpm).toBeGreaterThan(70)
    expect(estimator.estimate.driftPpm).toBeLessThan(130)
    // The delay has moved by ~6 ms over the minute: the estimate follows it.
    expect(estimator.estimate.delayMs).toBeGreaterThan(scene.bulkDelaySamples / 16 + 4)
  })

  it('reports no drift without one', () => {
    const scene = echoScene('rt250')
    const estimator = new DelayEstimator({ sampleRateHz: 16000 })
    run(estimator, scene.mic, scene.far)
    expect(Math.abs(estimator.estimate.driftPpm)).toBeLessThan(30)
  })

  it('ignores non-finite input and starts over on reset', () => {
    const scene = echoScene('rt250')
    const estimator = new DelayEstimator({ sampleRateHz: 16000 })
    const bad = new Float32Array(FRAME).fill(NaN)
    bad[3] = Infinity
    for (let i = 0; i < 50; i++) estimator.push(bad, bad)
    run(estimator, scene.mic.subarray(0, 16000 * 6), scene.far.subarray(0, 16000 * 6))
    expect(Number.isFinite(estimator.estimate.delayMs)).toBe(true)
    expect(Math.abs(estimator.estimate.delaySamples - scene.bulkDelaySamples)).toBeLessThan(32)
    estimator.reset()
    expect(estimator.estimate).toMatchObject({ delaySamples: 0, stable: false, updates: 0, driftPpm: 0 })
  })

  it('estimates exactly the same whatever the push sizes, with bad samples as their sanitized values', () => {
    // push() takes 16 kHz input eight samples at a time when it can and sample by sample otherwise: the two paths
    // (and the sanitizing of each sample) must agree to the bit.
    const scene = echoScene('rt250')
    const mic = scene.mic.slice(0, 16000 * 8)
    const far = scene.far.slice(0, 16000 * 8)
    const badMic = mic.slice()
    const badFar = far.slice()
    const random = new Random(7)
    for (let n = 0; n + 3 < mic.length; n += 1 + random.int(0, 399)) {
      const over = 1 + 3 * random.next()
      badMic[n] = random.next() < 0.2 ? NaN : random.next() < 0.5 ? over : -over
      mic[n] = badMic[n]! > 0 ? 1 : badMic[n]! < 0 ? -1 : 0
      badFar[n + 3] = random.next() < 0.5 ? Infinity : -Infinity
      far[n + 3] = 0
    }
    const run = (near: Float32Array, reference: Float32Array, sizes: readonly number[]): number[][] => {
      const estimator = new DelayEstimator({ sampleRateHz: 16000 })
      const trace: number[][] = []
      let nextFrame = FRAME
      for (let start = 0, k = 0; start < near.length; k++) {
        const end = Math.min(near.length, start + sizes[k % sizes.length]!)
        estimator.push(near.subarray(start, end), reference.subarray(start, end))
        start = end
        // The estimate at every frame boundary a push reaches exactly.
        for (; nextFrame < start; nextFrame += FRAME);
        if (start !== nextFrame) continue
        const e = estimator.estimate
        trace.push([start, e.delaySamples, e.confidence, e.driftPpm, e.updates, Number(e.stable), Number(e.nonCausal)])
      }
      return trace
    }
    const frames = run(mic, far, [FRAME])
    expect(frames[frames.length - 1]![4]).toBeGreaterThan(10) // updates
    const agrees = (trace: number[][]): void => {
      expect(trace.length).toBeGreaterThan(5)
      expect(trace).toEqual(frames.filter(([at]) => trace.some(([t]) => t === at)))
    }
    agrees(run(badMic, badFar, [FRAME]))
    agrees(run(badMic, badFar, [37, 4, 1, 318]))
    agrees(run(mic, far, [36, 320, 8, 12]))
    agrees(run(badMic, badFar, [1]))
  })

  it('rejects out-of-range configuration by name', () => {
    expect(() => new DelayEstimator({ sampleRateHz: 22050 })).toThrow(/sampleRateHz/)
    expect(() => new DelayEstimator({ maxDelayMs: 5000 })).toThrow(/maxDelayMs/)
  })
})

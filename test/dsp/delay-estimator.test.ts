import { describe, expect, it } from 'vitest'
import { ComplexFft, DelayEstimator, RealFft } from '../../src/dsp/delay-estimator'
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

describe('ComplexFft', () => {
  it('matches a naive complex DFT for every size from 2 to 512 (radix-8, radix-4 and radix-2 first stages)', () => {
    const random = new Random(11)
    for (let size = 2; size <= 512; size *= 2) {
      const fft = new ComplexFft(size)
      const x = new Float64Array(2 * size)
      for (let i = 0; i < 2 * size; i++) x[i] = random.normal()
      const out = new Float64Array(2 * size)
      fft.transform(out, x)
      let error = 0
      for (let k = 0; k < size; k++) {
        let re = 0
        let im = 0
        for (let t = 0; t < size; t++) {
          const c = Math.cos((2 * Math.PI * k * t) / size)
          const s = Math.sin((2 * Math.PI * k * t) / size)
          re += x[2 * t]! * c + x[2 * t + 1]! * s
          im += x[2 * t + 1]! * c - x[2 * t]! * s
        }
        error = Math.max(error, Math.abs(re - out[2 * k]!), Math.abs(im - out[2 * k + 1]!))
      }
      expect(error, `size ${size}`).toBeLessThan(1e-9 * size)
    }
  })

  it('rejects sizes that are not powers of two', () => {
    expect(() => new ComplexFft(1)).toThrow(/ComplexFft size/)
    expect(() => new ComplexFft(24)).toThrow(RangeError)
  })
})

describe('RealFft', () => {
  it('matches a naive DFT and inverts exactly over a sweep of sizes', () => {
    const random = new Random(7)
    for (const size of [4, 8, 16, 32, 64, 128, 256, 512]) {
      const fft = new RealFft(size)
      const x = new Float64Array(size)
      for (let i = 0; i < size; i++) x[i] = random.normal()
      const spectrum = new Float64Array(size + 2)
      fft.forward(x, spectrum)
      let error = 0
      for (let k = 0; k <= size / 2; k++) {
        let re = 0
        let im = 0
        for (let i = 0; i < size; i++) {
          re += x[i]! * Math.cos((2 * Math.PI * k * i) / size)
          im -= x[i]! * Math.sin((2 * Math.PI * k * i) / size)
        }
        error = Math.max(error, Math.abs(re - spectrum[2 * k]!), Math.abs(im - spectrum[2 * k + 1]!))
      }
      expect(error).toBeLessThan(1e-9 * size)
      const back = new Float64Array(size)
      fft.inverse(spectrum, back)
      for (let i = 0; i < size; i++) expect(back[i]!).toBeCloseTo(x[i]!, 12)
    }
  })

  it('writes and reads spectra at an offset', () => {
    const fft = new RealFft(16)
    const x = Float64Array.from({ length: 16 }, (_, i) => Math.sin(i) + 0.1 * i)
    const packed = new Float64Array(40)
    fft.forward(x, packed, 20)
    const back = new Float64Array(16)
    fft.inverse(packed, back, 20)
    for (let i = 0; i < 16; i++) expect(back[i]!).toBeCloseTo(x[i]!, 12)
  })

  it('rejects sizes that are not powers of two', () => {
    expect(() => new RealFft(12)).toThrow(/RealFft size/)
    expect(() => new RealFft(2)).toThrow(RangeError)
  })
})

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

  it('rejects out-of-range configuration by name', () => {
    expect(() => new DelayEstimator({ sampleRateHz: 22050 })).toThrow(/sampleRateHz/)
    expect(() => new DelayEstimator({ maxDelayMs: 5000 })).toThrow(/maxDelayMs/)
  })
})

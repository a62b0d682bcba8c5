import { describe, expect, it } from 'vitest'
import { EchoCanceller, type EchoCancellerConfig } from '../../src/dsp/echo-canceller'
import { Random } from '../../src/dsp/random'
import { erleDb } from '../helpers/metrics'
import { echoScene, type EchoScene } from '../helpers/scenes'
import { hasNonFinite, readWavFixture } from '../helpers/signals'

const RATE = 16000
const FRAME = 320

/** Runs mic/far through a canceller frame by frame; returns the output (delayed by aec.delaySamples). */
function run(
  aec: EchoCanceller,
  mic: Float32Array,
  far: Float32Array,
  onFrame?: (frame: number) => void,
  frame = FRAME,
): Float32Array {
  const out = new Float32Array(mic.length)
  const buffer = new Float32Array(frame)
  for (let start = 0; start + frame <= mic.length; start += frame) {
    aec.process(mic.subarray(start, start + frame), far.subarray(start, start + frame), buffer)
    out.set(buffer, start)
    onFrame?.(start / frame)
  }
  return out
}

/** ERLE (dB) of out against mic over [fromS, toS), out shifted back by lag. */
function erleOver(mic: Float32Array, out: Float32Array, lag: number, fromS: number, toS: number): number {
  let m = 0
  let o = 0
  for (let i = Math.round(fromS * RATE); i < Math.min(toS * RATE, mic.length - lag); i++) {
    m += mic[i]! * mic[i]!
    o += out[i + lag]! * out[i + lag]!
  }
  return 10 * Math.log10(m / o)
}

/** White-noise far end through a fixed random decaying echo path of `taps` taps behind `delay` samples. */
function whiteNoiseEcho(
  seconds: number,
  taps: number,
  delay: number,
  seed = 1,
): { far: Float32Array; mic: Float32Array } {
  const random = new Random(seed)
  const n = seconds * RATE
  const far = new Float32Array(n)
  for (let i = 0; i < n; i++) far[i] = 0.1 * random.normal()
  const h = new Float64Array(taps)
  for (let i = 0; i < taps; i++) h[i] = 0.3 * random.normal() * Math.exp(-i / (taps / 5))
  const mic = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    let acc = 0
    for (let j = 0; j < taps && j + delay <= i; j++) acc += h[j]! * far[i - delay - j]!
    mic[i] = acc + 1e-4 * random.normal()
  }
  return { far, mic }
}

function sceneErle(scene: EchoScene, config: Partial<EchoCancellerConfig>): { erle: number; aec: EchoCanceller } {
  const aec = new EchoCanceller(config)
  const out = run(aec, scene.mic, scene.far)
  return { erle: erleDb(scene.mic, out, scene.farSingleTalkFrames, 2, aec.delaySamples), aec }
}

describe('EchoCanceller (mdf)', () => {
  it('converges on white noise through a known echo path to a deep cancellation', () => {
    const { far, mic } = whiteNoiseEcho(3, 300, 0)
    const aec = new EchoCanceller({ postFilter: false, delayEstimation: false })
    const out = run(aec, mic, far)
    expect(erleOver(mic, out, aec.delaySamples, 0.5, 1)).toBeGreaterThan(25)
    expect(erleOver(mic, out, aec.delaySamples, 2, 3)).toBeGreaterThan(50)
    expect(aec.metrics.state).toBe('converged')
  })

  it('with the linear filter alone, cancels at least 13 dB of a reverberant room behind a 40 ms delay', () => {
    const { erle, aec } = sceneErle(echoScene('rt250'), { postFilter: false })
    expect(erle).toBeGreaterThan(13)
    expect(aec.metrics.linearErleDb).toBeGreaterThan(10)
  })

  it('compensates the bulk delay: the filter window starts just before the estimated 40 ms', () => {
    const scene = echoScene('rt250')
    const aec = new EchoCanceller({})
    run(aec, scene.mic, scene.far)
    expect(Math.abs(aec.metrics.bulkDelayMs - 40)).toBeLessThan(2)
    expect(aec.metrics.delayStable).toBe(true)
    expect(aec.metrics.compensatedDelayMs).toBeGreaterThan(36)
    expect(aec.metrics.compensatedDelayMs).toBeLessThan(40)
    // The echo path the UI shows peaks at the bulk delay.
    const response = new Float32Array(4096)
    const count = aec.getFilterResponse(response)
    expect(count).toBe(Math.round(aec.metrics.compensatedDelayMs * 16) + aec.filterTaps)
    let peak = 0
    for (let i = 1; i < count; i++) if (Math.abs(response[i]!) > Math.abs(response[peak]!)) peak = i
    expect(Math.abs(peak - scene.bulkDelaySamples)).toBeLessThan(16)
  })

  it('with the suppressor, removes at least 20 dB on far single talk of the rt250 scene', () => {
    const { erle, aec } = sceneErle(echoScene('rt250'), {})
    expect(erle).toBeGreaterThan(20)
    expect(aec.metrics.erleMedianDb).toBeGreaterThan(15)
    expect(aec.metrics.erleMaxDb).toBeGreaterThanOrEqual(aec.metrics.erleMedianDb)
    expect(aec.metrics.erleMinDb).toBeLessThanOrEqual(aec.metrics.erleMedianDb)
    expect(aec.metrics.erlDb).toBeGreaterThan(8)
    expect(aec.metrics.erlDb).toBeLessThan(16)
  })

  it('passes the near end through untouched when the far end is silent', () => {
    const near = readWavFixture('near-talker-16k.wav').samples.subarray(0, RATE * 4)
    const silence = new Float32Array(near.length)
    const aec = new EchoCanceller({})
    const out = run(aec, near, silence)
    const lag = aec.delaySamples
    let maxError = 0
    for (let i = 0; i + lag < near.length - FRAME; i++)
      maxError = Math.max(maxError, Math.abs(out[i + lag]! - near[i]!))
    expect(maxError).toBeLessThan(1e-6)
    expect(Math.abs(erleOver(near, out, lag, 0, 3.9))).toBeLessThan(0.1)
    expect(aec.metrics.state).toBe('idle')
  })

  it('adds at most 10 ms of latency (one 8 ms block at 20 ms frames), and exactly delaySamples', () => {
    for (const frame of [160, 320, 480]) {
      const aec = new EchoCanceller({ frameSamples: frame })
      expect((aec.delaySamples * 1000) / RATE).toBeLessThanOrEqual(10)
      const impulse = new Float32Array(frame * 10)
      impulse[frame + 17] = 0.5
      const out = run(aec, impulse, new Float32Array(impulse.length), undefined, frame)
      expect(out[frame + 17 + aec.delaySamples]).toBeCloseTo(0.5, 6)
    }
    const aec = new EchoCanceller({})
    expect(aec.delaySamples).toBe(aec.blockLength) // 20 ms frames: one block, 8 ms at 16 kHz
    expect(aec.delaySamples).toBe(128)
  })

  it('keeps its DSP state under 200 KB at 1024 taps', () => {
    const aec = new EchoCanceller({ filterLength: 1024 })
    expect(aec.stateBytes).toBeLessThan(200 * 1024)
    expect(aec.stateBytes).toBeGreaterThan(50 * 1024)
  })

  it('never outputs NaN or Infinity on non-finite input, and recovers', () => {
    const { far, mic } = whiteNoiseEcho(2, 100, 0)
    mic[5000] = NaN
    far[7000] = Infinity
    mic.fill(-Infinity, 9000, 9100)
    const aec = new EchoCanceller({})
    const out = run(aec, mic, far)
    expect(hasNonFinite(out)).toBe(false)
    expect(erleOver(mic, out, aec.delaySamples, 1.5, 2)).toBeGreaterThan(20)
  })

  it('rejects out-of-range configuration by field name', () => {
    expect(() => new EchoCanceller({ filterLength: 64 })).toThrow(/filterLength/)
    expect(() => new EchoCanceller({ filterLength: 10000 })).toThrow(/filterLength/)
    expect(() => new EchoCanceller({ sampleRateHz: 44100 })).toThrow(/sampleRateHz/)
    expect(() => new EchoCanceller({ postFilterStrength: 2 })).toThrow(/postFilterStrength/)
    expect(() => new EchoCanceller({ engine: 'speex' as never })).toThrow(/engine/)
    expect(() => new EchoCanceller({ maxBulkDelayMs: 5 })).toThrow(/maxBulkDelayMs/)
    const aec = new EchoCanceller({})
    expect(() => aec.configure({ frameSamples: 0 })).toThrow(/frameSamples/)
    expect(aec.currentConfig.frameSamples).toBe(320)
  })
})

describe('EchoCanceller (nlms)', () => {
  it('converges on white noise through a short echo path', () => {
    const { far, mic } = whiteNoiseEcho(2, 100, 0)
    const aec = new EchoCanceller({ engine: 'nlms', filterLength: 256, postFilter: false, delayEstimation: false })
    const out = run(aec, mic, far)
    expect(erleOver(mic, out, aec.delaySamples, 1.5, 2)).toBeGreaterThan(25)
  })
})

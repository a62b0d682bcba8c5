import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { EchoCanceller, type EchoCancellerConfig } from '../../src/dsp/echo-canceller'
import { Random } from '../../src/dsp/random'
import { Resampler } from '../../src/dsp/resampler'
import { convergenceTimeS, erleDb, sdrDb } from '../helpers/metrics'
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
    onFrame?.(start / frame)
    aec.process(mic.subarray(start, start + frame), far.subarray(start, start + frame), buffer)
    out.set(buffer, start)
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

interface SceneRun {
  scene: EchoScene
  aec: EchoCanceller
  out: Float32Array
  /** ERLE over the far single-talk frames after 2 s (METRICS.md). */
  erle: number
}

function runScene(
  name: Parameters<typeof echoScene>[0],
  config: Partial<EchoCancellerConfig>,
  onFrame?: (frame: number, aec: EchoCanceller) => void,
): SceneRun {
  const scene = echoScene(name)
  const aec = new EchoCanceller(config)
  const out = run(aec, scene.mic, scene.far, onFrame && ((frame) => onFrame(frame, aec)))
  return { scene, aec, out, erle: erleDb(scene.mic, out, scene.farSingleTalkFrames, 2, aec.delaySamples) }
}

/** High-frequency (second difference) energy of x over 1 ms windows starting at `from`, dB. */
function clickProfile(x: Float32Array, from: number, windows: number): number[] {
  const out: number[] = []
  for (let w = 0; w < windows; w++) {
    let e = 0
    for (let i = from + w * 16; i < from + (w + 1) * 16; i++) {
      const d = x[i]! - 2 * x[i - 1]! + x[i - 2]!
      e += d * d
    }
    out.push(10 * Math.log10(e + 1e-14))
  }
  return out
}

describe('EchoCanceller: linear filter (mdf)', () => {
  it('converges on white noise through a known echo path to a deep cancellation', () => {
    const { far, mic } = whiteNoiseEcho(3, 300, 0)
    const aec = new EchoCanceller({ postFilter: false, delayEstimation: false })
    const out = run(aec, mic, far)
    expect(erleOver(mic, out, aec.delaySamples, 0.5, 1)).toBeGreaterThan(25)
    expect(erleOver(mic, out, aec.delaySamples, 2, 3)).toBeGreaterThan(50)
    expect(aec.metrics.state).toBe('converged')
  })

  it('alone (suppressor off), cancels at least 13 dB of a reverberant room behind a 40 ms delay', () => {
    const { erle, aec } = runScene('rt250', { postFilter: false })
    expect(erle).toBeGreaterThan(13)
    expect(aec.metrics.linearErleDb).toBeGreaterThan(10)
  })

  it('compensates the bulk delay: the filter window starts just before the estimated 40 ms', () => {
    const { scene, aec } = runScene('rt250', {})
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

  it('finds a 120 ms bulk delay within 2 ms and cancels a long tail better with 4096 taps than with 1024', () => {
    const short = runScene('longTail', { postFilter: false })
    const long = runScene('longTail', { postFilter: false, filterLength: 4096 })
    expect(Math.abs(short.aec.metrics.bulkDelayMs - 120)).toBeLessThan(2)
    expect(long.aec.filterTaps).toBe(4096)
    expect(long.erle).toBeGreaterThan(short.erle + 3)
  })
})

describe('EchoCanceller: with the residual echo suppressor', () => {
  it('removes at least 28 dB on far single talk of a reverberant room, and 20 dB within 1 s', () => {
    const { scene, aec, out, erle } = runScene('rt250', {})
    expect(erle).toBeGreaterThan(28)
    expect(convergenceTimeS(scene.mic, out, scene.farSingleTalkFrames, 20, 0, aec.delaySamples)).toBeLessThan(1)
    const m = aec.metrics
    expect(m.erleMedianDb).toBeGreaterThan(20)
    expect(m.erleMaxDb).toBeGreaterThanOrEqual(m.erleMedianDb)
    expect(m.erleMinDb).toBeLessThanOrEqual(m.erleMedianDb)
    expect(m.erlDb).toBeGreaterThan(9)
    expect(m.erlDb).toBeLessThan(15)
    expect(m.state).toBe('converged')
  })

  it('removes at least 25 dB of a long tail (RT60 600 ms behind 120 ms) with 1024 taps, 28 dB with 4096', () => {
    expect(runScene('longTail', {}).erle).toBeGreaterThan(25)
    expect(runScene('longTail', { filterLength: 4096 }).erle).toBeGreaterThan(28)
  })

  it('keeps the near talker in double talk and still cancels on far single talk', () => {
    const { scene, aec, out, erle } = runScene('doubleTalk', {})
    const lag = aec.delaySamples
    expect(erle).toBeGreaterThan(28)
    expect(sdrDb(scene.near, out, scene.doubleTalkFrames, lag)).toBeGreaterThan(20)
    expect(sdrDb(scene.near, out, scene.nearOnlyFrames, lag)).toBeGreaterThan(25)
  })

  it('flags double talk on most double-talk frames and almost never on far single talk', () => {
    const scene = echoScene('doubleTalk')
    const doubleTalk = new Set(scene.doubleTalkFrames)
    const singleTalk = new Set(scene.farSingleTalkFrames.filter((f) => f > 150))
    let hits = 0
    let falseAlarms = 0
    const aec = new EchoCanceller({})
    run(aec, scene.mic, scene.far, (frame) => {
      // metrics describe the frame processed just before this one
      if (doubleTalk.has(frame - 1) && aec.metrics.doubleTalk) hits++
      if (singleTalk.has(frame - 1) && aec.metrics.doubleTalk) falseAlarms++
    })
    expect(hits / doubleTalk.size).toBeGreaterThan(0.5)
    expect(falseAlarms / singleTalk.size).toBeLessThan(0.05)
  })

  it('is back to 20 dB within 0.5 s of an echo path change', () => {
    const { scene, aec, out } = runScene('pathChange', {})
    const at = scene.pathChangeAtS!
    const time = convergenceTimeS(scene.mic, out, scene.farSingleTalkFrames, 20, at, aec.delaySamples) - at
    expect(time).toBeLessThan(0.5)
  })

  it('reports a 100 ppm clock drift within 30 ppm', () => {
    const { aec } = runScene('drift100ppm', {})
    expect(Math.abs(aec.metrics.driftPpm - 100)).toBeLessThan(30)
    expect(aec.metrics.bulkDelayMs).toBeGreaterThan(44) // 40 ms + 6 ms of drift over the minute
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
})

describe('EchoCanceller: a band-limited near end (nearBandwidthHz)', () => {
  it('cancels a G.711-band mic (16 → 8 → 16 kHz) as deeply when it works only below 4.6 kHz', () => {
    const scene = echoScene('rt250')
    const n = scene.mic.length
    const mic8k = new Float32Array(n / 2)
    const mic = new Float32Array(n)
    new Resampler({ inputRateHz: 16000, outputRateHz: 8000 }).process(scene.mic, mic8k, n)
    new Resampler({ inputRateHz: 8000, outputRateHz: 16000 }).process(mic8k, mic, n / 2)
    const erle = (config: Partial<EchoCancellerConfig>) => {
      const aec = new EchoCanceller(config)
      const out = run(aec, mic, scene.far)
      return erleDb(mic, out, scene.farSingleTalkFrames, 2, aec.delaySamples)
    }
    const full = erle({})
    const band = erle({ nearBandwidthHz: 4600 })
    console.log(`ERLE on a G.711-band mic: full band ${full.toFixed(1)} dB, below 4.6 kHz ${band.toFixed(1)} dB`)
    expect(band).toBeGreaterThan(25)
    expect(band).toBeGreaterThan(full - 1.5)
  })

  it('switches the band at run time without a burst or a non-finite sample', () => {
    const { far, mic } = whiteNoiseEcho(6, 300, 0)
    const aec = new EchoCanceller({ postFilter: false, delayEstimation: false })
    const out = run(aec, mic, far, (frame) => {
      if (frame === 100) aec.configure({ nearBandwidthHz: 4000 })
      if (frame === 150) aec.configure({ nearBandwidthHz: 0 })
    })
    expect(hasNonFinite(out)).toBe(false)
    // White noise fills the whole band: limited to 4 kHz the filter leaves the echo above it (half the power)...
    expect(erleOver(mic, out, aec.delaySamples, 1.5, 2)).toBeGreaterThan(40)
    expect(erleOver(mic, out, aec.delaySamples, 2.5, 3)).toBeLessThan(6)
    // ... and, widened again, converges there as after an echo path change (~1.5 s without the suppressor).
    expect(erleOver(mic, out, aec.delaySamples, 5.5, 6)).toBeGreaterThan(30)
  })
})

describe('EchoCanceller: hot reconfiguration', () => {
  it('keeps the converged taps when the filter length grows or shrinks', () => {
    const scene = echoScene('rt250')
    const grow = new EchoCanceller({})
    const before = new Float32Array(8192)
    const after = new Float32Array(8192)
    let taps = 0
    run(grow, scene.mic.subarray(0, RATE * 6), scene.far.subarray(0, RATE * 6))
    taps = grow.getFilterResponse(before)
    grow.configure({ filterLength: 2048 })
    expect(grow.filterTaps).toBe(2048)
    expect(grow.getFilterResponse(after)).toBe(taps + 1024)
    for (let i = 0; i < taps; i++) expect(after[i]!).toBeCloseTo(before[i]!, 6)
    for (let i = taps; i < taps + 1024; i++) expect(Math.abs(after[i]!)).toBe(0)
    grow.configure({ filterLength: 512 })
    expect(grow.getFilterResponse(after)).toBe(taps - 512)
    for (let i = 0; i < taps - 512; i++) expect(after[i]!).toBeCloseTo(before[i]!, 6)
  })

  it('changes the filter length mid-call without losing the cancellation', () => {
    const reference = runScene('rt250', {})
    for (const filterLength of [2048, 512]) {
      const changed = runScene('rt250', {}, (frame, aec) => {
        if (frame === 300) aec.configure({ filterLength })
      })
      const lag = changed.aec.delaySamples
      // The second after the change stays within a few dB of the uninterrupted run.
      expect(erleOver(changed.scene.mic, changed.out, lag, 6, 7)).toBeGreaterThan(
        erleOver(reference.scene.mic, reference.out, lag, 6, 7) - 6,
      )
    }
  })

  it('switches engines (mdf → nlms → mdf) without a burst of echo or a click', () => {
    const scene = echoScene('rt250')
    const mic = scene.mic.subarray(0, RATE * 8)
    const far = scene.far.subarray(0, RATE * 8)
    const aec = new EchoCanceller({})
    const out = run(aec, mic, far, (frame) => {
      if (frame === 300) aec.configure({ engine: 'nlms' })
      if (frame === 350) aec.configure({ engine: 'mdf' })
    })
    const lag = aec.delaySamples
    expect(hasNonFinite(out)).toBe(false)
    // The NLMS inherits the converged taps: no re-convergence burst after either switch.
    expect(erleOver(mic, out, lag, 6, 6.5)).toBeGreaterThan(15)
    expect(erleOver(mic, out, lag, 7, 7.5)).toBeGreaterThan(15)
    expect(aec.metrics.state).toBe('converged')
  })

  it('toggles the suppressor with a ramp: no click, no non-finite sample', () => {
    const on = runScene('rt250', {}).out
    const off = runScene('rt250', { postFilter: false }).out
    for (const [first, second] of [
      [false, true],
      [true, false],
    ] as const) {
      const toggled = runScene('rt250', { postFilter: first }, (frame, aec) => {
        if (frame === 300) aec.configure({ postFilter: second })
      }).out
      expect(hasNonFinite(toggled)).toBe(false)
      const at = 300 * FRAME
      const t = clickProfile(toggled, at, 60)
      const a = clickProfile(on, at, 60)
      const b = clickProfile(off, at, 60)
      for (let w = 0; w < t.length; w++) expect(t[w]!).toBeLessThan(Math.max(a[w]!, b[w]!) + 3)
    }
  })
})

describe('EchoCanceller: robustness', () => {
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

  it('property: any input (silence, full-scale squares, DC, noise, NaN/Infinity) and echo path moves give finite output no louder than the mic + 1 dB', () => {
    const kinds = ['silence', 'square', 'dc', 'noise', 'bad', 'speech'] as const
    const speech = readWavFixture('far-talker-16k.wav').samples
    const make = (kind: (typeof kinds)[number], n: number, seed: number, level: number): Float32Array => {
      const random = new Random(seed)
      const x = new Float32Array(n)
      const offset = random.int(0, speech.length - n - 1)
      const period = random.int(8, 400)
      for (let i = 0; i < n; i++) {
        if (kind === 'square') x[i] = i % period < period / 2 ? level : -level
        else if (kind === 'dc') x[i] = level
        else if (kind === 'noise') x[i] = level * random.normal()
        else if (kind === 'speech') x[i] = speech[offset + i]! * level * 2
        else if (kind === 'bad') x[i] = random.next() < 0.01 ? [NaN, Infinity, -Infinity, 3][random.int(0, 3)]! : 0.1
      }
      return x
    }
    fc.assert(
      fc.property(
        fc.constantFrom(...kinds),
        fc.constantFrom(...kinds),
        fc.integer({ min: 1, max: 1000 }),
        fc.double({ min: 0.001, max: 1, noNaN: true }),
        fc.double({ min: 0.001, max: 1, noNaN: true }),
        fc.constantFrom(160, 320, 480),
        fc.constantFrom(128, 1024, 2048),
        fc.constantFrom<'mdf' | 'nlms'>('mdf', 'mdf', 'nlms'),
        // shiftEchoPath calls (a jitter buffer's moves, and nonsense) before some frames
        fc.array(
          fc.tuple(fc.integer({ min: 0, max: 39 }), fc.constantFrom(-320, 320, -6400, 6400, 0.5, NaN, Infinity, -1e9)),
          { maxLength: 4 },
        ),
        (nearKind, farKind, seed, nearLevel, farLevel, frameSamples, filterLength, engine, shifts) => {
          const n = frameSamples * 40
          const near = make(nearKind, n, seed, nearLevel)
          const far = make(farKind, n, seed + 1, farLevel)
          const aec = new EchoCanceller({ frameSamples, filterLength: engine === 'nlms' ? 128 : filterLength, engine })
          const out = run(
            aec,
            near,
            far,
            (frame) => {
              for (const [at, samples] of shifts) if (at === frame) aec.shiftEchoPath(samples)
            },
            frameSamples,
          )
          expect(hasNonFinite(out)).toBe(false)
          // Never louder than the (sanitized) mic over the run, by more than 1 dB.
          const lag = aec.delaySamples
          let micEnergy = 0
          let outEnergy = 0
          for (let i = 0; i + lag < n - frameSamples; i++) {
            const v = near[i]!
            const m = Number.isFinite(v) ? Math.max(-1, Math.min(1, v)) : 0
            micEnergy += m * m
            outEnergy += out[i + lag]! * out[i + lag]!
          }
          expect(outEnergy).toBeLessThanOrEqual(micEnergy * 10 ** 0.1 + 1e-9)
          expect(Number.isFinite(aec.metrics.erleDb)).toBe(true)
        },
      ),
      { numRuns: 60, seed: 7 },
    )
  })

  it('rejects out-of-range configuration by field name, and keeps the old one', () => {
    expect(() => new EchoCanceller({ filterLength: 64 })).toThrow(/filterLength/)
    expect(() => new EchoCanceller({ filterLength: 10000 })).toThrow(/filterLength/)
    expect(() => new EchoCanceller({ sampleRateHz: 44100 })).toThrow(/sampleRateHz/)
    expect(() => new EchoCanceller({ postFilterStrength: 2 })).toThrow(/postFilterStrength/)
    expect(() => new EchoCanceller({ engine: 'speex' as never })).toThrow(/engine/)
    expect(() => new EchoCanceller({ maxBulkDelayMs: 5 })).toThrow(/maxBulkDelayMs/)
    expect(() => new EchoCanceller({ nearBandwidthHz: 500 })).toThrow(/nearBandwidthHz/)
    expect(() => new EchoCanceller({ nearBandwidthHz: 9000 })).toThrow(/nearBandwidthHz/)
    const aec = new EchoCanceller({})
    expect(() => aec.configure({ frameSamples: 0 })).toThrow(/frameSamples/)
    expect(aec.currentConfig.frameSamples).toBe(320)
  })
})

describe('EchoCanceller: other rates and delays', () => {
  it('works at 8 kHz (G.711 narrowband) with 10 ms frames', () => {
    const random = new Random(3)
    const n = 8000 * 3
    const far = new Float32Array(n)
    for (let i = 0; i < n; i++) far[i] = 0.1 * random.normal()
    const mic = new Float32Array(n)
    for (let i = 40; i < n; i++) mic[i] = 0.25 * far[i - 40]! - 0.1 * far[i - 41]! + 1e-4 * random.normal()
    const aec = new EchoCanceller({ sampleRateHz: 8000, frameSamples: 80 })
    expect(aec.blockLength).toBe(64)
    expect((aec.delaySamples * 1000) / 8000).toBeLessThanOrEqual(10)
    const out = run(aec, mic, far, undefined, 80)
    let m = 0
    let o = 0
    for (let i = 16000; i < n - aec.delaySamples; i++) {
      m += mic[i]! * mic[i]!
      o += out[i + aec.delaySamples]! * out[i + aec.delaySamples]!
    }
    expect(10 * Math.log10(m / o)).toBeGreaterThan(30)
  })

  it('reports a non-causal delay (echo before its reference) and leaves the window at 0', () => {
    const speech = readWavFixture('far-talker-16k.wav').samples.subarray(0, RATE * 6)
    const mic = new Float32Array(speech.length)
    const advance = 30 * 16 // the mic hears the far end 30 ms before the reference frame says it was played
    for (let i = 0; i + advance < speech.length; i++) mic[i] = 0.25 * speech[i + advance]!
    const aec = new EchoCanceller({})
    run(aec, mic, speech)
    expect(aec.metrics.nonCausal).toBe(true)
    expect(aec.metrics.bulkDelayMs).toBeCloseTo(-30, 0)
    expect(aec.metrics.compensatedDelayMs).toBe(0)
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

describe('shiftEchoPath: a known move of the echo path (a jitter buffer dropped or inserted a frame)', () => {
  const { mic, far } = echoScene('rt250')
  const at = 250 * FRAME // 5 s in: converged

  /** rt250's mic with 20 ms removed (drop) or 20 ms of silence inserted (insert) at 5 s; the far end as it was. */
  function moved(kind: 'none' | 'drop' | 'insert'): Float32Array {
    const m = new Float32Array(mic.length)
    m.set(mic.subarray(0, at))
    if (kind === 'none') m.set(mic.subarray(at), at)
    else if (kind === 'drop') m.set(mic.subarray(at + FRAME), at)
    else m.set(mic.subarray(at, mic.length - FRAME), at + FRAME)
    return m
  }

  /** Linear-filter ERLE over the second after the move, and the delay estimate just after it and at the end. */
  function measure(kind: 'none' | 'drop' | 'insert', tell: boolean) {
    const aec = new EchoCanceller()
    let micPower = 0
    let errorPower = 0
    const delays: number[] = []
    const output = run(aec, moved(kind), far, (frame) => {
      if (frame === 250 && tell && kind !== 'none') aec.shiftEchoPath(kind === 'drop' ? -FRAME : FRAME)
      if (frame > 250 && frame <= 300) {
        micPower += aec.metrics.frameMicPower // (of the frame before: onFrame runs before each frame)
        errorPower += aec.metrics.frameErrorPower
      }
      if (frame === 251 || frame === 399) delays.push(aec.metrics.bulkDelayMs)
    })
    expect(hasNonFinite(output)).toBe(false)
    return { linearDb: 10 * Math.log10(micPower / errorPower), delays, state: aec.metrics.state }
  }

  it('keeps the filter converged through a drop and an insertion, where re-learning loses the echo', () => {
    const steady = measure('none', false)
    for (const kind of ['drop', 'insert'] as const) {
      const told = measure(kind, true)
      const untold = measure(kind, false)
      console.log(
        `${kind}: linear ERLE over the next second ${told.linearDb.toFixed(2)} dB told, ${untold.linearDb.toFixed(2)} dB not ` +
          `(steady ${steady.linearDb.toFixed(2)}); delay ${told.delays.map((d) => d.toFixed(2)).join(' → ')} ms`,
      )
      expect(told.linearDb).toBeGreaterThan(steady.linearDb - 1)
      expect(untold.linearDb).toBeLessThan(steady.linearDb - 6)
      const expected = steady.delays[0]! + (kind === 'drop' ? -20 : 20)
      expect(Math.abs(told.delays[0]! - expected)).toBeLessThan(0.1) // the estimate moved at once ...
      expect(Math.abs(told.delays[1]! - expected)).toBeLessThan(1) // ... and the signals agree 3 s later
      expect(told.state).toBe('converged')
    }
  })

  it('moves the taps by what the window cannot take (no delay estimation: the window stays at 0)', () => {
    const aec = new EchoCanceller({ delayEstimation: false, filterLength: 2048 })
    const response = new Float32Array(2048)
    run(aec, mic.subarray(0, at), far.subarray(0, at))
    aec.getFilterResponse(response)
    const peak = response.reduce((best, v, i) => (Math.abs(v) > Math.abs(response[best]!) ? i : best), 0)
    aec.shiftEchoPath(FRAME)
    const shifted = new Float32Array(2048)
    aec.getFilterResponse(shifted)
    expect(shifted[peak + FRAME]).toBe(response[peak])
    expect(aec.metrics.compensatedDelayMs).toBe(0)
  })
})

describe('the suppressor after digital silence', () => {
  it('keeps its noise floor through a second of digital silence (a muted or stalled call) and suppresses as before', () => {
    // rt250 with 1 s of exact zeros in both ends inserted in a far pause (5.2 s): the echo and the far end stop
    // together. The error decaying into the silence once taught the noise floor ~1e-16, which rises 3 dB/s: the mic's
    // own noise then read as a near talker and the suppressor held off for the rest of the call (ERLE 24.6 → 16.9 dB).
    const { mic, far } = echoScene('rt250')
    const at = 260 * FRAME
    const erleAfter = (gap: number) => {
      const m = new Float32Array(mic.length + gap)
      const f = new Float32Array(mic.length + gap)
      m.set(mic.subarray(0, at))
      f.set(far.subarray(0, at))
      m.set(mic.subarray(at), at + gap)
      f.set(far.subarray(at), at + gap)
      const aec = new EchoCanceller()
      const out = run(aec, m, f)
      expect(hasNonFinite(out)).toBe(false)
      return erleOver(m, out, aec.delaySamples, (at + gap) / RATE, m.length / RATE)
    }
    const steady = erleAfter(0)
    const afterGap = erleAfter(RATE)
    console.log(
      `ERLE after a far pause ${steady.toFixed(2)} dB, after a 1 s digital silence there ${afterGap.toFixed(2)} dB`,
    )
    expect(afterGap).toBeGreaterThan(steady - 1)
  })
})

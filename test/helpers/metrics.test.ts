import { describe, expect, it } from 'vitest'
import { Random } from '../../src/dsp/random'
import {
  activeFrames,
  alignmentLag,
  convergenceTimeS,
  erleDb,
  framePowers,
  lsdDb,
  noiseAttenuationDb,
  sdrDb,
  segmentalSnrDb,
  speechAbsentFrames,
} from './metrics'
import { echoScene } from './scenes'

const RATE = 16000

/** 5 s of the far talker (speech with pauses), from the rt250 scene. */
function speech(): Float32Array {
  return echoScene('rt250').far.slice(0, 5 * RATE)
}

function allFrames(x: ArrayLike<number>): number[] {
  return Array.from({ length: Math.floor(x.length / 320) }, (_, f) => f)
}

function fir(s: Float32Array, taps: readonly number[], delay: number): Float32Array {
  const y = new Float32Array(s.length)
  for (let n = 0; n < s.length; n++) {
    let sum = 0
    for (let k = 0; k < taps.length; k++) sum += taps[k]! * (s[n - k - delay] ?? 0)
    y[n] = sum
  }
  return y
}

describe('framePowers', () => {
  it('is the mean square of each whole 20 ms frame', () => {
    const x = new Float32Array(700).fill(0.5)
    const powers = framePowers(x)
    expect(powers.length).toBe(2)
    expect(powers[0]).toBeCloseTo(0.25, 12)
    expect(powers[1]).toBeCloseTo(0.25, 12)
  })
})

describe('erleDb', () => {
  const mic = echoScene('rt250').mic
  const frames = echoScene('rt250').farSingleTalkFrames

  it('reads 20 dB for an output at a tenth of the mic', () => {
    const out = mic.map((v) => v * 0.1)
    expect(erleDb(mic, out, frames)).toBeCloseTo(20, 6)
  })

  it('compares against the output shifted back by the reported lag', () => {
    const lag = 3200 // 200 ms: enough to move the speech envelope across frames
    const out = new Float32Array(mic.length)
    for (let n = lag; n < mic.length; n++) out[n] = 0.1 * mic[n - lag]!
    expect(erleDb(mic, out, frames, 2, lag)).toBeCloseTo(20, 6)
    // An onset: a loud frame 200 ms after a quiet one reads far above 20 dB when the lag is ignored.
    const powers = framePowers(mic)
    const onset = frames.find((f) => f >= 100 && powers[f]! > 100 * powers[f - 10]!)!
    expect(erleDb(mic, out, [onset], 2, lag)).toBeCloseTo(20, 6)
    expect(erleDb(mic, out, [onset], 2, 0)).toBeGreaterThan(35)
  })

  it('ignores frames before fromS', () => {
    const out = mic.map((v, n) => (n < 2 * RATE ? v : v * 0.1)) // nothing removed in the first 2 s
    expect(erleDb(mic, out, frames, 2)).toBeCloseTo(20, 6)
    expect(erleDb(mic, out, frames, 0)).toBeLessThan(19)
  })
})

/** Slow reference of convergenceTimeS: every frame end, the window rebuilt from scratch. */
function convergenceReference(
  mic: Float32Array,
  out: Float32Array,
  frames: readonly number[],
  targetDb: number,
  fromS: number,
): number {
  const listed = new Set(frames)
  const frameCount = Math.floor(mic.length / 320)
  for (let end = 1; end <= frameCount; end++) {
    const t = (end * 320) / RATE
    if (t < fromS) continue
    const window: number[] = []
    for (let f = end - 25; f < end; f++) if (f >= 0 && listed.has(f) && (f * 320) / RATE >= fromS) window.push(f)
    if (window.length >= 10 && erleDb(mic, out, window, -Infinity) >= targetDb) return t
  }
  return Infinity
}

describe('convergenceTimeS', () => {
  const scene = echoScene('rt250')
  const frames = scene.farSingleTalkFrames

  it('is the end of the first 0.5 s window (10+ listed frames) whose ERLE reaches the target', () => {
    const out = scene.mic.map((v, n) => (n < 3 * RATE ? v : v * 0.1)) // 0 dB, then 20 dB from 3 s
    const t = convergenceTimeS(scene.mic, out, frames, 15)
    expect(t).toBeGreaterThan(3)
    expect(t).toBeLessThan(5)
    expect(t).toBe(convergenceReference(scene.mic, out, frames, 15, 0))
    expect(convergenceTimeS(scene.mic, out, frames, 21)).toBe(Infinity)
  })

  it('counts only frames after fromS, so it measures re-convergence after a path change', () => {
    const out = scene.mic.map((v, n) => (n < 6 * RATE || n >= 8 * RATE ? v * 0.1 : v)) // lost at 6 s, back at 8 s
    const t = convergenceTimeS(scene.mic, out, frames, 15, 6)
    expect(t).toBeGreaterThan(8)
    expect(t).toBe(convergenceReference(scene.mic, out, frames, 15, 6))
    expect(convergenceTimeS(scene.mic, out, frames, 15, 0)).toBeLessThan(6) // converged before the loss
  })
})

describe('sdrDb', () => {
  const s = speech()
  const frames = activeFrames(s)

  it('does not count a fixed FIR (EQ and delay within the lag window) as damage', () => {
    const y = fir(s, [0.6, -0.25, 0.15, 0.05, -0.02], 12)
    expect(sdrDb(s, y, frames)).toBeGreaterThan(60)
  })

  it('drops to the SNR of additive noise, within 0.5 dB', () => {
    const y = fir(s, [0.8, 0.3, -0.1], 3)
    const random = new Random(7)
    let signalEnergy = 0
    let noiseEnergy = 0
    const noisy = new Float32Array(y.length)
    const inFrame = new Uint8Array(y.length)
    for (const f of frames) inFrame.fill(1, f * 320, (f + 1) * 320)
    for (let n = 0; n < y.length; n++) {
      const e = 0.01 * random.normal()
      noisy[n] = y[n]! + e
      if (inFrame[n]) {
        signalEnergy += y[n]! * y[n]!
        noiseEnergy += e * e
      }
    }
    const expected = 10 * Math.log10(signalEnergy / noiseEnergy)
    expect(Math.abs(sdrDb(s, noisy, frames) - expected)).toBeLessThan(0.5)
  })

  it('counts a time-varying gain as damage', () => {
    const y = s.map((v, n) => v * (1 + 0.5 * Math.sin((2 * Math.PI * 2 * n) / RATE))) // 2 Hz tremolo, ±50 %
    expect(sdrDb(s, y, frames)).toBeLessThan(15)
  })

  it('centres the lag window on the reported lag', () => {
    const y = fir(s, [1], 300) // far outside −32…95 unless the lag is given
    expect(sdrDb(s, y, frames)).toBeLessThan(10)
    expect(sdrDb(s, y, frames, 300)).toBeGreaterThan(60)
  })
})

describe('segmentalSnrDb', () => {
  const s = speech()

  it('reads 35 dB (the clip) for a perfect copy', () => {
    expect(segmentalSnrDb(s, s)).toBeCloseTo(35, 9)
  })

  it('reads 6.02 dB on every frame for half the signal', () => {
    expect(
      segmentalSnrDb(
        s,
        s.map((v) => v * 0.5),
      ),
    ).toBeCloseTo(20 * Math.log10(2), 4)
  })

  it('clips at −10 dB for an output of noise alone', () => {
    const random = new Random(3)
    expect(
      segmentalSnrDb(
        s,
        s.map(() => random.normal()),
      ),
    ).toBeCloseTo(-10, 9)
  })
})

describe('noiseAttenuationDb', () => {
  it('reads 6.02 dB for half the input over the frames listed', () => {
    const scene = echoScene('rt250')
    const frames = speechAbsentFrames(scene.far)
    expect(frames.length).toBeGreaterThan(10)
    expect(
      noiseAttenuationDb(
        scene.mic,
        scene.mic.map((v) => v / 2),
        frames,
      ),
    ).toBeCloseTo(20 * Math.log10(2), 6)
  })
})

describe('lsdDb and alignmentLag', () => {
  const s = speech()

  it('reads 0 dB for identical signals and 6.02 dB for a doubled one', () => {
    const frames = activeFrames(s)
    expect(lsdDb(s, s, frames)).toBe(0)
    expect(
      Math.abs(
        lsdDb(
          s,
          s.map((v) => v * 2),
          frames,
        ) -
          20 * Math.log10(2),
      ),
    ).toBeLessThan(0.3)
  })

  it('finds a known delay', () => {
    const y = fir(s, [0.7], 123)
    expect(alignmentLag(s, y)).toBe(123)
    expect(alignmentLag(y, s)).toBe(-123)
  })
})

describe('speechAbsentFrames', () => {
  it('lists the silent frames after 1 s and none of the active ones', () => {
    const s = speech()
    const absent = speechAbsentFrames(s)
    const active = new Set(activeFrames(s))
    expect(absent.length).toBeGreaterThan(0)
    expect(absent.every((f) => f >= 50 && !active.has(f))).toBe(true)
    expect(absent.length + activeFrames(s).filter((f) => f >= 50).length).toBe(allFrames(s).length - 50)
  })
})

import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import FFT from 'fft.js'
import { WaveFile } from './wav'
import { describe, expect, it } from 'vitest'
import { activeFrames, alignmentLag } from './metrics'
import {
  ECHO_SCENE_NAMES,
  NOISE_KINDS,
  NOISE_SNRS_DB,
  clearSceneCache,
  echoScene,
  noiseScene,
  synthRoomImpulseResponse,
  writeSceneWavs,
} from './scenes'
import { hasNonFinite, toneLevelDb } from './signals'

const RATE = 16000

function power(x: ArrayLike<number>, start = 0, end = x.length): number {
  let sum = 0
  for (let i = start; i < end; i++) sum += x[i]! * x[i]!
  return sum / (end - start)
}

function peak(x: ArrayLike<number>): number {
  let p = 0
  for (let i = 0; i < x.length; i++) p = Math.max(p, Math.abs(x[i]!))
  return p
}

/** Bit-identical (vitest's deep equality takes seconds on a million samples). */
function sameSamples(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))
}

/** Mean power spectral density (Welch, 1024-point Hann), per bin of 15.6 Hz. */
function welch(x: Float32Array): Float64Array {
  const size = 1024
  const fft = new FFT(size)
  const input = new Float64Array(size)
  const spectrum = fft.createComplexArray()
  const psd = new Float64Array(size / 2 + 1)
  for (let start = 0; start + size <= x.length; start += size / 2) {
    for (let i = 0; i < size; i++) input[i] = x[start + i]! * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / size))
    fft.realTransform(spectrum, input)
    for (let k = 0; k <= size / 2; k++) psd[k] = psd[k]! + spectrum[2 * k] ** 2 + spectrum[2 * k + 1] ** 2
  }
  return psd
}

function bandDensityDb(psd: Float64Array, lowHz: number, highHz: number): number {
  const binHz = RATE / 1024
  let sum = 0
  let count = 0
  for (let k = Math.ceil(lowHz / binHz); k <= Math.floor(highHz / binHz); k++, count++) sum += psd[k]!
  return 10 * Math.log10(sum / count)
}

describe('synthRoomImpulseResponse', () => {
  it('puts its first energy at the bulk delay, the direct path being the strongest tap', () => {
    for (const [rt60Ms, bulkDelayMs] of [
      [250, 40],
      [600, 120],
    ] as const) {
      const h = synthRoomImpulseResponse({ rt60Ms, bulkDelayMs, seed: rt60Ms })
      const bulk = bulkDelayMs * 16
      expect(h.findIndex((v) => v !== 0)).toBe(bulk)
      expect(Math.abs(h[bulk]!)).toBe(peak(h))
      expect(h.length).toBe((bulkDelayMs + rt60Ms) * 16)
    }
  })

  it('decays at the given RT60 (Schroeder integral, −5 to −25 dB, within 10 %)', () => {
    for (const rt60Ms of [250, 600]) {
      const h = synthRoomImpulseResponse({ rt60Ms, bulkDelayMs: 40, seed: 9, lengthMs: 40 + 2 * rt60Ms })
      const decay = new Float64Array(h.length) // energy remaining after n, dB re total
      let remaining = 0
      for (let n = h.length - 1; n >= 0; n--) decay[n] = remaining += h[n]! * h[n]!
      const total = decay[0]!
      const at = (db: number): number => decay.findIndex((e) => 10 * Math.log10(e / total) < db)
      const rt60FromSlopeMs = ((at(-25) - at(-5)) / 16) * 3 // T20 × 3
      expect(Math.abs(rt60FromSlopeMs / rt60Ms - 1)).toBeLessThan(0.1)
    }
  })

  it('bounds an ideal 1024-tap filter near 9 dB ERLE with a 40 ms bulk delay and RT60 250 ms', () => {
    const h = synthRoomImpulseResponse({ rt60Ms: 250, bulkDelayMs: 40, seed: 250 })
    let total = 0
    let beyond = 0
    h.forEach((v, n) => {
      total += v * v
      if (n >= 1024) beyond += v * v
    })
    const boundDb = 10 * Math.log10(total / beyond)
    expect(boundDb).toBeGreaterThan(8.5)
    expect(boundDb).toBeLessThan(9.5)
  })

  it('rejects an RT60 out of range, naming the field', () => {
    expect(() => synthRoomImpulseResponse({ rt60Ms: 0, bulkDelayMs: 40, seed: 1 })).toThrow(/rt60Ms/)
    expect(() => synthRoomImpulseResponse({ rt60Ms: 250, bulkDelayMs: 40, seed: 1, lengthMs: 50 })).toThrow(/lengthMs/)
  })
})

describe('echo scenes', () => {
  it('set the echo 12 dB below the far end (ERL within 0.5 dB), without clipping or non-finite samples', () => {
    for (const name of ECHO_SCENE_NAMES) {
      const scene = echoScene(name)
      const erl = 10 * Math.log10(power(scene.far) / power(scene.echo))
      expect(Math.abs(erl - 12), name).toBeLessThan(0.5)
      expect(peak(scene.mic), name).toBeLessThan(1)
      expect(hasNonFinite(scene.mic), name).toBe(false)
      expect(10 * Math.log10(power(scene.noise)), name).toBeCloseTo(-55, 1)
      for (let i = 0; i < scene.mic.length; i += 997) {
        expect(scene.mic[i]).toBeCloseTo(scene.echo[i]! + scene.near[i]! + scene.noise[i]!, 6)
      }
    }
  })

  it('level the far talker near −20 dBFS over its active frames', () => {
    const far = echoScene('rt250').far
    const frames = activeFrames(far)
    let sum = 0
    for (const f of frames) sum += power(far, f * 320, (f + 1) * 320)
    expect(10 * Math.log10(sum / frames.length)).toBeCloseTo(-20, 1)
  })

  it('delay the echo by the bulk delay (cross-correlation peak of echo against far)', () => {
    for (const name of ['rt250', 'longTail'] as const) {
      const scene = echoScene(name)
      const window = [RATE, 3 * RATE] as const
      const lag = alignmentLag(
        scene.far.subarray(...window),
        scene.echo.subarray(...window),
        scene.bulkDelaySamples + 300,
      )
      expect(lag, name).toBe(scene.bulkDelaySamples)
    }
    expect(echoScene('rt250').bulkDelaySamples).toBe(640)
    expect(echoScene('longTail').bulkDelaySamples).toBe(1920)
  })

  it('list far single-talk frames where the echo stands 10 dB above the noise, disjoint from near activity', () => {
    for (const name of ECHO_SCENE_NAMES) {
      const scene = echoScene(name)
      expect(scene.farSingleTalkFrames.length, name).toBeGreaterThan(scene.far.length / 320 / 3)
      const noisePower = power(scene.noise)
      for (const f of scene.farSingleTalkFrames) {
        expect(power(scene.echo, f * 320, (f + 1) * 320)).toBeGreaterThanOrEqual(10 * noisePower)
      }
      const nearActive = activeFrames(scene.near)
      const guarded = new Set<number>()
      for (const f of nearActive) for (let g = f - 5; g <= f + 10; g++) guarded.add(g)
      expect(
        scene.farSingleTalkFrames.filter((f) => guarded.has(f)),
        name,
      ).toEqual([])
    }
  })

  it('put the near talker over about half of the far speech in the double-talk scene', () => {
    const scene = echoScene('doubleTalk')
    const farSpeech = activeFrames(scene.far).length
    expect(scene.doubleTalkFrames.length).toBeGreaterThan(100)
    expect(scene.nearOnlyFrames.length).toBeGreaterThan(50)
    expect(scene.farSingleTalkFrames.length).toBeGreaterThan(200)
    const nearActive = new Set(activeFrames(scene.near))
    expect(scene.doubleTalkFrames.every((f) => nearActive.has(f))).toBe(true)
    const overlap = activeFrames(scene.far).filter((f) => f >= 400 && f < 1000).length / farSpeech
    expect(overlap).toBeGreaterThan(0.35)
    expect(overlap).toBeLessThan(0.65)
    for (const name of ['rt250', 'longTail', 'pathChange', 'drift100ppm'] as const) {
      expect(echoScene(name).doubleTalkFrames, name).toEqual([])
      expect(
        echoScene(name).near.every((v) => v === 0),
        name,
      ).toBe(true)
    }
  })

  it('change the echo path at 10 s: identical to rt250 before, a different room after', () => {
    const change = echoScene('pathChange')
    const same = echoScene('rt250')
    expect(change.pathChangeAtS).toBe(10)
    let differenceBefore = 0
    for (let n = 0; n < 9.9 * RATE; n++)
      differenceBefore = Math.max(differenceBefore, Math.abs(change.echo[n]! - same.echo[n]!))
    expect(differenceBefore).toBeLessThan(1e-6)
    let differenceAfter = 0
    let after = 0
    for (let n = 10.1 * RATE; n < 20 * RATE; n++) {
      differenceAfter += (change.echo[n]! - same.echo[n]!) ** 2
      after += same.echo[n]! ** 2
    }
    expect(10 * Math.log10(differenceAfter / after)).toBeGreaterThan(-6) // the new room leaves ≥ 25 % misadjustment
  })

  it('slide the echo delay by 6 ms ± 0.5 ms over 60 s with 100 ppm of drift', () => {
    const scene = echoScene('drift100ppm')
    expect(scene.driftPpm).toBe(100)
    const lagAt = (startS: number): number => {
      const window = [startS * RATE, (startS + 3) * RATE] as const
      return alignmentLag(scene.far.subarray(...window), scene.echo.subarray(...window), 1000)
    }
    const startS = 1
    const endS = 56
    const start = lagAt(startS)
    const end = lagAt(endS)
    expect(Math.abs(start - 640)).toBeLessThanOrEqual(4)
    const slideOver60sMs = ((end - start) / (endS - startS)) * 60 * (1000 / RATE)
    expect(Math.abs(slideOver60sMs - 6)).toBeLessThan(0.5)
  })

  it('are deterministic: rebuilt from scratch they are identical', () => {
    const first = ECHO_SCENE_NAMES.map((name) => echoScene(name).mic.slice())
    const rir = synthRoomImpulseResponse({ rt60Ms: 300, bulkDelayMs: 20, seed: 5 })
    clearSceneCache()
    ECHO_SCENE_NAMES.forEach((name, i) => expect(sameSamples(echoScene(name).mic, first[i]!), name).toBe(true))
    expect(sameSamples(synthRoomImpulseResponse({ rt60Ms: 300, bulkDelayMs: 20, seed: 5 }), rir)).toBe(true)
  })
})

describe('noise scenes', () => {
  it('mix the noise at the requested SNR over the speech-active frames, within 0.2 dB', () => {
    for (const kind of NOISE_KINDS) {
      for (const snr of NOISE_SNRS_DB) {
        const scene = noiseScene(kind, snr)
        const frames = activeFrames(scene.clean)
        let clean = 0
        let noise = 0
        for (const f of frames) {
          clean += power(scene.clean, f * 320, (f + 1) * 320)
          noise += power(scene.noisy, f * 320, (f + 1) * 320) - power(scene.clean, f * 320, (f + 1) * 320) // cross term ≈ 0
        }
        let exact = 0
        for (const f of frames) exact += power(scene.noise, f * 320, (f + 1) * 320)
        expect(Math.abs(10 * Math.log10(clean / exact) - snr), scene.name).toBeLessThan(0.2)
        expect(Math.abs(10 * Math.log10(clean / noise) - snr), scene.name).toBeLessThan(0.5)
        expect(peak(scene.noisy), scene.name).toBeLessThan(1)
        expect(hasNonFinite(scene.noisy), scene.name).toBe(false)
      }
    }
  })

  it('lead in with 1 s of noise alone and use the near talker as clean speech', () => {
    const scene = noiseScene('white', 10)
    expect(peak(scene.clean.subarray(0, RATE))).toBe(0)
    expect(power(scene.noisy, 0, RATE)).toBeGreaterThan(0)
    expect(scene.clean.length).toBe(13.5 * RATE)
  })

  it('shape the noises: white is flat, pink falls 3 dB per octave, hum peaks at 120 Hz and its harmonics', () => {
    const white = welch(noiseScene('white', 10).noise)
    expect(Math.abs(bandDensityDb(white, 250, 500) - bandDensityDb(white, 2000, 4000))).toBeLessThan(1)
    const pink = welch(noiseScene('pink', 10).noise)
    const slopeDb = bandDensityDb(pink, 250, 500) - bandDensityDb(pink, 2000, 4000) // 3 octaves apart
    expect(Math.abs(slopeDb - 9)).toBeLessThan(1.5)
    const hum = noiseScene('hum', 10).noise
    for (const harmonicHz of [120, 240, 360]) {
      expect(toneLevelDb(hum, harmonicHz, RATE) - toneLevelDb(hum, harmonicHz + 50, RATE)).toBeGreaterThan(20)
    }
    const babble = noiseScene('babble', 10).noise
    expect(activeFrames(babble).length).toBe(Math.floor(babble.length / 320)) // several voices: never silent
  })

  it('are deterministic: rebuilt from scratch they are identical', () => {
    const first = NOISE_KINDS.map((kind) => noiseScene(kind, 5).noisy.slice())
    clearSceneCache()
    NOISE_KINDS.forEach((kind, i) => expect(sameSamples(noiseScene(kind, 5).noisy, first[i]!), kind).toBe(true))
  })
})

describe('writeSceneWavs', () => {
  it('writes every scene as 16-bit 16 kHz mono WAVs that read back within one LSB', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scenes-'))
    try {
      const paths = writeSceneWavs(dir)
      expect(paths.length).toBe(ECHO_SCENE_NAMES.length * 2 + NOISE_KINDS.length * NOISE_SNRS_DB.length * 2)
      const wav = new WaveFile(readFileSync(join(dir, 'echo-doubleTalk-mic.wav')))
      const fmt = wav.fmt as { sampleRate: number; numChannels: number; bitsPerSample: number }
      expect([fmt.sampleRate, fmt.numChannels, fmt.bitsPerSample]).toEqual([16000, 1, 16])
      const samples = wav.getSamples(false, Int16Array) as unknown as Int16Array
      const mic = echoScene('doubleTalk').mic
      expect(samples.length).toBe(mic.length)
      for (let i = 0; i < mic.length; i += 101) expect(Math.abs(samples[i]! / 32767 - mic[i]!)).toBeLessThan(1 / 32767)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

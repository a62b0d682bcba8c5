import fc from 'fast-check'
import FFT from 'fft.js'
import { describe, expect, it } from 'vitest'
import { Random } from '../../src/dsp/random'
import { VoiceActivityDetector } from '../../src/dsp/vad'
import { noiseScene } from '../helpers/scenes'
import { activeFrames, whiteNoise } from '../helpers/signals'

const RATE = 16000
const FRAME = 320

function decisions(vad: VoiceActivityDetector, x: Float32Array): boolean[] {
  const out: boolean[] = []
  for (let f = 0; (f + 1) * FRAME <= x.length; f++) out.push(vad.process(x.subarray(f * FRAME, (f + 1) * FRAME)))
  return out
}

/** A voiced-like sound: 150 Hz and 20 harmonics falling 6 dB/octave, amplitude a. */
function voiced(length: number, amplitude: number): Float32Array {
  const x = new Float32Array(length)
  for (let i = 0; i < length; i++) {
    for (let h = 1; h <= 20; h++) x[i] = x[i]! + (amplitude / h) * Math.sin((2 * Math.PI * 150 * h * i) / RATE)
  }
  return x
}

describe('VoiceActivityDetector', () => {
  it('without its own analysis (analysis: false) decides the same from power spectra and holds less state', () => {
    const full = new VoiceActivityDetector({ sampleRateHz: RATE, frameSamples: FRAME, fftSize: 512 })
    const light = new VoiceActivityDetector({ sampleRateHz: RATE, frameSamples: FRAME, fftSize: 512, analysis: false })
    expect(light.stateBytes).toBeLessThan(full.stateBytes / 4)
    const { noisy } = noiseScene('white', 5)
    const fft = new FFT(512)
    const input = new Float64Array(512)
    const spectrum = new Float64Array(1024)
    const power = new Float64Array(257)
    let speechFrames = 0
    for (let f = 0; (f + 1) * FRAME <= noisy.length; f++) {
      for (let i = 0; i < FRAME; i++) input[i] = noisy[f * FRAME + i]!
      fft.realTransform(spectrum, input)
      for (let k = 0; k < 257; k++) power[k] = spectrum[2 * k]! ** 2 + spectrum[2 * k + 1]! ** 2
      const decision = full.processPowerSpectrum(power)
      expect(light.processPowerSpectrum(power)).toBe(decision)
      expect(light.probability).toBe(full.probability)
      // process(frame) has nothing to analyse with: it keeps the last decision.
      expect(light.process(noisy.subarray(f * FRAME, (f + 1) * FRAME))).toBe(decision)
      if (decision) speechFrames++
    }
    expect(speechFrames).toBeGreaterThan(10)
  })

  it('with finitePower (no per-bin checks) gives the same probability and decision on finite spectra with zeros', () => {
    const checked = new VoiceActivityDetector({
      sampleRateHz: RATE,
      frameSamples: FRAME,
      fftSize: 512,
      analysis: false,
    })
    const trusted = new VoiceActivityDetector({
      sampleRateHz: RATE,
      frameSamples: FRAME,
      fftSize: 512,
      analysis: false,
      finitePower: true,
    })
    const { noisy } = noiseScene('pink', 5)
    const fft = new FFT(512)
    const input = new Float64Array(512)
    const spectrum = new Float64Array(1024)
    const power = new Float32Array(257) // as the noise reducer gives it
    let speechFrames = 0
    for (let f = 0; (f + 1) * FRAME <= noisy.length; f++) {
      for (let i = 0; i < FRAME; i++) input[i] = f % 40 < 3 ? 0 : noisy[f * FRAME + i]! // some digital silence
      fft.realTransform(spectrum, input)
      for (let k = 0; k < 257; k++) power[k] = spectrum[2 * k]! ** 2 + spectrum[2 * k + 1]! ** 2
      if (f % 7 === 0) power.fill(0, 20, 60) // zero bins inside bands and the flatness range
      const evidence = f % 11 !== 0
      const decision = checked.processPowerSpectrum(power, evidence)
      expect(trusted.processPowerSpectrum(power, evidence)).toBe(decision)
      expect(Object.is(trusted.probability, checked.probability)).toBe(true)
      expect(Object.is(trusted.bandSnrDb, checked.bandSnrDb)).toBe(true)
      if (decision) speechFrames++
    }
    expect(speechFrames).toBeGreaterThan(10)
  })

  it('rejects out-of-range settings with a RangeError naming the field', () => {
    expect(() => new VoiceActivityDetector({ sampleRateHz: 1000 })).toThrow(/sampleRateHz/)
    expect(() => new VoiceActivityDetector({ frameSamples: 3 })).toThrow(/frameSamples/)
    expect(() => new VoiceActivityDetector({ fftSize: 500 })).toThrow(/fftSize/)
  })

  it('finds the speech and the pauses of speech in white, pink and hum noise at 5 dB SNR', () => {
    for (const kind of ['white', 'pink', 'hum'] as const) {
      const { clean, noisy } = noiseScene(kind, 5)
      const speech = new Set(activeFrames(clean, FRAME, 30)) // the louder speech frames
      const notSilent = new Set(activeFrames(clean, FRAME, 50))
      const decided = decisions(new VoiceActivityDetector(), noisy)
      let speechHits = 0
      let noiseHits = 0
      let noiseFrames = 0
      decided.forEach((isSpeech, f) => {
        if (speech.has(f)) speechHits += isSpeech ? 1 : 0
        else if (!notSilent.has(f)) {
          noiseFrames++
          noiseHits += isSpeech ? 0 : 1
        }
      })
      expect(speechHits / speech.size, kind).toBeGreaterThan(0.85) // measured 0.91–0.95
      expect(noiseHits / noiseFrames, kind).toBeGreaterThan(0.85) // measured 0.93–0.97
    }
  })

  it('says noise on stationary noise, speech on a voiced burst, and noise again after it', () => {
    const vad = new VoiceActivityDetector()
    const noise = whiteNoise(3 * RATE, 0.01, 1)
    const burst = voiced(RATE, 0.05)
    for (let i = 0; i < RATE; i++) noise[RATE + i] = noise[RATE + i]! + burst[i]!
    const decided = decisions(vad, noise)
    expect(decided.slice(10, 50).filter(Boolean).length).toBe(0)
    expect(decided.slice(55, 100).every(Boolean)).toBe(true)
    expect(decided.slice(120, 150).filter(Boolean).length).toBe(0) // the 160 ms hangover is over by 2.4 s
  })

  it('follows a rise of the noise floor within 2.5 s (a fan starting)', () => {
    const vad = new VoiceActivityDetector()
    const x = whiteNoise(6 * RATE, 0.002, 2)
    const loud = whiteNoise(4 * RATE, 0.02, 3) // +20 dB from 2 s
    for (let i = 0; i < loud.length; i++) x[2 * RATE + i] = loud[i]!
    const decided = decisions(vad, x)
    expect(decided.slice(Math.round(4.5 * 50), 6 * 50).filter(Boolean).length).toBe(0)
  })

  it('gives the same decision from process() and from a Hann power spectrum of the frame', () => {
    const a = new VoiceActivityDetector({ fftSize: 512 })
    const b = new VoiceActivityDetector({ fftSize: 512 })
    const x = whiteNoise(RATE, 0.01, 4)
    const v = voiced(RATE / 2, 0.03)
    for (let i = 0; i < v.length; i++) x[RATE / 4 + i] = x[RATE / 4 + i]! + v[i]!
    const fft = new FFT(512)
    const input = new Float64Array(512)
    const spectrum = fft.createComplexArray() as number[]
    const power = new Float64Array(257)
    for (let f = 0; (f + 1) * FRAME <= x.length; f++) {
      input.fill(0)
      for (let i = 0; i < FRAME; i++) input[i] = x[f * FRAME + i]! * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / FRAME))
      fft.realTransform(spectrum, input)
      for (let k = 0; k < 257; k++) power[k] = spectrum[2 * k]! ** 2 + spectrum[2 * k + 1]! ** 2
      expect(b.processPowerSpectrum(power)).toBe(a.process(x.subarray(f * FRAME, (f + 1) * FRAME)))
      expect(b.probability).toBeCloseTo(a.probability, 9)
    }
  })

  it('calls no frame speech whose 250 Hz–4 kHz bands are all under the noise floor, however harmonic', () => {
    // A G.711 call upsampled to 16 kHz (nothing above ~4.6 kHz but rounding dust), learnt for 1 s; then frames an echo
    // suppressor turned 40 dB under the noise: the bot's harmonics remain, and above 4.6 kHz the suppressor's
    // spread sits 30 dB over the dust. Control: the same harmonics 10 dB over the noise are speech.
    const bins = 257
    const binHz = RATE / 512
    const random = new Random(7)
    const noiseFrame = (): Float64Array =>
      Float64Array.from({ length: bins }, (_, k) => (k * binHz < 4600 ? 1 : 1e-12) * -Math.log(1 - random.next()))
    const harmonic = (level: number): Float64Array => {
      const p = noiseFrame().map((v, k) => (k * binHz < 4600 ? v * 1e-4 : v * 1e3))
      for (let h = 1; 150 * h < 4000; h++) p[Math.round((150 * h) / binHz)] = level * 400 * (1 / h)
      return p
    }
    const run = (level: number, evidence: boolean): number => {
      const vad = new VoiceActivityDetector({ sampleRateHz: RATE, frameSamples: FRAME, fftSize: 512, analysis: false })
      for (let f = 0; f < 50; f++) vad.processPowerSpectrum(noiseFrame())
      let speech = 0
      for (let f = 0; f < 50; f++) if (vad.processPowerSpectrum(harmonic(level), evidence)) speech++
      return speech
    }
    expect(run(1e-4, false)).toBe(0) // 40 dB under the noise (the bins' mean), turned down by a suppressor
    expect(run(1e-4, true)).toBe(0)
    expect(run(10, true)).toBeGreaterThan(45) // 10 dB over it: speech
  })

  it('treats digital silence as non-speech and forgets everything on reset()', () => {
    const vad = new VoiceActivityDetector()
    expect(decisions(vad, new Float32Array(RATE)).some(Boolean)).toBe(false)
    decisions(vad, voiced(RATE, 0.1))
    vad.reset()
    expect(vad.isSpeech).toBe(false)
    expect(vad.probability).toBe(0)
  })

  it('never throws and keeps a finite probability in [0, 1] on random and non-finite frames', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.array(
            fc.oneof(fc.double({ min: -1, max: 1, noNaN: true }), fc.constantFrom(NaN, Infinity, -Infinity, 1e30)),
            {
              maxLength: FRAME,
            },
          ),
          { minLength: 1, maxLength: 30 },
        ),
        fc.constantFrom(160, 320, 480),
        (frames, frameSamples) => {
          const vad = new VoiceActivityDetector({ frameSamples })
          const random = new Random(frames.length)
          for (const samples of frames) {
            const frame = new Float32Array(frameSamples)
            for (let i = 0; i < frameSamples; i++)
              frame[i] = samples.length > 0 ? samples[i % samples.length]! : random.normal()
            const decision = vad.process(frame)
            if (typeof decision !== 'boolean') return false
            if (!(vad.probability >= 0 && vad.probability <= 1)) return false
          }
          return Number.isFinite(vad.bandSnrDb)
        },
      ),
      { numRuns: 50 },
    )
  })
})

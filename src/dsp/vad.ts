/**
 * VoiceActivityDetector: frame-level speech/non-speech decision from energy and spectral features, with a
 * probability, for noise learning in the noise reducer and for reporting.
 *
 * Algorithm (per step of `frameSamples`, on a power spectrum):
 * - Band energies in 8 bands (80–250, 250–500, 500 Hz–1, 1–2, 2–3, 3–4, 4–6, 6–8 kHz; the bands above Nyquist are
 *   dropped). Each band's noise floor is tracked by minimum statistics on the smoothed band energy (R. Martin,
 *   "Noise power spectral density estimation based on optimal smoothing and minimum statistics", IEEE TSAP 2001;
 *   the two-window form of speexdsp's preprocess.c): the minimum over the last 1–2 s, so a floor that rises
 *   (a fan starting) is followed within 2 s and one that falls at once.
 * - Energy feature: the mean band SNR (dB above the floor, clipped to 0–30 dB), the 250 Hz–4 kHz bands weighted
 *   double, as speech puts most of its energy there.
 * - Spectral feature: the drop of spectral flatness (Wiener entropy, geometric / arithmetic mean of the power in
 *   300 Hz–4 kHz, dB) below its value on noise: voiced speech is harmonic, so much less flat than noise.
 * - A frame none of whose 250 Hz–4 kHz bands is above its floor is no speech, however harmonic (speech adds
 *   energy there, in any call's band): an echo suppressor's output 40 dB under the noise keeps the bot's harmonics,
 *   and on a G.711 call the bands above 4 kHz hold the suppressor's spread over a floor of rounding dust, so the
 *   flatness and those bands alone had called such frames speech (the demo call: 380 of 513 frames, 90 now).
 * - probability = sigmoid of a weighted sum of both, smoothed over frames; isSpeech has hysteresis
 *   (on above 0.5, off below 0.35) and a 160 ms hangover so word endings and short pauses stay speech.
 * The first frame initialises the floors: a stream is assumed to start with noise (as the noise reducer assumes).
 * A frame the caller marks as no noise evidence (`processPowerSpectrum(power, false)`: digital silence, or audio an
 * echo suppressor has just turned down) is classified but leaves the floors and the noise flatness alone; the floors
 * are then initialised by the first frame that is evidence (until then, a frame reads as noise).
 *
 * `process(frame)` windows (Hann) and transforms the frame itself (fft.js); `processPowerSpectrum(power)` takes a
 * power spectrum the caller has already computed (the noise reducer's), with bins of sampleRateHz / fftSize; such a
 * caller passes `analysis: false` and the VAD holds no FFT scratch; `finitePower: true` (the noise reducer) promises
 * finite bins in [0, 1e12) and skips the per-bin checks (same results: a zero bin adds nothing to a band's energy).
 * The logarithms are units.ts's fastLn() (|error| < 2e-6, i.e. 1e-5 dB: V8 calls Math.log/log10 out of line, 0.2 µs
 * of a 1.4 µs frame). Nothing allocates after construction.
 * Limits: babble (many talkers) reads as speech; a noise whose level keeps rising faster than the 2 s minimum window
 * reads as speech until it settles.
 */
import FFT from 'fft.js'
import { fastLn } from './units'

export interface VoiceActivityDetectorConfig {
  sampleRateHz: number
  /** Samples per call to process(), i.e. the time step (320 = 20 ms at 16 kHz). */
  frameSamples: number
  /** FFT size of the power spectra given to processPowerSpectrum (default: next power of two ≥ frameSamples). */
  fftSize?: number
  /**
   * Whether process(frame) analyses frames itself (default true). false: the caller only gives power spectra
   * (processPowerSpectrum), and no FFT scratch is allocated; process(frame) then returns the last decision.
   */
  analysis?: boolean
  /**
   * The caller's power spectra are always finite, ≥ 0 and below 1e12 (default false): processPowerSpectrum then skips
   * the per-bin checks (same decisions; the noise reducer's |X|² of samples in [−1, 1] is at most fftSize²/4).
   */
  finitePower?: boolean
}

/** Band edges, Hz. */
const BAND_EDGES_HZ = [80, 250, 500, 1000, 2000, 3000, 4000, 6000, 8000]
/** Bands 250 Hz–4 kHz carry most speech energy: weight 2, the others 1. */
const SPEECH_BAND_LOW_HZ = 250
const SPEECH_BAND_HIGH_HZ = 4000
/** Spectral flatness is measured over the band where voiced speech has its harmonics. */
const FLATNESS_LOW_HZ = 300
const FLATNESS_HIGH_HZ = 4000
/** Minimum-statistics window, seconds: the floor is the minimum over the last 1–2 such windows' span. */
const MIN_WINDOW_S = 1
/** Smoothing of the band energy before minimum tracking, per 20 ms (0.5 ≈ a 30 ms time constant). */
const ENERGY_SMOOTHING_20MS = 0.5
/** The minimum of a smoothed energy sits below its mean: +1.5 dB bias compensation. */
const MIN_BIAS = 1.41
/** Smoothing of the probability per 20 ms. */
const PROBABILITY_SMOOTHING_20MS = 0.3
const ON_THRESHOLD = 0.5
const OFF_THRESHOLD = 0.35
const HANGOVER_MS = 160
const POWER_EPSILON = 1e-20
/** 10/ln(10): natural log of a power ratio → dB. */
const LN_TO_DB = 10 / Math.LN10

export class VoiceActivityDetector {
  readonly sampleRateHz: number
  readonly frameSamples: number
  readonly fftSize: number
  /** Speech probability of the last frame, 0–1. */
  probability = 0
  /** Decision of the last frame. */
  isSpeech = false
  /** Mean band SNR of the last frame, dB (the energy feature). */
  bandSnrDb = 0
  private readonly bandCount: number
  /** First and last+1 bin of each band. */
  private readonly bandStart: Int32Array
  private readonly bandEnd: Int32Array
  private readonly bandWeight: Float64Array
  private readonly bandWeightSum: number
  private readonly flatnessStart: number
  private readonly flatnessEnd: number
  /** Smoothed band energy; minimum of the current span; minimum of the previous span. */
  private readonly bandSmoothed: Float64Array
  private readonly bandMinCurrent: Float64Array
  private readonly bandMinPrevious: Float64Array
  private readonly minWindowFrames: number
  private readonly energySmoothing: number
  private readonly probabilitySmoothing: number
  private readonly hangoverFrames: number
  private readonly noiseFlatnessSmoothing: number
  private minWindowCount = 0
  /** Spectral flatness of the noise, dB (smoothed over non-speech frames). */
  private noiseFlatnessDb = 0
  private hangover = 0
  private frameCount = 0
  /** The floors hold an evidence frame's values (see processPowerSpectrum's noiseEvidence). */
  private seeded = false
  // process(frame) scratch: Hann window, zero-padded input, complex output, power spectrum.
  private readonly fft: FFT | null
  private readonly taper: Float64Array
  private readonly fftInput: Float64Array
  private readonly fftOutput: Float64Array
  private readonly power: Float64Array
  private readonly finitePower: boolean

  constructor(config: Partial<VoiceActivityDetectorConfig> = {}) {
    const sampleRateHz = config.sampleRateHz ?? 16000
    const frameSamples = config.frameSamples ?? 320
    if (!(sampleRateHz >= 8000 && sampleRateHz <= 48000))
      throw new RangeError(`sampleRateHz: ${sampleRateHz} is outside 8000–48000`)
    if (!(Number.isInteger(frameSamples) && frameSamples >= 16 && frameSamples <= 4096))
      throw new RangeError(`frameSamples: ${frameSamples} is outside 16–4096 (an integer)`)
    let defaultFft = 16
    while (defaultFft < frameSamples) defaultFft *= 2
    const fftSize = config.fftSize ?? defaultFft
    if (!(Number.isInteger(fftSize) && fftSize >= 16 && fftSize <= 8192 && (fftSize & (fftSize - 1)) === 0))
      throw new RangeError(`fftSize: ${fftSize} is outside 16–8192 (a power of two)`)
    this.sampleRateHz = sampleRateHz
    this.frameSamples = frameSamples
    this.fftSize = fftSize

    const binHz = sampleRateHz / fftSize
    const nyquistBin = fftSize / 2
    const toBin = (hz: number): number => Math.min(nyquistBin + 1, Math.max(1, Math.round(hz / binHz)))
    const starts: number[] = []
    const ends: number[] = []
    const weights: number[] = []
    for (let b = 0; b + 1 < BAND_EDGES_HZ.length; b++) {
      const low = BAND_EDGES_HZ[b]!
      const high = Math.min(BAND_EDGES_HZ[b + 1]!, sampleRateHz / 2)
      if (high <= low) break
      const start = toBin(low)
      const end = Math.max(start + 1, toBin(high))
      starts.push(start)
      ends.push(Math.min(end, nyquistBin + 1))
      weights.push(low >= SPEECH_BAND_LOW_HZ && high <= SPEECH_BAND_HIGH_HZ ? 2 : 1)
    }
    this.bandCount = starts.length
    this.bandStart = Int32Array.from(starts)
    this.bandEnd = Int32Array.from(ends)
    this.bandWeight = Float64Array.from(weights)
    this.bandWeightSum = weights.reduce((a, b) => a + b, 0)
    this.flatnessStart = toBin(FLATNESS_LOW_HZ)
    this.flatnessEnd = Math.max(this.flatnessStart + 1, toBin(Math.min(FLATNESS_HIGH_HZ, sampleRateHz / 2)))
    this.bandSmoothed = new Float64Array(this.bandCount)
    this.bandMinCurrent = new Float64Array(this.bandCount)
    this.bandMinPrevious = new Float64Array(this.bandCount)

    // Time constants are given per 20 ms and converted to this frame step: a^(step / 20 ms).
    const stepOver20Ms = frameSamples / sampleRateHz / 0.02
    this.energySmoothing = ENERGY_SMOOTHING_20MS ** stepOver20Ms
    this.probabilitySmoothing = PROBABILITY_SMOOTHING_20MS ** stepOver20Ms
    this.noiseFlatnessSmoothing = 0.9 ** stepOver20Ms
    this.minWindowFrames = Math.max(2, Math.round((MIN_WINDOW_S * sampleRateHz) / frameSamples))
    this.hangoverFrames = Math.round((HANGOVER_MS * sampleRateHz) / 1000 / frameSamples)

    this.finitePower = config.finitePower ?? false
    const analysis = config.analysis ?? true
    this.fft = analysis ? new FFT(fftSize) : null
    this.taper = new Float64Array(analysis ? Math.min(frameSamples, fftSize) : 0)
    for (let i = 0; i < this.taper.length; i++)
      this.taper[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / this.taper.length)
    this.fftInput = new Float64Array(analysis ? fftSize : 0)
    this.fftOutput = new Float64Array(analysis ? 2 * fftSize : 0)
    this.power = new Float64Array(analysis ? nyquistBin + 1 : 0)
  }

  /** Bytes of state held in typed arrays (including the FFT scratch of process()). */
  get stateBytes(): number {
    return (
      8 * (5 * this.bandCount + this.taper.length + this.fftInput.length + this.fftOutput.length + this.power.length) +
      (this.fft ? 8 * 3 * this.fftSize : 0) // fft.js tables: twiddles (2·fftSize) and bit reversal (≤ fftSize)
    )
  }

  /** Classifies one frame of samples (non-finite samples count as 0). Returns isSpeech. */
  process(frame: Float32Array): boolean {
    if (!this.fft) return this.isSpeech
    const n = this.taper.length < frame.length ? this.taper.length : frame.length
    const input = this.fftInput
    for (let i = 0; i < n; i++) {
      const v = frame[i]!
      input[i] = v === v && v !== Infinity && v !== -Infinity ? v * this.taper[i]! : 0
    }
    input.fill(0, n)
    this.fft.realTransform(this.fftOutput, input)
    const out = this.fftOutput
    const power = this.power
    for (let k = 0; k < power.length; k++) power[k] = out[2 * k]! * out[2 * k]! + out[2 * k + 1]! * out[2 * k + 1]!
    return this.processPowerSpectrum(power)
  }

  /**
   * Classifies one frame from its power spectrum |X(k)|², k = 0…fftSize/2 (any window and scale: only ratios are
   * used). Returns isSpeech. Non-finite bins count as 0. noiseEvidence false: the frame is classified but the noise
   * floors hold (digital silence, or audio an echo suppressor has turned down is no sample of the noise).
   */
  processPowerSpectrum(power: ArrayLike<number>, noiseEvidence = true): boolean {
    const first = this.frameCount === 0
    this.frameCount++
    // The floors follow evidence frames only; the first of them seeds them.
    const seed = noiseEvidence && !this.seeded
    if (seed) this.seeded = true
    let windowRolled = false
    if (noiseEvidence && !seed && ++this.minWindowCount >= this.minWindowFrames) {
      this.minWindowCount = 0
      windowRolled = true
    }
    const tracking = noiseEvidence && !seed
    const unseeded = !this.seeded

    // Energy feature: band SNR against the minimum-statistics floor.
    let snrSum = 0
    let speechBandSnrDb = 0 // the best of the 250 Hz–4 kHz bands
    const finite = this.finitePower
    const bandStart = this.bandStart
    const bandEnd = this.bandEnd
    for (let b = 0; b < this.bandCount; b++) {
      let energy = POWER_EPSILON
      const end = bandEnd[b]!
      // (a bin of 0 adds nothing either way: energy ≥ POWER_EPSILON)
      if (finite) for (let k = bandStart[b]!; k < end; k++) energy += power[k]!
      else
        for (let k = bandStart[b]!; k < end; k++) {
          const p = power[k]!
          if (p > 0 && p < Infinity) energy += p
        }
      const smoothed =
        first || seed ? energy : this.energySmoothing * this.bandSmoothed[b]! + (1 - this.energySmoothing) * energy
      this.bandSmoothed[b] = smoothed
      if (seed) {
        this.bandMinCurrent[b] = smoothed
        this.bandMinPrevious[b] = smoothed
      } else if (tracking && smoothed < this.bandMinCurrent[b]!) this.bandMinCurrent[b] = smoothed
      const floor = unseeded ? energy : MIN_BIAS * Math.min(this.bandMinCurrent[b]!, this.bandMinPrevious[b]!)
      if (windowRolled) {
        this.bandMinPrevious[b] = this.bandMinCurrent[b]!
        this.bandMinCurrent[b] = smoothed
      }
      // (Math.min/max: a phi of a computed double and an integer constant makes V8 box the double.)
      const snrDb = Math.min(30, Math.max(0, LN_TO_DB * fastLn(energy / floor)))
      const weight = this.bandWeight[b]!
      snrSum += weight * snrDb
      if (weight === 2) speechBandSnrDb = Math.max(speechBandSnrDb, snrDb)
    }
    const bandSnrDb = snrSum / this.bandWeightSum
    this.bandSnrDb = bandSnrDb

    // Spectral feature: flatness (geometric / arithmetic mean) in 300 Hz–4 kHz, dB.
    // Σ ln p as ln of products of 8 bins (powers of a frame stay within 1e-20…1e6: no under/overflow), 8× fewer logs.
    let logSum = 0
    let linearSum = 0
    let product = 1
    let inProduct = 0
    const count = this.flatnessEnd - this.flatnessStart
    let k = this.flatnessStart
    if (finite) {
      // The same products and sums, eight bins per iteration (p = raw + ε for every raw in [0, 1e12)).
      const end = this.flatnessEnd
      for (; k + 8 <= end; k += 8) {
        const p0 = power[k]! + POWER_EPSILON
        const p1 = power[k + 1]! + POWER_EPSILON
        const p2 = power[k + 2]! + POWER_EPSILON
        const p3 = power[k + 3]! + POWER_EPSILON
        const p4 = power[k + 4]! + POWER_EPSILON
        const p5 = power[k + 5]! + POWER_EPSILON
        const p6 = power[k + 6]! + POWER_EPSILON
        const p7 = power[k + 7]! + POWER_EPSILON
        linearSum = linearSum + p0 + p1 + p2 + p3 + p4 + p5 + p6 + p7
        logSum += fastLn(p0 * p1 * p2 * p3 * p4 * p5 * p6 * p7)
      }
    }
    for (; k < this.flatnessEnd; k++) {
      const raw = power[k]!
      const p = raw > 0 && raw < 1e12 ? raw + POWER_EPSILON : POWER_EPSILON
      // (a group starts from its first bin, not from 1: an integer in the loop's phi makes V8 box the product)
      product = inProduct === 0 ? p : product * p
      linearSum += p
      if (++inProduct === 8) {
        logSum += fastLn(product)
        inProduct = 0
      }
    }
    if (inProduct > 0) logSum += fastLn(product)
    const flatnessDb = LN_TO_DB * (logSum / count - fastLn(linearSum / count)) // 10·log10(G/A)
    if (seed) this.noiseFlatnessDb = flatnessDb
    const flatnessDropDb = unseeded ? 0 : this.noiseFlatnessDb - flatnessDb

    // Logistic combination: 0.5 at ≈ 4.5 dB mean band SNR on a noise-like spectrum; harmonicity adds evidence.
    // No band of 250 Hz–4 kHz above its noise floor: no speech, however harmonic. Speech adds energy there, in any
    // call's band; a frame an echo suppressor has turned 40 dB under the noise keeps the bot's harmonics (the
    // flatness alone called it speech), and its bands above a G.711 call's 4 kHz hold the suppressor's spread at
    // +30 dB over a floor of rounding dust.
    const score = 0.55 * (bandSnrDb - 4.5) + 0.25 * (flatnessDropDb - 2)
    const raw = first || speechBandSnrDb <= 0 ? 0 : 1 / (1 + Math.exp(-score))
    this.probability = first ? 0 : this.probabilitySmoothing * this.probability + (1 - this.probabilitySmoothing) * raw
    if (!(this.probability >= 0 && this.probability <= 1)) this.probability = 0

    if (this.probability > ON_THRESHOLD) {
      this.isSpeech = true
      this.hangover = this.hangoverFrames
    } else if (this.probability < OFF_THRESHOLD) {
      if (this.hangover > 0) this.hangover--
      else this.isSpeech = false
    }
    if (!this.isSpeech && tracking)
      this.noiseFlatnessDb =
        this.noiseFlatnessSmoothing * this.noiseFlatnessDb + (1 - this.noiseFlatnessSmoothing) * flatnessDb
    return this.isSpeech
  }

  /** Forgets the floors and the decision (buffers kept). */
  reset(): void {
    this.probability = 0
    this.isSpeech = false
    this.bandSnrDb = 0
    this.bandSmoothed.fill(0)
    this.bandMinCurrent.fill(0)
    this.bandMinPrevious.fill(0)
    this.minWindowCount = 0
    this.noiseFlatnessDb = 0
    this.hangover = 0
    this.frameCount = 0
    this.seeded = false
  }
}

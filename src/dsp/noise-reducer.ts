/**
 * NoiseReducer: streaming single-channel noise reduction for 20 ms frames, with a strength knob.
 *
 * Analysis/synthesis: a weighted overlap-add STFT (Crochiere, 1980) whose hop is the frame (or a divisor of it, at
 * most 20 ms) with 12 ms of overlap, so at 16 kHz a 320-sample frame costs one 512-point real FFT pair and the
 * algorithmic delay is the overlap: `delaySamples` = 192 (12 ms). Analysis and synthesis windows are both sqrt(p),
 * p = (a one-hop rectangle) ∗ (a Hann of the overlap, normalised), which is constant-overlap-add at the hop: with unit
 * gains the output is the input delayed, and gains change smoothly across frame edges (no clicks, no oscillation).
 * The layout is WebRTC's noise suppressor's (10 ms blocks in a 256-point FFT with tapered overlap, ns_core.c).
 *
 * Noise model, per bin k: the noise power λ(k), and for the gate the mean μ and standard deviation σ of the noise's
 * log power (noisereduce's noise profile: T. Sainburg, github.com/timsainb/noisereduce, spectralgate/stationary.py).
 * - mode 'stationary' (default): learned on the frames the VAD (or the caller's `isSpeech` = false) marks as noise,
 *   a running average over up to 4 s of them, so the first frames of noise give the profile at once; or given by
 *   `learnNoise(audio)` on known silence, which replaces it and freezes it until `reset()`.
 * - mode 'nonstationary': continuous tracking by minima-controlled recursive averaging (I. Cohen, B. Berdugo, "Noise
 *   estimation by minima controlled recursive averaging for robust speech enhancement", IEEE SPL 9(1), 2002): a bin
 *   updates λ (averaging over ~0.4 s) where its smoothed power is within 7 dB of its minimum over the last 0.8–1.6 s:
 *   a fan starting (+20 dB) is followed within 3 dB in 1.4 s, stopping in 1.8 s ('stationary': 4 s and > 5 s).
 * Both learn only from frames that are samples of the noise: not digital silence (a packet call's start), and not
 * what the caller marks as no evidence (process's noiseEvidence: the pipeline passes frames the echo suppressor has
 * turned down with the far end as such, since that noise comes and goes with the bot's speech).
 *
 * Gain per bin, from |X|² = power and λ:
 * - engine 'gate' (default): spectral gating after noisereduce, on a Wiener gain. A soft gate mask
 *   m = 1 / (1 + (T/P̄)²) against the threshold T = 10^((μ + 2·σ)/10) (a sigmoid in dB, 10–90 % over ±4.8 dB), where
 *   P̄ is |X|² smoothed over 3 bins and 2 frames; m is smoothed over 3 bins and over time (instant attack, ~40 ms
 *   release), so single-bin, single-frame noise peaks keep the gate shut (no musical noise) and word onsets pass.
 *   Inside, a decision-directed Wiener gain (Y. Ephraim, D. Malah, IEEE TASSP 32(6), 1984; α = 0.96 per 20 ms, as in
 *   speexdsp's preprocess.c) refined by the two-step ξ₂ = G²·γ (C. Plapous, C. Marro, P. Scalart, IEEE TASLP 14(6),
 *   2006) removes the noise under the speech too: G = G_w + (1 − m)²·(G_floor − G_w).
 * - engine 'subtract': power spectral subtraction with over-subtraction 3 and a floor (M. Berouti, R. Schwartz,
 *   J. Makhoul, ICASSP 1979) on |X|² smoothed over 3 bins and 2 frames (P̄): G² = max(1 − 3·λ/P̄, G_floor²).
 * The floor G_floor is −35 dB in noise and −25 dB while speech is present (following the smoothed speech decision:
 * the noise under speech is masked by it, and a shallower floor keeps weak speech components). Strength scales the
 * attenuation in dB: G = G_full^strength (strength 0.8: at most 28 dB), so strength 0 is a bit-exact passthrough
 * (the delayed input) and the attenuation rises monotonically with strength.
 *
 * Metrics (per frame; the dB figures smoothed over ~100 ms; SNRs and speech-band loss updated on speech frames only):
 * noiseFloorDb (λ as a mean square, dBFS), snrInDb / snrOutDb (estimated speech power Σ max(|X|² − λ, 0) over the
 * noise power, before and after the gain), attenuationDb (input over output power of the frame), speechBandLossDb
 * (the estimated speech power in 300–3400 Hz lost to the gain: the near-end distortion), isSpeech and vadProbability
 * (the VoiceActivityDetector's, or the caller's `isSpeech`), resets (non-finite output guards).
 *
 * Band limit (`bandwidthHz`, like the echo canceller's nearBandwidthHz): 0 = full band, else the highest frequency
 * the input carries (a G.711 call upsampled to 16 kHz: nothing above the resampler's 4.6 kHz stopband edge). The
 * gains, the noise model (profile, thresholds, MCRA) and the metrics' sums then run over bins [0, activeBins),
 * activeBins = ⌈bandwidthHz·fftSize/sampleRateHz⌉ + 1 (149 of 257 at 4600 Hz, 16 kHz); the bins above get the hop's
 * floor gain, the 3-bin smoothing reads the real power above the limit and mirrors the mask there, and the VAD still
 * sees the whole power spectrum (the FFTs are full size). On a telephone-band input the output equals the full-band
 * one within float rounding (difference −103 dB; SNR gain, LSD and every metric within 0.003 dB on the noise scenes).
 * Hot: narrowing stops the work above; widening seeds the joining bins' noise model from their old λ (or the last
 * hop's power where none was learned), mask shut, so the first frames after it do not open the gate there.
 *
 * API: `new NoiseReducer({ sampleRateHz = 16000, frameSamples = 320, engine = 'gate', strength = 0.8, mode,
 * bandwidthHz = 0 })`; `process(frame, out = frame, isSpeech?, noiseEvidence = true)`; `learnNoise(audio)`;
 * `configure(patch)` (strength/engine/mode/bandwidthHz are hot and keep the profile; sampleRateHz/frameSamples
 * reallocate and reset); `reset()`; `delaySamples`; `metrics`; `stateBytes`. process() allocates nothing and never
 * throws; non-finite input samples count as 0.
 *
 * Measured on the project's noise scenes (white/pink/babble/hum at 0/5/10 dB, strength 0.8): +8 dB SNR, +8.6 dB SDR,
 * 13.9 dB LSD on speech frames, babble +3.9 dB; 27 dB of attenuation on white noise alone.
 * Cost (16 kHz, 20 ms frames, the bench's 'gate' run): ~17.2 µs per frame (~18 before the VAD's unchecked path and
 * the shortened sample/metric loops, 22.8 before the layout below; A/B in one process: −3.5 % gate, −4 % band4600,
 * −4 % subtract), a third of it the two 512-point transforms (spectrum.ts), the rest the per-bin gains (the
 * gate's two passes most: fusing them, or the strength pass into them, measured no faster), the VAD, the
 * analysis/synthesis loops and the profile; with bandwidthHz 4600 on the same signal through 16 → 8 → 16 kHz
 * (nr.gate.band4600) ~14.6 µs (full band on it, nr.gate.telephone: ~17). V8 re-checks every distinct typed array (map, length, data
 * pointer) on each loop iteration, and mispredicts data-dependent selects per bin: so all Float32 state is one array
 * indexed by region offsets, max/min are branch-free (x + |x| forms), and the simple sample loops take four samples
 * per iteration. State: ~25 KiB of its own: one Float32 array (23 KiB: the strength table, the window, the analysis
 * and overlap-add buffers, |X|², gains, raw mask and 13 per-bin state arrays), the FFT's twiddles (2 KiB), the VAD's
 * band state; the FFT buffer and spectrum live in the thread's shared scratch (scratch.ts), the FFT's tables and
 * complex scratch are shared per size (spectrum.ts). stateBytes counts the shared ones as if owned (43 KiB).
 * Limits: babble (other talkers) is reduced by only ~4 dB; the 'stationary' profile does not follow a change of the
 * noise until it is re-learned in a pause (4 s memory) or by learnNoise(); the frequency resolution is 31 Hz.
 */
import { sharedScratch } from './scratch'
import { RealFft } from './spectrum'
import { bandBins, checkBandwidth, fastExp, fastLn } from './units'
import { VoiceActivityDetector } from './vad'

export type NoiseReducerEngine = 'gate' | 'subtract'
export type NoiseReducerMode = 'stationary' | 'nonstationary'

export interface NoiseReducerConfig {
  sampleRateHz: number
  /** Samples per process() call: a multiple of 2.5 ms up to 60 ms (160/320/480 at 16 kHz). */
  frameSamples: number
  engine: NoiseReducerEngine
  /** NOISE_REDUCTION_STRENGTH, 0–1: scales the attenuation in dB (0 = bit-exact passthrough after the delay). */
  strength: number
  mode: NoiseReducerMode
  /**
   * Highest frequency the input can carry, Hz: 0 (default) for the full band, else 1000–sampleRateHz/2, e.g. a G.711
   * call upsampled to 16 kHz carries nothing above the resampler's 4.6 kHz stopband edge. The gains, the noise model
   * and the metrics work only up to it; above, the bins get the floor gain (the VAD still sees the whole spectrum).
   */
  bandwidthHz: number
}

export interface NoiseReducerMetrics {
  /** Estimated noise power, dBFS (mean square). */
  noiseFloorDb: number
  /** Estimated SNR of the input and the output on speech frames, dB. */
  snrInDb: number
  snrOutDb: number
  /** Input power over output power of the frame, dB. */
  attenuationDb: number
  /** Estimated 300–3400 Hz speech power lost to the gain on speech frames, dB. */
  speechBandLossDb: number
  isSpeech: boolean
  vadProbability: number
  /** Non-finite output guards (the frame was zeroed and the state reset). */
  resets: number
}

export const NOISE_REDUCER_DEFAULTS: Readonly<NoiseReducerConfig> = {
  sampleRateHz: 16000,
  frameSamples: 320,
  engine: 'gate',
  strength: 0.8,
  mode: 'stationary',
  bandwidthHz: 0,
}

/** Longest hop, seconds (one hop per 20 ms frame). */
const MAX_HOP_S = 0.02
/** Window overlap = algorithmic delay, seconds. */
const OVERLAP_S = 0.012
/** Deepest attenuation at strength 1, dB: in noise, and while speech is present (masked by it, and kinder to it). */
const MAX_ATTENUATION_DB = 35
const SPEECH_ATTENUATION_DB = 25
/** Smoothing of the speech weight that moves the floor between the two, per 20 ms. */
const FLOOR_SMOOTHING_20MS = 0.5
/** Stationary profile: running average over up to this much noise, seconds (then exponential with that memory). */
const STATIONARY_MEMORY_S = 4
/** Hops of sound after digital silence before a hop is a sample of the noise (its window holds no silence). */
const SILENCE_CLEAR_HOPS = 3
/** The first frames of noise are all learned (a profile at once); later every 2nd, the thresholds every 4th update. */
const LEARN_EVERY_HOP_UNTIL = 32
const THRESHOLD_REFRESH_UPDATES = 4
/** Gate threshold = noise log-power mean + N_STD standard deviations (noisereduce's n_std_thresh_stationary). */
const N_STD_THRESHOLD = 2
/** Lower bound on the log-power standard deviation, dB: a profile of a few frames underestimates it. */
const MIN_STD_DB = 2
/** Smoothing over time of the power the gate mask looks at, per 20 ms (½: this frame and the last one). */
const MASK_POWER_SMOOTHING_20MS = 0.5
/** Mask release: the mask keeps this fraction per 20 ms when it falls (≈ 40 ms time constant). */
const MASK_RELEASE_20MS = 0.6
/** Decision-directed smoothing of the a priori SNR per 20 ms. */
const DD_ALPHA_20MS = 0.96
/** Log power of a χ²₂ (Gaussian noise) bin: mean 2.51 dB below 10·log10(λ), variance (5.57 dB)². */
const CHI2_DB_MEAN_OFFSET = 2.51
const CHI2_DB_VARIANCE = 31
/** Spectral subtraction: over-subtraction factor (3: a smoothed noise-only power exceeds 3·λ in < 1 % of bins). */
const OVER_SUBTRACTION = 3
const SPEECH_BAND_LOW_HZ = 300
const SPEECH_BAND_HIGH_HZ = 3400
const POWER_EPSILON = 1e-20
/** Lower bound on the a priori SNR, −40 dB: far below the gain floor's effect, it only keeps the recursion finite. */
const XI_MIN = 1e-4
/** ln(10)/10: dB → natural log of a power ratio, and back. */
const DB_TO_LN = Math.LN10 / 10
const LN_TO_DB = 10 / Math.LN10
/**
 * Steps of the G ↦ G^strength table over G in [0, 1], read with linear interpolation: relative error < 1e-3 down to
 * the −35 dB floor (0.004 dB; h²/8·s(1−s)/G²), in 1 KiB.
 */
const STRENGTH_TABLE_STEPS = 256

/** MCRA (nonstationary mode), per 20 ms: power smoothing, noise averaging (≈ 0.4 s), presence smoothing. */
const MCRA_ALPHA_S_20MS = 0.6
const MCRA_ALPHA_D_20MS = 0.95
const MCRA_ALPHA_P_20MS = 0.3
/** Speech present where the smoothed power exceeds its minimum by this ratio (7 dB). */
const MCRA_DELTA = 5
/** Minimum-search window, seconds: the minimum spans the last 1–2 windows. */
const MCRA_WINDOW_S = 0.8
/** Nonstationary gate threshold over λ: 5.85 dB = μ + 1.5·σ of an exponential (χ²₂) power in dB. */
const NONSTATIONARY_THRESHOLD_DB = 5.85

export class NoiseReducer {
  readonly metrics: NoiseReducerMetrics = {
    noiseFloorDb: -120,
    snrInDb: 0,
    snrOutDb: 0,
    attenuationDb: 0,
    speechBandLossDb: 0,
    isSpeech: false,
    vadProbability: 0,
    resets: 0,
  }
  private config: NoiseReducerConfig
  // Sizes, fixed by sampleRateHz and frameSamples (set in allocate()).
  private hop = 0
  private hopsPerFrame = 0
  private overlap = 0
  private windowLength = 0
  private fftSize = 0
  private bins = 0
  /** Bins [0, activeBins) get gains, noise tracking and metrics (bandwidthHz); the rest the floor gain. */
  private activeBins = 0
  /** Bins [0, profiledBins) hold a learned noise model (0 until the first learning since reset()). */
  private profiledBins = 0
  private speechBandStart = 0
  private speechBandEnd = 0
  private stationaryMemoryHops = 0
  private minWindowHops = 0
  /** Mean square of the signal per Σ one-sided weighted |X|²: 1 / (n·Σw²), Σw² = hop (constant overlap-add). */
  private powerScale = 0
  // Per-hop coefficients from the per-20 ms constants.
  private maskRelease = 0
  private ddAlpha = 0
  private mcraAlphaS = 0
  private mcraAlphaD = 0
  private mcraAlphaP = 0
  private metricSmoothing = 0
  private floorSmoothing = 0
  private maskPowerSmoothing = 0
  private bytes = 0
  private fft!: RealFft
  private vad!: VoiceActivityDetector
  /**
   * All Float32 state and per-hop values in one array, the regions at the offsets below (`…At`): the hot loops index
   * one typed array instead of up to eight, because optimized V8 code re-checks each distinct typed array (its map,
   * length and data pointer) on every loop iteration, which cost about as much as the arithmetic.
   * - [0, STRENGTH_TABLE_STEPS]: G ↦ G^strength at G = i / STRENGTH_TABLE_STEPS (rebuilt when strength changes).
   * - windowAt: the analysis window (= synthesis window), windowLength.
   * - from inputAt on, zeroed by reset(): the analysis buffer (the last windowLength input samples, Float32 like the
   *   input: exact), the overlap-add accumulator (windowLength), then the per-bin arrays (bins each).
   */
  private state!: Float32Array
  private windowAt = 0
  private inputAt = 0
  private overlapAddAt = 0
  /** Per hop: |X|², the full-strength amplitude gain (then G² for the metrics), the gate's raw mask. */
  private powerAt = 0
  private gainAt = 0
  /** Gate mask after smoothing (its state across frames); the gate's power, smoothed over 3 bins and 2 frames. */
  private maskSmoothedAt = 0
  private maskPowerAt = 0
  private rawAt = 0
  /** Wiener-estimated clean power of the previous frame (decision-directed a priori SNR). */
  private previousCleanAt = 0
  /** Power smoothed over 3 bins and 2 frames, for spectral subtraction. */
  private subtractPowerAt = 0
  /** Noise model: λ, 1/λ, log-power mean (dB) and variance (dB²), gate threshold (power). */
  private noiseAt = 0
  private inverseAt = 0
  private dbMeanAt = 0
  private dbVarianceAt = 0
  private thresholdAt = 0
  /** MCRA: smoothed power, its running minimum and the current window's, speech presence probability. */
  private smoothedAt = 0
  private minAt = 0
  private minTempAt = 0
  private presenceAt = 0
  /** |X|² as its own view of state, for the VAD. */
  private power!: Float32Array
  /**
   * learnNoise's copy of the streaming analysis buffer, which it borrows for the audio it learns from (so analyze()
   * reads one array); allocated by its first call (a cold path; most calls never learn from given audio).
   */
  private savedInput = new Float32Array(0)
  /**
   * Shared scratch (scratch.ts), dead between hops: `work` holds the windowed frame / inverse FFT output at
   * [0, fftSize) (also viewed as fftBuffer, for the transforms) and the spectrum, interleaved re/im over bins
   * 0…fftSize/2, at [fftSize, 2·fftSize + 2).
   */
  private work!: Float64Array
  private fftBuffer!: Float64Array
  private learnedHops = 0
  private hopsSinceThresholds = 0
  private skippedLearnHops = 0
  private profileGiven = false
  private minWindowCount = 0
  private hops = 0
  /**
   * Hops analysed since the last one whose window was digital silence (large until one is): a window reaching back
   * into silence holds the noise diluted, so evidence needs SILENCE_CLEAR_HOPS of sound after it.
   */
  private soundHops = SILENCE_CLEAR_HOPS
  private speechWeight = 0
  /**
   * The hop's gain floor, G_floor (a field, not an argument: V8 re-reads a number argument used in a loop on every
   * iteration).
   */
  private floorGain = 0
  /** The hop's sums of |X|², G²·|X|² and λ over bins 0…n/2 (applyGains()). */
  private powerInSum = 0
  private powerOutSum = 0
  private noiseInSum = 0

  constructor(config: Partial<NoiseReducerConfig> = {}) {
    const merged = { ...NOISE_REDUCER_DEFAULTS, ...config }
    validate(merged)
    this.config = merged
    this.allocate()
  }

  /** Algorithmic delay, samples: output sample n is the processed input sample n − delaySamples. */
  get delaySamples(): number {
    return this.overlap
  }

  /** Bytes of state held in typed arrays (including the VAD's and the FFT's). */
  get stateBytes(): number {
    return this.bytes
  }

  get sampleRateHz(): number {
    return this.config.sampleRateHz
  }

  get frameSamples(): number {
    return this.config.frameSamples
  }

  get engine(): NoiseReducerEngine {
    return this.config.engine
  }

  get strength(): number {
    return this.config.strength
  }

  get mode(): NoiseReducerMode {
    return this.config.mode
  }

  get bandwidthHz(): number {
    return this.config.bandwidthHz
  }

  /**
   * Changes settings; throws RangeError naming the field. strength, engine and mode take effect on the next frame
   * and keep the noise profile; a new sampleRateHz or frameSamples reallocates and resets (a cold path).
   */
  configure(patch: Partial<NoiseReducerConfig>): void {
    const merged = { ...this.config, ...patch }
    validate(merged)
    const resize = merged.sampleRateHz !== this.config.sampleRateHz || merged.frameSamples !== this.config.frameSamples
    const strengthChanged = merged.strength !== this.config.strength
    const modeChanged = merged.mode !== this.config.mode
    const bandChanged = merged.bandwidthHz !== this.config.bandwidthHz
    this.config = merged
    if (resize) this.allocate()
    else if (strengthChanged) this.buildStrengthTable()
    if (bandChanged && !resize) this.applyBand()
    if (modeChanged && !resize && this.hops > 0) this.handOverProfile()
  }

  /** activeBins for bandwidthHz: ceil(bandwidthHz·fftSize/sampleRateHz) + 1, at most all bins. */
  private bandBins(): number {
    return bandBins(this.config.bandwidthHz, this.fftSize, this.config.sampleRateHz)
  }

  /**
   * Sets activeBins from bandwidthHz. Widening gives the bins that join the band a noise model from their λ (as it
   * was when they left the band, or from the last hop's power smoothed over 3 bins where none was ever learned): the
   * log-power profile of a χ²₂ noise around it and MCRA's minima at it, with the gate's mask shut (the floor gain, as
   * they had); the noise model then tracks them as usual. Narrowing only stops the work above.
   */
  private applyBand(): void {
    const previous = this.activeBins
    const active = this.bandBins()
    this.activeBins = active
    if (active <= previous || this.hops === 0) return
    const s = this.state
    const power = this.powerAt
    const profiled = this.profiledBins > 0
    const ratio = fastExp(DB_TO_LN * NONSTATIONARY_THRESHOLD_DB)
    for (let k = previous; k < active; k++) {
      const p = s[power + k]!
      s[this.maskSmoothedAt + k] = 0
      s[this.previousCleanAt + k] = 0
      s[this.maskPowerAt + k] = p
      s[this.subtractPowerAt + k] = p
      if (!profiled) continue // (the first learning sets every bin)
      const lambda =
        k < this.profiledBins
          ? s[this.noiseAt + k]! + POWER_EPSILON
          : 0.25 * (s[power + k - 1]! + s[power + k + 1]!) + 0.5 * p + POWER_EPSILON
      s[this.noiseAt + k] = lambda
      s[this.dbMeanAt + k] = LN_TO_DB * fastLn(lambda) - CHI2_DB_MEAN_OFFSET
      s[this.dbVarianceAt + k] = CHI2_DB_VARIANCE
      s[this.smoothedAt + k] = lambda
      s[this.minAt + k] = lambda
      s[this.minTempAt + k] = lambda
      s[this.presenceAt + k] = 0
      s[this.thresholdAt + k] = ratio * lambda
      s[this.inverseAt + k] = 1 / lambda
    }
    if (!profiled) return
    if (this.profiledBins < active) this.profiledBins = active
    if (this.config.mode === 'stationary') this.updateThresholds()
  }

  /**
   * On a mode change, seeds the new mode's noise model from the current λ so the attenuation carries on: MCRA's
   * smoothed power and minima, or (if stationary was never learned) a log-power profile of a χ²₂ noise around λ.
   */
  private handOverProfile(): void {
    const s = this.state
    const noise = this.noiseAt
    if (this.config.mode === 'nonstationary') {
      for (let k = 0; k < this.activeBins; k++) {
        const lambda = s[noise + k]!
        s[this.smoothedAt + k] = lambda
        s[this.minAt + k] = lambda
        s[this.minTempAt + k] = lambda
        s[this.presenceAt + k] = 0
      }
      this.minWindowCount = 0
    } else if (this.learnedHops === 0 && !this.profileGiven) {
      for (let k = 0; k < this.activeBins; k++) {
        s[this.dbMeanAt + k] = LN_TO_DB * fastLn(s[noise + k]! + POWER_EPSILON) - CHI2_DB_MEAN_OFFSET
        s[this.dbVarianceAt + k] = CHI2_DB_VARIANCE
      }
      this.learnedHops = LEARN_EVERY_HOP_UNTIL
    }
    this.updateThresholds()
  }

  /** Zeroes the signal state, the noise profile and the metrics (except resets); keeps the buffers. */
  reset(): void {
    this.state.fill(0, this.inputAt)
    this.learnedHops = 0
    this.profiledBins = 0
    this.hopsSinceThresholds = 0
    this.skippedLearnHops = 0
    this.profileGiven = false
    this.minWindowCount = 0
    this.hops = 0
    this.soundHops = SILENCE_CLEAR_HOPS
    this.speechWeight = 0
    this.vad.reset()
    const m = this.metrics
    m.noiseFloorDb = -120
    m.snrInDb = 0
    m.snrOutDb = 0
    m.attenuationDb = 0
    m.speechBandLossDb = 0
    m.isSpeech = false
    m.vadProbability = 0
  }

  /**
   * Learns the noise profile from audio known to hold noise only (at least one hop, 20 ms; non-finite samples count
   * as 0). It replaces the profile, which then stays fixed in 'stationary' mode until reset(), and seeds the
   * tracker of 'nonstationary' mode. The streaming state is not touched.
   */
  learnNoise(audio: Float32Array): void {
    const hop = this.hop
    const hops = Math.floor(audio.length / hop)
    if (hops === 0) return
    const s = this.state
    const bins = this.bins
    const windowLength = this.windowLength
    const input = this.inputAt
    if (this.savedInput.length !== windowLength) this.savedInput = new Float32Array(windowLength)
    for (let i = 0; i < windowLength; i++) this.savedInput[i] = s[input + i]!
    s.fill(0, input, input + windowLength)
    s.fill(0, this.noiseAt, this.noiseAt + bins)
    s.fill(0, this.dbMeanAt, this.dbMeanAt + bins)
    s.fill(0, this.dbVarianceAt, this.dbVarianceAt + bins)
    let used = 0
    for (let h = 0; h < hops; h++) {
      s.copyWithin(input, input + hop, input + windowLength)
      const base = input + windowLength - hop
      for (let i = 0; i < hop; i++) s[base + i] = finiteSample(audio[h * hop + i]!)
      // Skip the hops whose window still holds the zeros before the audio (unless that is all there is).
      if ((h + 1) * hop < windowLength && h + 1 < hops) continue
      this.analyze()
      this.accumulateProfile(1 / ++used)
    }
    for (let i = 0; i < windowLength; i++) s[input + i] = this.savedInput[i]!
    this.profiledBins = this.activeBins // (the bins above were cleared)
    for (let k = 0; k < this.activeBins; k++) {
      const p = s[this.noiseAt + k]!
      s[this.smoothedAt + k] = p
      s[this.minAt + k] = p
      s[this.minTempAt + k] = p
      s[this.presenceAt + k] = 0
    }
    this.learnedHops = Math.max(used, this.stationaryMemoryHops)
    this.profileGiven = true
    this.updateThresholds()
  }

  /**
   * Processes one frame into out (which may be the frame itself): the input delayed by delaySamples with the noise
   * reduced. isSpeech, when given, replaces the VAD's decision for noise learning. noiseEvidence false: the frame is
   * no sample of the noise (e.g. an echo suppressor has turned it down with the far end): it is reduced as usual but
   * the noise profile, its tracking and the VAD's floors hold (digital silence never counts either). Never throws: a
   * frame shorter than frameSamples is zero-padded, an out shorter than frameSamples gets what fits.
   */
  process(frame: Float32Array, out: Float32Array = frame, isSpeech?: boolean, noiseEvidence = true): void {
    const hop = this.hop
    const s = this.state
    const input = this.inputAt
    const overlapAdd = this.overlapAddAt
    const window = this.windowAt
    const x = this.work
    const windowLength = this.windowLength
    const base = windowLength - hop
    const available = frame.length
    const writable = out.length
    const bypass = !(this.config.strength > 0)
    let bad = false
    for (let h = 0; h < this.hopsPerFrame; h++) {
      // Shift the analysis buffer by one hop and append the new samples (read before out is written: out may be frame).
      s.copyWithin(input, input + hop, input + windowLength)
      const offset = h * hop
      const present = offset + hop <= available ? hop : available > offset ? available - offset : 0
      const at = input + base
      // (Here and below, four samples per iteration where the loop is simple: optimized V8 code re-checks each typed
      // array once per iteration, about as much work as a sample's own.)
      let i = 0
      for (; i + 3 < present; i += 4) {
        const v0 = frame[offset + i]!
        const v1 = frame[offset + i + 1]!
        const v2 = frame[offset + i + 2]!
        const v3 = frame[offset + i + 3]!
        if (Math.abs(v0) <= 1 && Math.abs(v1) <= 1 && Math.abs(v2) <= 1 && Math.abs(v3) <= 1) {
          s[at + i] = v0
          s[at + i + 1] = v1
          s[at + i + 2] = v2
          s[at + i + 3] = v3
        } else {
          // Non-finite → 0, clamped to [−1, 1] (rare).
          s[at + i] = finiteSample(v0)
          s[at + i + 1] = finiteSample(v1)
          s[at + i + 2] = finiteSample(v2)
          s[at + i + 3] = finiteSample(v3)
        }
      }
      for (; i < present; i++) s[at + i] = finiteSample(frame[offset + i]!)
      if (present < hop) s.fill(0, at + present, at + hop)
      this.processHop(isSpeech, noiseEvidence)
      // Synthesis: the inverse transform (work[0, windowLength)) through the synthesis window, overlap-added.
      // Output: the delayed input itself when strength is 0 (bit-exact), else the accumulator's first hop.
      // Non-finite guard on the way (speexdsp's "slapped" reset): a gain ≤ 1 cannot take a sample beyond ±4.
      const end = offset + hop < writable ? hop : writable - offset
      if (bypass) {
        for (let i = 0; i < end; i++) {
          const v = s[input + i]!
          if (!(v >= -4 && v <= 4)) bad = true
          out[offset + i] = v
        }
      } else {
        // (rounded to Float32 as the accumulator held it before; the guard reads the rounded sample)
        i = 0
        for (; i + 3 < end; i += 4) {
          const v0 = Math.fround(s[overlapAdd + i]! + x[i]! * s[window + i]!)
          const v1 = Math.fround(s[overlapAdd + i + 1]! + x[i + 1]! * s[window + i + 1]!)
          const v2 = Math.fround(s[overlapAdd + i + 2]! + x[i + 2]! * s[window + i + 2]!)
          const v3 = Math.fround(s[overlapAdd + i + 3]! + x[i + 3]! * s[window + i + 3]!)
          if (!(Math.abs(v0) <= 4 && Math.abs(v1) <= 4 && Math.abs(v2) <= 4 && Math.abs(v3) <= 4)) bad = true
          out[offset + i] = v0
          out[offset + i + 1] = v1
          out[offset + i + 2] = v2
          out[offset + i + 3] = v3
        }
        for (; i < end; i++) {
          const v = Math.fround(s[overlapAdd + i]! + x[i]! * s[window + i]!)
          if (!(v >= -4 && v <= 4)) bad = true
          out[offset + i] = v
        }
      }
      // The rest stays in the accumulator, shifted by the hop (each sample written after it is read), zeros after it.
      i = hop
      if (hop >= base) {
        // The hop is at least the overlap (320 ≥ 192 at 16 kHz): the accumulator is 0 from base on, so the rest is
        // 0 + the new tail (+0, as it read), written over [0, base) only; [base, windowLength) stays zero.
        for (; i + 3 < windowLength; i += 4) {
          s[overlapAdd + i - hop] = 0 + x[i]! * s[window + i]!
          s[overlapAdd + i + 1 - hop] = 0 + x[i + 1]! * s[window + i + 1]!
          s[overlapAdd + i + 2 - hop] = 0 + x[i + 2]! * s[window + i + 2]!
          s[overlapAdd + i + 3 - hop] = 0 + x[i + 3]! * s[window + i + 3]!
        }
        for (; i < windowLength; i++) s[overlapAdd + i - hop] = 0 + x[i]! * s[window + i]!
        continue
      }
      for (; i + 3 < windowLength; i += 4) {
        s[overlapAdd + i - hop] = s[overlapAdd + i]! + x[i]! * s[window + i]!
        s[overlapAdd + i + 1 - hop] = s[overlapAdd + i + 1]! + x[i + 1]! * s[window + i + 1]!
        s[overlapAdd + i + 2 - hop] = s[overlapAdd + i + 2]! + x[i + 2]! * s[window + i + 2]!
        s[overlapAdd + i + 3 - hop] = s[overlapAdd + i + 3]! + x[i + 3]! * s[window + i + 3]!
      }
      for (; i < windowLength; i++) s[overlapAdd + i - hop] = s[overlapAdd + i]! + x[i]! * s[window + i]!
      s.fill(0, overlapAdd + base, overlapAdd + windowLength)
    }
    if (bad) {
      // Zero the frame and start over.
      out.fill(0, 0, writable < this.config.frameSamples ? writable : this.config.frameSamples)
      this.metrics.resets++
      this.reset()
    }
  }

  /** Windows the analysis buffer, transforms it, |X|² into the state; returns Σ|X|² (0: digital silence). */
  private analyze(): number {
    const x = this.fftBuffer
    const s = this.state
    const input = this.inputAt
    const window = this.windowAt
    const n = this.windowLength
    // (Four samples per iteration: V8 re-checks the typed arrays once per iteration, as much work as a sample's.)
    let i = 0
    for (; i + 3 < n; i += 4) {
      x[i] = s[input + i]! * s[window + i]!
      x[i + 1] = s[input + i + 1]! * s[window + i + 1]!
      x[i + 2] = s[input + i + 2]! * s[window + i + 2]!
      x[i + 3] = s[input + i + 3]! * s[window + i + 3]!
    }
    for (; i < n; i++) x[i] = s[input + i]! * s[window + i]!
    if (n < x.length) x.fill(0, n) // zero padding (the buffer also holds the last inverse FFT)
    const X = this.work
    const spectrum = this.fftSize
    this.fft.forward(x, X, spectrum)
    const power = this.powerAt
    const bins = this.bins
    // (total only tells digital silence from sound: two partial sums halve the chain of dependent additions)
    let total0 = 0
    let total1 = 0
    let k = 0
    for (; k + 1 < bins; k += 2) {
      const re0 = X[spectrum + 2 * k]!
      const im0 = X[spectrum + 2 * k + 1]!
      const re1 = X[spectrum + 2 * k + 2]!
      const im1 = X[spectrum + 2 * k + 3]!
      const p0 = re0 * re0 + im0 * im0
      const p1 = re1 * re1 + im1 * im1
      s[power + k] = p0
      s[power + k + 1] = p1
      total0 += p0
      total1 += p1
    }
    for (; k < bins; k++) {
      const re = X[spectrum + 2 * k]!
      const im = X[spectrum + 2 * k + 1]!
      const p = re * re + im * im
      s[power + k] = p
      total0 += p
    }
    const total = total0 + total1
    s[power - 1] = s[power + 1]!
    s[power + bins] = s[power + bins - 2]!
    return total
  }

  private processHop(callerSpeech: boolean | undefined, noiseEvidence: boolean): void {
    // Digital silence (a stream's start, a faded-out loss) is no sample of the noise either.
    this.soundHops = this.analyze() > 0 ? this.soundHops + 1 : 0
    const evidence = noiseEvidence && this.soundHops >= SILENCE_CLEAR_HOPS
    const vadSpeech = this.vad.processPowerSpectrum(this.power, evidence)
    const speech = callerSpeech === undefined ? vadSpeech : callerSpeech
    this.hops++
    if (this.config.mode === 'stationary') {
      if (evidence && !this.profileGiven && (!speech || this.learnedHops === 0)) this.learnStationary()
    } else if (evidence) this.trackNonstationary(callerSpeech)

    // Floor: from −35 dB in noise to −25 dB in speech (full strength), following the smoothed speech decision.
    this.speechWeight = this.floorSmoothing * this.speechWeight + (1 - this.floorSmoothing) * (speech ? 1 : 0)
    const floorDb = MAX_ATTENUATION_DB - (MAX_ATTENUATION_DB - SPEECH_ATTENUATION_DB) * this.speechWeight
    this.floorGain = fastExp(-0.5 * DB_TO_LN * floorDb)
    if (this.config.engine === 'gate') this.gateGain()
    else this.subtractGain()
    this.applyGains()
    // One-sided spectrum: every bin counts twice but DC and Nyquist.
    const s = this.state
    const power = this.powerAt
    const gain = this.gainAt
    const noise = this.noiseAt
    let powerIn = 2 * this.powerInSum - s[power]!
    let powerOut = 2 * this.powerOutSum - s[gain]! * s[power]!
    let noiseIn = 2 * this.noiseInSum - s[noise]!
    if (this.activeBins === this.bins) {
      // (Nyquist is in the band)
      const last = this.bins - 1
      powerIn -= s[power + last]!
      powerOut -= s[gain + last]! * s[power + last]!
      noiseIn -= s[noise + last]!
    }

    // Synthesis (the windowing and overlap-add in process()): the inverse transform, into work[0, fftSize).
    this.fft.inverse(this.work, this.fftBuffer, this.fftSize)

    const m = this.metrics
    const a = this.metricSmoothing
    m.noiseFloorDb = powerDb(noiseIn * this.powerScale)
    m.attenuationDb = a * m.attenuationDb + (1 - a) * ratioDb(powerIn, powerOut)
    m.isSpeech = speech
    m.vadProbability = callerSpeech === undefined ? this.vad.probability : callerSpeech ? 1 : 0
    if (speech) this.speechMetrics(noiseIn)
  }

  /**
   * Strength (G^strength, interpolated in the table) applied to the spectrum; gain becomes G² for speechMetrics();
   * the frame's power sums. (A separate pass: fused into the gate's loop, it measured slower.)
   */
  private applyGains(): void {
    const bins = this.activeBins
    const s = this.state
    const X = this.work
    const spectrum = this.fftSize
    const power = this.powerAt
    const gain = this.gainAt
    const noise = this.noiseAt
    const steps = STRENGTH_TABLE_STEPS // the table is at 0
    let powerIn = 0
    let powerOut = 0
    let noiseIn = 0
    for (let k = 0; k < bins; k++) {
      // G ≤ 1: the last step ends at the table's last entry.
      const position = s[gain + k]! * steps
      const index = position < steps ? position | 0 : steps - 1
      const below = s[index]!
      const g = below + (position - index) * (s[index + 1]! - below)
      const re = spectrum + 2 * k
      X[re] = X[re]! * g
      X[re + 1] = X[re + 1]! * g
      const g2 = g * g
      s[gain + k] = g2
      const p = s[power + k]!
      powerIn += p
      powerOut += g2 * p
      noiseIn += s[noise + k]!
    }
    this.powerInSum = powerIn
    this.powerOutSum = powerOut
    this.noiseInSum = noiseIn
    if (bins === this.bins) return
    // Above the band: the floor gain (their input is ~0; this keeps whatever leaks there as low as the noise).
    const position = this.floorGain * steps
    const index = position < steps ? position | 0 : steps - 1
    const below = s[index]!
    const g = below + (position - index) * (s[index + 1]! - below)
    const end = spectrum + 2 * this.bins
    for (let i = spectrum + 2 * bins; i < end; i++) X[i] = X[i]! * g
  }

  /** Speech frames: estimated SNR in and out and the speech-band loss, from |X|², λ and G² (in gain). */
  private speechMetrics(noiseIn: number): void {
    const s = this.state
    const power = this.powerAt
    const noise = this.noiseAt
    const gain2 = this.gainAt
    let noiseOut = 0
    let speechIn = 0
    let speechOut = 0
    let bandIn = 0
    let bandOut = 0
    const active = this.activeBins
    const bandStart = this.speechBandStart < active ? this.speechBandStart : active
    const bandEnd = this.speechBandEnd < active ? this.speechBandEnd : active
    // The whole band, then the speech band again (a second pass: ~0.2 µs per frame, simpler than three spelt-out ranges).
    for (let k = 0; k < active; k++) {
      const g2 = s[gain2 + k]!
      const lambda = s[noise + k]!
      const d = s[power + k]! - lambda
      const clean = 0.5 * (d + Math.abs(d)) // max(d, 0), the estimated speech power
      noiseOut += g2 * lambda
      speechIn += clean
      speechOut += g2 * clean
    }
    for (let k = bandStart; k < bandEnd; k++) {
      const d = s[power + k]! - s[noise + k]!
      const clean = 0.5 * (d + Math.abs(d))
      bandIn += clean
      bandOut += s[gain2 + k]! * clean
    }
    const m = this.metrics
    const a = this.metricSmoothing
    // noiseIn is one-sided-weighted (×2); the sums here are not, which only matters for the ratios' bins 0 and n/2.
    m.snrInDb = a * m.snrInDb + (1 - a) * ratioDb(2 * speechIn, noiseIn)
    m.snrOutDb = a * m.snrOutDb + (1 - a) * ratioDb(speechOut, noiseOut)
    m.speechBandLossDb = a * m.speechBandLossDb + (1 - a) * ratioDb(bandIn, bandOut)
  }

  /** Adds the current power spectrum to the profile with weight w (running mean of λ, μ_dB and σ²_dB). */
  private accumulateProfile(w: number): void {
    const s = this.state
    const power = this.powerAt
    const noise = this.noiseAt
    const mean = this.dbMeanAt
    const variance = this.dbVarianceAt
    const active = this.activeBins
    if (this.profiledBins < active) this.profiledBins = active
    for (let k = 0; k < active; k++) {
      const p = s[power + k]!
      const db = LN_TO_DB * fastLn(p + POWER_EPSILON)
      s[noise + k] = s[noise + k]! + w * (p - s[noise + k]!)
      const delta = db - s[mean + k]!
      const updated = s[mean + k]! + w * delta
      s[mean + k] = updated
      s[variance + k] = s[variance + k]! + w * (delta * (db - updated) - s[variance + k]!)
    }
  }

  /**
   * Stationary profile: one more noise frame. The first LEARN_EVERY_HOP_UNTIL frames are all learned and refresh the
   * thresholds; after that every 2nd noise frame is learned (counted twice) and the thresholds follow every 4th update.
   */
  private learnStationary(): void {
    if (this.learnedHops >= LEARN_EVERY_HOP_UNTIL && (++this.skippedLearnHops & 1) === 1) return
    const step = this.learnedHops >= LEARN_EVERY_HOP_UNTIL ? 2 : 1
    this.learnedHops = Math.min(this.learnedHops + step, this.stationaryMemoryHops)
    this.accumulateProfile(step / this.learnedHops)
    if (this.learnedHops <= LEARN_EVERY_HOP_UNTIL || ++this.hopsSinceThresholds >= THRESHOLD_REFRESH_UPDATES)
      this.updateThresholds()
  }

  /** Gate threshold per bin from the log-power profile: T = 10^((μ + n·max(σ, σ_min))/10); and 1/λ. */
  private updateThresholds(): void {
    this.hopsSinceThresholds = 0
    const s = this.state
    const mean = this.dbMeanAt
    const variance = this.dbVarianceAt
    const threshold = this.thresholdAt
    const noise = this.noiseAt
    const inverse = this.inverseAt
    for (let k = 0; k < this.activeBins; k++) {
      const v = s[variance + k]!
      const std = Math.sqrt(Math.max(v, MIN_STD_DB * MIN_STD_DB)) // (no integer constant in a phi: V8 would box)
      s[threshold + k] = fastExp(DB_TO_LN * (s[mean + k]! + N_STD_THRESHOLD * std))
      s[inverse + k] = 1 / (s[noise + k]! + POWER_EPSILON)
    }
  }

  /** MCRA: per-bin speech presence from the smoothed power over its running minimum; gated recursive λ. */
  private trackNonstationary(callerSpeech: boolean | undefined): void {
    const bins = this.activeBins
    if (this.profiledBins < bins) this.profiledBins = bins
    const s = this.state
    const power = this.powerAt
    const smoothedPower = this.smoothedAt
    const minPower = this.minAt
    const minPowerTemp = this.minTempAt
    const presence = this.presenceAt
    const noise = this.noiseAt
    const inverse = this.inverseAt
    const threshold = this.thresholdAt
    const first = this.hops === 1 && !this.profileGiven
    let rolled = false
    if (++this.minWindowCount >= this.minWindowHops) {
      this.minWindowCount = 0
      rolled = true
    }
    const alphaS = this.mcraAlphaS
    const alphaD = this.mcraAlphaD
    const alphaP = this.mcraAlphaP
    const delta = MCRA_DELTA
    const ratio = fastExp(DB_TO_LN * NONSTATIONARY_THRESHOLD_DB)
    const forced = callerSpeech === undefined ? -1 : callerSpeech ? 1 : 0
    for (let k = 0; k < bins; k++) {
      const p = s[power + k]!
      // Power smoothed over 3 bins (the edges mirror), then over time.
      const pf = 0.25 * (s[power + k - 1]! + s[power + k + 1]!) + 0.5 * p
      if (first) {
        s[smoothedPower + k] = pf
        s[minPower + k] = pf
        s[minPowerTemp + k] = pf
        s[noise + k] = p
        s[presence + k] = 0
      } else {
        const smoothed = alphaS * s[smoothedPower + k]! + (1 - alphaS) * pf
        s[smoothedPower + k] = smoothed
        const oldMinimum = s[minPower + k]!
        const oldTemp = s[minPowerTemp + k]!
        let minimum = 0.5 * (oldMinimum + smoothed - Math.abs(oldMinimum - smoothed))
        let temp = 0.5 * (oldTemp + smoothed - Math.abs(oldTemp - smoothed))
        if (rolled) {
          minimum = temp
          temp = smoothed
        }
        s[minPower + k] = minimum
        s[minPowerTemp + k] = temp
        const indicator = forced >= 0 ? forced : smoothed > delta * minimum ? 1 : 0
        const q = alphaP * s[presence + k]! + (1 - alphaP) * indicator
        s[presence + k] = q
        const alpha = alphaD + (1 - alphaD) * q
        s[noise + k] = alpha * s[noise + k]! + (1 - alpha) * p
      }
      s[threshold + k] = ratio * s[noise + k]!
      s[inverse + k] = 1 / (s[noise + k]! + POWER_EPSILON)
    }
  }

  /**
   * Gate: the soft mask (on the power smoothed over 3 bins and 2 frames, against the threshold; then smoothed over
   * 3 bins, instant attack, exponential release) pulls a two-step decision-directed Wiener gain towards the floor:
   * G = G_w + (1 − m)²·(G_floor − G_w).
   */
  private gateGain(): void {
    const floor = this.floorGain
    const bins = this.activeBins
    const s = this.state
    const power = this.powerAt
    const inverse = this.inverseAt
    const previousClean = this.previousCleanAt
    const maskSmoothed = this.maskSmoothedAt
    const gain = this.gainAt
    const release = this.maskRelease
    const attack = 0.5 * (1 - release)
    const dd = this.ddAlpha
    // Raw mask P̄²/(P̄² + T²) = 1/(1 + (T/P̄)²): a sigmoid of the level over the threshold in dB (slope 0.46/dB), on
    // the power P̄ smoothed over 3 bins (¼, ½, ¼) and over time (maskPower); the edges mirror (bin −1 = bin 1).
    const maskPower = this.maskPowerAt
    const threshold = this.thresholdAt
    const raw = this.rawAt
    const a = this.maskPowerSmoothing
    const b = 0.25 * (1 - a)
    for (let k = 0; k < bins; k++) {
      const p = a * s[maskPower + k]! + b * (s[power + k - 1]! + s[power + k + 1]! + 2 * s[power + k]!) + POWER_EPSILON
      s[maskPower + k] = p
      const t = s[threshold + k]!
      s[raw + k] = (p * p) / (p * p + t * t)
    }
    // (at the band's limit too: the bins above carry no content)
    s[raw - 1] = s[raw + 1]!
    s[raw + bins] = s[raw + bins - 2]!
    for (let k = 0; k < bins; k++) {
      const target = 0.5 * s[raw + k]! + 0.25 * (s[raw + k - 1]! + s[raw + k + 1]!)
      const previous = s[maskSmoothed + k]!
      const rise = target - previous
      const m = previous + release * rise + attack * (rise + Math.abs(rise))
      s[maskSmoothed + k] = m
      // ξ = α·Ŝ²(previous)/λ + (1 − α)·max(γ − 1, 0); G₁ = ξ/(1 + ξ); ξ₂ = G₁²·γ; G_w = ξ₂/(1 + ξ₂) = ξ²γ/((1+ξ)² + ξ²γ).
      const pk = s[power + k]!
      const inv = s[inverse + k]!
      const gamma = pk * inv
      const excess = gamma - 1
      let xi = dd * s[previousClean + k]! * inv + (1 - dd) * 0.5 * (excess + Math.abs(excess))
      xi = 0.5 * (xi + XI_MIN + Math.abs(xi - XI_MIN)) // also keeps ξ → ξ²γ → ξ from sliding into denormals (slow arithmetic)
      const onePlus = 1 + xi
      const numerator = xi * xi * gamma
      let wiener = numerator / (onePlus * onePlus + numerator)
      s[previousClean + k] = wiener * wiener * pk
      wiener = 0.5 * (wiener + floor + Math.abs(wiener - floor))
      const noiseShare = 1 - m
      s[gain + k] = wiener + noiseShare * noiseShare * (floor - wiener)
    }
  }

  /** Spectral subtraction: G² = max(1 − α·λ/P̄, floor²), P̄ = |X|² smoothed over 3 bins and 2 frames. */
  private subtractGain(): void {
    const floor = this.floorGain
    const s = this.state
    const power = this.powerAt
    const smoothedPower = this.subtractPowerAt
    const noise = this.noiseAt
    const gain = this.gainAt
    const floor2 = floor * floor
    for (let k = 0; k < this.activeBins; k++) {
      // (power's edges mirror)
      const smoothed =
        0.5 * s[smoothedPower + k]! + 0.125 * (s[power + k - 1]! + s[power + k + 1]!) + 0.25 * s[power + k]!
      s[smoothedPower + k] = smoothed
      const g2 = 1 - (OVER_SUBTRACTION * s[noise + k]!) / (smoothed + POWER_EPSILON)
      s[gain + k] = Math.sqrt(0.5 * (g2 + floor2 + Math.abs(g2 - floor2))) // √max(G², floor²)
    }
  }

  /** table[i] = (i / STRENGTH_TABLE_STEPS)^strength, at the start of state. */
  private buildStrengthTable(): void {
    const strength = this.config.strength
    const table = this.state
    for (let i = 0; i <= STRENGTH_TABLE_STEPS; i++) table[i] = (i / STRENGTH_TABLE_STEPS) ** strength
  }

  /** Allocates every buffer for the configured rate and frame size (cold path), then resets. */
  private allocate(): void {
    const { sampleRateHz, frameSamples } = this.config
    const maxHop = Math.round(MAX_HOP_S * sampleRateHz)
    let hopsPerFrame = Math.ceil(frameSamples / maxHop)
    while (frameSamples % hopsPerFrame !== 0) hopsPerFrame++
    const hop = frameSamples / hopsPerFrame
    const overlap = Math.round(OVERLAP_S * sampleRateHz)
    const windowLength = hop + overlap
    let fftSize = 16
    while (fftSize < windowLength) fftSize *= 2
    const bins = fftSize / 2 + 1
    this.hop = hop
    this.hopsPerFrame = hopsPerFrame
    this.overlap = overlap
    this.windowLength = windowLength
    this.fftSize = fftSize
    this.bins = bins
    this.activeBins = this.bandBins()
    const binHz = sampleRateHz / fftSize
    this.speechBandStart = Math.round(SPEECH_BAND_LOW_HZ / binHz)
    this.speechBandEnd = Math.min(bins, Math.round(SPEECH_BAND_HIGH_HZ / binHz) + 1)
    this.stationaryMemoryHops = Math.max(1, Math.round((STATIONARY_MEMORY_S * sampleRateHz) / hop))
    this.minWindowHops = Math.max(2, Math.round((MCRA_WINDOW_S * sampleRateHz) / hop))
    this.powerScale = 1 / (fftSize * hop)
    // Per-20 ms constants → per hop: a^(hop / 20 ms).
    const hopOver20Ms = hop / sampleRateHz / 0.02
    this.maskRelease = 1 - MASK_RELEASE_20MS ** hopOver20Ms
    this.ddAlpha = DD_ALPHA_20MS ** hopOver20Ms
    this.mcraAlphaS = MCRA_ALPHA_S_20MS ** hopOver20Ms
    this.mcraAlphaD = MCRA_ALPHA_D_20MS ** hopOver20Ms
    this.mcraAlphaP = MCRA_ALPHA_P_20MS ** hopOver20Ms
    this.metricSmoothing = 0.8 ** hopOver20Ms
    this.floorSmoothing = FLOOR_SMOOTHING_20MS ** hopOver20Ms
    this.maskPowerSmoothing = MASK_POWER_SMOOTHING_20MS ** hopOver20Ms

    this.fft = new RealFft(fftSize)
    this.vad = new VoiceActivityDetector({
      sampleRateHz,
      frameSamples: hop,
      fftSize,
      analysis: false,
      finitePower: true,
    })

    // The state's regions (see `state`).
    let at = STRENGTH_TABLE_STEPS + 1
    const region = (length: number): number => {
      const start = at
      at += length
      return start
    }
    this.windowAt = region(windowLength)
    this.inputAt = region(windowLength)
    this.overlapAddAt = region(windowLength)
    this.powerAt = region(bins + 2) + 1 // mirrored edges: bin −1 = bin 1, bin n/2 + 1 = bin n/2 − 1
    this.gainAt = region(bins)
    this.rawAt = region(bins + 2) + 1
    this.maskSmoothedAt = region(bins)
    this.maskPowerAt = region(bins)
    this.previousCleanAt = region(bins)
    this.subtractPowerAt = region(bins)
    this.noiseAt = region(bins)
    this.inverseAt = region(bins)
    this.dbMeanAt = region(bins)
    this.dbVarianceAt = region(bins)
    this.thresholdAt = region(bins)
    this.smoothedAt = region(bins)
    this.minAt = region(bins)
    this.minTempAt = region(bins)
    this.presenceAt = region(bins)
    const state = new Float32Array(at)
    this.state = state
    this.power = state.subarray(this.powerAt, this.powerAt + bins)
    this.buildStrengthTable()
    // p = rect(hop) ∗ hann(overlap)/Σhann: constant-overlap-add at the hop; analysis = synthesis = sqrt(p).
    const hann = new Float64Array(overlap)
    let hannSum = 0
    for (let j = 0; j < overlap; j++) hannSum += hann[j] = Math.sin((Math.PI * (j + 0.5)) / overlap) ** 2
    for (let n = 0; n < windowLength; n++) {
      let sum = 0
      for (let j = Math.max(0, n - hop + 1); j <= n && j < overlap; j++) sum += hann[j]!
      state[this.windowAt + n] = Math.sqrt(sum / hannSum)
    }
    this.savedInput = new Float32Array(0)
    // Scratch within one hop: in the thread's shared scratch (the PLC's synthesis buffers overlay it). The larger
    // view first, so both views are of the same area.
    this.work = sharedScratch(0, fftSize + 2 * bins)
    this.fftBuffer = sharedScratch(0, fftSize)
    // Typed-array state and scratch, the FFT's tables and scratch, the VAD's.
    this.bytes = this.fft.stateBytes + this.vad.stateBytes + state.byteLength + this.work.byteLength
    this.reset()
  }
}

function validate(config: NoiseReducerConfig): void {
  const { sampleRateHz, frameSamples, engine, strength, mode } = config
  if (!(Number.isInteger(sampleRateHz) && sampleRateHz >= 8000 && sampleRateHz <= 48000))
    throw new RangeError(`sampleRateHz: ${sampleRateHz} is outside 8000–48000 (an integer)`)
  const quantum = sampleRateHz / 400 // 2.5 ms
  if (!(
    Number.isInteger(frameSamples) &&
    frameSamples > 0 &&
    frameSamples <= 24 * quantum &&
    frameSamples % quantum === 0
  ))
    throw new RangeError(`frameSamples: ${frameSamples} is outside ${quantum}–${24 * quantum} (a multiple of 2.5 ms)`)
  if (engine !== 'gate' && engine !== 'subtract')
    throw new RangeError(`engine: ${String(engine)} is not 'gate' or 'subtract'`)
  if (!(strength >= 0 && strength <= 1)) throw new RangeError(`strength: ${strength} is outside 0–1`)
  if (mode !== 'stationary' && mode !== 'nonstationary')
    throw new RangeError(`mode: ${String(mode)} is not 'stationary' or 'nonstationary'`)
  checkBandwidth('bandwidthHz', config.bandwidthHz, sampleRateHz)
}

/** A sample as the DSP takes it: non-finite → 0, clamped to [−1, 1] (finite in-range values pass unchanged). */
function finiteSample(v: number): number {
  return v === v && v !== Infinity && v !== -Infinity ? (v > 1 ? 1 : v < -1 ? -1 : v) : 0
}

function powerDb(power: number): number {
  return 10 * Math.log10(power > 1e-12 ? power : 1e-12)
}

/** 10·log10(a / b) with both floored at 1e-20, clamped to ±100 dB. */
function ratioDb(a: number, b: number): number {
  const db = 10 * Math.log10((a + POWER_EPSILON) / (b + POWER_EPSILON))
  return db < -100 ? -100 : db > 100 ? 100 : db
}

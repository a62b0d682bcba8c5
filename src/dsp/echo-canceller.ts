/**
 * EchoCanceller: acoustic echo cancellation of the near-end (mic) signal against the far-end reference (what the
 * speaker played), with a bulk-delay estimator in front and a residual echo suppressor behind.
 *
 * ```ts
 * const aec = new EchoCanceller({ sampleRateHz: 16000, frameSamples: 320, filterLength: 1024, engine: 'mdf',
 *   postFilter: true, postFilterStrength: 1, delayEstimation: true, maxBulkDelayMs: 400 })
 * aec.process(near, far, out)   // far = the reference frame played while this near frame was captured
 * aec.metrics.erleDb            // plus erleMin/Median/MaxDb, erlDb, bulkDelayMs, delayConfidence, driftPpm, state…
 * aec.configure({ filterLength: 4096 })  // hot: keeps the converged taps it can
 * aec.delaySamples              // latency added: 2B − gcd(frameSamples, B) samples, B = internal block
 * aec.getFilterResponse(taps)   // echo path as seen by the filter, bulk delay included
 * ```
 *
 * Pipeline per internal block of B samples (B = 4 ms: 64 at 16 kHz):
 * 1. Bulk delay. A DelayEstimator (GCC on a 2 kHz band, see delay-estimator.ts) finds the far-to-near delay; once
 *    it is stable the adaptive filter's window is moved to start BULK_DELAY_MARGIN before it (the taps are shifted
 *    with it, so nothing re-converges). A 64 ms filter can then sit behind a 100–300 ms playout/capture delay.
 * 2. Linear filter, engine 'mdf' (default): a partitioned frequency-domain block adaptive filter, the multidelay filter
 *    of Soo & Pang (IEEE Trans. ASSP 38(2), 1990) in its alternately-constrained form (one or two partitions per
 *    block), as in speexdsp's libspeexdsp/mdf.c. Partitions of B taps, FFT 2B, overlap-save; per-bin power
 *    normalization and proportionate partition steps. The step size follows Valin's optimal learning rate
 *    ("On adjusting the learning rate in frequency domain echo cancellation with double-talk", IEEE TASLP 15(3),
 *    2007): μ(k) ≈ residual echo / error power, the residual being the leakage η (a regression of the error's
 *    spectral fluctuations on the echo estimate's) times the echo estimate. In double talk the error holds the
 *    near talker, so μ falls and the filter holds still; after an echo path change η rises and μ with it.
 *    Engine 'nlms': the seed's time-domain NLMS (μ 0.1, ε 1e-6), sample by sample; slow but simple.
 * 3. Residual echo suppressor (post-filter), hop B with a 2B sqrt-Hann STFT: residual echo
 *    R(k) = η'·|Ŷ(k)|² + tail(k), where the tail (the reverberation beyond the filter) is modelled from the filter's
 *    last partition and its decay across partitions (as WebRTC AEC3's reverb model does); gain
 *    G = max(Gmin, 1 − β·R/|E|²), smoothed, β and Gmin set by postFilterStrength. In double talk |E|² holds the near
 *    talker, so G stays near 1 where the near talker dominates. The output is never louder than the mic in any bin
 *    (|Z(k)| ≤ |D(k)|), so a misadapted filter cannot add echo or noise.
 * A silent far end leaves every gain at 1 and the filter output at 0: the near end passes through untouched (the
 * sqrt-Hann STFT reconstructs exactly). Non-finite input counts as 0; a non-finite or runaway state resets the filter
 * (metrics.resets). process() allocates nothing.
 *
 * Hot reconfiguration: filterLength keeps the taps it can (truncated or zero-extended); engine switches hand the
 * taps over (MDF partitions ⇄ NLMS taps), so no burst of echo; postFilter toggles ramp the gains over ~40 ms.
 * sampleRateHz, frameSamples and maxBulkDelayMs reallocate and reset.
 *
 * Metrics (per process call): ERLE = 10·log10(P_mic / P_out) in far single-talk frames (smoothed; and min / median /
 * max over the last 500 such frames, since a mean over double talk and silence is misleading), ERL = P_far / P_mic
 * in far single talk, the linear filter's own ERLE (P_mic / P_error), the bulk delay, its confidence and stability,
 * non-causality, drift (ppm), double talk, and the state: idle (no far end for 2 s), converging, converged (linear
 * ERLE ≥ 6 dB), diverged (the filter adds energy; it is reset after 1 s of that).
 *
 * Limits: echo beyond the filter window is only suppressed, not cancelled; non-linear echo (a clipping speaker) is
 * left to the suppressor; a non-causal delay (echo before its reference) cannot be cancelled and is reported. Clock
 * drift is reported but not compensated: the filter tracks it as a slowly moving echo path.
 */
import { DelayEstimator, RealFft } from './delay-estimator'

export type EchoEngine = 'mdf' | 'nlms'
export type EchoState = 'idle' | 'converging' | 'converged' | 'diverged'

export interface EchoCancellerConfig {
  /** 8000, 12000, …, 48000 (a multiple of 4000). */
  sampleRateHz: number
  /** Samples per process() call (10/20/30 ms usual), 1 … 0.1 s. */
  frameSamples: number
  /** Adaptive filter length in taps (ECHO_FILTER_LENGTH), 128–8192; the MDF rounds it up to whole partitions. */
  filterLength: number
  engine: EchoEngine
  /** Residual echo suppressor on/off. */
  postFilter: boolean
  /** Suppressor strength 0–1 (0: linear filter only). */
  postFilterStrength: number
  /** Estimate and compensate the far-to-near bulk delay. */
  delayEstimation: boolean
  /** Largest bulk delay searched and compensated, ms (10–1000). */
  maxBulkDelayMs: number
}

export interface EchoCancellerMetrics {
  /** ERLE over the last far single-talk frames (smoothed), dB. */
  erleDb: number
  /** Min / median / max of the per-frame ERLE over the last 500 far single-talk frames, dB. */
  erleMinDb: number
  erleMedianDb: number
  erleMaxDb: number
  /** ERLE of the linear filter alone (P_mic / P_error) over far single talk, dB. */
  linearErleDb: number
  /** Echo return loss P_far / P_mic over far single talk, dB. */
  erlDb: number
  /** Estimated far-to-near bulk delay, ms (the strongest path). */
  bulkDelayMs: number
  /** Delay the filter window starts at, ms (bulk delay − margin once compensated). */
  compensatedDelayMs: number
  delayConfidence: number
  delayStable: boolean
  /** The echo arrives before its reference: it cannot be cancelled. */
  nonCausal: boolean
  /** Near clock minus far clock, ppm (from the delay's slope). */
  driftPpm: number
  doubleTalk: boolean
  state: EchoState
  /** Automatic resets (non-finite state or sustained divergence). */
  resets: number
}

export const ECHO_FILTER_LENGTH_MIN = 128
export const ECHO_FILTER_LENGTH_MAX = 8192

const DEFAULTS: EchoCancellerConfig = {
  sampleRateHz: 16000,
  frameSamples: 320,
  filterLength: 1024,
  engine: 'mdf',
  postFilter: true,
  postFilterStrength: 1,
  delayEstimation: true,
  maxBulkDelayMs: 400,
}

/** Internal block duration: 4 ms (64 samples at 16 kHz), rounded to a power of two. */
const BLOCK_MS = 4
/** The filter window starts this long before the estimated bulk delay (estimation error, early reflections). */
const BULK_DELAY_MARGIN_MS = 2
/** The compensated delay moves only when the estimate has moved by more than this (a tap shift), ms. */
const BULK_DELAY_HYSTERESIS_MS = 1
/** NLMS (the seed's fallback): step and regularization. */
const NLMS_STEP = 0.1
const NLMS_EPSILON = 1e-6
/** Largest Valin step (fraction of the a-priori error removed per block) and the first-phase step. */
const STEP_MAX = 0.5
const STEP_INITIAL = 0.8
/** Leakage bounds: η ≥ MIN_LEAK (−23 dB), the best residual echo the step control hopes for. */
const MIN_LEAK = 0.005
/** Suppressor gain floor at strength 1 (dB) and the ramp of postFilter toggles (blocks). */
const SUPPRESSION_FLOOR_DB = -45
const TOGGLE_RAMP_BLOCKS = 10
/** ERLE statistics window (far single-talk frames) and histogram resolution. */
const ERLE_WINDOW = 500
const ERLE_HISTOGRAM_MIN_DB = -20
const ERLE_HISTOGRAM_STEP_DB = 0.5
const ERLE_HISTOGRAM_BINS = 240
/** Silence threshold of the far end (mean square, −70 dBFS). */
const FAR_SILENT_POWER = 1e-7

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b
    a = b
    b = t
  }
  return a
}

function toDb(ratio: number): number {
  return 10 * Math.log10(ratio > 1e-12 ? ratio : 1e-12)
}

function validate(config: EchoCancellerConfig): void {
  const { sampleRateHz, frameSamples, filterLength, engine, postFilterStrength, maxBulkDelayMs } = config
  if (!(sampleRateHz >= 8000 && sampleRateHz <= 48000 && sampleRateHz % 4000 === 0)) {
    throw new RangeError(`sampleRateHz: ${sampleRateHz} is not one of 8000, 12000, …, 48000 (a multiple of 4000)`)
  }
  if (!(Number.isInteger(frameSamples) && frameSamples >= 1 && frameSamples <= sampleRateHz / 10)) {
    throw new RangeError(`frameSamples: ${frameSamples} is outside 1–${sampleRateHz / 10} (integer, ≤ 100 ms)`)
  }
  if (!(
    Number.isInteger(filterLength) &&
    filterLength >= ECHO_FILTER_LENGTH_MIN &&
    filterLength <= ECHO_FILTER_LENGTH_MAX
  )) {
    throw new RangeError(
      `filterLength: ${filterLength} is outside ${ECHO_FILTER_LENGTH_MIN}–${ECHO_FILTER_LENGTH_MAX} (ECHO_FILTER_LENGTH, taps)`,
    )
  }
  if (engine !== 'mdf' && engine !== 'nlms') throw new RangeError(`engine: ${String(engine)} is not 'mdf' or 'nlms'`)
  if (!(postFilterStrength >= 0 && postFilterStrength <= 1)) {
    throw new RangeError(`postFilterStrength: ${postFilterStrength} is outside 0–1`)
  }
  if (!(maxBulkDelayMs >= 10 && maxBulkDelayMs <= 1000)) {
    throw new RangeError(`maxBulkDelayMs: ${maxBulkDelayMs} is outside 10–1000`)
  }
}

/**
 * Multidelay block frequency-domain adaptive filter (AUMDF): `partitions` partitions of B taps, FFT N = 2B,
 * overlap-save. Spectra are interleaved re/im over B + 1 bins.
 */
class MdfFilter {
  readonly blockSamples: number
  readonly partitions: number
  private readonly bins: number
  private readonly fft: RealFft
  /** Weights per partition (partitions × 2·bins); partition j multiplies the far spectrum of j blocks ago. */
  readonly weights: Float64Array
  /** Ring of far spectra, newest at `head` (partitions × 2·bins). */
  private readonly farSpectra: Float64Array
  private head = 0
  /** Aligned far: [previous block, current block]. */
  private readonly farTime: Float64Array
  /** Filter output spectrum, error spectrum, and a time-domain scratch of N. */
  private readonly outputSpectrum: Float64Array
  private readonly errorSpectrum: Float64Array
  private readonly timeScratch: Float64Array
  /** |X_j(k)|² per partition (ring, like farSpectra), and the normalization Σ_j p_j·|X_j(k)|². */
  private readonly farPowers: Float64Array
  readonly farPower: Float64Array
  /** Proportionate step per partition (sums to ~1) and partition energies. */
  private readonly proportion: Float64Array
  readonly partitionEnergy: Float64Array
  private blockCount = 0

  constructor(blockSamples: number, partitions: number, fft: RealFft) {
    this.blockSamples = blockSamples
    this.partitions = partitions
    this.bins = blockSamples + 1
    this.fft = fft
    const spectrum = 2 * this.bins
    this.weights = new Float64Array(partitions * spectrum)
    this.farSpectra = new Float64Array(partitions * spectrum)
    this.farTime = new Float64Array(2 * blockSamples)
    this.outputSpectrum = new Float64Array(spectrum)
    this.errorSpectrum = new Float64Array(spectrum)
    this.timeScratch = new Float64Array(2 * blockSamples)
    this.farPowers = new Float64Array(partitions * this.bins)
    this.farPower = new Float64Array(this.bins)
    this.proportion = new Float64Array(partitions)
    this.partitionEnergy = new Float64Array(partitions)
    this.initialProportion()
  }

  get taps(): number {
    return this.partitions * this.blockSamples
  }

  get stateBytes(): number {
    return (
      this.weights.byteLength +
      this.farSpectra.byteLength +
      this.farTime.byteLength +
      this.outputSpectrum.byteLength +
      this.errorSpectrum.byteLength +
      this.timeScratch.byteLength +
      this.farPower.byteLength +
      this.farPowers.byteLength +
      this.proportion.byteLength +
      this.partitionEnergy.byteLength
    )
  }

  reset(): void {
    this.weights.fill(0)
    this.farSpectra.fill(0)
    this.farTime.fill(0)
    this.farPower.fill(0)
    this.farPowers.fill(0)
    this.partitionEnergy.fill(0)
    this.head = 0
    this.blockCount = 0
    this.initialProportion()
  }

  /** Before adaptation: steps decaying ×10 from the first partition to the last (echo paths decay), sum 0.8. */
  private initialProportion(): void {
    const M = this.partitions
    const decay = Math.exp(-2.4 / M)
    let sum = 0
    let p = 1
    for (let j = 0; j < M; j++) {
      this.proportion[j] = p
      sum += p
      p *= decay
    }
    for (let j = 0; j < M; j++) this.proportion[j] = (0.8 * this.proportion[j]!) / sum
  }

  /** Offset of far spectrum j (j blocks old) in farSpectra. */
  private farAt(j: number): number {
    return ((this.head + j) % this.partitions) * 2 * this.bins
  }

  /** The far spectrum of the filter's last partition, and the weights of that partition (for the tail model). */
  get oldestFarAt(): number {
    return this.farAt(this.partitions - 1)
  }

  get farSpectraArray(): Float64Array {
    return this.farSpectra
  }

  /** Shifts in the next block of aligned far samples, computes the echo estimate y and the a-priori error e = d − y. */
  filter(farBlock: Float64Array, near: Float64Array, y: Float64Array, e: Float64Array): void {
    const B = this.blockSamples
    const K = this.bins
    const M = this.partitions
    const x = this.farTime
    x.copyWithin(0, B, 2 * B)
    x.set(farBlock, B)
    this.head = (this.head + M - 1) % M
    const X = this.farSpectra
    const at0 = this.head * 2 * K
    this.fft.forward(x, X, at0)
    // Y = Σ_j X_j · W_j
    const Y = this.outputSpectrum
    const W = this.weights
    Y.fill(0)
    for (let j = 0; j < M; j++) {
      const xa = this.farAt(j)
      const wa = j * 2 * K
      for (let i = 0; i < 2 * K; i += 2) {
        const xr = X[xa + i]!
        const xi = X[xa + i + 1]!
        const wr = W[wa + i]!
        const wi = W[wa + i + 1]!
        Y[i] = Y[i]! + xr * wr - xi * wi
        Y[i + 1] = Y[i + 1]! + xr * wi + xi * wr
      }
    }
    this.fft.inverse(Y, this.timeScratch)
    // Overlap-save: the last B samples are the linear convolution.
    for (let i = 0; i < B; i++) {
      const v = this.timeScratch[B + i]!
      y[i] = v
      e[i] = near[i]! - v
    }
    const pa = this.head * K
    for (let k = 0; k < K; k++) {
      const xr = X[at0 + 2 * k]!
      const xi = X[at0 + 2 * k + 1]!
      this.farPowers[pa + k] = xr * xr + xi * xi
    }
  }

  /**
   * The step normalization per bin, Σ_j p_j·|X_j(k)|²: with W_j += μ/P·p_j·X_j*·E the echo estimate moves by μ·E in
   * every bin (a normalized, proportionate update), even at a speech onset after silence where a time-smoothed power
   * would still be small.
   */
  updateFarPower(): void {
    const K = this.bins
    const M = this.partitions
    const P = this.farPower
    P.fill(0)
    for (let j = 0; j < M; j++) {
      const p = this.proportion[j]!
      const pa = ((this.head + j) % M) * K
      for (let k = 0; k < K; k++) P[k] = P[k]! + p * this.farPowers[pa + k]!
    }
  }

  /**
   * Gradient step with per-bin steps `step[k]` (already normalized by the far power): W_j += p_j·step·X_j*·E,
   * E = FFT([0, e]); then constrains partition 0 and one other (alternately updated MDF).
   */
  adapt(e: Float64Array, step: Float64Array, adapted: boolean): void {
    const B = this.blockSamples
    const K = this.bins
    const M = this.partitions
    const t = this.timeScratch
    for (let i = 0; i < B; i++) {
      t[i] = 0
      t[B + i] = e[i]!
    }
    const E = this.errorSpectrum
    this.fft.forward(t, E)
    if (adapted && (this.blockCount & 3) === 0) this.updateProportion()
    const X = this.farSpectra
    const W = this.weights
    for (let j = 0; j < M; j++) {
      const p = this.proportion[j]!
      const xa = this.farAt(j)
      const wa = j * 2 * K
      for (let k = 0; k < K; k++) {
        const s = p * step[k]!
        const i = 2 * k
        const xr = X[xa + i]!
        const xi = X[xa + i + 1]!
        const er = E[i]!
        const ei = E[i + 1]!
        // X*·E = (xr er + xi ei) + j(xr ei − xi er)
        W[wa + i] = W[wa + i]! + s * (xr * er + xi * ei)
        W[wa + i + 1] = W[wa + i + 1]! + s * (xr * ei - xi * er)
      }
    }
    this.constrain(0)
    if (M > 1) this.constrain(1 + (this.blockCount % (M - 1)))
    this.blockCount++
  }

  /** Zeroes the circular-wrap half of partition j's impulse response. */
  constrain(j: number): void {
    const B = this.blockSamples
    const at = j * 2 * this.bins
    const t = this.timeScratch
    this.fft.inverse(this.weights, t, at)
    for (let i = B; i < 2 * B; i++) t[i] = 0
    this.fft.forward(t, this.weights, at)
  }

  /** IPNLMS-like proportion: p_j ∝ ‖W_j‖ + 0.1·max ‖W‖, summing to 0.99 (speexdsp's mdf_adjust_prop). */
  private updateProportion(): void {
    const M = this.partitions
    const n = 2 * this.bins
    const W = this.weights
    let max = 1e-30
    for (let j = 0; j < M; j++) {
      let sum = 0
      for (let i = j * n; i < (j + 1) * n; i++) sum += W[i]! * W[i]!
      this.partitionEnergy[j] = sum
      const norm = Math.sqrt(sum)
      this.proportion[j] = norm
      if (norm > max) max = norm
    }
    let total = 0
    for (let j = 0; j < M; j++) {
      this.proportion[j] = this.proportion[j]! + 0.1 * max
      total += this.proportion[j]!
    }
    for (let j = 0; j < M; j++) this.proportion[j] = (0.99 * this.proportion[j]!) / total
  }

  /** Time-domain taps [0, partitions·B) into out (from `at`). */
  getTaps(out: Float64Array): void {
    const B = this.blockSamples
    const t = this.timeScratch
    for (let j = 0; j < this.partitions; j++) {
      this.fft.inverse(this.weights, t, j * 2 * this.bins)
      for (let i = 0; i < B; i++) out[j * B + i] = t[i]!
    }
  }

  /** Loads time-domain taps [0, count) (zero beyond), fully constrained. */
  setTaps(taps: Float64Array, count: number): void {
    const B = this.blockSamples
    const t = this.timeScratch
    for (let j = 0; j < this.partitions; j++) {
      for (let i = 0; i < B; i++) {
        const n = j * B + i
        t[i] = n < count ? taps[n]! : 0
        t[B + i] = 0
      }
      this.fft.forward(t, this.weights, j * 2 * this.bins)
    }
    this.updateProportion()
  }

  /**
   * Rebuilds the far history from aligned far samples history[0 … (partitions+1)·B) (oldest first, ending with the
   * block before the next one to be filtered): the spectra ring and the previous block.
   */
  loadHistory(history: Float64Array): void {
    const B = this.blockSamples
    const M = this.partitions
    const end = (M + 1) * B
    const t = this.timeScratch
    this.head = 0
    const K = this.bins
    // Spectrum j (j blocks old relative to the last loaded block) covers history[end − 2B − jB, end − jB).
    // The next filter() call shifts the ring by one, so the last loaded block becomes spectrum 1: store at j + 1 − 1.
    for (let j = 0; j < M; j++) {
      const start = end - 2 * B - j * B
      for (let i = 0; i < 2 * B; i++) t[i] = start + i >= 0 ? history[start + i]! : 0
      this.fft.forward(t, this.farSpectra, j * 2 * K)
      for (let k = 0; k < K; k++) {
        const xr = this.farSpectra[j * 2 * K + 2 * k]!
        const xi = this.farSpectra[j * 2 * K + 2 * k + 1]!
        this.farPowers[j * K + k] = xr * xr + xi * xi
      }
    }
    for (let i = 0; i < B; i++) this.farTime[B + i] = history[end - B + i]!
  }
}

/** Time-domain NLMS (the seed's fallback): y = hᵀx, h += μ·e·x / (ε + ‖x‖²), per sample. */
class NlmsFilter {
  readonly taps: number
  /** Taps reversed: reversedTaps[p] = h[taps − 1 − p], so the dot product runs forward over the far window. */
  private readonly reversedTaps: Float64Array

  constructor(taps: number) {
    this.taps = taps
    this.reversedTaps = new Float64Array(taps)
  }

  get stateBytes(): number {
    return this.reversedTaps.byteLength
  }

  reset(): void {
    this.reversedTaps.fill(0)
  }

  /** window[0 … taps − 1 + B): aligned far, oldest first, ending at the block's last sample. */
  filter(window: Float64Array, near: Float64Array, y: Float64Array, e: Float64Array, count: number): void {
    const L = this.taps
    const h = this.reversedTaps
    let energy = 0
    for (let p = 0; p < L; p++) energy += window[p]! * window[p]!
    for (let t = 0; t < count; t++) {
      let acc = 0
      for (let p = 0; p < L; p++) acc += h[p]! * window[t + p]!
      const err = near[t]! - acc
      y[t] = acc
      e[t] = err
      const g = (NLMS_STEP * err) / (NLMS_EPSILON + energy)
      for (let p = 0; p < L; p++) h[p] = h[p]! + g * window[t + p]!
      if (t + 1 < count) energy += window[t + L]! * window[t + L]! - window[t]! * window[t]!
      if (energy < 0) energy = 0
    }
  }

  getTaps(out: Float64Array): void {
    const L = this.taps
    for (let i = 0; i < L; i++) out[i] = this.reversedTaps[L - 1 - i]!
  }

  setTaps(taps: Float64Array, count: number): void {
    const L = this.taps
    for (let i = 0; i < L; i++) this.reversedTaps[L - 1 - i] = i < count ? taps[i]! : 0
  }
}

export class EchoCanceller {
  readonly metrics: EchoCancellerMetrics = {
    erleDb: 0,
    erleMinDb: 0,
    erleMedianDb: 0,
    erleMaxDb: 0,
    linearErleDb: 0,
    erlDb: 0,
    bulkDelayMs: 0,
    compensatedDelayMs: 0,
    delayConfidence: 0,
    delayStable: false,
    nonCausal: false,
    driftPpm: 0,
    doubleTalk: false,
    state: 'idle',
    resets: 0,
  }
  private config: EchoCancellerConfig
  // Sizes fixed by sampleRateHz/frameSamples (reallocated by configure).
  private blockSamples = 0
  private bins = 0
  private prefillSamples = 0
  private fft!: RealFft
  private estimator!: DelayEstimator
  private mdf: MdfFilter | null = null
  private nlms: NlmsFilter | null = null

  /** Far history ring (raw far, every sample), power-of-two length. */
  private farRing!: Float32Array
  private farMask = 0
  /** Samples consumed so far (near and far advance together). */
  private sampleCount = 0
  /** Near samples of the block being filled, and its fill. */
  private nearBlock!: Float64Array
  private blockFill = 0
  /** Aligned far: the current block, and for NLMS / history rebuilds a window of taps − 1 + B (or (M+1)·B). */
  private farBlock!: Float64Array
  private farWindow!: Float64Array
  /** Echo estimate and error of the current block. */
  private echoBlock!: Float64Array
  private errorBlock!: Float64Array
  /** Time-domain taps scratch (ECHO_FILTER_LENGTH_MAX + block) for shifts and hand-overs. */
  private tapScratch!: Float64Array
  /** Delay applied to the far reference (filter window start), samples. */
  private appliedDelay = 0

  // Suppressor (STFT hop B, window 2B sqrt-Hann).
  private window!: Float64Array
  private errorTime!: Float64Array
  private echoTime!: Float64Array
  private stftScratch!: Float64Array
  private errorSpectrum!: Float64Array
  private echoSpectrum!: Float64Array
  private outputSpectrum!: Float64Array
  private errorPower!: Float64Array
  private echoPower!: Float64Array
  /** Recursive means of |E|² and |Ŷ|² (Valin's leak regression). */
  private errorMean!: Float64Array
  private echoMean!: Float64Array
  /** Residual echo estimate, tail (reverb beyond the filter) per bin, gains, step per bin. */
  private residual!: Float64Array
  private tail!: Float64Array
  private gains!: Float64Array
  private step!: Float64Array
  private overlap!: Float64Array
  private outputBlock!: Float64Array
  /** Output FIFO ring. */
  private outRing!: Float32Array
  private outMask = 0
  private outRead = 0
  private outWrite = 0

  // Step control (Valin / speexdsp): leak regression sums, adaptation progress.
  private pey = 1
  private pyy = 1
  private leak = 1
  private adapted = false
  private sumAdapt = 0
  /** Tail decay per block (power), smoothed. */
  private tailDecay = 0.8
  /** Post-filter mix (0: bypass, 1: full), ramped on toggles. */
  private postFilterMix = 1
  private divergentBlocks = 0

  // Per-call accumulators and frame statistics.
  private frameMic = 0
  private frameOut = 0
  private frameError = 0
  private frameEcho = 0
  private frameFar = 0
  private frameResidual = 0
  private frameBlocks = 0
  /** Mic energy of the previous block (the output lags the input by one block). */
  private previousMicEnergy = 0
  private noiseFloor = 1
  private smoothedMic = 0
  private smoothedOut = 0
  private smoothedError = 0
  private smoothedFar = 0
  private farSilentFrames = 1e9
  private doubleTalkHangover = 0
  private readonly erleHistory = new Float32Array(ERLE_WINDOW)
  private readonly erleHistogram = new Uint16Array(ERLE_HISTOGRAM_BINS)
  private erleCount = 0
  private erleNext = 0

  constructor(config: Partial<EchoCancellerConfig> = {}) {
    this.config = { ...DEFAULTS, ...config }
    validate(this.config)
    this.allocate()
  }

  /** Algorithmic delay added to the near signal, samples: one STFT hop plus the block FIFO's worst fill. */
  get delaySamples(): number {
    return this.prefillSamples + this.blockSamples
  }

  /** Internal block length, samples. */
  get blockLength(): number {
    return this.blockSamples
  }

  /** Filter taps in use (the MDF rounds filterLength up to whole partitions). */
  get filterTaps(): number {
    return this.mdf ? this.mdf.taps : this.nlms ? this.nlms.taps : 0
  }

  /** Bytes of DSP state held in typed arrays (both engines' buffers if both exist, FFT tables included). */
  get stateBytes(): number {
    const arrays = [
      this.farRing,
      this.nearBlock,
      this.farBlock,
      this.farWindow,
      this.echoBlock,
      this.errorBlock,
      this.tapScratch,
      this.window,
      this.errorTime,
      this.echoTime,
      this.stftScratch,
      this.errorSpectrum,
      this.echoSpectrum,
      this.outputSpectrum,
      this.errorPower,
      this.echoPower,
      this.errorMean,
      this.echoMean,
      this.residual,
      this.tail,
      this.gains,
      this.step,
      this.overlap,
      this.outputBlock,
      this.outRing,
      this.erleHistory,
      this.erleHistogram,
    ]
    let bytes = 0
    for (const a of arrays) bytes += a.byteLength
    const n = 2 * this.blockSamples
    bytes += 8 * (n + n + 2 + n + n / 2) // RealFft scratch, tables and fft.js's tables
    bytes += this.estimator.stateBytes
    if (this.mdf) bytes += this.mdf.stateBytes
    if (this.nlms) bytes += this.nlms.stateBytes
    return bytes
  }

  get currentConfig(): Readonly<EchoCancellerConfig> {
    return this.config
  }

  private allocate(): void {
    const { sampleRateHz, frameSamples, maxBulkDelayMs } = this.config
    const B = 1 << Math.round(Math.log2((sampleRateHz * BLOCK_MS) / 1000))
    this.blockSamples = B
    this.bins = B + 1
    this.prefillSamples = B - gcd(frameSamples, B)
    this.fft = new RealFft(2 * B)
    this.estimator = new DelayEstimator({ sampleRateHz, maxDelayMs: maxBulkDelayMs })
    this.nearBlock = new Float64Array(B)
    this.farBlock = new Float64Array(B)
    this.echoBlock = new Float64Array(B)
    this.errorBlock = new Float64Array(B)
    this.outputBlock = new Float64Array(B)
    this.tapScratch = new Float64Array(0)
    this.farRing = new Float32Array(0)
    this.sampleCount = 0
    this.ensureCapacity(this.config.filterLength)
    const n = 2 * B
    this.window = new Float64Array(n)
    for (let i = 0; i < n; i++) this.window[i] = Math.sin((Math.PI * i) / n) // sqrt of a periodic Hann
    this.errorTime = new Float64Array(n)
    this.echoTime = new Float64Array(n)
    this.stftScratch = new Float64Array(n)
    this.errorSpectrum = new Float64Array(n + 2)
    this.echoSpectrum = new Float64Array(n + 2)
    this.outputSpectrum = new Float64Array(n + 2)
    this.errorPower = new Float64Array(this.bins)
    this.echoPower = new Float64Array(this.bins)
    this.errorMean = new Float64Array(this.bins)
    this.echoMean = new Float64Array(this.bins)
    this.residual = new Float64Array(this.bins)
    this.tail = new Float64Array(this.bins)
    this.gains = new Float64Array(this.bins)
    this.step = new Float64Array(this.bins)
    this.overlap = new Float64Array(B)
    let out = 1
    while (out < frameSamples + 3 * B) out <<= 1
    this.outRing = new Float32Array(out)
    this.outMask = out - 1
    this.mdf = null
    this.nlms = null
    this.allocateEngine(null)
    this.resetState()
  }

  /**
   * Sizes the far history ring (bulk delay + taps + blocks) and the tap scratch for `taps`, keeping the history
   * (a cold path: configure only).
   */
  private ensureCapacity(taps: number): void {
    const B = this.blockSamples
    const needTaps = Math.ceil(taps / B) * B + 2 * B
    if (this.tapScratch.length < needTaps) this.tapScratch = new Float64Array(needTaps)
    const maxDelay = Math.ceil((this.config.maxBulkDelayMs * this.config.sampleRateHz) / 1000)
    let size = 1
    while (size < maxDelay + needTaps + 2 * B) size <<= 1
    if (size <= this.farRing.length) return
    const ring = new Float32Array(size)
    const old = this.farRing
    for (let n = Math.max(0, this.sampleCount - old.length); n < this.sampleCount; n++) {
      ring[n & (size - 1)] = old[n & this.farMask]!
    }
    this.farRing = ring
    this.farMask = size - 1
  }

  /** Creates the configured engine, handing over `taps` (time domain, `count` of them) if given. */
  private allocateEngine(taps: { values: Float64Array; count: number } | null): void {
    const B = this.blockSamples
    const L = this.config.filterLength
    if (this.config.engine === 'mdf') {
      const M = Math.ceil(L / B)
      if (!this.mdf || this.mdf.partitions !== M) this.mdf = new MdfFilter(B, M, this.fft)
      this.nlms = null
      this.farWindow = new Float64Array((M + 1) * B)
      if (taps) this.mdf.setTaps(taps.values, taps.count)
      else this.mdf.reset()
      this.loadMdfHistory()
    } else {
      if (!this.nlms || this.nlms.taps !== L) this.nlms = new NlmsFilter(L)
      this.mdf = null
      this.farWindow = new Float64Array(L - 1 + B)
      if (taps) this.nlms.setTaps(taps.values, taps.count)
      else this.nlms.reset()
    }
  }

  private resetState(): void {
    this.farRing.fill(0)
    this.sampleCount = 0
    this.nearBlock.fill(0)
    this.blockFill = 0
    this.appliedDelay = 0
    this.estimator.reset()
    this.mdf?.reset()
    this.nlms?.reset()
    this.errorTime.fill(0)
    this.echoTime.fill(0)
    this.errorMean.fill(0)
    this.echoMean.fill(0)
    this.tail.fill(0)
    this.gains.fill(1)
    this.overlap.fill(0)
    this.outRing.fill(0)
    this.outRead = 0
    this.outWrite = this.prefillSamples
    this.pey = this.pyy = 1e-6
    this.leak = 1
    this.adapted = false
    this.sumAdapt = 0
    this.tailDecay = 0.8
    this.postFilterMix = this.config.postFilter ? 1 : 0
    this.divergentBlocks = 0
    this.previousMicEnergy = 0
    this.noiseFloor = 1
    this.smoothedMic = this.smoothedOut = this.smoothedError = this.smoothedFar = 0
    this.farSilentFrames = 1e9
    this.doubleTalkHangover = 0
    this.erleHistory.fill(0)
    this.erleHistogram.fill(0)
    this.erleCount = 0
    this.erleNext = 0
    const m = this.metrics
    m.erleDb = m.erleMinDb = m.erleMedianDb = m.erleMaxDb = m.linearErleDb = m.erlDb = 0
    m.bulkDelayMs = m.compensatedDelayMs = m.delayConfidence = m.driftPpm = 0
    m.delayStable = m.nonCausal = m.doubleTalk = false
    m.state = 'idle'
  }

  /** Zeroes all state (filter, histories, metrics except resets); keeps the buffers and the configuration. */
  reset(): void {
    this.resetState()
  }

  /**
   * Applies a partial configuration. Hot: engine (taps handed over), filterLength (taps kept: truncated or
   * zero-extended), postFilter (ramped), postFilterStrength, delayEstimation. Cold (reallocate and reset):
   * sampleRateHz, frameSamples, maxBulkDelayMs. Throws RangeError naming the field; then nothing changes.
   */
  configure(patch: Partial<EchoCancellerConfig>): void {
    const next = { ...this.config, ...patch }
    validate(next)
    const previous = this.config
    this.config = next
    if (
      next.sampleRateHz !== previous.sampleRateHz ||
      next.frameSamples !== previous.frameSamples ||
      next.maxBulkDelayMs !== previous.maxBulkDelayMs
    ) {
      this.allocate()
      return
    }
    if (next.engine !== previous.engine || next.filterLength !== previous.filterLength) {
      this.ensureCapacity(Math.max(next.filterLength, this.filterTaps))
      const count = this.filterTaps
      if (this.mdf) this.mdf.getTaps(this.tapScratch)
      else if (this.nlms) this.nlms.getTaps(this.tapScratch)
      this.allocateEngine({ values: this.tapScratch, count })
    }
    if (!next.delayEstimation && this.appliedDelay !== 0) this.moveDelay(0)
  }

  /**
   * Cancels the echo of `far` in `near` into `out` (may alias near). far is the reference frame played while this
   * near frame was captured; the canceller keeps its own far history for the bulk delay. Lengths: frameSamples (any
   * length works; the output then lags by delaySamples). Never throws, allocates nothing.
   */
  process(near: Float32Array, far: Float32Array, out: Float32Array): void {
    const length = Math.min(near.length, far.length, out.length)
    const B = this.blockSamples
    this.frameMic = this.frameOut = this.frameError = this.frameEcho = this.frameFar = this.frameResidual = 0
    this.frameBlocks = 0
    if (this.config.delayEstimation) this.estimator.push(near, far, length)
    const ring = this.farRing
    const mask = this.farMask
    for (let i = 0; i < length; i++) {
      let f = far[i]!
      let n = near[i]!
      if (!(f >= -1 && f <= 1)) f = f > 1 ? 1 : f < -1 ? -1 : 0 // NaN → 0, clamp to [-1, 1]
      if (!(n >= -1 && n <= 1)) n = n > 1 ? 1 : n < -1 ? -1 : 0
      ring[this.sampleCount & mask] = f
      this.sampleCount++
      this.nearBlock[this.blockFill++] = n
      if (this.blockFill === B) {
        this.processBlock()
        this.blockFill = 0
      }
    }
    // Output FIFO: always `length` samples, delaySamples behind the input.
    const outRing = this.outRing
    for (let i = 0; i < length; i++) {
      out[i] = this.outRead < this.outWrite ? outRing[this.outRead & this.outMask]! : 0
      if (this.outRead < this.outWrite) this.outRead++
    }
    this.updateFrameMetrics()
  }

  /** Copies aligned far samples for near times [start, start + count) into dest[at …]. */
  private readAligned(start: number, count: number, dest: Float64Array, at: number): void {
    const ring = this.farRing
    const mask = this.farMask
    const oldest = this.sampleCount - ring.length
    for (let i = 0; i < count; i++) {
      const index = start + i - this.appliedDelay
      dest[at + i] = index >= 0 && index >= oldest && index < this.sampleCount ? ring[index & mask]! : 0
    }
  }

  private loadMdfHistory(): void {
    if (!this.mdf) return
    const B = this.blockSamples
    const blockStart = this.sampleCount - this.blockFill // next block to be filtered starts here
    const length = (this.mdf.partitions + 1) * B
    this.readAligned(blockStart - length, length, this.farWindow, 0)
    this.mdf.loadHistory(this.farWindow)
  }

  /** Moves the filter window to start `delay` samples behind the far reference, shifting the taps with it. */
  private moveDelay(delay: number): void {
    const shift = delay - this.appliedDelay
    if (shift === 0) return
    const taps = this.filterTaps
    const t = this.tapScratch
    if (this.mdf) this.mdf.getTaps(t)
    else if (this.nlms) this.nlms.getTaps(t)
    // echo = Σ h[i]·x[n − D − i] = Σ h'[i]·x[n − D' − i] with h'[i] = h[i + D' − D]
    if (shift > 0) {
      for (let i = 0; i < taps; i++) t[i] = i + shift < taps ? t[i + shift]! : 0
    } else {
      for (let i = taps - 1; i >= 0; i--) t[i] = i + shift >= 0 ? t[i + shift]! : 0
    }
    this.appliedDelay = delay
    if (this.mdf) {
      this.mdf.setTaps(t, taps)
      this.loadMdfHistory()
    } else if (this.nlms) this.nlms.setTaps(t, taps)
    this.tail.fill(0)
  }

  /** Tracks the delay estimate: moves the window once the estimate is stable and has moved. */
  private followDelay(): void {
    if (!this.config.delayEstimation) return
    const estimate = this.estimator.estimate
    if (!estimate.stable) return
    const rate = this.config.sampleRateHz
    const margin = Math.round((BULK_DELAY_MARGIN_MS * rate) / 1000)
    const maxDelay = Math.round((this.config.maxBulkDelayMs * rate) / 1000)
    const target = Math.max(0, Math.min(maxDelay, Math.round(estimate.delaySamples) - margin))
    if (Math.abs(target - this.appliedDelay) > (BULK_DELAY_HYSTERESIS_MS * rate) / 1000) this.moveDelay(target)
  }

  private processBlock(): void {
    const B = this.blockSamples
    const K = this.bins
    const blockStart = this.sampleCount - B
    this.followDelay()
    const near = this.nearBlock
    const y = this.echoBlock
    const e = this.errorBlock
    if (this.mdf) {
      this.readAligned(blockStart, B, this.farBlock, 0)
      this.mdf.filter(this.farBlock, near, y, e)
    } else if (this.nlms) {
      const L = this.nlms.taps
      this.readAligned(blockStart - (L - 1), L - 1 + B, this.farWindow, 0)
      for (let i = 0; i < B; i++) this.farBlock[i] = this.farWindow[L - 1 + i]!
      this.nlms.filter(this.farWindow, near, y, e, B)
    }
    // Block energies.
    let sdd = 0
    let see = 0
    let syy = 0
    let sxx = 0
    let sey = 0
    let saturated = false
    for (let i = 0; i < B; i++) {
      const d = near[i]!
      sdd += d * d
      see += e[i]! * e[i]!
      syy += y[i]! * y[i]!
      sey += e[i]! * y[i]!
      sxx += this.farBlock[i]! * this.farBlock[i]!
      if (d >= 0.999 || d <= -0.999) saturated = true
    }
    // Runaway guards (speexdsp's "slapped (reset)"): non-finite state, or a filter that adds lots of energy.
    if (!(see >= 0 && syy >= 0 && see < 1e6 && syy < 1e6)) {
      this.metrics.resets++
      this.mdf?.reset()
      this.nlms?.reset()
      this.adapted = false
      this.sumAdapt = 0
      this.leak = 1
      for (let i = 0; i < B; i++) {
        y[i] = 0
        e[i] = near[i]!
      }
      see = sdd
      syy = sey = 0
    } else if (see > 4 * sdd + 1e-6 * B) this.divergentBlocks++
    else if (see < sdd) this.divergentBlocks = 0

    this.analyze(e, y, see, syy)
    if (this.mdf) {
      if (!saturated && sxx > FAR_SILENT_POWER * B) {
        this.computeStep(sxx, see, syy, sey)
        this.mdf.adapt(e, this.step, this.adapted)
      }
    }
    this.updateTail()
    this.suppress()

    // Sustained divergence (1 s): reset the filter.
    if (this.divergentBlocks * B > this.config.sampleRateHz) {
      this.metrics.resets++
      this.mdf?.reset()
      this.nlms?.reset()
      if (this.mdf) this.loadMdfHistory()
      this.adapted = false
      this.sumAdapt = 0
      this.divergentBlocks = 0
    }

    // Output block into the FIFO; frame accumulators (the output lags the input by one block).
    let so = 0
    for (let i = 0; i < B; i++) {
      const v = this.outputBlock[i]!
      so += v * v
      this.outRing[this.outWrite & this.outMask] = v
      this.outWrite++
    }
    this.frameMic += this.previousMicEnergy
    this.previousMicEnergy = sdd
    this.frameOut += so
    this.frameError += see
    this.frameEcho += syy
    this.frameFar += sxx
    let residual = 0
    for (let k = 0; k < K; k++) residual += this.residual[k]!
    this.frameResidual += residual / (2 * B) // ≈ time-domain energy of the residual echo over the hop
    this.frameBlocks++
  }

  /** Suppressor analysis: sqrt-Hann STFT of e and ŷ over the last two blocks; powers; leak regression (Valin). */
  private analyze(e: Float64Array, y: Float64Array, see: number, syy: number): void {
    const B = this.blockSamples
    const K = this.bins
    const n = 2 * B
    const w = this.window
    const et = this.errorTime
    const yt = this.echoTime
    et.copyWithin(0, B, n)
    yt.copyWithin(0, B, n)
    for (let i = 0; i < B; i++) {
      et[B + i] = e[i]!
      yt[B + i] = y[i]!
    }
    const s = this.stftScratch
    for (let i = 0; i < n; i++) s[i] = et[i]! * w[i]!
    this.fft.forward(s, this.errorSpectrum)
    for (let i = 0; i < n; i++) s[i] = yt[i]! * w[i]!
    this.fft.forward(s, this.echoSpectrum)
    const E = this.errorSpectrum
    const Y = this.echoSpectrum
    // Leak regression over bins: Pey = Σ (|E|² − Ē)(|Y|² − Ȳ), Pyy = Σ (|Y|² − Ȳ)² (fluctuations around 1 s means).
    const average = B / this.config.sampleRateHz / 1 // per block: time constant 1 s
    let pey = 0
    let pyy = 0
    for (let k = 0; k < K; k++) {
      const ep = E[2 * k]! * E[2 * k]! + E[2 * k + 1]! * E[2 * k + 1]!
      const yp = Y[2 * k]! * Y[2 * k]! + Y[2 * k + 1]! * Y[2 * k + 1]!
      this.errorPower[k] = ep
      this.echoPower[k] = yp
      const eh = ep - this.errorMean[k]!
      const yh = yp - this.echoMean[k]!
      pey += eh * yh
      pyy += yh * yh
      this.errorMean[k] = (1 - average) * this.errorMean[k]! + average * ep
      this.echoMean[k] = (1 - average) * this.echoMean[k]! + average * yp
    }
    pyy = Math.sqrt(pyy)
    pey = pey / (pyy + 1e-30)
    // Update rate ∝ echo-to-error ratio (fast when the error is mostly echo), at most B/(2·fs) per block (2 s).
    const betaMax = (0.5 * B) / this.config.sampleRateHz
    const alpha = see > 1e-12 ? Math.min((4 * betaMax * syy) / see, betaMax) : 0
    this.pey = (1 - alpha) * this.pey + alpha * pey
    this.pyy = (1 - alpha) * this.pyy + alpha * pyy
    if (this.pyy < 1e-12) this.pyy = 1e-12
    if (this.pey < MIN_LEAK * this.pyy) this.pey = MIN_LEAK * this.pyy
    if (this.pey > this.pyy) this.pey = this.pyy
    this.leak = this.pey / this.pyy
  }

  /** Valin's learning rate per bin, normalized by the far power (speexdsp's power_1). */
  private computeStep(sxx: number, see: number, syy: number, sey: number): void {
    const mdf = this.mdf!
    const K = this.bins
    const step = this.step
    mdf.updateFarPower()
    const power = mdf.farPower
    let meanPower = 0
    for (let k = 0; k < K; k++) meanPower += power[k]!
    meanPower /= K
    const floor = 1e-3 * meanPower + 1e-10
    if (!this.adapted) {
      // First phase: a fixed rate, lowered when the error is louder than the far end (double talk).
      const rate = STEP_INITIAL * Math.min(1, sxx / (see + 1e-12))
      this.sumAdapt += rate
      if (this.sumAdapt > mdf.partitions && this.leak > 0.03) this.adapted = true
      for (let k = 0; k < K; k++) step[k] = rate / (power[k]! + floor)
      return
    }
    // Residual-to-error ratio: leak·Σŷ² / Σe², at least the correlation of e with ŷ, at most 0.5.
    let rer = (1e-4 * sxx + 3 * this.leak * syy) / (see + 1e-12)
    const bound = (sey * sey) / (1e-12 + see * syy)
    if (rer < bound) rer = bound
    if (rer > 0.5) rer = 0.5
    for (let k = 0; k < K; k++) {
      const ep = this.errorPower[k]! + 1e-12
      let r = this.leak * this.echoPower[k]!
      if (r > 0.5 * ep) r = 0.5 * ep
      const mu = Math.min(STEP_MAX, (0.7 * r + 0.3 * rer * ep) / ep)
      step[k] = mu / (power[k]! + floor)
    }
  }

  /**
   * Reverberation beyond the filter window: partition M (not modelled) ≈ ρ × partition M−1, driven by the far
   * block that just left the window; tail(k) = ρ·(tail(k) + |W_{M−1}(k)·X_{M−1}(k)|²) (WebRTC AEC3's reverb model).
   */
  private updateTail(): void {
    const mdf = this.mdf
    const K = this.bins
    if (!mdf || mdf.partitions < 4) {
      this.tail.fill(0)
      return
    }
    const M = mdf.partitions
    const energy = mdf.partitionEnergy
    // Decay per partition from the last quarter of the filter's energy profile.
    const q = Math.max(1, M >> 2)
    const last = energy[M - 1]!
    const earlier = energy[M - 1 - q]!
    if (earlier > 0 && last > 0) {
      const decay = Math.min(0.98, Math.max(0.3, Math.pow(last / earlier, 1 / q)))
      this.tailDecay += 0.01 * (decay - this.tailDecay)
    }
    const rho = this.tailDecay
    const X = mdf.farSpectraArray
    const xa = mdf.oldestFarAt
    const W = mdf.weights
    const wa = (M - 1) * 2 * K
    // Powers in the rectangular 2B-point domain → the suppressor's sqrt-Hann domain (half the window energy) and the
    // valid half of the overlap-save output (another half).
    const scale = 0.25 / (2 * this.blockSamples)
    for (let k = 0; k < K; k++) {
      const xr = X[xa + 2 * k]!
      const xi = X[xa + 2 * k + 1]!
      const wr = W[wa + 2 * k]!
      const wi = W[wa + 2 * k + 1]!
      const yr = xr * wr - xi * wi
      const yi = xr * wi + xi * wr
      this.tail[k] = rho * (this.tail[k]! + scale * (yr * yr + yi * yi))
    }
  }

  /** Residual echo estimate, gains, |Z| ≤ |D| guard, inverse STFT with overlap-add into outputBlock. */
  private suppress(): void {
    const B = this.blockSamples
    const K = this.bins
    const strength = this.config.postFilterStrength
    const target = this.config.postFilter ? 1 : 0
    this.postFilterMix += (target - this.postFilterMix) / TOGGLE_RAMP_BLOCKS
    if (Math.abs(this.postFilterMix - target) < 1e-3) this.postFilterMix = target
    const mix = this.postFilterMix * (strength > 0 ? 1 : 0)
    const floor = Math.pow(10, (SUPPRESSION_FLOOR_DB * strength) / 20)
    const overestimate = 1 + strength // β: 1 … 2
    const leak2 = Math.min(1, 2 * this.leak)
    const E = this.errorSpectrum
    const Y = this.echoSpectrum
    const Z = this.outputSpectrum
    for (let k = 0; k < K; k++) {
      const ep = this.errorPower[k]!
      const r = leak2 * this.echoPower[k]! + this.tail[k]!
      this.residual[k] = r
      let g = 1 - (overestimate * r) / (ep + 1e-20)
      if (g < floor) g = floor
      // Fast attack, slower release (~20 ms) against musical noise.
      const previous = this.gains[k]!
      if (g > previous) g = previous + 0.2 * (g - previous)
      this.gains[k] = g
      const gain = 1 - mix * (1 - g)
      let zr = gain * E[2 * k]!
      let zi = gain * E[2 * k + 1]!
      // Never louder than the mic in this bin: D = E + Ŷ.
      const dr = E[2 * k]! + Y[2 * k]!
      const di = E[2 * k + 1]! + Y[2 * k + 1]!
      const zp = zr * zr + zi * zi
      const dp = dr * dr + di * di
      if (zp > dp) {
        const c = Math.sqrt(dp / zp)
        zr *= c
        zi *= c
      }
      Z[2 * k] = zr
      Z[2 * k + 1] = zi
    }
    const s = this.stftScratch
    this.fft.inverse(Z, s)
    const w = this.window
    for (let i = 0; i < B; i++) {
      this.outputBlock[i] = this.overlap[i]! + s[i]! * w[i]!
      this.overlap[i] = s[B + i]! * w[B + i]!
    }
  }

  private updateFrameMetrics(): void {
    const m = this.metrics
    const estimate = this.estimator.estimate
    const rate = this.config.sampleRateHz
    m.bulkDelayMs = this.config.delayEstimation ? estimate.delayMs : 0
    m.compensatedDelayMs = (this.appliedDelay * 1000) / rate
    m.delayConfidence = estimate.confidence
    m.delayStable = estimate.stable
    m.nonCausal = estimate.nonCausal
    m.driftPpm = estimate.driftPpm
    if (this.frameBlocks === 0) return
    const samples = this.frameBlocks * this.blockSamples
    const mic = this.frameMic / samples
    const error = this.frameError / samples
    const far = this.frameFar / samples
    const residual = this.frameResidual / samples
    // Noise floor of the error: follows drops at once, rises 1 dB/s.
    const floorRise = Math.pow(10, samples / rate / 10)
    this.noiseFloor = error < this.noiseFloor ? Math.max(error, 1e-12) : this.noiseFloor * floorRise
    const farActive = far > FAR_SILENT_POWER
    this.farSilentFrames = farActive ? 0 : this.farSilentFrames + 1
    const echoActive = farActive && mic > 10 * this.noiseFloor
    // Near talker: the error holds more than residual echo + noise (6 dB margin).
    const nearActive = error > 4 * (residual + this.noiseFloor) && error > 2 * this.noiseFloor
    if (echoActive && nearActive) this.doubleTalkHangover = Math.ceil((0.1 * rate) / samples)
    else if (this.doubleTalkHangover > 0) this.doubleTalkHangover--
    m.doubleTalk = this.doubleTalkHangover > 0
    const singleTalk = echoActive && !m.doubleTalk && !nearActive
    if (singleTalk && this.frameOut > 0) {
      const a = 0.2
      this.smoothedMic = (1 - a) * this.smoothedMic + a * this.frameMic
      this.smoothedOut = (1 - a) * this.smoothedOut + a * this.frameOut
      this.smoothedError = (1 - a) * this.smoothedError + a * this.frameError
      this.smoothedFar = (1 - a) * this.smoothedFar + a * this.frameFar
      m.erleDb = toDb(this.smoothedMic / (this.smoothedOut + 1e-20))
      m.linearErleDb = toDb(this.smoothedMic / (this.smoothedError + 1e-20))
      m.erlDb = toDb(this.smoothedFar / (this.smoothedMic + 1e-20))
      this.recordErle(toDb(this.frameMic / (this.frameOut + 1e-20)))
    }
    if (this.divergentBlocks * this.blockSamples > 0.25 * rate) m.state = 'diverged'
    else if (this.farSilentFrames * samples > 2 * rate) m.state = 'idle'
    else if (this.smoothedMic > 0 && m.linearErleDb >= 6 && (this.adapted || !this.mdf)) m.state = 'converged'
    else m.state = 'converging'
  }

  private static erleBin(db: number): number {
    const bin = Math.round((db - ERLE_HISTOGRAM_MIN_DB) / ERLE_HISTOGRAM_STEP_DB)
    return bin < 0 ? 0 : bin >= ERLE_HISTOGRAM_BINS ? ERLE_HISTOGRAM_BINS - 1 : bin
  }

  private recordErle(db: number): void {
    if (this.erleCount === ERLE_WINDOW) this.erleHistogram[EchoCanceller.erleBin(this.erleHistory[this.erleNext]!)]!--
    else this.erleCount++
    this.erleHistory[this.erleNext] = db
    this.erleNext = (this.erleNext + 1) % ERLE_WINDOW
    this.erleHistogram[EchoCanceller.erleBin(db)]!++
    const h = this.erleHistogram
    let first = -1
    let last = 0
    let cumulative = 0
    let median = -1
    for (let i = 0; i < ERLE_HISTOGRAM_BINS; i++) {
      if (h[i]! === 0) continue
      if (first < 0) first = i
      last = i
      cumulative += h[i]!
      if (median < 0 && 2 * cumulative >= this.erleCount) median = i
    }
    const m = this.metrics
    m.erleMinDb = ERLE_HISTOGRAM_MIN_DB + first * ERLE_HISTOGRAM_STEP_DB
    m.erleMedianDb = ERLE_HISTOGRAM_MIN_DB + median * ERLE_HISTOGRAM_STEP_DB
    m.erleMaxDb = ERLE_HISTOGRAM_MIN_DB + last * ERLE_HISTOGRAM_STEP_DB
  }

  /**
   * The echo path as the filter sees it, for the UI: out[i] = tap at lag i samples, zero before the compensated
   * bulk delay. Returns the number of samples written (compensated delay + taps, at most out.length). Allocates
   * nothing (a cold path: it runs an inverse FFT per partition).
   */
  getFilterResponse(out: Float32Array): number {
    const taps = this.filterTaps
    const t = this.tapScratch
    if (this.mdf) this.mdf.getTaps(t)
    else if (this.nlms) this.nlms.getTaps(t)
    const count = Math.min(out.length, this.appliedDelay + taps)
    for (let i = 0; i < count; i++) out[i] = i < this.appliedDelay ? 0 : t[i - this.appliedDelay]!
    return count
  }
}

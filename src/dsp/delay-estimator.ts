/**
 * DelayEstimator: the far-to-near bulk delay of an echo path, found from the signals themselves, with a confidence,
 * its stability, a non-causal (negative delay) flag and the clock drift between the two ends (ppm, from the delay's
 * slope over time). This is the most common real-world cause of "the AEC does nothing": a 64 ms adaptive filter
 * sitting in front of a 100–300 ms playout/capture delay never sees the echo it should model.
 *
 * Algorithm: generalized cross-correlation with SCOT weighting (Knapp & Carter 1976, "The generalized correlation
 * method for estimation of time delay") on a decimated band, computed block-wise like a multi-delay filter:
 * - Both signals are decimated to 2 kHz (a boxcar to 4 kHz, then a 4th-order Butterworth low-pass at 850 Hz and a 2:1
 *   pick), since the speech band 125–950 Hz carries most of the echo's energy and 0.5 ms resolution is plenty.
 * - Every 64 ms (128 samples at 2 kHz) the near block and the far history are transformed (256-point FFT) and the
 *   cross-spectra of the near block with the far blocks 0, 1, … partitions earlier are smoothed recursively
 *   (S_j ← λ·S_j + Y·X_j*, time constant ~1.5 s, with 1/n averaging at the start so the first estimate comes quickly).
 *   The near stream is delayed by one partition internally, so the first partition holds the negative lags.
 * - SCOT weighting G_j = S_j / sqrt(P_xx·P_yy) over 125–950 Hz, back to lags by one inverse FFT per partition; the
 *   highest peak, refined by parabolic interpolation, is the delay. Its height over the RMS of all lags (~3–5 for
 *   unrelated signals, the largest of ~1000 noisy lags; 8–20 for an echo) makes the confidence.
 * - Stable: the last four estimates agree within ±1 ms with confidence above CONFIDENT. Drift: an exponentially
 *   weighted linear regression of the (sub-sample) delay against time over ~60 s; reported once it spans ≥ 10 s.
 * Complexity per 64 ms: 2 FFTs of 256, J·106 complex multiply-adds and, every hop until stable then every 4th hop,
 * J inverse FFTs of 256 (J = partitions ≈ maxDelayMs / 64 + 1), the correlation scanned as it is computed: ~8 µs per
 * 20 ms at 16 kHz, a third of it the decimation. State: ~17 KiB of its own at maxDelayMs 400 (the rings keep only the
 * band's 106 bins, in single precision), the hop scratch (7 KiB) in the thread's shared scratch (scratch.ts), the
 * transform lent by the echo canceller. Nothing allocates after construction.
 *
 * The transforms are spectrum.ts's RealFft (fft.js underneath); the echo canceller passes its own 256-point one in, so
 * the two share the tables and scratch.
 *
 * Limits: a periodic far signal (a steady tone, DTMF) has no unique delay: the confidence stays low and nothing is
 * reported as stable. Delays beyond maxDelayMs or earlier than −64 ms are not found. The delay is that of the
 * strongest path (usually the direct sound), not the earliest.
 */
import { sharedScratch } from './scratch'
import { RealFft } from './spectrum'

export interface DelayEstimatorConfig {
  /** 8000, 16000, 32000 or 48000. */
  sampleRateHz: number
  /** Largest positive far-to-near delay searched, ms (10–1000; default 400). */
  maxDelayMs: number
}

export interface DelayEstimate {
  /** Far-to-near delay of the strongest path, samples at sampleRateHz (fractional; negative = non-causal). */
  delaySamples: number
  delayMs: number
  /** 0–1: the correlation peak's height over the RMS of all lags, mapped from 5…15 to 0…1. */
  confidence: number
  /** The last four estimates agree within ±1 ms with confidence ≥ CONFIDENT. */
  stable: boolean
  /** The echo arrives before its reference (delay < −1 ms, confidently). */
  nonCausal: boolean
  /** Near clock rate minus far clock rate, ppm (the delay's slope); 0 until 10 s of confident estimates. */
  driftPpm: number
  /** Number of delay estimates made so far. */
  updates: number
}

/** Decimated rate, Hz. */
const DECIMATED_RATE_HZ = 2000
/** Partition (hop) length at the decimated rate: 64 ms. */
const PARTITION = 128
const FFT_SIZE = 2 * PARTITION
const BINS = PARTITION + 1
/** SCOT band: 125–950 Hz (bin width 2000/256 = 7.8 Hz). */
const BAND_LOW_BIN = 16
const BAND_HIGH_BIN = 121
/** Floats per band-limited spectrum (re/im of the band's bins): the rings keep only the band. */
const BAND_SPECTRUM = 2 * (BAND_HIGH_BIN - BAND_LOW_BIN + 1)
/** Cross-spectrum smoothing per hop: time constant 1.5 s = 23 hops of 64 ms. */
const SMOOTHING = 1 - 0.064 / 1.5
/** A hop takes part when its far block is above −60 dBFS (mean square). */
const FAR_ACTIVE_POWER = 1e-6
/** Hops between peak searches once the estimate is stable (256 ms). */
const SEARCH_EVERY_STABLE = 4
/** Active hops averaged before the first search. */
const MIN_HOPS = 4
/** Confidence = (peak-to-RMS ratio of the correlation − NOISE) / SPAN, clamped to 0–1. */
const PEAK_TO_RMS_NOISE = 5
const PEAK_TO_RMS_SPAN = 10
/** Confidence needed for an estimate to count towards stability and drift. */
export const CONFIDENT = 0.25
/** Estimates kept to judge stability, and their allowed spread (±1 ms at 2 kHz). */
const STABLE_COUNT = 4
const STABLE_SPREAD = 2
/** Drift regression: forgetting per estimate (time constant ~60 s at one estimate per 256 ms), minimum span. */
const DRIFT_FORGET = 1 - 0.256 / 60
const DRIFT_MIN_SPAN_S = 10
/** An estimate further than this from the drift line (samples at 2 kHz, 3 ms) is an outlier (or a path change). */
const DRIFT_OUTLIER = 6

/** Biquad (Direct Form I coefficients, a0 = 1) of a Butterworth low-pass section. */
function lowPassSection(cutoffHz: number, rateHz: number, q: number, out: Float64Array, at: number): void {
  const w = (2 * Math.PI * cutoffHz) / rateHz
  const alpha = Math.sin(w) / (2 * q)
  const cosw = Math.cos(w)
  const a0 = 1 + alpha
  out[at] = (1 - cosw) / 2 / a0
  out[at + 1] = (1 - cosw) / a0
  out[at + 2] = (1 - cosw) / 2 / a0
  out[at + 3] = (-2 * cosw) / a0
  out[at + 4] = (1 - alpha) / a0
}

export class DelayEstimator {
  readonly sampleRateHz: number
  readonly maxDelayMs: number
  readonly estimate: DelayEstimate = {
    delaySamples: 0,
    delayMs: 0,
    confidence: 0,
    stable: false,
    nonCausal: false,
    driftPpm: 0,
    updates: 0,
  }
  /** Input samples per decimated sample, and per boxcar (input → 4 kHz). */
  private readonly decimation: number
  private readonly boxcar: number
  /** Partitions: one of negative lags, then positive ones up to maxDelayMs. */
  private readonly partitions: number
  /** 256-point transform (the echo canceller's, when it passes one in: the two share tables and scratch). */
  private readonly fft: RealFft
  private readonly ownsFft: boolean
  /** Two biquads, 5 coefficients each, and their states (x1, x2, y1, y2) for near and far. */
  private readonly coefficients = new Float64Array(10)
  private readonly nearState = new Float64Array(8)
  private readonly farState = new Float64Array(8)
  private boxcarNear = 0
  private boxcarFar = 0
  private boxcarCount = 0
  /** 4 kHz → 2 kHz phase. */
  private pickPhase = 0
  /** Far at 2 kHz: [previous partition, current partition] (single precision; transformed from the time scratch). */
  private readonly farBlock = new Float32Array(FFT_SIZE)
  /** Near at 2 kHz: delayed by one partition (the negative lags), [delayed partition, current partition]. */
  private readonly nearBlock = new Float32Array(FFT_SIZE)
  private blockFill = 0
  // Scratch within one hop, in the thread's shared scratch (scratch.ts; the echo canceller pushes before its blocks).
  /** Time scratch: the zero-padded near block [0, near] in hop(), a partition's lags in search(). */
  private readonly timeScratch = sharedScratch(0, FFT_SIZE)
  /** The near block's spectrum (2·BINS). */
  private readonly nearSpectrum = sharedScratch(FFT_SIZE, 2 * BINS)
  /** Spectrum scratch (2·BINS): the newest far spectrum before it goes into the ring; the weighted cross-spectrum. */
  private readonly spectrumScratch = sharedScratch(FFT_SIZE + 2 * BINS, 2 * BINS)
  /** Ring of far spectra over the band, newest first: partitions × BAND_SPECTRUM, single precision. */
  private readonly farSpectra: Float32Array
  private farHead = 0
  /** Smoothed cross-spectra per partition over the band (partitions × BAND_SPECTRUM), auto-spectra of far and near. */
  private readonly cross: Float32Array
  private readonly farPower = new Float32Array(BINS)
  private readonly nearPower = new Float32Array(BINS)
  private activeHops = 0
  private hopsSinceSearch = 0
  /** SCOT normalization per band bin (scratch of search()). */
  private readonly bandNorm = sharedScratch(FFT_SIZE + 4 * BINS, BINS)
  /** Last STABLE_COUNT estimates (2 kHz samples) and their confidences. */
  private readonly recent = new Float64Array(STABLE_COUNT)
  private readonly recentConfidence = new Float64Array(STABLE_COUNT)
  private recentCount = 0
  /** Decimated samples consumed (the time axis of the drift regression). */
  private time = 0
  /** Exponentially weighted sums for the regression delay = a + b·time (time in seconds). */
  private sw = 0
  private st = 0
  private sd = 0
  private stt = 0
  private std = 0
  private firstDriftTime = -1
  private outliers = 0

  /** fft: a RealFft of 256 points to share (the echo canceller's); by default the estimator makes its own. */
  constructor(config: Partial<DelayEstimatorConfig> = {}, fft?: RealFft) {
    const sampleRateHz = config.sampleRateHz ?? 16000
    const maxDelayMs = config.maxDelayMs ?? 400
    if (!(sampleRateHz >= 8000 && sampleRateHz <= 48000 && sampleRateHz % 4000 === 0)) {
      throw new RangeError(`sampleRateHz: ${sampleRateHz} is not one of 8000, 12000, …, 48000 (a multiple of 4000)`)
    }
    if (!(maxDelayMs >= 10 && maxDelayMs <= 1000)) {
      throw new RangeError(`maxDelayMs: ${maxDelayMs} is outside 10–1000`)
    }
    this.sampleRateHz = sampleRateHz
    this.maxDelayMs = maxDelayMs
    this.decimation = sampleRateHz / DECIMATED_RATE_HZ
    this.boxcar = this.decimation / 2
    this.partitions = 1 + Math.ceil((maxDelayMs * DECIMATED_RATE_HZ) / 1000 / PARTITION)
    this.ownsFft = !(fft && fft.size === FFT_SIZE)
    this.fft = fft && !this.ownsFft ? fft : new RealFft(FFT_SIZE)
    this.farSpectra = new Float32Array(this.partitions * BAND_SPECTRUM)
    this.cross = new Float32Array(this.partitions * BAND_SPECTRUM)
    // 4th-order Butterworth at 850 Hz on the 4 kHz stream: Q = 0.541, 1.307.
    lowPassSection(850, 2 * DECIMATED_RATE_HZ, 0.5412, this.coefficients, 0)
    lowPassSection(850, 2 * DECIMATED_RATE_HZ, 1.3066, this.coefficients, 5)
  }

  /** Bytes held in typed arrays (state and scratch), including the FFT's tables when the FFT is its own. */
  get stateBytes(): number {
    return (
      this.coefficients.byteLength +
      this.nearState.byteLength +
      this.farState.byteLength +
      this.farBlock.byteLength +
      this.nearBlock.byteLength +
      this.timeScratch.byteLength +
      this.nearSpectrum.byteLength +
      this.spectrumScratch.byteLength +
      this.farSpectra.byteLength +
      this.cross.byteLength +
      this.farPower.byteLength +
      this.nearPower.byteLength +
      this.bandNorm.byteLength +
      this.recent.byteLength +
      this.recentConfidence.byteLength +
      (this.ownsFft ? this.fft.stateBytes : 0)
    )
  }

  reset(): void {
    this.nearState.fill(0)
    this.farState.fill(0)
    this.boxcarNear = this.boxcarFar = 0
    this.boxcarCount = 0
    this.pickPhase = 0
    this.farBlock.fill(0)
    this.nearBlock.fill(0)
    this.blockFill = 0
    this.farSpectra.fill(0)
    this.farHead = 0
    this.cross.fill(0)
    this.farPower.fill(0)
    this.nearPower.fill(0)
    this.activeHops = 0
    this.hopsSinceSearch = 0
    this.recentCount = 0
    this.time = 0
    this.resetDrift()
    const e = this.estimate
    e.delaySamples = e.delayMs = e.confidence = e.driftPpm = 0
    e.stable = e.nonCausal = false
    e.updates = 0
  }

  /**
   * Feeds near (mic) and far (reference played while near was captured) samples [0, length): any length per call.
   * Non-finite samples count as 0. Allocates nothing.
   */
  push(near: ArrayLike<number>, far: ArrayLike<number>, length = Math.min(near.length, far.length)): void {
    // The filter states and coefficients live in locals over the loop (stored back at the end and around hops).
    const c = this.coefficients
    const b0 = c[0]!
    const b1 = c[1]!
    const b2 = c[2]!
    const a1 = c[3]!
    const a2 = c[4]!
    const d0 = c[5]!
    const d1 = c[6]!
    const d2 = c[7]!
    const e1 = c[8]!
    const e2 = c[9]!
    const ns = this.nearState
    const fs = this.farState
    // Per section: x1, x2, y1, y2 (near: n…, far: f…).
    let nx1 = ns[0]!
    let nx2 = ns[1]!
    let ny1 = ns[2]!
    let ny2 = ns[3]!
    let nu1 = ns[4]!
    let nu2 = ns[5]!
    let nz1 = ns[6]!
    let nz2 = ns[7]!
    let fx1 = fs[0]!
    let fx2 = fs[1]!
    let fy1 = fs[2]!
    let fy2 = fs[3]!
    let fu1 = fs[4]!
    let fu2 = fs[5]!
    let fz1 = fs[6]!
    let fz2 = fs[7]!
    const boxcar = this.boxcar
    let boxcarNear = this.boxcarNear
    let boxcarFar = this.boxcarFar
    let boxcarCount = this.boxcarCount
    let pickPhase = this.pickPhase
    let blockFill = this.blockFill
    const farBlock = this.farBlock
    const nearBlock = this.nearBlock
    for (let i = 0; i < length; i++) {
      let n = near[i]!
      let f = far[i]!
      // As units.sanitize: NaN and ±Infinity → 0, clamp the rest to [-1, 1].
      if (!(n >= -1 && n <= 1)) n = n > 1 && n !== Infinity ? 1 : n < -1 && n !== -Infinity ? -1 : 0
      if (!(f >= -1 && f <= 1)) f = f > 1 && f !== Infinity ? 1 : f < -1 && f !== -Infinity ? -1 : 0
      boxcarNear += n
      boxcarFar += f
      if (++boxcarCount < boxcar) continue
      // One 4 kHz sample: low-pass it (both streams: two cascaded Direct Form I sections), keep every second one.
      const xn = boxcarNear / boxcar
      const yn1 = b0 * xn + b1 * nx1 + b2 * nx2 - a1 * ny1 - a2 * ny2
      nx2 = nx1
      nx1 = xn
      ny2 = ny1
      ny1 = yn1
      const yn2 = d0 * yn1 + d1 * nu1 + d2 * nu2 - e1 * nz1 - e2 * nz2
      nu2 = nu1
      nu1 = yn1
      nz2 = nz1
      nz1 = yn2
      const xf = boxcarFar / boxcar
      const yf1 = b0 * xf + b1 * fx1 + b2 * fx2 - a1 * fy1 - a2 * fy2
      fx2 = fx1
      fx1 = xf
      fy2 = fy1
      fy1 = yf1
      const yf2 = d0 * yf1 + d1 * fu1 + d2 * fu2 - e1 * fz1 - e2 * fz2
      fu2 = fu1
      fu1 = yf1
      fz2 = fz1
      fz1 = yf2
      boxcarNear = boxcarFar = 0
      boxcarCount = 0
      pickPhase ^= 1
      if (pickPhase === 0) continue
      farBlock[PARTITION + blockFill] = yf2
      nearBlock[PARTITION + blockFill] = yn2
      this.time++
      if (++blockFill === PARTITION) {
        this.hop()
        blockFill = 0
      }
    }
    this.pickPhase = pickPhase
    this.blockFill = blockFill
    this.boxcarNear = boxcarNear
    this.boxcarFar = boxcarFar
    this.boxcarCount = boxcarCount
    ns[0] = nx1
    ns[1] = nx2
    ns[2] = ny1
    ns[3] = ny2
    ns[4] = nu1
    ns[5] = nu2
    ns[6] = nz1
    ns[7] = nz2
    fs[0] = fx1
    fs[1] = fx2
    fs[2] = fy1
    fs[3] = fy2
    fs[4] = fu1
    fs[5] = fu2
    fs[6] = fz1
    fs[7] = fz2
  }

  /** One partition of both streams is complete: update the spectra, and now and then search the peak. */
  private hop(): void {
    const P = PARTITION
    const parts = this.partitions
    // Far spectrum of [previous, current] into the ring (newest first), over the band.
    this.farHead = (this.farHead + parts - 1) % parts
    const farAt = this.farHead * BAND_SPECTRUM
    const X = this.farSpectra
    const farBlock = this.farBlock
    const farTime = this.timeScratch
    let farEnergy = 0
    for (let i = 0; i < FFT_SIZE; i++) {
      const v = farBlock[i]!
      farTime[i] = v
      farEnergy += v * v
    }
    if (farEnergy > 0) {
      const spectrum = this.spectrumScratch
      this.fft.forward(farTime, spectrum)
      for (let i = 0; i < BAND_SPECTRUM; i++) X[farAt + i] = spectrum[2 * BAND_LOW_BIN + i]!
    } else X.fill(0, farAt, farAt + BAND_SPECTRUM) // digital silence: skip the transform
    const active = farEnergy / FFT_SIZE >= FAR_ACTIVE_POWER
    if (active) {
      // Near: the delayed partition (samples [0, P) of nearBlock), zero-padded in front.
      const padded = this.timeScratch
      for (let i = 0; i < P; i++) {
        padded[i] = 0
        padded[P + i] = this.nearBlock[i]!
      }
      this.fft.forward(padded, this.nearSpectrum)
    }
    // Shift both blocks: current → previous.
    farBlock.copyWithin(0, P, FFT_SIZE)
    this.nearBlock.copyWithin(0, P, FFT_SIZE)
    if (!active) return
    // Smooth the cross-spectra S_j ← λ·S_j + Y·X_j* (with 1/n averaging at the start) and the auto-spectra.
    this.activeHops++
    const lambda = Math.min(SMOOTHING, 1 - 1 / this.activeHops)
    const gain = 1 - lambda
    const Y = this.nearSpectrum
    const S = this.cross
    const nearPower = this.nearPower
    const farPower = this.farPower
    const low = BAND_LOW_BIN
    const high = BAND_HIGH_BIN
    for (let k = low, b = farAt; k <= high; k++, b += 2) {
      const yr = Y[2 * k]!
      const yi = Y[2 * k + 1]!
      const xr = X[b]!
      const xi = X[b + 1]!
      nearPower[k] = lambda * nearPower[k]! + gain * (yr * yr + yi * yi)
      farPower[k] = lambda * farPower[k]! + gain * (xr * xr + xi * xi)
    }
    for (let j = 0, xAt = farAt; j < parts; j++) {
      const sAt = j * BAND_SPECTRUM
      for (let k = low, b = 0; k <= high; k++, b += 2) {
        const yr = Y[2 * k]!
        const yi = Y[2 * k + 1]!
        const xr = X[xAt + b]!
        const xi = X[xAt + b + 1]!
        // Y·X* = (yr xr + yi xi) + j(yi xr − yr xi)
        S[sAt + b] = lambda * S[sAt + b]! + gain * (yr * xr + yi * xi)
        S[sAt + b + 1] = lambda * S[sAt + b + 1]! + gain * (yi * xr - yr * xi)
      }
      xAt += BAND_SPECTRUM
      if (xAt === parts * BAND_SPECTRUM) xAt = 0 // ring: partition j + 1 is the next slot
    }
    // Search every hop until stable (after a few hops: a coherence of few averages is meaningless), then every 4th
    // hop (256 ms): the delay moves slowly.
    this.hopsSinceSearch++
    if (this.activeHops < MIN_HOPS) return
    if (this.estimate.stable && this.hopsSinceSearch < SEARCH_EVERY_STABLE) return
    this.hopsSinceSearch = 0
    this.search()
  }

  private search(): void {
    const P = PARTITION
    const parts = this.partitions
    const S = this.cross
    const G = this.spectrumScratch
    const norm = this.bandNorm
    const low = BAND_LOW_BIN
    const high = BAND_HIGH_BIN
    // SCOT: S / sqrt(Pxx·Pyy); ×√2 because only P of the 2P far samples meet the near block.
    for (let k = low; k <= high; k++) {
      norm[k] = Math.SQRT2 / (Math.sqrt(this.farPower[k]! * this.nearPower[k]!) + 1e-20)
    }
    G.fill(0)
    // Partition j holds lags j·P … (j+1)·P (its last is the next partition's first): the correlation r over all
    // count = parts·P + 1 lags, in order, in single precision, scanned as it is computed (nothing stored): its peak
    // (the first of equal maxima), the peak's neighbours and Σr². The IDFT's 1/N is scaled back to a band mean.
    const scale = FFT_SIZE / (high - low + 1) / 2
    const lags = this.timeScratch
    const count = parts * P + 1
    let best = 0
    let peak = -Infinity
    let left = 0
    let right = 0
    let previous = 0
    let sumSquares = 0
    for (let j = 0; j < parts; j++) {
      const sAt = j * BAND_SPECTRUM
      for (let k = low, b = 0; k <= high; k++, b += 2) {
        const n = norm[k]!
        G[2 * k] = S[sAt + b]! * n
        G[2 * k + 1] = S[sAt + b + 1]! * n
      }
      this.fft.inverse(G, lags)
      const end = j === parts - 1 ? P : P - 1
      for (let i = 0; i <= end; i++) {
        const index = j * P + i
        const value = Math.fround(lags[i]! * scale)
        sumSquares += value * value
        if (index === best + 1) right = value
        if (value > peak) {
          peak = value
          best = index
          left = previous
        }
        previous = value
      }
    }
    // Peak-to-RMS ratio over all lags: ~3–5 for unrelated signals (the largest of ~1000 noisy lags), 8–20 for echo.
    const peakToRms = peak / Math.sqrt(sumSquares / count + 1e-30)
    let fraction = 0
    if (best > 0 && best < count - 1) {
      const denominator = left - 2 * peak + right
      if (denominator < 0) fraction = Math.max(-0.5, Math.min(0.5, (0.5 * (left - right)) / denominator))
    }
    const lag = best + fraction - P // 2 kHz samples; negative = non-causal
    const confidence = peak > 0 ? Math.max(0, Math.min(1, (peakToRms - PEAK_TO_RMS_NOISE) / PEAK_TO_RMS_SPAN)) : 0

    // Stability: the last STABLE_COUNT estimates within ±STABLE_SPREAD, all confident.
    const e = this.estimate
    this.recent.copyWithin(0, 1)
    this.recentConfidence.copyWithin(0, 1)
    this.recent[STABLE_COUNT - 1] = lag
    this.recentConfidence[STABLE_COUNT - 1] = confidence
    if (this.recentCount < STABLE_COUNT) this.recentCount++
    let stable = this.recentCount === STABLE_COUNT
    for (let i = 0; i < STABLE_COUNT && stable; i++) {
      if (this.recentConfidence[i]! < CONFIDENT || Math.abs(this.recent[i]! - lag) > STABLE_SPREAD) stable = false
    }
    e.updates++
    e.confidence = confidence
    e.stable = stable
    e.delaySamples = lag * this.decimation
    e.delayMs = (lag * 1000) / DECIMATED_RATE_HZ
    e.nonCausal = confidence >= CONFIDENT && e.delayMs < -1
    if (stable) this.updateDrift(lag)
  }

  private resetDrift(): void {
    this.sw = this.st = this.sd = this.stt = this.std = 0
    this.firstDriftTime = -1
    this.outliers = 0
    this.estimate.driftPpm = 0
  }

  private updateDrift(lag: number): void {
    const t = this.time / DECIMATED_RATE_HZ // seconds
    if (this.firstDriftTime >= 0 && this.sw > 0) {
      // Outliers (a jump: echo path change) are skipped; a persistent jump restarts the regression.
      const slope = this.slope()
      const mean = this.sd / this.sw
      const meanT = this.st / this.sw
      const predicted = mean + slope * (t - meanT)
      if (Math.abs(lag - predicted) > DRIFT_OUTLIER) {
        if (++this.outliers < 8) return
        this.resetDrift()
      } else this.outliers = 0
    }
    if (this.firstDriftTime < 0) this.firstDriftTime = t
    this.sw = DRIFT_FORGET * this.sw + 1
    this.st = DRIFT_FORGET * this.st + t
    this.sd = DRIFT_FORGET * this.sd + lag
    this.stt = DRIFT_FORGET * this.stt + t * t
    this.std = DRIFT_FORGET * this.std + t * lag
    if (t - this.firstDriftTime >= DRIFT_MIN_SPAN_S) {
      // slope in 2 kHz samples per second → ppm = slope / 2000 · 1e6
      this.estimate.driftPpm = (this.slope() / DECIMATED_RATE_HZ) * 1e6
    }
  }

  private slope(): number {
    const denominator = this.sw * this.stt - this.st * this.st
    return denominator > 1e-9 ? (this.sw * this.std - this.st * this.sd) / denominator : 0
  }
}

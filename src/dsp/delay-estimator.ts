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
 * Complexity per 64 ms: 2 FFTs of 256, J·129 complex multiply-adds and, every hop until stable then every 4th hop,
 * J inverse FFTs of 256 (J = partitions ≈ maxDelayMs / 64 + 1). Nothing allocates after construction.
 *
 * Also exports RealFft, the real-input FFT (forward and inverse, via one complex transform of half the size)
 * that the echo canceller shares, and ComplexFft, the complex transform (fft.js) under it and under the noise
 * reducer's. (A hand-written radix-8/4 transform was measured 20–30 % faster than fft.js at 128 points, which made the
 * canceller about 20 % faster; the project builds on fft.js as its issues ask, so it is not used.)
 *
 * Limits: a periodic far signal (a steady tone, DTMF) has no unique delay: the confidence stays low and nothing is
 * reported as stable. Delays beyond maxDelayMs or earlier than −64 ms are not found. The delay is that of the
 * strongest path (usually the direct sound), not the earliest.
 */
import FFT from 'fft.js'

/**
 * Complex FFT of n points (a power of two ≥ 2), forward (e^(−2πikt/n)), unnormalized, interleaved re/im: fft.js
 * (radix 4), behind the small interface the real transforms below and in the noise reducer use.
 */
export class ComplexFft {
  readonly size: number
  private readonly fft: FFT

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 2 || (size & (size - 1)) !== 0) {
      throw new RangeError(`ComplexFft size: ${size} is not a power of two ≥ 2`)
    }
    this.size = size
    this.fft = new FFT(size)
  }

  /** fft.js tables: twiddles (2·size doubles) and the bit-reversal table (≤ size entries). */
  get stateBytes(): number {
    return 8 * 3 * this.size
  }

  /** output = DFT(input), both interleaved complex of `size` points; they must not alias. */
  transform(output: Float64Array, input: Float64Array): void {
    this.fft.transform(output, input)
  }
}

/**
 * Real FFT of size N (a power of two ≥ 4) by one ComplexFft transform of size N/2 (the classic "two for one"
 * packing: z[n] = x[2n] + j·x[2n+1]). Spectra are interleaved re/im for bins 0…N/2 (length N + 2). The forward
 * transform is unnormalized; the inverse includes 1/N, so inverse(forward(x)) = x.
 */
export class RealFft {
  readonly size: number
  private readonly half: ComplexFft
  /** Complex scratch of N/2 points (interleaved, length N). */
  private readonly scratch: Float64Array
  /** cos(2πk/N), sin(2πk/N) for k = 0…N/2. */
  private readonly cosTable: Float64Array
  private readonly sinTable: Float64Array

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 4 || (size & (size - 1)) !== 0) {
      throw new RangeError(`RealFft size: ${size} is not a power of two ≥ 4`)
    }
    this.size = size
    this.half = new ComplexFft(size / 2)
    this.scratch = new Float64Array(size)
    this.cosTable = new Float64Array(size / 2 + 1)
    this.sinTable = new Float64Array(size / 2 + 1)
    for (let k = 0; k <= size / 2; k++) {
      this.cosTable[k] = Math.cos((2 * Math.PI * k) / size)
      this.sinTable[k] = Math.sin((2 * Math.PI * k) / size)
    }
  }

  /** Bytes of the scratch and tables (the complex transform's included). */
  get stateBytes(): number {
    return this.scratch.byteLength + this.cosTable.byteLength + this.sinTable.byteLength + this.half.stateBytes
  }

  /**
   * spectrum[at … at+N+1] = DFT(input[0 … N−1]) for bins 0…N/2, interleaved. input and spectrum must not alias.
   */
  forward(input: Float64Array, spectrum: Float64Array, at = 0): void {
    const h = this.size >> 1
    const z = this.scratch
    this.half.transform(z, input)
    const c = this.cosTable
    const s = this.sinTable
    // X[k] = Xe[k] + W^k·Xo[k], Xe = (Z[k] + Z*[h−k])/2, Xo = (Z[k] − Z*[h−k])/2j, W = e^(−2πj/N). Bins k and h − k
    // share their inputs (and W^(h−k) = −W^(−k)*), so each pass computes both.
    spectrum[at] = z[0]! + z[1]!
    spectrum[at + 1] = 0
    spectrum[at + 2 * h] = z[0]! - z[1]!
    spectrum[at + 2 * h + 1] = 0
    for (let k = 1, m = h - 1; k < m; k++, m--) {
      const ar = z[2 * k]!
      const ai = z[2 * k + 1]!
      const br = z[2 * m]!
      const bi = z[2 * m + 1]!
      const er = 0.5 * (ar + br)
      const ei = 0.5 * (ai - bi)
      const or = 0.5 * (ai + bi)
      const oi = -0.5 * (ar - br)
      const ck = c[k]!
      const sk = s[k]!
      const u = ck * or + sk * oi
      const v = ck * oi - sk * or
      spectrum[at + 2 * k] = er + u
      spectrum[at + 2 * k + 1] = ei + v
      spectrum[at + 2 * m] = er - u
      spectrum[at + 2 * m + 1] = v - ei
    }
    const q = h >> 1 // bin N/4: W = −j
    spectrum[at + 2 * q] = z[2 * q]!
    spectrum[at + 2 * q + 1] = -z[2 * q + 1]!
  }

  /** output[0 … N−1] = IDFT(spectrum[at …]) / N, for the spectrum of a real signal (bins 0…N/2). Must not alias. */
  inverse(spectrum: Float64Array, output: Float64Array, at = 0): void {
    const h = this.size >> 1
    const z = this.scratch
    const c = this.cosTable
    const s = this.sinTable
    const scale = 1 / h
    // Z[k] = Xe[k] + j·Xo[k], Xe = (X[k] + X*[h−k])/2, Xo = (X[k] − X*[h−k])/2 · W^−k; z = IDFT_h(Z) = (x_even, x_odd).
    // IDFT_h(Z)[n] = DFT_h(Z[(h − k) mod h])[n] / h: the forward transform of Z stored index-reversed (so no
    // conjugations and no pass over the output); bins k and h − k again in pairs, each stored at the other's place.
    {
      const x0 = spectrum[at]!
      const xh = spectrum[at + 2 * h]!
      z[0] = 0.5 * (x0 + xh) * scale
      z[1] = 0.5 * (x0 - xh) * scale
    }
    for (let k = 1, m = h - 1; k < m; k++, m--) {
      const ar = spectrum[at + 2 * k]!
      const ai = spectrum[at + 2 * k + 1]!
      const br = spectrum[at + 2 * m]!
      const bi = -spectrum[at + 2 * m + 1]!
      const er = 0.5 * (ar + br)
      const ei = 0.5 * (ai + bi)
      const dr = 0.5 * (ar - br)
      const di = 0.5 * (ai - bi)
      const ck = c[k]!
      const sk = s[k]!
      const or = dr * ck - di * sk
      const oi = dr * sk + di * ck
      z[2 * m] = (er - oi) * scale // Z[k]
      z[2 * m + 1] = (ei + or) * scale
      z[2 * k] = (er + oi) * scale // Z[m]
      z[2 * k + 1] = (or - ei) * scale
    }
    const q = h >> 1
    z[2 * q] = spectrum[at + 2 * q]! * scale
    z[2 * q + 1] = -spectrum[at + 2 * q + 1]! * scale
    this.half.transform(output, z)
  }
}

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
  private readonly fft = new RealFft(FFT_SIZE)
  /** Two biquads, 5 coefficients each, and their states (x1, x2, y1, y2) for near and far. */
  private readonly coefficients = new Float64Array(10)
  private readonly nearState = new Float64Array(8)
  private readonly farState = new Float64Array(8)
  private boxcarNear = 0
  private boxcarFar = 0
  private boxcarCount = 0
  /** 4 kHz → 2 kHz phase. */
  private pickPhase = 0
  /** Far at 2 kHz: [previous partition, current partition]. */
  private readonly farBlock = new Float64Array(FFT_SIZE)
  /** Near at 2 kHz: delayed by one partition (the negative lags), [delayed partition, current partition]. */
  private readonly nearBlock = new Float64Array(FFT_SIZE)
  private blockFill = 0
  /** Zero-padded near block [0, near], and its spectrum. */
  private readonly paddedNear = new Float64Array(FFT_SIZE)
  private readonly nearSpectrum = new Float64Array(2 * BINS)
  /** The newest far spectrum, before it goes into the (single-precision) ring. */
  private readonly farSpectrum = new Float64Array(2 * BINS)
  /** Ring of far spectra, newest first: partitions × 2·BINS. */
  private readonly farSpectra: Float32Array
  private farHead = 0
  /** Smoothed cross-spectra per partition (partitions × 2·BINS), auto-spectra of far and near. */
  private readonly cross: Float32Array
  private readonly farPower = new Float64Array(BINS)
  private readonly nearPower = new Float64Array(BINS)
  private activeHops = 0
  private hopsSinceSearch = 0
  /** Weighted cross-spectrum and its lags (scratch), and the correlation over all lags (partitions·P + 1). */
  private readonly weighted = new Float64Array(2 * BINS)
  /** SCOT normalization per band bin (scratch of search()). */
  private readonly bandNorm = new Float64Array(BINS)
  private readonly lagScratch = new Float64Array(FFT_SIZE)
  private readonly correlation: Float32Array
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

  constructor(config: Partial<DelayEstimatorConfig> = {}) {
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
    this.farSpectra = new Float32Array(this.partitions * 2 * BINS)
    this.cross = new Float32Array(this.partitions * 2 * BINS)
    this.correlation = new Float32Array(this.partitions * PARTITION + 1)
    // 4th-order Butterworth at 850 Hz on the 4 kHz stream: Q = 0.541, 1.307.
    lowPassSection(850, 2 * DECIMATED_RATE_HZ, 0.5412, this.coefficients, 0)
    lowPassSection(850, 2 * DECIMATED_RATE_HZ, 1.3066, this.coefficients, 5)
  }

  /** Bytes held in typed arrays (state and scratch), including the FFT's tables. */
  get stateBytes(): number {
    return (
      this.coefficients.byteLength +
      this.nearState.byteLength +
      this.farState.byteLength +
      this.farBlock.byteLength +
      this.nearBlock.byteLength +
      this.paddedNear.byteLength +
      this.nearSpectrum.byteLength +
      this.farSpectrum.byteLength +
      this.farSpectra.byteLength +
      this.cross.byteLength +
      this.farPower.byteLength +
      this.nearPower.byteLength +
      this.weighted.byteLength +
      this.bandNorm.byteLength +
      this.lagScratch.byteLength +
      this.correlation.byteLength +
      this.recent.byteLength +
      this.recentConfidence.byteLength +
      this.fft.stateBytes
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
    // Far spectrum of [previous, current] into the ring (newest first).
    this.farHead = (this.farHead + parts - 1) % parts
    const farAt = this.farHead * 2 * BINS
    let farEnergy = 0
    for (let i = 0; i < FFT_SIZE; i++) farEnergy += this.farBlock[i]! * this.farBlock[i]!
    if (farEnergy > 0) {
      this.fft.forward(this.farBlock, this.farSpectrum)
      this.farSpectra.set(this.farSpectrum, farAt)
    } else this.farSpectra.fill(0, farAt, farAt + 2 * BINS) // digital silence: skip the transform
    const active = farEnergy / FFT_SIZE >= FAR_ACTIVE_POWER
    if (active) {
      // Near: the delayed partition (samples [0, P) of nearBlock), zero-padded in front.
      for (let i = 0; i < P; i++) {
        this.paddedNear[i] = 0
        this.paddedNear[P + i] = this.nearBlock[i]!
      }
      this.fft.forward(this.paddedNear, this.nearSpectrum)
    }
    // Shift both blocks: current → previous.
    this.farBlock.copyWithin(0, P, FFT_SIZE)
    this.nearBlock.copyWithin(0, P, FFT_SIZE)
    if (!active) return
    // Smooth the cross-spectra S_j ← λ·S_j + Y·X_j* (with 1/n averaging at the start) and the auto-spectra.
    this.activeHops++
    const lambda = Math.min(SMOOTHING, 1 - 1 / this.activeHops)
    const gain = 1 - lambda
    const Y = this.nearSpectrum
    const X = this.farSpectra
    const S = this.cross
    const nearPower = this.nearPower
    const farPower = this.farPower
    const low = BAND_LOW_BIN
    const high = BAND_HIGH_BIN
    for (let k = low; k <= high; k++) {
      const yr = Y[2 * k]!
      const yi = Y[2 * k + 1]!
      const xr = X[farAt + 2 * k]!
      const xi = X[farAt + 2 * k + 1]!
      nearPower[k] = lambda * nearPower[k]! + gain * (yr * yr + yi * yi)
      farPower[k] = lambda * farPower[k]! + gain * (xr * xr + xi * xi)
    }
    const spectrum = 2 * BINS
    for (let j = 0, xAt = farAt; j < parts; j++) {
      const sAt = j * spectrum
      for (let k = low; k <= high; k++) {
        const yr = Y[2 * k]!
        const yi = Y[2 * k + 1]!
        const xr = X[xAt + 2 * k]!
        const xi = X[xAt + 2 * k + 1]!
        // Y·X* = (yr xr + yi xi) + j(yi xr − yr xi)
        S[sAt + 2 * k] = lambda * S[sAt + 2 * k]! + gain * (yr * xr + yi * xi)
        S[sAt + 2 * k + 1] = lambda * S[sAt + 2 * k + 1]! + gain * (yi * xr - yr * xi)
      }
      xAt += spectrum
      if (xAt === parts * spectrum) xAt = 0 // ring: partition j + 1 is the next slot
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
    const G = this.weighted
    const r = this.correlation
    const norm = this.bandNorm
    const low = BAND_LOW_BIN
    const high = BAND_HIGH_BIN
    // SCOT: S / sqrt(Pxx·Pyy); ×√2 because only P of the 2P far samples meet the near block.
    for (let k = low; k <= high; k++) {
      norm[k] = Math.SQRT2 / (Math.sqrt(this.farPower[k]! * this.nearPower[k]!) + 1e-20)
    }
    G.fill(0)
    // Valid lags of each partition: 0…P (P is the next partition's 0); scale the IDFT's 1/N back to a band mean.
    const scale = FFT_SIZE / (high - low + 1) / 2
    const lags = this.lagScratch
    for (let j = 0; j < parts; j++) {
      const sAt = j * 2 * BINS
      for (let k = low; k <= high; k++) {
        const n = norm[k]!
        G[2 * k] = S[sAt + 2 * k]! * n
        G[2 * k + 1] = S[sAt + 2 * k + 1]! * n
      }
      this.fft.inverse(G, lags)
      for (let i = 0; i <= P; i++) r[j * P + i] = lags[i]! * scale
    }
    const count = parts * P + 1
    let best = 0
    for (let i = 1; i < count; i++) if (r[i]! > r[best]!) best = i
    const peak = r[best]!
    let sumSquares = 0
    for (let i = 0; i < count; i++) sumSquares += r[i]! * r[i]!
    // Peak-to-RMS ratio over all lags: ~3–5 for unrelated signals (the largest of ~1000 noisy lags), 8–20 for echo.
    const peakToRms = peak / Math.sqrt(sumSquares / count + 1e-30)
    let fraction = 0
    if (best > 0 && best < count - 1) {
      const a = r[best - 1]!
      const b = r[best + 1]!
      const denominator = a - 2 * peak + b
      if (denominator < 0) fraction = Math.max(-0.5, Math.min(0.5, (0.5 * (a - b)) / denominator))
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

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
 * J inverse FFTs of 256 (J = partitions ≈ maxDelayMs / 64 + 1), the correlation scanned as it is computed. Measured
 * on the rt250 scene in 20 ms frames at 16 kHz: ~3.5 µs per frame (was ~6 µs before the decimation took two boxcars
 * per iteration and the hop its copies by TypedArray set: 40 % less, outputs bit-identical), about 30 % of it the
 * decimation, 30 % the FFTs, 25 % the cross-spectrum update. State: ~17 KiB of its own at maxDelayMs 400 (the rings
 * keep only the band's 106 bins, in single precision), the hop scratch (7 KiB) in the thread's shared scratch
 * (scratch.ts), the transform lent by the echo canceller. Nothing allocates after construction.
 *
 * The transforms are spectrum.ts's RealFft; the echo canceller passes its own 256-point one in, so
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
  /**
   * Two biquads, 5 coefficients each, and their states (x1, x2, y1, y2 per section) for near and far; the second
   * section's x1, x2 are the first's y1, y2 (push() keeps one copy in locals).
   */
  private readonly coefficients = new Float64Array(10)
  private readonly nearState = new Float64Array(8)
  private readonly farState = new Float64Array(8)
  private boxcarNear = 0
  private boxcarFar = 0
  private boxcarCount = 0
  /** 4 kHz → 2 kHz phase. */
  private pickPhase = 0
  /**
   * The 2 kHz streams (single precision), one array: far at 0: [previous partition, current partition] (transformed
   * from the time scratch); near at FFT_SIZE: delayed by one partition (the negative lags), [delayed, current].
   */
  private readonly blocks = new Float32Array(2 * FFT_SIZE)
  /** Views of blocks: the far block, the near block's delayed partition. */
  private readonly farBlock = this.blocks.subarray(0, FFT_SIZE)
  private readonly nearDelayed = this.blocks.subarray(FFT_SIZE, FFT_SIZE + PARTITION)
  private blockFill = 0
  // Scratch within one hop, in the thread's shared scratch (scratch.ts; the echo canceller pushes before its blocks).
  /** Time scratch: the zero-padded near block [0, near] in hop(), a partition's lags in search(). */
  private readonly timeScratch = sharedScratch(0, FFT_SIZE)
  /** The near block's spectrum (2·BINS). */
  private readonly nearSpectrum = sharedScratch(FFT_SIZE, 2 * BINS)
  /** Spectrum scratch (2·BINS): the newest far spectrum before it goes into the ring; the weighted cross-spectrum. */
  private readonly spectrumScratch = sharedScratch(FFT_SIZE + 2 * BINS, 2 * BINS)
  /** The band of spectrumScratch. */
  private readonly farBand = this.spectrumScratch.subarray(2 * BAND_LOW_BIN, 2 * BAND_LOW_BIN + BAND_SPECTRUM)
  /**
   * The spectral state, one array (single precision): the smoothed cross-spectra per partition over the band
   * (partitions × BAND_SPECTRUM), the ring of far spectra over the band, newest first (partitions × BAND_SPECTRUM),
   * the auto-spectra of far and near (BINS each, indexed by bin).
   */
  private readonly spectra: Float32Array
  private farHead = 0
  private activeHops = 0
  private hopsSinceSearch = 0
  /** Hops whose near partition predates a shift() and is left out of the cross-spectra. */
  private staleHops = 0
  /** SCOT normalization per band bin (scratch of search()). */
  private readonly bandNorm = sharedScratch(FFT_SIZE + 4 * BINS, BINS)
  /** Last STABLE_COUNT estimates (2 kHz samples) and their confidences. */
  private readonly recent = new Float64Array(STABLE_COUNT)
  private readonly recentConfidence = new Float64Array(STABLE_COUNT)
  private recentCount = 0
  /** Decimated samples consumed (the time axis of the drift regression). */
  private time = 0
  /** Σ v² of the far block, in order: the previous partition and the current one so far; the current one alone. */
  private farEnergy = 0
  private farHalfEnergy = 0
  /** The far block's Σ v² for hop(). */
  private hopFarEnergy = 0
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
    this.spectra = new Float32Array(2 * this.partitions * BAND_SPECTRUM + 2 * BINS)
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
      this.blocks.byteLength +
      this.timeScratch.byteLength +
      this.nearSpectrum.byteLength +
      this.spectrumScratch.byteLength +
      this.spectra.byteLength +
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
    this.blocks.fill(0)
    this.blockFill = 0
    this.spectra.fill(0)
    this.farHead = 0
    this.activeHops = 0
    this.hopsSinceSearch = 0
    this.staleHops = 0
    this.recentCount = 0
    this.time = 0
    this.farEnergy = this.farHalfEnergy = this.hopFarEnergy = 0
    this.resetDrift()
    const e = this.estimate
    e.delaySamples = e.delayMs = e.confidence = e.driftPpm = 0
    e.stable = e.nonCausal = false
    e.updates = 0
  }

  /**
   * The echo path moved by a known `samples` (at sampleRateHz; + later): a buffer before the mic changed its delay
   * (a jitter buffer grew or shrank). The estimate, the recent estimates that judge stability and the drift
   * regression move with it (a stable estimate stays stable), and the cross-spectra start averaging afresh, since
   * they mix both alignments; the next search comes after MIN_HOPS active hops (256 ms of far end). A cold path.
   */
  shift(samples: number): void {
    if (!(samples !== 0 && Number.isFinite(samples))) return
    const lag = samples / this.decimation // 2 kHz samples
    const e = this.estimate
    e.delaySamples += samples
    e.delayMs += (lag * 1000) / DECIMATED_RATE_HZ
    e.nonCausal = e.confidence >= CONFIDENT && e.delayMs < -1
    for (let i = 0; i < STABLE_COUNT; i++) this.recent[i] = this.recent[i]! + lag
    // Every past delay in the regression moves by lag: Σw·d and Σw·t·d move by lag·Σw and lag·Σw·t.
    this.sd += lag * this.sw
    this.std += lag * this.st
    this.spectra.fill(0, 0, this.partitions * BAND_SPECTRUM) // the cross-spectra (the far ring stays)
    this.activeHops = 0
    this.hopsSinceSearch = 0
    // The near partitions of the next two hops (the one being filled, and the delayed one) still hold samples from
    // before the move, at the old lag: they stay out of the new averages.
    this.staleHops = 2
  }

  /**
   * Feeds near (mic) and far (reference played while near was captured) samples [0, length): any length per call.
   * Non-finite samples count as 0. Allocates nothing.
   */
  push(near: ArrayLike<number>, far: ArrayLike<number>, length = Math.min(near.length, far.length)): void {
    // The filter states and coefficients live in locals over the loop (stored back at the end; time and the far
    // energy also before hops).
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
    // Per stream: the first section's x1, x2, y1, y2 and the second's y1, y2 (its inputs are the first section's
    // outputs, y1 and y2 again: the state arrays keep them twice, at 4 and 5).
    let nx1 = ns[0]!
    let nx2 = ns[1]!
    let ny1 = ns[2]!
    let ny2 = ns[3]!
    let nz1 = ns[6]!
    let nz2 = ns[7]!
    let fx1 = fs[0]!
    let fx2 = fs[1]!
    let fy1 = fs[2]!
    let fy2 = fs[3]!
    let fz1 = fs[6]!
    let fz2 = fs[7]!
    const boxcar = this.boxcar
    let boxcarNear = this.boxcarNear
    let boxcarFar = this.boxcarFar
    let boxcarCount = this.boxcarCount
    let pickPhase = this.pickPhase
    let blockFill = this.blockFill
    let time = this.time
    let farEnergy = this.farEnergy
    let farHalfEnergy = this.farHalfEnergy
    const blocks = this.blocks
    let i = 0
    while (i < length) {
      if (boxcar === 4 && boxcarCount === 0 && pickPhase === 0 && i + 8 <= length) {
        // 16 kHz, at a boxcar's start with the next 4 kHz sample kept: two boxcars (two 4 kHz samples, the first
        // kept) at once, when all 16 samples are in [-1, 1] (otherwise the sample-at-a-time path below sanitizes
        // them). The same operations in the same order. Off phase (after a push of an odd number of boxcars), one
        // 4 kHz sample by the path below realigns.
        const n0 = near[i]!
        const n1 = near[i + 1]!
        const n2 = near[i + 2]!
        const n3 = near[i + 3]!
        const n4 = near[i + 4]!
        const n5 = near[i + 5]!
        const n6 = near[i + 6]!
        const n7 = near[i + 7]!
        const f0 = far[i]!
        const f1 = far[i + 1]!
        const f2 = far[i + 2]!
        const f3 = far[i + 3]!
        const f4 = far[i + 4]!
        const f5 = far[i + 5]!
        const f6 = far[i + 6]!
        const f7 = far[i + 7]!
        if (
          Math.abs(n0) <= 1 &&
          Math.abs(n1) <= 1 &&
          Math.abs(n2) <= 1 &&
          Math.abs(n3) <= 1 &&
          Math.abs(n4) <= 1 &&
          Math.abs(n5) <= 1 &&
          Math.abs(n6) <= 1 &&
          Math.abs(n7) <= 1 &&
          Math.abs(f0) <= 1 &&
          Math.abs(f1) <= 1 &&
          Math.abs(f2) <= 1 &&
          Math.abs(f3) <= 1 &&
          Math.abs(f4) <= 1 &&
          Math.abs(f5) <= 1 &&
          Math.abs(f6) <= 1 &&
          Math.abs(f7) <= 1
        ) {
          i += 8
          // The boxcar sums start from 0 (as one sample at a time: 0 + −0 is +0).
          const xn = (0 + n0 + n1 + n2 + n3) * 0.25
          const xf = (0 + f0 + f1 + f2 + f3) * 0.25
          const un = (0 + n4 + n5 + n6 + n7) * 0.25
          const uf = (0 + f4 + f5 + f6 + f7) * 0.25
          const yn1 = b0 * xn + b1 * nx1 + b2 * nx2 - a1 * ny1 - a2 * ny2
          const yn2 = d0 * yn1 + d1 * ny1 + d2 * ny2 - e1 * nz1 - e2 * nz2
          const yf1 = b0 * xf + b1 * fx1 + b2 * fx2 - a1 * fy1 - a2 * fy2
          const yf2 = d0 * yf1 + d1 * fy1 + d2 * fy2 - e1 * fz1 - e2 * fz2
          const vn1 = b0 * un + b1 * xn + b2 * nx1 - a1 * yn1 - a2 * ny1
          const vn2 = d0 * vn1 + d1 * yn1 + d2 * ny1 - e1 * yn2 - e2 * nz1
          const vf1 = b0 * uf + b1 * xf + b2 * fx1 - a1 * yf1 - a2 * fy1
          const vf2 = d0 * vf1 + d1 * yf1 + d2 * fy1 - e1 * yf2 - e2 * fz1
          nx2 = xn
          nx1 = un
          ny2 = yn1
          ny1 = vn1
          nz2 = yn2
          nz1 = vn2
          fx2 = xf
          fx1 = uf
          fy2 = yf1
          fy1 = vf1
          fz2 = yf2
          fz1 = vf2
          blocks[PARTITION + blockFill] = yf2
          blocks[FFT_SIZE + PARTITION + blockFill] = yn2
          const v = Math.fround(yf2)
          farEnergy += v * v
          farHalfEnergy += v * v
          time++
          if (++blockFill === PARTITION) {
            this.time = time
            this.hopFarEnergy = farEnergy
            farEnergy = farHalfEnergy
            farHalfEnergy = 0
            this.hop()
            blockFill = 0
          }
          continue
        }
      }
      // One sample at a time up to the end of a boxcar.
      for (; i < length && boxcarCount < boxcar; i++, boxcarCount++) {
        let n = near[i]!
        let f = far[i]!
        // As units.sanitize: NaN and ±Infinity → 0, clamp the rest to [-1, 1].
        if (!(n >= -1 && n <= 1)) n = n > 1 && n !== Infinity ? 1 : n < -1 && n !== -Infinity ? -1 : 0
        if (!(f >= -1 && f <= 1)) f = f > 1 && f !== Infinity ? 1 : f < -1 && f !== -Infinity ? -1 : 0
        boxcarNear += n
        boxcarFar += f
      }
      if (boxcarCount < boxcar) break
      const xn = boxcarNear / boxcar
      const xf = boxcarFar / boxcar
      boxcarNear = boxcarFar = 0
      boxcarCount = 0
      // One 4 kHz sample: low-pass it (both streams: two cascaded Direct Form I sections), keep every second one.
      const yn1 = b0 * xn + b1 * nx1 + b2 * nx2 - a1 * ny1 - a2 * ny2
      const yn2 = d0 * yn1 + d1 * ny1 + d2 * ny2 - e1 * nz1 - e2 * nz2
      const yf1 = b0 * xf + b1 * fx1 + b2 * fx2 - a1 * fy1 - a2 * fy2
      const yf2 = d0 * yf1 + d1 * fy1 + d2 * fy2 - e1 * fz1 - e2 * fz2
      nx2 = nx1
      nx1 = xn
      ny2 = ny1
      ny1 = yn1
      nz2 = nz1
      nz1 = yn2
      fx2 = fx1
      fx1 = xf
      fy2 = fy1
      fy1 = yf1
      fz2 = fz1
      fz1 = yf2
      pickPhase ^= 1
      if (pickPhase === 0) continue
      blocks[PARTITION + blockFill] = yf2
      blocks[FFT_SIZE + PARTITION + blockFill] = yn2
      // The far block's energy as hop() needs it: the samples as stored, squared, summed in order from the
      // previous partition's first.
      const v = Math.fround(yf2)
      farEnergy += v * v
      farHalfEnergy += v * v
      time++
      if (++blockFill === PARTITION) {
        this.time = time
        this.hopFarEnergy = farEnergy
        farEnergy = farHalfEnergy
        farHalfEnergy = 0
        this.hop()
        blockFill = 0
      }
    }
    this.time = time
    this.farEnergy = farEnergy
    this.farHalfEnergy = farHalfEnergy
    this.pickPhase = pickPhase
    this.blockFill = blockFill
    this.boxcarNear = boxcarNear
    this.boxcarFar = boxcarFar
    this.boxcarCount = boxcarCount
    ns[0] = nx1
    ns[1] = nx2
    ns[2] = ns[4] = ny1
    ns[3] = ns[5] = ny2
    ns[6] = nz1
    ns[7] = nz2
    fs[0] = fx1
    fs[1] = fx2
    fs[2] = fs[4] = fy1
    fs[3] = fs[5] = fy2
    fs[6] = fz1
    fs[7] = fz2
  }

  /** One partition of both streams is complete: update the spectra, and now and then search the peak. */
  private hop(): void {
    const P = PARTITION
    const parts = this.partitions
    const R = this.spectra
    // Far spectrum of [previous, current] into the ring (newest first), over the band.
    this.farHead = (this.farHead + parts - 1) % parts
    const ringAt = parts * BAND_SPECTRUM
    const farAt = ringAt + this.farHead * BAND_SPECTRUM
    const blocks = this.blocks
    const time = this.timeScratch
    const farEnergy = this.hopFarEnergy
    // The copies by TypedArray set (one native conversion loop each, several times faster than an element loop).
    if (farEnergy > 0) {
      time.set(this.farBlock)
      this.fft.forward(time, this.spectrumScratch)
      R.set(this.farBand, farAt)
    } else R.fill(0, farAt, farAt + BAND_SPECTRUM) // digital silence: skip the transform
    const active = farEnergy / FFT_SIZE >= FAR_ACTIVE_POWER
    if (active) {
      // Near: the delayed partition (samples [0, P) of its block), zero-padded in front.
      time.fill(0, 0, P)
      time.set(this.nearDelayed, P)
      this.fft.forward(time, this.nearSpectrum)
    }
    // Shift both blocks: current → previous.
    blocks.copyWithin(0, P, FFT_SIZE)
    blocks.copyWithin(FFT_SIZE, FFT_SIZE + P, 2 * FFT_SIZE)
    if (this.staleHops > 0) {
      this.staleHops--
      return
    }
    if (!active) return
    // Smooth the cross-spectra S_j ← λ·S_j + Y·X_j* (with 1/n averaging at the start) and the auto-spectra (over
    // the band, with partition 0).
    this.activeHops++
    const lambda = Math.min(SMOOTHING, 1 - 1 / this.activeHops)
    const gain = 1 - lambda
    const Y = this.nearSpectrum
    const y0 = 2 * BAND_LOW_BIN
    // Partitions 0 and 1 (there are always at least two) with the auto-spectra, then the others two at a time (one
    // pass over Y for both), then the last one if their count is odd.
    const ringEnd = 2 * ringAt
    let x = farAt + BAND_SPECTRUM
    if (x === ringEnd) x = ringAt // ring: partition 1 is the next slot
    for (let b = 0, f = 2 * ringAt + BAND_LOW_BIN; b < BAND_SPECTRUM; b += 2, f++) {
      const yr = Y[y0 + b]!
      const yi = Y[y0 + b + 1]!
      const wr = R[farAt + b]!
      const wi = R[farAt + b + 1]!
      const xr = R[x + b]!
      const xi = R[x + b + 1]!
      // Y·X* = (yr xr + yi xi) + j(yi xr − yr xi)
      R[b] = lambda * R[b]! + gain * (yr * wr + yi * wi)
      R[b + 1] = lambda * R[b + 1]! + gain * (yi * wr - yr * wi)
      R[b + BAND_SPECTRUM] = lambda * R[b + BAND_SPECTRUM]! + gain * (yr * xr + yi * xi)
      R[b + BAND_SPECTRUM + 1] = lambda * R[b + BAND_SPECTRUM + 1]! + gain * (yi * xr - yr * xi)
      R[f] = lambda * R[f]! + gain * (wr * wr + wi * wi)
      R[f + BINS] = lambda * R[f + BINS]! + gain * (yr * yr + yi * yi)
    }
    x += BAND_SPECTRUM
    let j = 2
    for (; j + 1 < parts; j += 2) {
      if (x === ringEnd) x = ringAt // ring: partition j is the next slot
      let z = x + BAND_SPECTRUM
      if (z === ringEnd) z = ringAt
      const s0 = j * BAND_SPECTRUM
      for (let b = 0; b < BAND_SPECTRUM; b += 2) {
        const yr = Y[y0 + b]!
        const yi = Y[y0 + b + 1]!
        const xr = R[x + b]!
        const xi = R[x + b + 1]!
        const zr = R[z + b]!
        const zi = R[z + b + 1]!
        const s = s0 + b
        R[s] = lambda * R[s]! + gain * (yr * xr + yi * xi)
        R[s + 1] = lambda * R[s + 1]! + gain * (yi * xr - yr * xi)
        R[s + BAND_SPECTRUM] = lambda * R[s + BAND_SPECTRUM]! + gain * (yr * zr + yi * zi)
        R[s + BAND_SPECTRUM + 1] = lambda * R[s + BAND_SPECTRUM + 1]! + gain * (yi * zr - yr * zi)
      }
      x = z + BAND_SPECTRUM
    }
    if (j < parts) {
      if (x === ringEnd) x = ringAt
      const s0 = j * BAND_SPECTRUM
      for (let b = 0; b < BAND_SPECTRUM; b += 2) {
        const yr = Y[y0 + b]!
        const yi = Y[y0 + b + 1]!
        const xr = R[x + b]!
        const xi = R[x + b + 1]!
        const s = s0 + b
        R[s] = lambda * R[s]! + gain * (yr * xr + yi * xi)
        R[s + 1] = lambda * R[s + 1]! + gain * (yi * xr - yr * xi)
      }
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
    const R = this.spectra
    const powerAt = 2 * parts * BAND_SPECTRUM
    const G = this.spectrumScratch
    const norm = this.bandNorm
    const low = BAND_LOW_BIN
    const high = BAND_HIGH_BIN
    // SCOT: S / sqrt(Pxx·Pyy); ×√2 because only P of the 2P far samples meet the near block.
    for (let k = low; k <= high; k++) {
      norm[k] = Math.SQRT2 / (Math.sqrt(R[powerAt + k]! * R[powerAt + BINS + k]!) + 1e-20)
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
      for (let k = low, s = sAt, g = 2 * low; k <= high; k++, s += 2, g += 2) {
        const n = norm[k]!
        G[g] = R[s]! * n
        G[g + 1] = R[s + 1]! * n
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

/**
 * EchoCanceller: acoustic echo cancellation of the near-end (mic) signal against the far-end reference (what the
 * speaker played), with a bulk-delay estimator in front and a residual echo suppressor behind.
 *
 * ```ts
 * const aec = new EchoCanceller({ sampleRateHz: 16000, frameSamples: 320, filterLength: 1024, engine: 'mdf',
 *   postFilter: true, postFilterStrength: 1, delayEstimation: true, maxBulkDelayMs: 400 })
 * aec.process(near, far, out)   // far = the reference frame played while this near frame was captured
 * aec.metrics.erleDb            // erleMin/Median/MaxDb, linearErleDb, erlDb, bulkDelayMs, delayConfidence, delayStable,
 *                               // nonCausal, driftPpm, doubleTalk, state, echoPath, echoCoherence, resets
 * aec.configure({ filterLength: 4096 })  // hot: keeps the converged taps it can
 * aec.delaySamples              // latency added (8 ms at 16 kHz with 20 ms frames, ≤ 10 ms for 10/20/30 ms frames)
 * aec.getFilterResponse(taps)   // echo path as seen by the filter, bulk delay included
 * aec.stateBytes                // DSP state held in typed arrays
 * aec.configure({ nearBandwidthHz: 4600 })  // the mic carries nothing above it (G.711): work only below
 * ```
 *
 * Per internal block of B samples (8 ms: 128 at 16 kHz):
 * 1. Bulk delay. A DelayEstimator (GCC on a 2 kHz band, see delay-estimator.ts) finds the far-to-near delay; once it
 *    is stable the filter window is moved to start BULK_DELAY_MARGIN_MS before it, shifting the taps with it so
 *    nothing re-converges. A 64 ms filter can then sit behind a 100–300 ms playout/capture delay.
 * 2. Linear filter, engine 'mdf' (default): a partitioned frequency-domain block adaptive filter, the multidelay
 *    filter of Soo & Pang (IEEE Trans. ASSP 38(2), 1990) in its alternately-constrained form (one partition every
 *    other block), as in speexdsp's libspeexdsp/mdf.c: partitions of B taps, FFT 2B, overlap-save, per-bin
 *    normalization Σ_j p_j·|X_j(k)|² and proportionate partition steps p_j. Two paths, as speexdsp does: a background
 *    filter adapts every block and a foreground filter makes the output; the foreground takes the background's
 *    weights when the background's error has been significantly lower (stricter tests than speexdsp's: with 8 ms
 *    blocks of speech a lucky block is common), and the background goes back to the foreground when it has become
 *    significantly worse (double talk). Background step: Valin's optimal learning rate ("On adjusting the learning
 *    rate in frequency domain echo cancellation with double-talk", IEEE TASLP 15(3), 2007), μ(k) ≈ residual echo /
 *    error power, the residual being the leakage η (a regression of the error's spectral power fluctuations on the
 *    echo estimate's) times the echo estimate; at least BACKGROUND_MIN_STEP outside double talk, so the background
 *    follows an echo path change at once and the foreground takes it within ~0.2 s. η is held in double talk.
 *    Engine 'nlms': the seed's time-domain NLMS (μ 0.1, ε 1e-6), sample by sample; slow, single path.
 * 3. Residual echo suppressor (post-filter): a sqrt-Hann STFT of B at hop B/2 on the foreground's error e and echo
 *    estimate ŷ. Residual echo R(k) = min(1, 2η)·|Ŷ(k)|² + tail(k), the tail being the reverberation beyond the
 *    filter window, modelled from the foreground's last partition and the decay of the partition energies (WebRTC
 *    AEC3's reverb model; the decay at most 0.9 per block). The noise floor per bin is the minimum of the smoothed
 *    error power, rising ~3 dB/s; digital silence (a packet call's start, a faded-out loss) leaves it as it is. A
 *    near-talker detector compares the mic with what the echo estimate, R and the noise floor predict (6 dB over it
 *    in total, or 12 dB in at least 8 bins; only once the filter is trusted, i.e. converged and not beaten by the
 *    background), held 100 ms:
 *    - no near talker: the error above the noise is residual echo in every bin with echo (up to 4× the echo estimate
 *      there once trusted: more is a weak near talker's harmonic), which also covers a filter still converging or
 *      behind an echo path change; gain G = max(Gmin, 1 − β·R/|E|²), fast attack, ~20 ms release, β = 1 + strength,
 *      Gmin = −45 dB × strength (a conservative start, as AEC3's, until the filter is trusted);
 *    - near talker (double talk): the suppressor backs off within ~8 ms (its gains would distort the talker more than
 *      the residual echo they remove; the linear filter alone keeps it ~22 dB under the talker).
 * 4. Echo path decision (the headset case: the far end talks, none of it reaches the mic). The conservative start
 *    above needs an echo to end it: with none the filter never converges and the suppressor would eat the near
 *    talker for ever. The suppressor measures the magnitude-squared coherence γ²(k) between the echo estimate Ŷ and
 *    the mic D per bin (WebRTC AEC2's far–near coherence, on Ŷ: coherence is invariant to a per-bin linear filter, so
 *    even an unconverged estimate of a real echo is coherent with the mic, while a filter fitted to a near talker it
 *    cannot cancel is not) and the share of the mic power Ŷ explains, Σγ²·S_dd / ΣS_dd: ~0.9 in far single talk
 *    with echo (0.45 within ~0.4 s of the start), under ~0.15 with none. metrics.echoPath:
 *    - 'searching' (start, reset): the residual-echo rule applies only in bins with γ² > 0.3;
 *    - 'found' once Ŷ explains 40 % of the mic or the filter is trusted: as described above;
 *    - 'none' after 2.5 s of far activity without either (AEC3's initial state length; its "transparent mode"): the
 *      output crossfades to the mic itself (neither the filter's output nor gains), the background's step is limited
 *      to 0.05, a filter that adds energy is cleared without counting as a reset, the state reads 'idle' and the
 *      ERLE/ERL figures 0. An echo that appears later (a headset unplugged) is coherent within ~0.1 s: 'found' again.
 *    The coherence costs ~20 flops per bin and hop while the path is in question, every 4th hop once trusted.
 *    The output is never louder than the mic in any bin (|Z(k)| ≤ |D(k)|), so a misadapted filter cannot add echo
 *    or noise.
 * A silent far end leaves the filter output at 0 and every gain at 1: the near end passes through untouched (the
 * sqrt-Hann STFT reconstructs exactly). Digital silence over the whole window skips the transforms. Non-finite input
 * counts as 0 (and ±1 clamps); a non-finite or runaway state resets the filter (metrics.resets). process()
 * allocates nothing.
 *
 * Hot reconfiguration: filterLength keeps the taps it can (truncated or zero-extended); engine switches hand the taps
 * over (MDF partitions ⇄ NLMS taps), so no burst of echo; postFilter toggles ramp the gains over ~40 ms; a narrower
 * nearBandwidthHz zeroes the weights above it, a wider one lets them converge there (as after an echo path change).
 * sampleRateHz, frameSamples and maxBulkDelayMs reallocate and reset.
 *
 * Latency: B/2 (the STFT hop) plus the block FIFO's worst fill, B − gcd(frameSamples, B): 128 samples (8 ms, one
 * block) at 16 kHz with 20 ms frames, 160 (10 ms) with 10 or 30 ms frames.
 *
 * Cost (16 kHz, 20 ms frames, 1024 taps): 2.5 blocks per frame, each 5–6 real FFTs of 256 plus 7·129 complex
 * multiply-adds per path (one pass over the partitions updates the background and prepares both paths' next outputs); 5
 * suppressor hops of 3 real FFTs of 128; the delay estimator (~3.5 µs). Measured by `npm run bench` on the rt250 call
 * (its far end pauses: digital far silence over the whole window skips the transforms, the gradient and the tail model;
 * per frame ~8.9 FFTs of 256 and ~12 of 128): ~63 µs per frame (2048 / 4096 taps: ~85 / ~123 µs; a third of its blocks
 * have no far end in the window). About a quarter of it is the FFTs (spectrum.ts: 1.1 µs for 256 points, 0.5 µs for
 * 128; with fft.js they took 1.55 and 0.6 µs, and the canceller 69.8 µs), 25 % the partition loops (~6 ns per
 * partition·bin in V8: bounds checks, Float32 loads and stores, four complex products), 21 % the suppressor's per-bin
 * and per-sample loops, 5 % the delay estimator, the rest block and frame bookkeeping. V8 re-checks every distinct
 * typed array (map, length, data pointer) on each loop iteration: so the MdfFilter's and the suppressor's Float32 state
 * are one array each, indexed by region offsets (the named arrays are views of it for the cold paths), and the block
 * buffers and per-hop scratch one shared-scratch view each: 5–10 % less time than separate arrays, the same output bit
 * for bit. A near end band-limited by G.711 (nearBandwidthHz 4600, the pipeline's packet sources) skips 42 % of the
 * bins (~88 µs in the pipeline, measured before that layout).
 * DSP state ≈ 100 KiB at 1024 taps (each buffer counted once; 158 / 215 KiB at 2048 / 4096): the MDF 29 KiB (the
 * weights of both paths and the far spectra ring, 3 × 8 KiB in single precision, and 5 KiB of state across blocks),
 * the delay estimator 19 KiB (band-only rings 13 KiB), the far history ring 16 KiB (16-bit PCM, 512 ms), the FFTs
 * 8 KiB (with the thread's real-FFT scratch), the suppressor 7 KiB, the output FIFO 4 KiB; per-bin state is Float32
 * (the sums in double: the quality figures did not move at 0.01 dB). And 14 KiB of per-block scratch in the thread's
 * shared scratch (scratch.ts: the MDF's spectra and time buffers, the block buffers with the tap scratch over them;
 * the suppressor's hop spectra and powers and the estimator's hop scratch over the MDF's, which are free at those
 * times), which the pipeline's noise reducer and PLC reuse.
 *
 * Metrics (per process call): ERLE = 10·log10(P_mic / P_out) in far single-talk frames (smoothed; and min / median /
 * max over the last 500 such frames, since a mean over double talk and silence is misleading), the linear filter's
 * own ERLE (P_mic / P_error), ERL = P_far / P_mic in far single talk, the bulk delay, its confidence and stability,
 * non-causality, drift (ppm), double talk, the echo path decision and coherence, and the state: idle (no far end for
 * 2 s, or no echo path), converging, converged (linear ERLE ≥ 6 dB), diverged (the filter adds energy; it is reset
 * after 1 s of that).
 *
 * A trusted filter keeps the echo path 'found' (a long double talk lowers the coherence): a headset plugged in after
 * convergence leaves it 'found', with the near-talker detector protecting the talker.
 * Limits: echo beyond the filter window is only suppressed, not cancelled; non-linear echo (a clipping speaker) is
 * left to the suppressor; a non-causal delay (echo before its reference) cannot be cancelled and is reported. Clock
 * drift is reported but not compensated: the filter tracks it as a slowly moving echo path.
 */
import { DelayEstimator } from './delay-estimator'
import { sharedScratch, sharedScratch32 } from './scratch'
import { RealFft } from './spectrum'
import { bandBins, checkBandwidth, gcd } from './units'

export type EchoEngine = 'mdf' | 'nlms'
export type EchoState = 'idle' | 'converging' | 'converged' | 'diverged'
/**
 * Whether the far end reaches the mic: 'searching' (from the start or a reset until the echo estimate is coherent with
 * the mic), 'found', or 'none' (NO_ECHO_FAR_S of far activity without a coherent echo: a headset; the canceller is
 * then transparent and reports no ERLE).
 */
export type EchoPath = 'searching' | 'found' | 'none'

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
  /**
   * Highest frequency the near end (mic) can carry, Hz: 0 (default) for the full band, else 1000–sampleRateHz/2, e.g.
   * a G.711 call upsampled to 16 kHz carries nothing above the resampler's 4.6 kHz stopband edge. The filter and the
   * suppressor work only up to it (echo cannot be where the mic has nothing): about 40 % less work at 16 kHz.
   */
  nearBandwidthHz: number
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
  /**
   * Mean power of the mic and of the linear filter's error over the last frame's blocks (0 when none ran): a caller
   * sums them over the frames it picks for a whole-call linear ERLE.
   */
  frameMicPower: number
  frameErrorPower: number
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
  /** Echo path found, still searched, or none (no echo: nothing is suppressed and the ERLE figures are 0). */
  echoPath: EchoPath
  /** Share of the mic power the echo estimate explains (coherence-weighted, 0–1), over the last far-active hops. */
  echoCoherence: number
  /** Automatic resets (non-finite state or sustained divergence). */
  resets: number
  /**
   * The last frame's blocks left the mic's noise as it was: no suppressor gain was applied (the far end and its echo
   * silent and nothing left to suppress, the suppressor off, or no echo path). A noise estimate downstream may learn
   * from such frames; the others carry the suppressor's gains, which come and go with the far end.
   */
  untouched: boolean
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
  nearBandwidthHz: 0,
}

/** Internal block: the largest power of two within 8 ms (128 samples at 16 kHz). */
const BLOCK_MS = 8
/** The filter window starts this long before the estimated bulk delay (estimation error, early reflections). */
const BULK_DELAY_MARGIN_MS = 2
/** The compensated delay moves only when the estimate has moved by more than this (a tap shift), ms. */
const BULK_DELAY_HYSTERESIS_MS = 1
/** NLMS (the seed's fallback): step and regularization. */
const NLMS_STEP = 0.1
const NLMS_EPSILON = 1e-6
/** Largest Valin step (fraction of the a-priori error removed per block) and the first-phase step. */
const STEP_MAX = 0.5
const STEP_INITIAL = 0.5
/** Leakage bounds: η ≥ MIN_LEAK (−23 dB), the best residual echo the step control hopes for. */
const MIN_LEAK = 0.005
/** Suppressor gain floor at strength 1 (dB) and the ramp of postFilter toggles (hops). */
const SUPPRESSION_FLOOR_DB = -45
const TOGGLE_RAMP_HOPS = 10
/** Near talker present: error > NEAR_RATIO × (residual echo + noise); the suppressor's mix then, and the hold. */
/**
 * Near talker present: mic power > NEAR_RATIO × (echo estimate + residual + noise) (6 dB), held 100 ms. While no
 * near talker is present, the error above the noise is treated as residual echo in bins with echo, up to
 * EXCESS_LIMIT × the echo estimate there once the filter is trusted (a louder excess is a weak near talker's harmonic).
 */
const NEAR_RATIO = 4
const NEAR_HANGOVER_HOPS = 25
const EXCESS_LIMIT = 4
/**
 * Also a near talker: at least NEAR_BINS bins where the mic exceeds the prediction by 12 dB (echo components cannot:
 * a weak near talker shows in its harmonics before it shows in the total power).
 */
const BIN_RATIO = 16
const NEAR_BINS = 8
/** Echo coherence averaging per hop: 0.1 ≈ 40 ms at 4 ms hops. */
const COHERENCE_AVERAGE = 0.1
/**
 * Echo path found: the echo estimate explains at least this share of the mic power (far single talk with echo reaches
 * 0.45 within ~0.4 s and ~0.9 once converged; with no echo it stays under ~0.15).
 */
const ECHO_EXPLAINED = 0.4
/**
 * No echo path: this long of far activity without a coherent echo estimate nor a converged filter (WebRTC AEC3's
 * initial state lasts 2.5 s; its transparent mode then stops suppressing a headset call).
 */
const NO_ECHO_FAR_S = 2.5
/** While searching, a bin's error counts as residual echo only where the estimate is coherent with the mic. */
const COHERENT_BIN = 0.3
/** Background step limit with no echo path (it keeps listening for one, without chasing the near talker). */
const NO_ECHO_STEP = 0.05
/** The background's step floor outside double talk (lets it follow an echo path change before the leak does). */
const BACKGROUND_MIN_STEP = 0.2
/** Noise floor rise per hop: ~3 dB/s at 4 ms hops. */
const NOISE_RISE = Math.pow(10, 0.3 / 250)
/** Output over linear-filter error power above which a frame counts as untouched by the suppressor (−1 dB). */
const UNTOUCHED_RATIO = Math.pow(10, -0.1)
/** ERLE statistics window (far single-talk frames) and histogram resolution. */
const ERLE_WINDOW = 500
const ERLE_HISTOGRAM_MIN_DB = -20
const ERLE_HISTOGRAM_STEP_DB = 0.5
const ERLE_HISTOGRAM_BINS = 240
/** Tail power (2B-point spectrum) below which the tail is gone: ~−120 dBFS per bin. */
const TAIL_FLOOR = 1e-9
/** Powers below this are flushed to 0 in decaying recursions (denormals cost ~100× per operation). */
const TINY = 1e-30
/** A suppressor bin below this power (128-point √Hann frames of ±1 samples: ~−130 dBFS) is digital silence. */
const SILENT_BIN_POWER = 1e-12
/** The far history ring holds 16-bit PCM: sample × FAR_SCALE; FAR_UNIT is one step (exact powers of two). */
const FAR_SCALE = 32768
const FAR_UNIT = 1 / 32768
/** Silence threshold of the far end (mean square, −70 dBFS). */
const FAR_SILENT_POWER = 1e-7

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
  checkBandwidth('nearBandwidthHz', config.nearBandwidthHz, sampleRateHz)
}

/**
 * Two-path multidelay block frequency-domain adaptive filter (AUMDF): `partitions` partitions of B taps, FFT N = 2B,
 * overlap-save, spectra interleaved re/im over B + 1 bins. The background weights adapt; the foreground weights make
 * the output. The weight update of block m and the filtering of block m + 1 share one pass over the partitions
 * (Y(m+1) = X₀(m+1)·W₀ + Σ_{j≥1} X_{j−1}(m)·W_j), so each weight is read once per block.
 */
/** Doubles of the MdfFilter's per-block scratch at the start of the shared scratch: two spectra and two 2B buffers. */
function mdfScratchDoubles(blockSamples: number): number {
  return 4 * (blockSamples + 1) + 4 * blockSamples
}

class MdfFilter {
  readonly blockSamples: number
  readonly partitions: number
  private readonly bins: number
  private readonly fft: RealFft
  /**
   * All single-precision state in one array (V8 re-checks each distinct typed array on every loop iteration: the
   * partition loop reads one), regions at the offsets below; the named arrays are views of it for the cold paths.
   */
  readonly state: Float32Array
  /**
   * Background (adapting) and foreground (output) weights, partitions × 2·bins; partition j: j blocks ago. Single
   * precision, as the far spectra ring (speexdsp's float build; the sums are in double): half the state, same ERLE.
   * The foreground's region follows the background's (foregroundAt = partitions·2·bins).
   */
  readonly weights: Float32Array
  /** Single precision is plenty for the output path's copy (speexdsp keeps it in 16 bits). */
  readonly foreground: Float32Array
  readonly foregroundAt: number
  /** Ring of far spectra, newest at `head` (partitions × 2·bins), and each slot's offset by partition. */
  private readonly farSpectra: Float32Array
  readonly farSpectraAt: number
  private readonly farOffsets: Int32Array
  private head = 0
  /** Aligned far: the previous block (the window is [previous block, current block]). */
  private readonly farTime: Float32Array
  private readonly farTimeAt: number
  /** Output spectra of this block; the next block's Σ_{j≥1} parts and normalization, prepared by the last pass. */
  private readonly spectra: Float64Array // [background | foreground]: one view for the loops
  private readonly backgroundSpectrum: Float64Array
  private readonly foregroundSpectrum: Float64Array
  private readonly nextBackground: Float32Array
  private readonly nextForeground: Float32Array
  private readonly nextPower: Float32Array
  private readonly nextBackgroundAt: number
  private readonly nextForegroundAt: number
  private readonly nextPowerAt: number
  private readonly times: Float64Array // [time scratch | foreground time]: one view for the loops
  private readonly timeScratch: Float64Array
  private readonly foregroundTime: Float64Array
  /** Step normalization per bin: Σ_j p_j·|X_j(k)|² (state region farPowerAt). */
  readonly farPower: Float32Array
  readonly farPowerAt: number
  /**
   * Per partition, in one double array: the proportionate step (sums to ~1), the foreground's partition energies
   * (tail model), and this block's step factor (p_j, 0 for the partition constrained this block; scratch).
   */
  private readonly partitionState: Float64Array
  private readonly proportion: Float64Array
  readonly partitionEnergy: Float64Array
  private readonly partitionStep: Float64Array
  private blockCount = 0
  /** Consecutive blocks of digitally silent far end (beyond `partitions`, filtering is skipped). */
  private silentBlocks = 0
  /** Bins [0, activeBins) are filtered and adapted; above, the near end carries nothing and the weights stay 0. */
  activeBins = 0
  /** Far energy of the previous block (the window's first half). */
  private previousFarEnergy = 0
  /** Energies of the last filtered block: far, mic, foreground error, background error and echo, (e_f − e_b). */
  farEnergy = 0
  nearEnergy = 0
  errorEnergy = 0
  backgroundErrorEnergy = 0
  backgroundEchoEnergy = 0
  differenceEnergy = 0
  /** The mic clipped in the last block (no adaptation on it). */
  saturated = false

  constructor(blockSamples: number, partitions: number, fft: RealFft) {
    this.blockSamples = blockSamples
    this.partitions = partitions
    this.bins = blockSamples + 1
    this.fft = fft
    const spectrum = 2 * this.bins
    const ring = partitions * spectrum
    // Regions: weights, foreground, far spectra ring, next background / foreground, next power, far power, far time.
    this.foregroundAt = ring
    this.farSpectraAt = 2 * ring
    this.nextBackgroundAt = 3 * ring
    this.nextForegroundAt = 3 * ring + spectrum
    this.nextPowerAt = 3 * ring + 2 * spectrum
    this.farPowerAt = this.nextPowerAt + this.bins
    this.farTimeAt = this.farPowerAt + this.bins
    const state = new Float32Array(this.farTimeAt + blockSamples)
    this.state = state
    this.weights = state.subarray(0, ring)
    this.foreground = state.subarray(ring, 2 * ring)
    this.farSpectra = state.subarray(2 * ring, 3 * ring)
    this.farOffsets = new Int32Array(partitions)
    this.farTime = state.subarray(this.farTimeAt, this.farTimeAt + blockSamples)
    // Scratch within one block (filter() to adapt()) in the thread's shared scratch: [0, MDF_SCRATCH(B)).
    this.spectra = sharedScratch(0, 2 * spectrum)
    this.backgroundSpectrum = this.spectra.subarray(0, spectrum)
    this.foregroundSpectrum = this.spectra.subarray(spectrum, 2 * spectrum)
    this.nextBackground = state.subarray(this.nextBackgroundAt, this.nextBackgroundAt + spectrum)
    this.nextForeground = state.subarray(this.nextForegroundAt, this.nextForegroundAt + spectrum)
    this.nextPower = state.subarray(this.nextPowerAt, this.nextPowerAt + this.bins)
    this.times = sharedScratch(2 * spectrum, 4 * blockSamples)
    this.timeScratch = this.times.subarray(0, 2 * blockSamples)
    this.foregroundTime = this.times.subarray(2 * blockSamples, 4 * blockSamples)
    this.farPower = state.subarray(this.farPowerAt, this.farPowerAt + this.bins)
    this.partitionState = new Float64Array(3 * partitions)
    this.proportion = this.partitionState.subarray(0, partitions)
    this.partitionEnergy = this.partitionState.subarray(partitions, 2 * partitions)
    this.partitionStep = this.partitionState.subarray(2 * partitions, 3 * partitions)
    this.activeBins = this.bins
    this.reset()
  }

  get taps(): number {
    return this.partitions * this.blockSamples
  }

  /**
   * Limits filtering and adaptation to bins [0, count) (the near end's band): the weights above are zeroed and stay 0,
   * as do both paths' outputs there. A cold path (configure).
   */
  setActiveBins(count: number): void {
    const K = this.bins
    const active = Math.max(1, Math.min(K, count))
    this.activeBins = active
    const n = 2 * K
    for (let j = 0; j < this.partitions; j++) {
      this.weights.fill(0, j * n + 2 * active, (j + 1) * n)
      this.foreground.fill(0, j * n + 2 * active, (j + 1) * n)
    }
    this.nextBackground.fill(0, 2 * active)
    this.nextForeground.fill(0, 2 * active)
    this.nextPower.fill(0, active)
    this.farPower.fill(0, active)
  }

  get stateBytes(): number {
    return (
      this.state.byteLength +
      this.farOffsets.byteLength +
      this.spectra.byteLength +
      this.times.byteLength +
      this.partitionState.byteLength
    )
  }

  reset(): void {
    this.state.fill(0) // weights, foreground, far spectra and time, next outputs and powers, far power
    this.partitionEnergy.fill(0)
    this.blockCount = 0
    this.silentBlocks = 0
    this.previousFarEnergy = 0
    this.setHead(0)
    this.initialProportion()
  }

  private setHead(head: number): void {
    this.head = head
    const M = this.partitions
    for (let j = 0; j < M; j++) this.farOffsets[j] = ((head + j) % M) * 2 * this.bins
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

  /** The whole far history in the window is digital silence: both outputs are exactly 0. */
  get isSilent(): boolean {
    return this.silentBlocks > this.partitions
  }

  /** This block's and the previous block's echo estimates (both paths) are exactly 0 (digital far silence). */
  get wasSilent(): boolean {
    return this.silentBlocks > this.partitions + 1
  }

  /** Offset of the far spectrum in the filter's last partition (for the tail model). */
  get oldestFarAt(): number {
    return this.farOffsets[this.partitions - 1]!
  }

  get farSpectraArray(): Float32Array {
    return this.farSpectra
  }

  /**
   * Scratch the caller may use between filter() and the next filter(): a time buffer of 2B (the foreground's inverse
   * transform output) and a spectrum of B + 1 bins (the foreground's spectrum), e.g. for the gradient [0, e] → E.
   */
  get scratchTime(): Float64Array {
    return this.foregroundTime
  }

  get scratchSpectrum(): Float64Array {
    return this.foregroundSpectrum
  }

  /**
   * Shifts in the next block of aligned far samples; computes both paths' echo estimates and a-priori errors, the
   * step normalization farPower, and the block energies (the fields below). blocks (one view, so the loops check one
   * array): the far block at 0, then B each: the foreground's echo and error, the background's echo and error.
   */
  filter(blocks: Float64Array, near: Float32Array): void {
    const B = this.blockSamples
    const K = this.bins
    const M = this.partitions
    const S = this.state
    const xt = this.farTimeAt
    // The window [previous block, this block] into the time scratch (the transform's input; it serves the inverse
    // transforms after), and its far energy, from the two halves.
    const t = this.timeScratch
    let newEnergy = 0
    for (let i = 0; i < B; i++) {
      const v = blocks[i]!
      t[i] = S[xt + i]!
      t[B + i] = v
      S[xt + i] = v
      newEnergy += v * v
    }
    const energy = this.previousFarEnergy + newEnergy
    this.previousFarEnergy = newEnergy
    this.farEnergy = newEnergy
    this.setHead((this.head + M - 1) % M)
    const X = this.farSpectra
    const at0 = this.farOffsets[0]!
    this.silentBlocks = energy > 0 ? 0 : this.silentBlocks + 1
    if (this.silentBlocks > M) {
      // The whole far history in the window is digital silence: both outputs are exactly 0.
      X.fill(0, at0, at0 + 2 * K)
      this.farPower.fill(0)
      blocks.fill(0, 3 * B, 4 * B) // the background's echo
      blocks.fill(0, B, 2 * B) // the foreground's
      let sdd = 0
      let saturated = false
      for (let i = 0; i < B; i++) {
        const d = near[i]!
        blocks[4 * B + i] = d
        blocks[2 * B + i] = d
        sdd += d * d
        if (d >= 0.999 || d <= -0.999) saturated = true
      }
      this.nearEnergy = this.errorEnergy = this.backgroundErrorEnergy = sdd
      this.backgroundEchoEnergy = this.differenceEnergy = 0
      this.saturated = saturated
      return
    }
    // Both output spectra in one view: the background's at 0, the foreground's at S2; the state regions by offset.
    const Y = this.spectra
    const S2 = 2 * K
    const xa = this.farSpectraAt + at0
    const wf = this.foregroundAt
    const nb = this.nextBackgroundAt
    const nf = this.nextForegroundAt
    const np = this.nextPowerAt
    const fp = this.farPowerAt
    const p0 = this.proportion[0]!
    const A = this.activeBins
    if (energy > 0) {
      // The new far spectrum (the foreground's as scratch) goes into the single-precision ring as it is used.
      this.fft.forward(t, Y, S2)
      for (let i = 2 * A; i < S2; i++) {
        // Above the near band: kept in the ring (for a later widening), no output.
        S[xa + i] = Y[S2 + i]!
        Y[i] = 0
        Y[S2 + i] = 0
      }
      for (let k = 0; k < A; k++) {
        const i = 2 * k
        const xr = Math.fround(Y[S2 + i]!)
        const xi = Math.fround(Y[S2 + i + 1]!)
        S[xa + i] = xr
        S[xa + i + 1] = xi
        const wbr = S[i]!
        const wbi = S[i + 1]!
        const wfr = S[wf + i]!
        const wfi = S[wf + i + 1]!
        Y[i] = S[nb + i]! + xr * wbr - xi * wbi
        Y[i + 1] = S[nb + i + 1]! + xr * wbi + xi * wbr
        Y[S2 + i] = S[nf + i]! + xr * wfr - xi * wfi
        Y[S2 + i + 1] = S[nf + i + 1]! + xr * wfi + xi * wfr
        S[fp + k] = S[np + k]! + p0 * (xr * xr + xi * xi)
      }
    } else {
      // Digital silence in the window's far samples: partition 0 contributes nothing.
      X.fill(0, at0, at0 + S2)
      for (let i = 0; i < S2; i++) {
        Y[i] = S[nb + i]!
        Y[S2 + i] = S[nf + i]!
      }
      for (let k = 0; k < A; k++) S[fp + k] = S[np + k]!
    }
    // Overlap-save: the last B samples of each inverse transform are the linear convolution.
    const T = this.times // the background's at 0, the foreground's at 2B
    this.fft.inverse(Y, this.timeScratch, 0)
    this.fft.inverse(Y, this.foregroundTime, S2)
    // Both paths' outputs and the block energies: mic, foreground error (the output path), background error and
    // echo, their difference; and whether the mic clips.
    let sdd = 0
    let sff = 0
    let see = 0
    let syy = 0
    let dbf = 0
    let saturated = false
    for (let i = 0; i < B; i++) {
      const d = near[i]!
      const yb = T[B + i]!
      const yf = T[3 * B + i]!
      const eb = d - yb
      const ef = d - yf
      blocks[3 * B + i] = yb
      blocks[4 * B + i] = eb
      blocks[B + i] = yf
      blocks[2 * B + i] = ef
      sdd += d * d
      sff += ef * ef
      see += eb * eb
      syy += yb * yb
      const difference = ef - eb
      dbf += difference * difference
      if (d >= 0.999 || d <= -0.999) saturated = true
    }
    this.nearEnergy = sdd
    this.errorEnergy = sff
    this.backgroundErrorEnergy = see
    this.backgroundEchoEnergy = syy
    this.differenceEnergy = dbf
    this.saturated = saturated
  }

  /** The background has done better: the foreground takes its weights. */
  backgroundToForeground(): void {
    this.foreground.set(this.weights)
    this.nextForeground.set(this.nextBackground)
  }

  /** The background has done worse (double talk): it goes back to the foreground's weights. */
  foregroundToBackground(): void {
    this.weights.set(this.foreground)
    this.nextBackground.set(this.nextForeground)
  }

  /**
   * Background gradient step with per-bin steps `step[k]` (already normalized by farPower): W_j += p_j·step·X_j*·E,
   * E = the spectrum of [0, e]; constrains one partition per block, in turn (alternately updated MDF); prepares the
   * next block's partial outputs. With step = null the weights are left alone.
   */
  adapt(errorSpectrum: Float64Array, step: Float32Array | null, adapted: boolean): void {
    const K = this.bins
    const A = this.activeBins
    const M = this.partitions
    if (this.silentBlocks > M) {
      this.nextBackground.fill(0)
      this.nextForeground.fill(0)
      this.nextPower.fill(0)
      this.blockCount++
      return
    }
    if (step && adapted && (this.blockCount & 3) === 0) this.updateProportion()
    // One state array: weights at 0, the foreground at wf, the far spectra ring at xs (partition j's slot at
    // offsets[j], the ring wrapping at ring); per partition p_j at j and this block's step factor at M + M + j.
    const S = this.state
    const wf = this.foregroundAt
    const xs = this.farSpectraAt
    const S2 = 2 * K
    const ring = M * S2
    const E = errorSpectrum
    const offsets = this.farOffsets
    const P = this.partitionState
    // One partition is constrained every other block, in turn: update it over all bins first, then constrain it.
    const constrained = step && (this.blockCount & 1) === 0 ? (this.blockCount >> 1) % M : -1
    if (constrained >= 0) {
      const xa = xs + offsets[constrained]!
      const wa = constrained * S2
      const p = P[constrained]!
      for (let k = 0; k < A; k++) {
        const s = p * step![k]!
        const i = 2 * k
        const xr = S[xa + i]!
        const xi = S[xa + i + 1]!
        S[wa + i] = S[wa + i]! + s * (xr * E[i]! + xi * E[i + 1]!)
        S[wa + i + 1] = S[wa + i + 1]! + s * (xr * E[i + 1]! - xi * E[i]!)
      }
      this.constrain(constrained)
    }
    // Bin by bin over the partitions (sums stay in registers): W_j += p_j·step·X_j*·E, then the next block's output
    // parts Σ_{j≥1} X_{j−1}·W_j of both paths and its normalization Σ_{j≥1} p_j·|X_{j−1}|². The constrained
    // partition (already updated) gets a zero step: adding 0 leaves its weights as they are, without a branch.
    const nb = this.nextBackgroundAt
    const nf = this.nextForegroundAt
    const np = this.nextPowerAt
    const us = 2 * M
    for (let j = 0; j < M; j++) P[us + j] = j === constrained ? 0 : P[j]!
    const o0 = xs + offsets[0]!
    // Partition 1's far spectrum in the ring, relative to xs (then + S2 per partition, wrapping at ring).
    const o1 = M > 1 ? offsets[1]! : 0
    if (step) {
      const u0 = P[us]!
      for (let k = 0; k < A; k++) {
        const i = 2 * k
        const er = E[i]!
        const ei = E[i + 1]!
        const stepK = step[k]!
        let xr = S[o0 + i]!
        let xi = S[o0 + i + 1]!
        const s0 = u0 * stepK
        // X*·E = (xr er + xi ei) + j(xr ei − xi er)
        S[i] = S[i]! + s0 * (xr * er + xi * ei)
        S[i + 1] = S[i + 1]! + s0 * (xr * ei - xi * er)
        let br = 0
        let bi = 0
        let fr = 0
        let fi = 0
        let pk = 0
        for (let j = 1, w = S2 + i, xo = o1; j < M; j++, w += S2) {
          const pr = xr
          const pi = xi
          const xa = xs + xo + i
          xo += S2
          if (xo === ring) xo = 0
          xr = S[xa]!
          xi = S[xa + 1]!
          const s = P[us + j]! * stepK
          const wr = S[w]! + s * (xr * er + xi * ei)
          const wi = S[w + 1]! + s * (xr * ei - xi * er)
          S[w] = wr
          S[w + 1] = wi
          const gr = S[wf + w]!
          const gi = S[wf + w + 1]!
          br += pr * wr - pi * wi
          bi += pr * wi + pi * wr
          fr += pr * gr - pi * gi
          fi += pr * gi + pi * gr
          pk += P[j]! * (pr * pr + pi * pi)
        }
        S[nb + i] = br
        S[nb + i + 1] = bi
        S[nf + i] = fr
        S[nf + i + 1] = fi
        S[np + k] = pk
      }
    } else {
      for (let k = 0; k < A; k++) {
        const i = 2 * k
        let xr = S[o0 + i]!
        let xi = S[o0 + i + 1]!
        let br = 0
        let bi = 0
        let fr = 0
        let fi = 0
        let pk = 0
        for (let j = 1, w = S2 + i, xo = o1; j < M; j++, w += S2) {
          const pr = xr
          const pi = xi
          const xa = xs + xo + i
          xo += S2
          if (xo === ring) xo = 0
          xr = S[xa]!
          xi = S[xa + 1]!
          const wr = S[w]!
          const wi = S[w + 1]!
          const gr = S[wf + w]!
          const gi = S[wf + w + 1]!
          br += pr * wr - pi * wi
          bi += pr * wi + pi * wr
          fr += pr * gr - pi * gi
          fi += pr * gi + pi * gr
          pk += P[j]! * (pr * pr + pi * pi)
        }
        S[nb + i] = br
        S[nb + i + 1] = bi
        S[nf + i] = fr
        S[nf + i + 1] = fi
        S[np + k] = pk
      }
    }
    this.blockCount++
  }

  /** Recomputes the next block's partial outputs after the weights or the history changed outside adapt(). */
  private prepare(): void {
    // Any spectrum-sized array (unused without a step); a shorter one would be read out of bounds, and an
    // out-of-bounds load site makes V8 box the loop's doubles (heap allocations per block ever after).
    this.adapt(this.backgroundSpectrum, null, false)
    this.blockCount--
  }

  /** Zeroes the circular-wrap half of the background partition j's impulse response. */
  private constrain(j: number): void {
    const B = this.blockSamples
    const n = 2 * this.bins
    const at = j * n
    const t = this.timeScratch
    const spectrum = this.backgroundSpectrum // scratch here: overwritten by the next filter()
    const W = this.weights
    for (let i = 0; i < n; i++) spectrum[i] = W[at + i]!
    this.fft.inverse(spectrum, t)
    for (let i = B; i < 2 * B; i++) t[i] = 0
    this.fft.forward(t, spectrum)
    spectrum.fill(0, 2 * this.activeBins) // the near band's limit
    W.set(spectrum, at)
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

  /** Time-domain taps of the foreground [0, partitions·B) into out. */
  getTaps(out: Float32Array): void {
    const B = this.blockSamples
    const n = 2 * this.bins
    const t = this.timeScratch
    const spectrum = this.backgroundSpectrum // scratch here: overwritten by the next filter()
    for (let j = 0; j < this.partitions; j++) {
      for (let i = 0; i < n; i++) spectrum[i] = this.foreground[j * n + i]!
      this.fft.inverse(spectrum, t)
      for (let i = 0; i < B; i++) out[j * B + i] = t[i]!
    }
  }

  /** Loads time-domain taps [0, count) (zero beyond) into both paths, fully constrained. */
  setTaps(taps: Float32Array, count: number): void {
    const B = this.blockSamples
    const t = this.timeScratch
    for (let j = 0; j < this.partitions; j++) {
      for (let i = 0; i < B; i++) {
        const n = j * B + i
        t[i] = n < count ? taps[n]! : 0
        t[B + i] = 0
      }
      this.fft.forward(t, this.backgroundSpectrum) // scratch here
      this.backgroundSpectrum.fill(0, 2 * this.activeBins) // the near band's limit
      this.weights.set(this.backgroundSpectrum, j * 2 * this.bins)
    }
    this.foreground.set(this.weights)
    this.updateProportion()
    this.prepare()
  }

  /**
   * Rebuilds the far history from aligned far samples history[0 … (partitions+1)·B) (oldest first, ending with the
   * block before the next one to be filtered): the spectra ring and the previous block.
   */
  loadHistory(history: Float32Array): void {
    const B = this.blockSamples
    const M = this.partitions
    const K = this.bins
    const end = (M + 1) * B
    const t = this.timeScratch
    // Slot j holds the spectrum of history[end − 2B − jB, end − jB): the next filter() call moves head to M − 1,
    // writes the new spectrum there, and slot j becomes its partition j + 1.
    this.setHead(0)
    // Blocks of digital far silence at the history's end, as filter() would have counted them: a window of two
    // blocks, silent when both are. A far end silent over the whole history stays silent (isSilent) after a load.
    let zeroBlocks = 0
    for (let b = M; b >= 0 && zeroBlocks === M - b; b--) {
      let any = false
      for (let i = b * B; i < (b + 1) * B; i++) if (history[i] !== 0) any = true
      if (!any) zeroBlocks++
    }
    this.silentBlocks = zeroBlocks === M + 1 ? M + 2 : Math.max(0, zeroBlocks - 1)
    for (let j = 0; j < M; j++) {
      const start = end - 2 * B - j * B
      for (let i = 0; i < 2 * B; i++) t[i] = start + i >= 0 ? history[start + i]! : 0
      this.fft.forward(t, this.backgroundSpectrum) // scratch here
      this.farSpectra.set(this.backgroundSpectrum, j * 2 * K)
    }
    let energy = 0
    for (let i = 0; i < B; i++) {
      const v = history[end - B + i]!
      this.farTime[i] = v
      energy += v * v
    }
    this.previousFarEnergy = energy
    this.prepare()
  }
}

/** Time-domain NLMS (the seed's fallback): y = hᵀx, h += μ·e·x / (ε + ‖x‖²), per sample. */
class NlmsFilter {
  readonly taps: number
  /** Taps reversed: reversedTaps[p] = h[taps − 1 − p], so the dot product runs forward over the far samples. */
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

  /** window[0 … taps − 1 + count): aligned far, oldest first, ending at the block's last sample. */
  filter(window: Float64Array, near: Float32Array, y: Float64Array, e: Float64Array, count: number): void {
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

  getTaps(out: Float32Array): void {
    const L = this.taps
    for (let i = 0; i < L; i++) out[i] = this.reversedTaps[L - 1 - i]!
  }

  setTaps(taps: Float32Array, count: number): void {
    const L = this.taps
    for (let i = 0; i < L; i++) this.reversedTaps[L - 1 - i] = i < count ? taps[i]! : 0
  }
}

/**
 * Residual echo suppressor: sqrt-Hann STFT of 2H at hop H on the linear filter's error e and echo estimate ŷ, gains
 * from the residual echo estimate, |Z| ≤ |D| per bin, overlap-add. Exact reconstruction at unit gain.
 */
class ResidualSuppressor {
  readonly hop: number
  readonly bins: number
  private readonly fft: RealFft
  /**
   * All single-precision state in one array, as the MdfFilter's (one typed array checked per loop iteration): the
   * sqrt-Hann taper (2H), the last hop of e and ŷ, the overlap-add tail (H each), then 15 per-bin regions (below).
   * The named arrays are views of it for the cold paths and the caller.
   */
  private readonly state: Float32Array
  private readonly taper: Float32Array
  private readonly errorFrame: Float32Array
  private readonly echoFrame: Float32Array
  private readonly overlap: Float32Array
  private readonly errorFrameAt: number
  private readonly echoFrameAt: number
  private readonly overlapAt: number
  /**
   * Per-hop scratch in one view of the thread's shared scratch: the windowed frames of e and ŷ (the transforms'
   * inputs: views at 0 and 2H), the spectra of e, ŷ and the output, and per bin |E|², |Ŷ|² and the residual echo of
   * the last analyzed frame.
   */
  private readonly work: Float64Array
  private readonly scratch: Float64Array
  private readonly scratchEcho: Float64Array
  private readonly errorSpectrumAt: number
  private readonly echoSpectrumAt: number
  private readonly outputSpectrumAt: number
  private readonly errorPowerAt: number
  private readonly echoPowerAt: number
  private readonly residualAt: number
  /** Per bin: the tail (set by the caller), smoothed error power, noise floor, mic and predicted powers, gains. */
  readonly tail: Float32Array
  private readonly tailAt: number
  private readonly smoothedErrorAt: number
  private readonly noiseAt: number
  private readonly binMicAt: number
  private readonly binPredictedAt: number
  private readonly gainsAt: number
  /**
   * Echo coherence (AEC2's far–near coherence, on the echo estimate): recursive means of Ŷ*·D (re, im), |Ŷ|² and |D|²
   * per bin, and the magnitude-squared coherence γ²(k) = |S_ŷd|² / (S_ŷŷ·S_dd) of the last hop. Coherence is invariant
   * to a per-bin linear filter, so an unconverged estimate of a real echo is already coherent with the mic; with no
   * echo (a headset) the estimate is a filtered far end the mic does not contain: γ² stays near 0.
   */
  private readonly crossReAt: number
  private readonly crossImAt: number
  private readonly echoAverageAt: number
  private readonly micAverageAt: number
  private readonly coherenceAt: number
  /** Share of the mic power (active bins) the echo estimate explains, Σ|S_ŷd|²/S_ŷŷ / ΣS_dd, of the last hop. */
  explained = 0
  /** Set by the caller: 0 searching (residual-echo rule only in coherent bins), 1 echo found, 2 no echo (transparent). */
  echoPathMode = 0
  /** Set by the caller: update the coherence this hop (every hop while the echo path is in question). */
  coherenceDue = true
  /** Share of the mic passed as it is (0 → 1 over TOGGLE_RAMP_HOPS in no-echo mode, back within ~2 hops). */
  private transparency = 0
  /**
   * Valin's leak regression: recursive means of |E|² and |Ŷ|² per bin, and the hop's sums Σ(|E|² − Ē)(|Ŷ|² − Ȳ)
   * and Σ(|Ŷ|² − Ȳ)² (when analyze() was asked to update them).
   */
  private readonly errorMeanAt: number
  private readonly echoMeanAt: number
  leakCross = 0
  leakEcho = 0
  /** Σ |E|² and Σ |Ŷ|² per bin over the hops of the current block (the MDF's step control), reset by startBlock(). */
  readonly blockErrorPower: Float32Array
  readonly blockEchoPower: Float32Array
  /** Both as one view: Σ|E|² at 0, Σ|Ŷ|² at bins (the MDF's step loop reads one array). */
  readonly blockPowers: Float32Array
  private readonly blockErrorPowerAt: number
  private readonly blockEchoPowerAt: number
  /** Energies of the last analyzed hop: Σe², Σŷ², Σd² (mic); and Σe·ŷ over the block so far. */
  hopErrorEnergy = 0
  hopEchoEnergy = 0
  hopNearEnergy = 0
  blockCrossEnergy = 0
  /** Σ residual echo estimate over the last hop (time-domain energy), for the metrics. */
  residualEnergy = 0
  /**
   * Doubles the caller sets before analyze() and synthesize() (as arguments they would be boxed, a heap number per
   * call): the leak regression's averaging rate (0: hold it), the share of |Ŷ|² counted as residual echo min(1, 2η),
   * and the suppression strength 0–1.
   */
  leakAverage = 0
  leak2 = 1
  strength = 1
  /** Set before analyze(): the echo estimate is exactly 0 over the whole frame (its spectrum needs no transform). */
  echoIsZero = false
  /** Bins [0, activeBins) are suppressed; above (no near-end content there) the error passes at unit gain. */
  activeBins = 0
  /** Hops left in the near-talker state (the suppressor backs off). */
  nearHangover = 0
  private micSmoothed = 0
  private predictedSmoothed = 0
  /** Gain floor for the last strength (cached: a pow per hop is not free). */
  private floorStrength = -1
  private floorGain = 1
  private mix = 1

  constructor(hop: number) {
    this.hop = hop
    const K = hop + 1
    this.bins = K
    const n = 2 * hop
    this.fft = new RealFft(n)
    this.errorFrameAt = n
    this.echoFrameAt = n + hop
    this.overlapAt = n + 2 * hop
    const binsAt = n + 3 * hop
    this.tailAt = binsAt
    this.smoothedErrorAt = binsAt + K
    this.noiseAt = binsAt + 2 * K
    this.binMicAt = binsAt + 3 * K
    this.binPredictedAt = binsAt + 4 * K
    this.gainsAt = binsAt + 5 * K
    this.crossReAt = binsAt + 6 * K
    this.crossImAt = binsAt + 7 * K
    this.echoAverageAt = binsAt + 8 * K
    this.micAverageAt = binsAt + 9 * K
    this.coherenceAt = binsAt + 10 * K
    this.errorMeanAt = binsAt + 11 * K
    this.echoMeanAt = binsAt + 12 * K
    this.blockErrorPowerAt = binsAt + 13 * K
    this.blockEchoPowerAt = binsAt + 14 * K
    const state = new Float32Array(binsAt + 15 * K)
    this.state = state
    this.taper = state.subarray(0, n)
    for (let i = 0; i < n; i++) this.taper[i] = Math.sin((Math.PI * i) / n) // √(periodic Hann): w² sums to 1
    this.errorFrame = state.subarray(this.errorFrameAt, this.errorFrameAt + hop)
    this.echoFrame = state.subarray(this.echoFrameAt, this.echoFrameAt + hop)
    this.overlap = state.subarray(this.overlapAt, this.overlapAt + hop)
    this.tail = state.subarray(this.tailAt, this.tailAt + K)
    this.blockErrorPower = state.subarray(this.blockErrorPowerAt, this.blockErrorPowerAt + K)
    this.blockEchoPower = state.subarray(this.blockEchoPowerAt, this.blockEchoPowerAt + K)
    this.blockPowers = state.subarray(this.blockErrorPowerAt, this.blockEchoPowerAt + K)
    // Scratch within one hop (analyze() to synthesize()), in the thread's shared scratch over the MdfFilter's, which
    // is free from the end of filter() to the gradient that follows the suppressor's hops: frames, spectra, then the
    // per-hop powers and residual (written for the active bins before they are read), within the MdfFilter's part.
    this.errorSpectrumAt = 2 * n
    this.echoSpectrumAt = 3 * n + 2
    this.outputSpectrumAt = 4 * n + 4
    this.errorPowerAt = 5 * n + 6
    this.echoPowerAt = 5 * n + 6 + K
    this.residualAt = 5 * n + 6 + 2 * K
    this.work = sharedScratch(0, 5 * n + 6 + 3 * K)
    this.scratch = this.work.subarray(0, n)
    this.scratchEcho = this.work.subarray(n, 2 * n)
    this.activeBins = K
    this.reset(true)
  }

  get stateBytes(): number {
    return this.state.byteLength + this.work.byteLength + this.fft.stateBytes
  }

  reset(enabled: boolean): void {
    const S = this.state
    const K = this.bins
    S.fill(0, this.errorFrameAt, this.overlapAt + this.hop) // the frames and the overlap
    S.fill(0, this.tailAt, this.tailAt + K)
    S.fill(0, this.smoothedErrorAt, this.smoothedErrorAt + K)
    S.fill(1, this.noiseAt, this.noiseAt + K)
    S.fill(0, this.binMicAt, this.binMicAt + K)
    S.fill(0, this.binPredictedAt, this.binPredictedAt + K)
    this.nearHangover = 0
    this.micSmoothed = this.predictedSmoothed = 0
    S.fill(1, this.gainsAt, this.gainsAt + K)
    S.fill(0, this.crossReAt, this.coherenceAt + K) // cross re/im, echo and mic averages, coherence
    this.explained = 0
    this.transparency = 0
    this.mix = enabled ? 1 : 0
    this.residualEnergy = 0
  }

  /** Suppresses bins [0, count) only; above, unit gain (a cold path). */
  setActiveBins(count: number): void {
    this.activeBins = Math.max(1, Math.min(this.bins, count))
    this.state.fill(1, this.gainsAt + this.activeBins, this.gainsAt + this.bins)
  }

  /** A new block of two hops: clears the block sums. */
  startBlock(): void {
    this.blockErrorPower.fill(0)
    this.blockEchoPower.fill(0)
    this.blockCrossEnergy = 0
  }

  /** No echo to suppress: every gain is 1 and no tail is left (passThrough() is then exact). */
  isIdle(): boolean {
    const K = this.bins
    const S = this.state
    const g = this.gainsAt
    const t = this.tailAt
    for (let k = 0; k < K; k++) if (S[g + k]! !== 1 || S[t + k]! !== 0) return false
    return true
  }

  /**
   * The hop at unit gain without transforms: the sqrt-Hann analysis and synthesis windows multiply to a Hann that sums
   * to 1 at hop H, so the output is the previous hop's e and the overlap keeps this hop's share. e, ŷ and the output
   * are H samples at eAt, yAt and outAt of blocks (the caller's block buffers, one view).
   */
  passThrough(blocks: Float64Array, eAt: number, yAt: number, outAt: number): void {
    const H = this.hop
    const S = this.state // the taper at 0
    const ef = this.errorFrameAt
    const yf = this.echoFrameAt
    const ov = this.overlapAt
    for (let i = 0; i < H; i++) {
      blocks[outAt + i] = S[ov + i]! + S[ef + i]! * S[i]! * S[i]!
      const v = blocks[eAt + i]!
      S[ov + i] = v * S[H + i]! * S[H + i]!
      S[ef + i] = v
      S[yf + i] = blocks[yAt + i]!
    }
    if (this.nearHangover > 0) this.nearHangover--
    this.residualEnergy = 0
  }

  /**
   * One hop of e and ŷ (H samples at eAt and yAt of blocks) and of the mic (near[at …]): shifts them into the
   * frames, computes spectra, powers and the hop's
   * energies (near: the mic, for the metrics), adds the powers to the block sums and, when leakAverage > 0, runs the
   * leak regression's per-bin part with that averaging rate.
   */
  analyze(blocks: Float64Array, eAt: number, yAt: number, near: Float32Array, at: number): void {
    const leakAverage = this.leakAverage
    const H = this.hop
    const K = this.activeBins
    // Frame = [previous hop, this hop]; the previous hop's samples are kept in the first half of the frame buffers.
    const S = this.state // the taper at 0
    const ef = this.errorFrameAt
    const yf = this.echoFrameAt
    const X = this.work // the windowed frames at 0 and 2H
    const n = 2 * H
    let hopError = 0
    let hopEcho = 0
    let hopNear = 0
    let cross = this.blockCrossEnergy
    for (let i = 0; i < H; i++) {
      const wa = S[i]!
      const wb = S[H + i]!
      X[i] = S[ef + i]! * wa
      X[n + i] = S[yf + i]! * wa
      const ev = blocks[eAt + i]!
      const yv = blocks[yAt + i]!
      const d = near[at + i]!
      X[H + i] = ev * wb
      X[n + H + i] = yv * wb
      S[ef + i] = ev
      S[yf + i] = yv
      hopError += ev * ev
      hopEcho += yv * yv
      cross += ev * yv
      hopNear += d * d
    }
    this.hopErrorEnergy = hopError
    this.hopEchoEnergy = hopEcho
    this.hopNearEnergy = hopNear
    this.blockCrossEnergy = cross
    const ea = this.errorSpectrumAt
    const ya = this.echoSpectrumAt
    this.fft.forward(this.scratch, X, ea)
    // Far digital silence over the filter window and the frame: the transform of zeros is zeros (15 % of a call's
    // blocks while the suppressor still works on the tail).
    if (this.echoIsZero) X.fill(0, ya, ya + 2 * this.bins)
    else this.fft.forward(this.scratchEcho, X, ya)
    const ep0 = this.errorPowerAt
    const yp0 = this.echoPowerAt
    const be = this.blockErrorPowerAt
    const by = this.blockEchoPowerAt
    if (leakAverage > 0) {
      const em = this.errorMeanAt
      const ym = this.echoMeanAt
      const keep = 1 - leakAverage
      const tiny = TINY
      let pey = 0
      let pyy = 0
      for (let k = 0; k < K; k++) {
        const i = 2 * k
        const ep = X[ea + i]! * X[ea + i]! + X[ea + i + 1]! * X[ea + i + 1]!
        const yp = X[ya + i]! * X[ya + i]! + X[ya + i + 1]! * X[ya + i + 1]!
        X[ep0 + k] = ep
        X[yp0 + k] = yp
        S[be + k] = S[be + k]! + ep
        S[by + k] = S[by + k]! + yp
        const eMean = S[em + k]!
        const yMean = S[ym + k]!
        const eh = ep - eMean
        const yh = yp - yMean
        pey += eh * yh
        pyy += yh * yh
        const errorMean = keep * eMean + leakAverage * ep
        const echoMean = keep * yMean + leakAverage * yp
        S[em + k] = errorMean > tiny ? errorMean : 0
        S[ym + k] = echoMean > tiny ? echoMean : 0
      }
      this.leakCross = pey
      this.leakEcho = pyy
      return
    }
    for (let k = 0; k < K; k++) {
      const i = 2 * k
      const ep = X[ea + i]! * X[ea + i]! + X[ea + i + 1]! * X[ea + i + 1]!
      const yp = X[ya + i]! * X[ya + i]! + X[ya + i + 1]! * X[ya + i + 1]!
      X[ep0 + k] = ep
      X[yp0 + k] = yp
      S[be + k] = S[be + k]! + ep
      S[by + k] = S[by + k]! + yp
    }
  }

  /**
   * Echo coherence of the analyzed hop: S_ŷd = ⟨Ŷ*·D⟩, S_ŷŷ, S_dd (D = E + Ŷ, the mic), γ²(k) and the share of the
   * mic power Ŷ explains, Σ|S_ŷd|²/S_ŷŷ / ΣS_dd (AEC2's coherence, on the echo estimate rather than the far end: the
   * filter has aligned it and spans the room). ~20 flops per bin.
   */
  private updateCoherence(): void {
    const K = this.activeBins
    const X = this.work
    const S = this.state
    const E = this.errorSpectrumAt
    const Y = this.echoSpectrumAt
    const yp = this.echoPowerAt
    const cr = this.crossReAt
    const ci = this.crossImAt
    const ya = this.echoAverageAt
    const ma = this.micAverageAt
    const co = this.coherenceAt
    const add = COHERENCE_AVERAGE
    const keep = 1 - COHERENCE_AVERAGE
    const last = this.bins - 1
    let explained = 0
    let total = 0
    for (let k = 0; k < K; k++) {
      const i = 2 * k
      const yr = X[Y + i]!
      const yi = X[Y + i + 1]!
      const dr = X[E + i]! + yr
      const di = X[E + i + 1]! + yi
      const sr = keep * S[cr + k]! + add * (yr * dr + yi * di)
      const si = keep * S[ci + k]! + add * (yr * di - yi * dr)
      const sy = keep * S[ya + k]! + add * X[yp + k]! + 1e-30 // (the offsets keep denormals out)
      const sd = keep * S[ma + k]! + add * (dr * dr + di * di) + 1e-30
      S[cr + k] = sr
      S[ci + k] = si
      S[ya + k] = sy
      S[ma + k] = sd
      const projected = (sr * sr + si * si) / sy // |S_ŷd|²/S_ŷŷ: the mic power Ŷ explains
      S[co + k] = projected / sd
      const weight = k === 0 || k === last ? 1 : 2
      explained += weight * projected
      total += weight * sd
    }
    this.explained = explained / total
  }

  /**
   * Gains for the analyzed hop and H output samples to blocks[outAt …]. The fields leak2 (scales |Ŷ|² into the residual
   * echo) and strength (0–1: β and the floor) are set by the caller; enabled ramps the suppression in or out.
   */
  synthesize(enabled: boolean, echoDominant: boolean, converged: boolean, blocks: Float64Array, outAt: number): void {
    const H = this.hop
    const K = this.activeBins
    const n = 2 * H
    const leak2 = this.leak2
    const strength = this.strength
    // The spectra, powers and residual in the work view, the per-bin state in the state array, by region offsets.
    const X = this.work
    const S = this.state
    const E = this.errorSpectrumAt
    const Y = this.echoSpectrumAt
    const Z = this.outputSpectrumAt
    const errorPower = this.errorPowerAt
    const echoPower = this.echoPowerAt
    const tail = this.tailAt
    const residual = this.residualAt
    const smoothedError = this.smoothedErrorAt
    const noise = this.noiseAt
    const gains = this.gainsAt
    // Residual echo per bin; noise floor per bin (minimum of the smoothed error power, rising ~3 dB/s); mic and
    // predicted mic (echo estimate + residual + noise) powers.
    let micSum = 0
    let predictedSum = 0
    let residualSum = 0
    let nearBins = 0
    const binMicPower = this.binMicAt
    const binPredictedPower = this.binPredictedAt
    const tiny = TINY
    const noiseRise = NOISE_RISE
    const binRatioLimit = BIN_RATIO
    const last = this.bins - 1 // Nyquist (counted once)
    if (this.coherenceDue) this.updateCoherence()
    for (let k = 0; k < K; k++) {
      const i = 2 * k
      const yp = X[echoPower + k]!
      const r = leak2 * yp + S[tail + k]!
      X[residual + k] = r
      // Digital silence (a packet call's start while the jitter buffer fills, a concealed loss faded out: a bin power
      // under SILENT_BIN_POWER, ~−130 dBFS, below any 16-bit or G.711 signal) says nothing about the mic's noise: the
      // smoothed error holds, and the floor does not learn from it. Learnt from the error decaying into silence, the
      // floor fell to ~1e-16 and rises 3 dB/s: the suppressor then took the mic's own noise in far pauses for a near
      // talker (and let the next echo onset through) for the rest of the call.
      const errorPowerK = X[errorPower + k]!
      const silentBin = errorPowerK < SILENT_BIN_POWER
      let smoothed = S[smoothedError + k]!
      if (!silentBin) {
        smoothed = 0.7 * smoothed + 0.3 * errorPowerK
        if (smoothed < tiny) smoothed = 0
        S[smoothedError + k] = smoothed
      }
      const noiseK = S[noise + k]!
      const floorK = silentBin || smoothed === 0 ? noiseK : smoothed < noiseK ? smoothed : noiseK * noiseRise
      S[noise + k] = floorK
      const dr = X[E + i]! + X[Y + i]!
      const di = X[E + i + 1]! + X[Y + i + 1]!
      const weight = k === 0 || k === last ? 1 : 2
      const mic = dr * dr + di * di
      const predicted = yp + r + floorK
      micSum += weight * mic
      predictedSum += weight * predicted
      residualSum += weight * r
      // A bin where the mic exceeds everything predicted by 6 dB cannot be echo: two or three summed components
      // reach at most 3–4.8 dB over the sum of their powers.
      const binRatio = 0.5 * S[binMicPower + k]! + 0.5 * mic
      const binPredicted = 0.5 * S[binPredictedPower + k]! + 0.5 * predicted
      S[binMicPower + k] = binRatio > tiny ? binRatio : 0
      S[binPredictedPower + k] = binPredicted > tiny ? binPredicted : 0
      if (binRatio > binRatioLimit * binPredicted) nearBins++
    }
    this.residualEnergy = residualSum / n // Parseval over the windowed frame ≈ energy of one hop
    this.micSmoothed = 0.5 * this.micSmoothed + 0.5 * micSum + TINY
    this.predictedSmoothed = 0.5 * this.predictedSmoothed + 0.5 * predictedSum + TINY
    // Near talker present: the mic holds well more than the echo estimate, the residual and the noise explain, unless
    // the adapting background shows the excess is echo (an echo path change). The suppressor then backs off for
    // 100 ms: in double talk its gains would distort the near talker more than the residual echo it removes.
    if (
      (this.micSmoothed > NEAR_RATIO * this.predictedSmoothed || nearBins >= NEAR_BINS) &&
      !echoDominant &&
      converged
    ) {
      this.nearHangover = NEAR_HANGOVER_HOPS
    } else if (this.nearHangover > 0) this.nearHangover--
    const target = enabled && strength > 0 && this.nearHangover === 0 ? 1 : 0
    const rate = target < this.mix ? 0.5 : 1 / TOGGLE_RAMP_HOPS
    this.mix += (target - this.mix) * rate
    if (Math.abs(this.mix - target) < 1e-3) this.mix = target
    const mix = this.mix
    if (strength !== this.floorStrength) {
      this.floorStrength = strength
      this.floorGain = Math.pow(10, (SUPPRESSION_FLOOR_DB * strength) / 20)
    }
    const floor = this.floorGain
    const overestimate = 1 + strength // β: 1 … 2
    const nearFree = this.nearHangover === 0
    const excessLimit = EXCESS_LIMIT
    const mode = this.echoPathMode
    // The residual-echo rule below: everywhere once an echo path is found, only in coherent bins while searching.
    const coherentLimit = mode === 1 ? -1 : mode === 0 ? COHERENT_BIN : 2
    const through = mode === 2 ? 1 : 0
    this.transparency += (through - this.transparency) * (through > this.transparency ? 1 / TOGGLE_RAMP_HOPS : 0.5)
    if (Math.abs(this.transparency - through) < 1e-3) this.transparency = through
    const transparency = this.transparency
    const coherence = this.coherenceAt
    for (let k = 0; k < K; k++) {
      const i = 2 * k
      const er = X[E + i]!
      const ei = X[E + i + 1]!
      const yr = X[Y + i]!
      const yi = X[Y + i + 1]!
      const ep = X[errorPower + k]!
      const echo = X[echoPower + k]!
      let r = X[residual + k]!
      // No near talker and echo in this bin: whatever the error holds above the noise is residual echo (this also
      // covers a filter that is still converging or has lost an echo path change).
      if (nearFree && S[coherence + k]! > coherentLimit) {
        const noiseK = S[noise + k]!
        if (echo + r > noiseK) {
          const excess = ep - noiseK
          // ... unless it clearly exceeds the echo estimate itself there: a (weak) near talker's harmonic.
          if (excess > r && (!converged || excess < excessLimit * (echo + r))) r = excess
        }
      }
      let g = 1 - (overestimate * r) / (ep + 1e-20)
      if (g < floor) g = floor
      // Fast attack, slower release (~20 ms) against musical noise.
      const previous = S[gains + k]!
      if (g > previous) g = previous + 0.2 * (g - previous)
      if (g > 0.9999) g = 1
      S[gains + k] = g
      const gain = 1 - mix * (1 - g)
      // Never louder than the mic in this bin: D = E + Ŷ. No echo path: the mic passes as it is.
      const dr = er + yr
      const di = ei + yi
      let zr = gain * er
      let zi = gain * ei
      if (transparency !== 0) {
        zr += transparency * (dr - zr)
        zi += transparency * (di - zi)
      }
      const zp = zr * zr + zi * zi
      const dp = dr * dr + di * di
      if (zp > dp) {
        const c = Math.sqrt(dp / zp)
        zr *= c
        zi *= c
      }
      X[Z + i] = zr
      X[Z + i + 1] = zi
    }
    // Above the near band: unit gain, never louder than the mic (as in the band: the mic is empty there).
    for (let i = 2 * K; i < 2 * this.bins; i += 2) {
      let zr = X[E + i]!
      let zi = X[E + i + 1]!
      const dr = zr + X[Y + i]!
      const di = zi + X[Y + i + 1]!
      const zp = zr * zr + zi * zi
      const dp = dr * dr + di * di
      if (zp > dp) {
        const c = Math.sqrt(dp / zp)
        zr *= c
        zi *= c
      }
      X[Z + i] = zr
      X[Z + i + 1] = zi
    }
    // The output frame into the work view's first 2H (the error frame's place), the taper at 0 of the state.
    this.fft.inverse(X, this.scratch, Z)
    const ov = this.overlapAt
    for (let i = 0; i < H; i++) {
      blocks[outAt + i] = S[ov + i]! + X[i]! * S[i]!
      S[ov + i] = X[H + i]! * S[H + i]!
    }
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
    frameMicPower: 0,
    frameErrorPower: 0,
    bulkDelayMs: 0,
    compensatedDelayMs: 0,
    delayConfidence: 0,
    delayStable: false,
    nonCausal: false,
    driftPpm: 0,
    doubleTalk: false,
    state: 'idle',
    echoPath: 'searching',
    echoCoherence: 0,
    resets: 0,
    untouched: true,
  }
  private config: EchoCancellerConfig
  // Sizes fixed by sampleRateHz/frameSamples (reallocated by configure).
  private blockSamples = 0
  private bins = 0
  private prefillSamples = 0
  private fft!: RealFft
  private estimator!: DelayEstimator
  private suppressor!: ResidualSuppressor
  private mdf: MdfFilter | null = null
  private nlms: NlmsFilter | null = null

  /** Far history ring (the far end as 16-bit PCM, every sample), power-of-two length. */
  private farRing = new Int16Array(0)
  private farMask = 0
  /** Samples consumed so far (near and far advance together). */
  private sampleCount = 0
  /** Near samples of the block being filled, and its fill. */
  private nearBlock!: Float32Array // the sanitised mic: Float32 values, held exactly
  private blockFill = 0
  /** Aligned far block, and for NLMS / history rebuilds a window of taps − 1 + B (or (M+1)·B). */
  private farBlock!: Float64Array
  private farWindow = new Float64Array(0)
  /**
   * The block buffers below as one view (the loops check one array): the aligned far block at 0, then B each: the
   * output path's (foreground's) echo estimate and error, the background's, and the suppressor's output.
   */
  private blocks!: Float64Array
  /** Output-path echo estimate and error (foreground), and the background's, of the current block. */
  private echoBlock!: Float64Array
  private errorBlock!: Float64Array
  private backgroundEcho!: Float64Array
  private backgroundError!: Float64Array
  /** Raised-cosine crossfade over a block, 0 → 1 (the foreground taking the background's weights). */
  private crossfade!: Float32Array
  /** Valin's step per MDF bin, normalized by the far power. */
  private step!: Float32Array
  /** Tail (reverberation beyond the filter) per MDF bin, and the last partition's output power of the last block. */
  private tail!: Float32Array
  private lastPartitionPower!: Float32Array
  /** Both, as one array (tail at 0, the last partition's power at bins): what updateTail()'s loop reads. */
  private tailState!: Float32Array
  /** Time-domain taps scratch for shifts and hand-overs. */
  private tapScratch = new Float32Array(0)
  /** Suppressor output of the current block. */
  private outputBlock!: Float64Array
  /** Output FIFO ring. */
  private outRing!: Float32Array
  private outMask = 0
  private outRead = 0
  private outWrite = 0
  /** Delay applied to the far reference (filter window start), samples. */
  private appliedDelay = 0

  // Step control (Valin / speexdsp): leak regression sums, adaptation progress.
  private pey = 1
  private pyy = 1
  private leak = 1
  private adapted = false
  private sumAdapt = 0
  // Two-path comparison: short and long averages of the error energy difference, and their variances.
  private differenceShort = 0
  private differenceLong = 0
  private varianceShort = 0
  private varianceLong = 0
  /** Per-block smoothing of those averages: speexdsp's 0.6 and 0.85 per 20 ms frame. */
  private pathSmoothingShort = 0.6
  private pathSmoothingLong = 0.85
  /** Tail decay per block (power), smoothed. */
  private tailDecay = 0.6
  /** The tail and the last partition's power are 0 in every bin. */
  private tailIsZero = false
  private divergentBlocks = 0
  private trusted = false
  private echoDominantBlocks = 0
  /** Echo path decision (metrics.echoPath) and the far-active blocks since the last coherent echo estimate. */
  private echoPath: EchoPath = 'searching'
  private noEchoBlocks = 0
  /** Echo coherence (the suppressor's explained share) averaged over far-active hops. */
  private echoCoherence = 0
  private hopCount = 0

  // This block's energies for comparePaths() and computeStep() (fields, not arguments: V8 boxes double arguments):
  // foreground error, background error (then: the one to adapt with), their difference, far, echo estimate, e·ŷ.
  private blockError = 0
  private blockBackgroundError = 0
  private blockDifference = 0
  private blockFar = 0
  private blockEcho = 0
  private blockCross = 0

  // Per-call accumulators and frame statistics.
  private frameMic = 0
  private frameOut = 0
  private frameError = 0
  private frameFar = 0
  private frameResidual = 0
  private frameBlocks = 0
  /** Blocks of this frame whose suppressor applied gains (metrics.untouched). */
  private frameTouchedBlocks = 0
  /** Mic energy of the last hop (the output lags the suppressor's input by one hop). */
  private previousMicEnergy = 0
  private noiseFloor = 1
  private smoothedMic = 0
  private smoothedOut = 0
  private smoothedError = 0
  private smoothedFar = 0
  private farSilentFrames = 1e9
  private doubleTalkHangover = 0
  /** Histogram bin of each ERLE in the window (ERLE_HISTOGRAM_BINS ≤ 256), to take it out when it leaves. */
  private readonly erleHistory = new Uint8Array(ERLE_WINDOW)
  /** The last far single-talk frame's ERLE, dB (recordErle's input). */
  private erleSampleDb = 0
  private readonly erleHistogram = new Uint16Array(ERLE_HISTOGRAM_BINS)
  private erleCount = 0
  private erleNext = 0

  constructor(config: Partial<EchoCancellerConfig> = {}) {
    this.config = { ...DEFAULTS, ...config }
    validate(this.config)
    this.allocate()
  }

  /** Algorithmic delay added to the near signal, samples: the STFT hop plus the block FIFO's worst fill. */
  get delaySamples(): number {
    return this.prefillSamples + this.suppressor.hop
  }

  /** Internal block length, samples. */
  get blockLength(): number {
    return this.blockSamples
  }

  /** Filter taps in use (the MDF rounds filterLength up to whole partitions). */
  get filterTaps(): number {
    return this.mdf ? this.mdf.taps : this.nlms ? this.nlms.taps : 0
  }

  /** Bytes of DSP state held in typed arrays (FFT tables included). */
  get stateBytes(): number {
    const arrays = [
      this.farRing,
      this.nearBlock,
      this.farBlock,
      this.farWindow,
      this.echoBlock,
      this.errorBlock,
      this.backgroundEcho,
      this.backgroundError,
      this.crossfade,
      this.step,
      this.tail,
      this.lastPartitionPower,
      this.tapScratch,
      this.outputBlock,
      this.outRing,
      this.erleHistory,
      this.erleHistogram,
    ]
    let bytes = 0
    for (const a of arrays) bytes += a.byteLength
    bytes += this.fft.stateBytes
    bytes += this.estimator.stateBytes + this.suppressor.stateBytes
    if (this.mdf) bytes += this.mdf.stateBytes
    if (this.nlms) bytes += this.nlms.stateBytes
    return bytes
  }

  get currentConfig(): Readonly<EchoCancellerConfig> {
    return this.config
  }

  private allocate(): void {
    const { sampleRateHz, frameSamples, maxBulkDelayMs } = this.config
    const B = 1 << Math.floor(Math.log2((sampleRateHz * BLOCK_MS) / 1000))
    this.blockSamples = B
    this.bins = B + 1
    this.prefillSamples = B - gcd(frameSamples, B)
    const blockMs = (1000 * B) / sampleRateHz
    this.pathSmoothingShort = Math.pow(0.6, blockMs / 20)
    this.pathSmoothingLong = Math.pow(0.85, blockMs / 20)
    this.fft = new RealFft(2 * B)
    this.estimator = new DelayEstimator({ sampleRateHz, maxDelayMs: maxBulkDelayMs }, this.fft) // shares the transform
    this.suppressor = new ResidualSuppressor(B / 2)
    this.nearBlock = new Float32Array(B)
    // Blocks that live within one processBlock(), in the thread's shared scratch after the MDF's (scratch.ts).
    const at = mdfScratchDoubles(B)
    this.blocks = sharedScratch(at, 6 * B)
    this.farBlock = this.blocks.subarray(0, B)
    this.echoBlock = this.blocks.subarray(B, 2 * B)
    this.errorBlock = this.blocks.subarray(2 * B, 3 * B)
    this.backgroundEcho = this.blocks.subarray(3 * B, 4 * B)
    this.backgroundError = this.blocks.subarray(4 * B, 5 * B)
    this.outputBlock = this.blocks.subarray(5 * B, 6 * B)
    this.crossfade = new Float32Array(B)
    for (let i = 0; i < B; i++) this.crossfade[i] = 0.5 - 0.5 * Math.cos((Math.PI * (i + 0.5)) / B)
    this.step = new Float32Array(this.bins)
    this.tailState = new Float32Array(2 * this.bins)
    this.tail = this.tailState.subarray(0, this.bins)
    this.lastPartitionPower = this.tailState.subarray(this.bins, 2 * this.bins)
    this.tapScratch = new Float32Array(0)
    this.farRing = new Int16Array(0)
    this.sampleCount = 0
    this.ensureCapacity(this.config.filterLength)
    // The FIFO holds at most a frame plus a block (the blocks a call completes before its read; measured for 2.5–100 ms
    // frames at 8–48 kHz): half a block of margin.
    let out = 1
    while (out < frameSamples + B + B / 2) out <<= 1
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
    // Used only before a block's buffers are written (moveDelay, history loads) or between calls (configure, the UI's
    // response): a Float32 view over the blocks' part of the shared scratch, past the MDF's scratch it works with.
    if (this.tapScratch.length < needTaps) this.tapScratch = sharedScratch32(mdfScratchDoubles(B), needTaps)
    const maxDelay = Math.ceil((this.config.maxBulkDelayMs * this.config.sampleRateHz) / 1000)
    let size = 1
    while (size < maxDelay + needTaps + 2 * B) size <<= 1
    if (size <= this.farRing.length) return
    const ring = new Int16Array(size)
    const old = this.farRing
    if (old.length > 0) {
      for (let n = Math.max(0, this.sampleCount - old.length); n < this.sampleCount; n++) {
        ring[n & (size - 1)] = old[n & this.farMask]!
      }
    }
    this.farRing = ring
    this.farMask = size - 1
  }

  /** Creates the configured engine, handing over `taps` (time domain, `count` of them) if given. */
  private allocateEngine(taps: { values: Float32Array; count: number } | null): void {
    const B = this.blockSamples
    const L = this.config.filterLength
    if (this.config.engine === 'mdf') {
      const M = Math.ceil(L / B)
      if (!this.mdf || this.mdf.partitions !== M) this.mdf = new MdfFilter(B, M, this.fft)
      this.nlms = null
      this.farWindow = new Float64Array(0) // history rebuilds use tapScratch
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
    this.applyNearBand()
  }

  /** Limits the filter's and the suppressor's bins to the near end's band (nearBandwidthHz; the NLMS: full band). */
  private applyNearBand(): void {
    const { nearBandwidthHz, sampleRateHz } = this.config
    const K = this.bins
    const active = this.mdf ? bandBins(nearBandwidthHz, 2 * (K - 1), sampleRateHz) : K
    this.mdf?.setActiveBins(active)
    this.tail.fill(0, active)
    this.lastPartitionPower.fill(0, active)
    this.tailIsZero = false
    // Suppressor bin k ↔ MDF bin 2k.
    this.suppressor.setActiveBins(((active - 1) >> 1) + 1)
  }

  private resetState(): void {
    this.farRing.fill(0)
    this.sampleCount = 0
    this.nearBlock.fill(0)
    this.blockFill = 0
    this.appliedDelay = 0
    this.estimator.reset()
    this.suppressor.reset(this.config.postFilter)
    this.mdf?.reset()
    this.nlms?.reset()
    this.tail.fill(0)
    this.lastPartitionPower.fill(0)
    this.tailIsZero = false
    this.outRing.fill(0)
    this.outRead = 0
    this.outWrite = this.prefillSamples
    this.resetAdaptation()
    this.echoPath = 'searching'
    this.echoCoherence = 0
    this.tailDecay = 0.6
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
    m.frameMicPower = m.frameErrorPower = 0
    m.bulkDelayMs = m.compensatedDelayMs = m.delayConfidence = m.driftPpm = 0
    m.delayStable = m.nonCausal = m.doubleTalk = false
    m.state = 'idle'
  }

  /** Step control and two-path statistics back to their start (after a filter reset). */
  private resetAdaptation(): void {
    this.pey = this.pyy = 1e-12
    this.leak = 1
    this.adapted = false
    this.sumAdapt = 0
    this.divergentBlocks = 0
    this.differenceShort = this.differenceLong = this.varianceShort = this.varianceLong = 0
    this.trusted = false
    this.echoDominantBlocks = 0
    this.noEchoBlocks = 0
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
    if (next.nearBandwidthHz !== previous.nearBandwidthHz) this.applyNearBand()
  }

  /**
   * Cancels the echo of `far` in `near` into `out` (may alias near). far is the reference frame played while this
   * near frame was captured; the canceller keeps its own far history for the bulk delay. Lengths: frameSamples (any
   * length works; the output then lags by delaySamples). Never throws, allocates nothing.
   */
  process(near: Float32Array, far: Float32Array, out: Float32Array): void {
    const length = Math.min(near.length, far.length, out.length)
    const B = this.blockSamples
    this.frameMic = this.frameOut = this.frameError = this.frameFar = this.frameResidual = 0
    this.frameBlocks = 0
    this.frameTouchedBlocks = 0
    if (this.config.delayEstimation) this.estimator.push(near, far, length)
    const ring = this.farRing
    const mask = this.farMask
    const nearBlock = this.nearBlock
    let i = 0
    while (i < length) {
      // Up to the end of the current block; near and far advance together.
      const chunkEnd = i + Math.min(length - i, B - this.blockFill)
      let count = this.sampleCount
      let fill = this.blockFill
      for (; i < chunkEnd; i++) {
        let f = far[i]!
        let n = near[i]!
        // As units.sanitize: NaN and ±Infinity → 0, clamp the rest to [-1, 1].
        if (!(f >= -1 && f <= 1)) f = f > 1 && f !== Infinity ? 1 : f < -1 && f !== -Infinity ? -1 : 0
        if (!(n >= -1 && n <= 1)) n = n > 1 && n !== Infinity ? 1 : n < -1 && n !== -Infinity ? -1 : 0
        // 16-bit PCM, as the far end is played: the nearest 1/32768 (Math.round: ⌊q + ½⌋, by truncation of the
        // positive q + 32768.5), at most 32767.
        const q = ((f * FAR_SCALE + 32768.5) | 0) - 32768
        ring[count & mask] = q < 32767 ? q : 32767
        count++
        nearBlock[fill++] = n
      }
      this.sampleCount = count
      this.blockFill = fill
      if (fill === B) {
        this.processBlock()
        this.blockFill = 0
      }
    }
    // Output FIFO: always `length` samples, delaySamples behind the input.
    const outRing = this.outRing
    const outMask = this.outMask
    const outWrite = this.outWrite
    let outRead = this.outRead
    const ready = Math.max(0, Math.min(length, outWrite - outRead))
    for (let i = 0; i < ready; i++) out[i] = outRing[outRead++ & outMask]!
    for (let i = ready; i < length; i++) out[i] = 0
    this.outRead = outRead
    this.updateFrameMetrics()
  }

  /** Copies aligned far samples for near times [start, start + count) into dest[at …]. */
  private readAligned(start: number, count: number, dest: Float64Array, at: number): void {
    const ring = this.farRing
    const mask = this.farMask
    const first = start - this.appliedDelay
    const end = this.sampleCount
    const oldest = Math.max(0, end - ring.length)
    if (first >= oldest && first + count <= end) {
      for (let i = 0; i < count; i++) dest[at + i] = ring[(first + i) & mask]! * FAR_UNIT
      return
    }
    for (let i = 0; i < count; i++) {
      const index = first + i
      dest[at + i] = index >= oldest && index < end ? ring[index & mask]! * FAR_UNIT : 0
    }
  }

  private loadMdfHistory(): void {
    if (!this.mdf) return
    const B = this.blockSamples
    const blockStart = this.sampleCount - this.blockFill // the next block to be filtered starts here
    const length = (this.mdf.partitions + 1) * B
    // Aligned far samples [blockStart − length, blockStart) (0 before the ring's oldest), as readAligned() reads them.
    const ring = this.farRing
    const mask = this.farMask
    const first = blockStart - length - this.appliedDelay
    const end = this.sampleCount
    const oldest = Math.max(0, end - ring.length)
    const t = this.tapScratch
    for (let i = 0; i < length; i++) {
      const index = first + i
      t[i] = index >= oldest && index < end ? ring[index & mask]! * FAR_UNIT : 0
    }
    this.mdf.loadHistory(t)
  }

  /**
   * The echo path moved by a known `samples` (+ later), e.g. a jitter buffer before the canceller inserted or dropped a
   * frame: the filter window moves with it and the taps stay, so a converged filter goes on cancelling at once
   * instead of re-learning a path that only moved (the delay estimator would need ~1.5 s to see it, and the filter
   * then re-converges). Beyond the window's range (0 … maxBulkDelayMs, or 0 without delay estimation) the taps move
   * by the rest; a move past the search range (maxBulkDelayMs) is ignored. The delay estimator's estimate and drift
   * history move too. Call it between frames, before the frame the move reaches; a cold path (one transform per
   * partition).
   */
  shiftEchoPath(samples: number): void {
    const shift = Math.round(samples)
    const rate = this.config.sampleRateHz
    const range = Math.round((this.config.maxBulkDelayMs * rate) / 1000)
    // A move past the whole search range leaves nothing to carry over: the estimator finds the path afresh.
    if (!(shift !== 0 && Math.abs(shift) <= range)) return
    if (this.config.delayEstimation) this.estimator.shift(shift)
    const maxDelay = this.config.delayEstimation ? range : 0
    const moved = this.appliedDelay + shift
    const target = Math.max(0, Math.min(maxDelay, moved))
    this.appliedDelay = moved // the window follows the path: the taps stay ...
    if (target !== moved)
      this.moveDelay(target) // ... past the window's range, they move by the rest
    else this.loadMdfHistory() // the far spectra at the new alignment (the NLMS reads the ring per block)
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
    this.lastPartitionPower.fill(0)
    this.tailIsZero = false
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

  /** The linear filter has converged (its echo estimate can be trusted to tell a near talker from echo). */
  private filterConverged(): boolean {
    return this.smoothedMic > 0 && this.metrics.linearErleDb >= 6 && (this.adapted || !this.mdf)
  }

  /**
   * Resets the filter after a runaway (non-finite state or sustained divergence). With no echo path the output does
   * not use the filter: one that adds energy has fitted the near talker and is cleared without counting as a reset.
   */
  private resetFilter(): void {
    if (this.echoPath !== 'none') this.metrics.resets++
    this.mdf?.reset()
    this.nlms?.reset()
    if (this.mdf) this.loadMdfHistory()
    this.resetAdaptation()
  }

  private processBlock(): void {
    const B = this.blockSamples
    const blockStart = this.sampleCount - B
    this.followDelay()
    const near = this.nearBlock
    const y = this.echoBlock
    const e = this.errorBlock
    const yb = this.backgroundEcho
    const eb = this.backgroundError
    let sdd = 0
    let sff = 0
    let see = 0
    let syy = 0
    let sxx = 0
    let dbf = 0
    let saturated = false
    const mdf = this.mdf
    if (mdf) {
      this.readAligned(blockStart, B, this.farBlock, 0)
      mdf.filter(this.blocks, near)
      sdd = mdf.nearEnergy
      sff = mdf.errorEnergy
      see = mdf.backgroundErrorEnergy
      syy = mdf.backgroundEchoEnergy
      sxx = mdf.farEnergy
      dbf = mdf.differenceEnergy
      saturated = mdf.saturated
    } else if (this.nlms) {
      const L = this.nlms.taps
      this.readAligned(blockStart - (L - 1), L - 1 + B, this.farWindow, 0)
      for (let i = 0; i < B; i++) this.farBlock[i] = this.farWindow[L - 1 + i]!
      this.nlms.filter(this.farWindow, near, y, e, B)
      yb.set(y)
      eb.set(e)
      // Block energies: mic, foreground error (the output path), background error and echo, far.
      const farBlock = this.farBlock
      for (let i = 0; i < B; i++) {
        const d = near[i]!
        const ef = e[i]!
        const ebi = eb[i]!
        const ybi = yb[i]!
        const x = farBlock[i]!
        sdd += d * d
        sff += ef * ef
        see += ebi * ebi
        syy += ybi * ybi
        sxx += x * x
        const difference = ef - ebi
        dbf += difference * difference
        if (d >= 0.999 || d <= -0.999) saturated = true
      }
    }
    // Runaway guards (speexdsp's "slapped (reset)"): non-finite state, or a filter that adds lots of energy.
    if (!(sff < 1e6 && see < 1e6 && syy < 1e6)) {
      this.resetFilter()
      for (let i = 0; i < B; i++) {
        y[i] = yb[i] = 0
        e[i] = eb[i] = near[i]!
      }
      sff = see = sdd
      syy = dbf = 0
    } else if (sff > 4 * sdd + 1e-6 * B) this.divergentBlocks++
    else if (sff < sdd) this.divergentBlocks = 0

    if (this.mdf) {
      this.blockError = sff
      this.blockBackgroundError = see
      this.blockDifference = dbf
      this.comparePaths()
      see = this.blockBackgroundError
    }

    // The adapting background explains much of the output error: it is echo (an echo path change), not a talker.
    const echoDominant = this.mdf !== null && see < 0.5 * sff
    // Trust in the echo estimate (to tell a near talker from echo): from the first convergence until a reset or a
    // sustained better background (an echo path change). Double talk does not end it: the background then does worse.
    this.echoDominantBlocks = echoDominant ? this.echoDominantBlocks + 1 : 0
    if (this.echoDominantBlocks >= 3 || !this.filterConverged()) this.trusted = false
    else if (!this.trusted && this.filterConverged()) this.trusted = true
    this.updateEchoPath(sxx > FAR_SILENT_POWER * B && !saturated)
    // Suppressor on the output path (foreground): two hops of B/2; the leak regression runs on its spectra.
    const suppressor = this.suppressor
    const H = suppressor.hop
    const strength = this.config.postFilterStrength
    const postFilter = this.config.postFilter
    // Valin's leak averaging per hop: 1 s means.
    const leakAverage = H / this.config.sampleRateHz
    suppressor.startBlock()
    let syf = 0
    // Far end silent over the whole window and nothing left to suppress: the suppressor passes the error through.
    const idle = this.mdf !== null && this.mdf.isSilent && suppressor.isIdle()
    if (!idle && postFilter && strength > 0 && this.echoPath !== 'none') this.frameTouchedBlocks++
    for (let hop = 0; hop < B; hop += H) {
      if (idle) {
        suppressor.passThrough(this.blocks, 2 * B + hop, B + hop, 5 * B + hop)
        let sd = 0
        for (let i = hop; i < hop + H; i++) sd += near[i]! * near[i]!
        this.frameMic += this.previousMicEnergy
        this.previousMicEnergy = sd
        continue
      }
      // The leak regression would read a near talker's power swings as echo leakage: hold it in double talk.
      const leakUpdate = suppressor.nearHangover === 0
      suppressor.leakAverage = leakUpdate ? leakAverage : -0 // (−0: see updateLeak's ratio)
      // (the first hop's frame holds the previous block's last hop)
      suppressor.echoIsZero = this.mdf !== null && (hop > 0 ? this.mdf.isSilent : this.mdf.wasSilent)
      suppressor.analyze(this.blocks, 2 * B + hop, B + hop, near, hop)
      const hopEcho = suppressor.hopEchoEnergy
      syf += hopEcho
      if (leakUpdate) this.updateLeak()
      suppressor.leak2 = Math.min(1, 2 * this.leak)
      // The coherence decides the echo path until the filter is trusted; then it is only reported (every 4th hop).
      this.hopCount++
      suppressor.coherenceDue = !this.trusted || (this.hopCount & 3) === 0
      suppressor.strength = strength
      suppressor.synthesize(postFilter, echoDominant, this.trusted, this.blocks, 5 * B + hop)
      if (sxx > FAR_SILENT_POWER * B) this.echoCoherence += 0.05 * (suppressor.explained - this.echoCoherence)
      this.frameResidual += suppressor.residualEnergy
      this.frameMic += this.previousMicEnergy // the hop's output is the previous hop's input
      this.previousMicEnergy = suppressor.hopNearEnergy
    }
    const seyf = suppressor.blockCrossEnergy
    let so = 0
    const outputBlock = this.outputBlock
    const outRing = this.outRing
    const outMask = this.outMask
    let outWrite = this.outWrite
    for (let i = 0; i < B; i++) {
      const v = outputBlock[i]!
      so += v * v
      outRing[outWrite++ & outMask] = v
    }
    this.outWrite = outWrite

    // Background gradient: the spectrum of [0, e_b]; Valin's step from the output path's spectra.
    if (this.mdf) {
      if (!this.mdf.isSilent) {
        // (silent: adapt() only clears the next block's partial outputs)
        const t = this.mdf.scratchTime
        t.fill(0, 0, B)
        t.set(eb, B)
        this.fft.forward(t, this.mdf.scratchSpectrum)
      }
      const adapting = !saturated && sxx > FAR_SILENT_POWER * B
      if (adapting) {
        this.blockFar = sxx
        this.blockEcho = syf
        this.blockCross = seyf
        this.computeStep()
      }
      this.mdf.adapt(this.mdf.scratchSpectrum, adapting ? this.step : null, this.adapted)
    }
    this.updateTail()

    // Sustained divergence (1 s): reset the filter.
    if (this.divergentBlocks * B > this.config.sampleRateHz) this.resetFilter()

    this.frameOut += so
    this.frameError += sff
    this.frameFar += sxx
    this.frameBlocks++
  }

  /**
   * Echo path decision, per block: found once the echo estimate explains ECHO_EXPLAINED of the mic power (coherence)
   * or the filter is trusted; none after NO_ECHO_FAR_S of far activity without either (a headset: the suppressor turns
   * transparent, the background's step is limited and the ERLE figures read 0); found again as soon as an echo
   * becomes coherent (the headset unplugged).
   */
  private updateEchoPath(farActive: boolean): void {
    // (Leaving 'none' takes ~80 ms of coherence: a lucky hop of a filter fitted to the near talker is not an echo.)
    const explained = this.echoPath === 'none' ? this.echoCoherence : this.suppressor.explained
    if (this.trusted || explained >= ECHO_EXPLAINED) {
      this.echoPath = 'found'
      this.noEchoBlocks = 0
    } else if (farActive && this.echoPath !== 'none') {
      this.noEchoBlocks++
      if (this.noEchoBlocks * this.blockSamples >= NO_ECHO_FAR_S * this.config.sampleRateHz) this.echoPath = 'none'
    }
    this.suppressor.echoPathMode = this.echoPath === 'searching' ? 0 : this.echoPath === 'found' ? 1 : 2
  }

  /**
   * Two-path decision (speexdsp's TWO_PATH logic): averages of the foreground-minus-background error energy over
   * ~20 ms and ~60 ms, against their variances (∝ Sff·Dbf). A significantly lower background error copies the
   * background into the foreground, crossfading the output's echo estimate over the block; a significantly higher
   * one (double talk disturbed it) puts the background back. Leaves in blockBackgroundError the error energy to adapt
   * with.
   */
  private comparePaths(): void {
    const mdf = this.mdf!
    const sff = this.blockError
    const see = this.blockBackgroundError
    const dbf = this.blockDifference
    const B = this.blockSamples
    const a1 = this.pathSmoothingShort
    const a2 = this.pathSmoothingLong
    const difference = sff - see
    const spread = sff * (dbf + 1e-10 * B)
    this.differenceShort = a1 * this.differenceShort + (1 - a1) * difference
    this.differenceLong = a2 * this.differenceLong + (1 - a2) * difference
    this.varianceShort = a1 * a1 * this.varianceShort + (1 - a1) * (1 - a1) * spread
    this.varianceLong = a2 * a2 * this.varianceLong + (1 - a2) * (1 - a2) * spread
    const ds = this.differenceShort
    const dl = this.differenceLong
    const y = this.echoBlock
    const e = this.errorBlock
    const yb = this.backgroundEcho
    const eb = this.backgroundError
    if (
      difference * Math.abs(difference) > 4 * spread ||
      ds * Math.abs(ds) > 2 * this.varianceShort ||
      dl * Math.abs(dl) > this.varianceLong
    ) {
      mdf.backgroundToForeground()
      this.differenceShort = this.differenceLong = this.varianceShort = this.varianceLong = 0
      // Crossfade the output's echo estimate from the old foreground to the background over the block.
      const crossfade = this.crossfade
      for (let i = 0; i < B; i++) {
        const r = crossfade[i]!
        const v = (1 - r) * y[i]! + r * yb[i]!
        e[i] = e[i]! + y[i]! - v
        y[i] = v
      }
      return
    }
    if (
      -difference * Math.abs(difference) > 4 * spread ||
      -ds * Math.abs(ds) > 4 * this.varianceShort ||
      -dl * Math.abs(dl) > 4 * this.varianceLong
    ) {
      mdf.foregroundToBackground()
      this.differenceShort = this.differenceLong = this.varianceShort = this.varianceLong = 0
      yb.set(y)
      eb.set(e)
      this.blockBackgroundError = sff
    }
  }

  /**
   * Valin's leakage η, from the output path's spectra of one hop: the regression of the error's spectral power
   * fluctuations on the echo estimate's, Pey = Σ (|E|² − Ē)(|Y|² − Ȳ), Pyy = Σ (|Y|² − Ȳ)², smoothed at a rate
   * ∝ (echo-to-error ratio)² (fast when the error is mostly echo, frozen in double talk), at most H/(2·fs) per hop
   * (~2 s).
   */
  private updateLeak(): void {
    const H = this.suppressor.hop
    const hopError = this.suppressor.hopErrorEnergy
    const hopEcho = this.suppressor.hopEchoEnergy
    let pey = this.suppressor.leakCross
    let pyy = this.suppressor.leakEcho
    pyy = Math.sqrt(pyy)
    pey = pey / (pyy + 1e-30)
    const betaMax = (0.5 * H) / this.config.sampleRateHz
    // (−0, not 0: a phi of a computed double and the integer 0 makes V8 box the double, a heap number per hop)
    const ratio = hopError > 1e-12 ? hopEcho / hopError : -0
    const alpha = Math.min(4 * betaMax * ratio * ratio, betaMax)
    this.pey = (1 - alpha) * this.pey + alpha * pey
    this.pyy = (1 - alpha) * this.pyy + alpha * pyy
    if (this.pyy < 1e-12) this.pyy = 1e-12
    if (this.pey < MIN_LEAK * this.pyy) this.pey = MIN_LEAK * this.pyy
    if (this.pey > this.pyy) this.pey = this.pyy
    this.leak = this.pey / this.pyy
  }

  /** Valin's learning rate per bin for the background, normalized by the far power (speexdsp's power_1). */
  private computeStep(): void {
    const mdf = this.mdf!
    const sxx = this.blockFar
    const see = this.blockError
    const syy = this.blockEcho
    const sey = this.blockCross
    const K = mdf.activeBins
    const step = this.step
    // The far power in the MDF's state array (at fp), the suppressor's block powers in one view.
    const X = mdf.state
    const fp = mdf.farPowerAt
    let meanPower = 0
    for (let k = 0; k < K; k++) meanPower += X[fp + k]!
    meanPower /= K
    const floor = 1e-3 * meanPower + 1e-10
    if (!this.adapted) {
      // First phase: a fixed rate, lowered when the error is louder than the far end (double talk).
      const rate = Math.min(
        STEP_INITIAL * Math.min(1, sxx / (see + 1e-12)),
        this.echoPath === 'none' ? NO_ECHO_STEP : 1,
      )
      this.sumAdapt += rate
      if (this.sumAdapt > mdf.partitions && this.leak > 0.03) this.adapted = true
      for (let k = 0; k < K; k++) step[k] = rate / (X[fp + k]! + floor)
      return
    }
    // Residual-to-error ratio: leak·Σŷ² / Σe², at least the correlation of e with ŷ, at most 0.5.
    let rer = (1e-4 * sxx + 3 * this.leak * syy) / (see + 1e-12)
    const bound = (sey * sey) / (1e-12 + see * syy)
    if (rer < bound) rer = bound
    if (rer > 0.5) rer = 0.5
    // The background may always learn (the foreground only takes it when it does better), except in double talk:
    // a step floor lets it follow an echo path change before the leak estimate catches up.
    const minStep = this.suppressor.nearHangover === 0 ? BACKGROUND_MIN_STEP : 0
    const stepLimit = this.echoPath === 'none' ? NO_ECHO_STEP : STEP_MAX
    // Per-bin powers of the output path over this block, from the suppressor's bins (MDF bin k ↔ bin k/2).
    const P = this.suppressor.blockPowers
    const yp = this.suppressor.bins // Σ|Ŷ|² in P
    const leak = this.leak
    // MDF bins 2j and 2j + 1 share the suppressor's bin j, so their step before the far power's normalization.
    for (let k = 0; k < K; k += 2) {
      const ep = P[k >> 1]! + 1e-20
      let r = leak * P[yp + (k >> 1)]!
      if (r > 0.5 * ep) r = 0.5 * ep
      // (Math.max, not a conditional assignment: a phi of a computed and a loaded number makes V8 box the doubles)
      const mu = Math.min(Math.max(Math.min(STEP_MAX, (0.7 * r + 0.3 * rer * ep) / ep), minStep), stepLimit)
      step[k] = mu / (X[fp + k]! + floor)
      if (k + 1 < K) step[k + 1] = mu / (X[fp + k + 1]! + floor)
    }
  }

  /**
   * Reverberation beyond the filter window: partition M (not modelled) ≈ ρ × partition M−1, driven by the far block
   * leaving the window; tail(k) = ρ·(tail(k) + |W_{M−1}(k)·X_{M−1}(k)|²) (WebRTC AEC3's reverb model). ρ comes from
   * the decay of the partition energies over the filter's last quarter. Mapped onto the suppressor's bins.
   */
  private updateTail(): void {
    const mdf = this.mdf
    const K = this.bins
    const target = this.suppressor.tail
    if (!mdf || mdf.partitions < 4) {
      target.fill(0)
      return
    }
    const M = mdf.partitions
    const energy = mdf.partitionEnergy
    // Decay per partition from partition 1 (after the direct sound) to the last, or over the window's second half if
    // slower (the late partitions alone can sit on the misadjustment floor, read as a flat tail: hence the cap). At
    // most 0.9 per 8 ms block (an RT60 of ~0.6 s beyond the window, 1.1 s in all): a filter whose partitions barely
    // decay (a packet call, whose jitter buffer moved the echo by frames, leaves a second copy of the echo late in
    // the window) read 0.95, a tail model 13 dB over the last partition that suppressed the caller for a second
    // after every sentence of the bot.
    const first = energy[1]!
    const last = energy[M - 1]!
    if (first > 0 && last > 0) {
      // The slower of the decay over the whole window and over its second half: early reflections make the first
      // partitions fall faster than the reverberation that continues beyond the window (a tail model on the whole
      // window's decay underestimated a 600 ms RT60 and the near-talker detector took its tail for a talker).
      const half = M >> 1
      const middle = energy[half]!
      const whole = Math.pow(last / first, 1 / (M - 2))
      const late = middle > 0 ? Math.pow(last / middle, 1 / (M - 1 - half)) : whole
      const decay = Math.min(0.9, Math.max(0.2, whole > late ? whole : late))
      this.tailDecay += 0.02 * (decay - this.tailDecay)
    }
    // Far end silent over the whole window and the tail gone: it stays 0 (the suppressor's copy is already 0).
    if (this.tailIsZero && mdf.isSilent) return
    const rho = this.tailDecay
    // The MDF's state array: the oldest far spectrum and the foreground's last partition, by offset.
    const X = mdf.state
    const xa = mdf.farSpectraAt + mdf.oldestFarAt
    const wa = mdf.foregroundAt + (M - 1) * 2 * K
    // Partition M at block m is partition M−1 of block m−1, one decay step down: T(m) = ρ·(T(m−1) + P_{M−1}(m−1)).
    // (The tail at 0 of tailState, the last partition's power at K.) Only the even bins: the suppressor's bin k is the
    // MDF's bin 2k (the odd ones, which nothing reads, stay 0).
    const T = this.tailState
    const A = mdf.activeBins
    let zero = true
    for (let k = 0; k < A; k += 2) {
      const xr = X[xa + 2 * k]!
      const xi = X[xa + 2 * k + 1]!
      const wr = X[wa + 2 * k]!
      const wi = X[wa + 2 * k + 1]!
      const yr = xr * wr - xi * wi
      const yi = xr * wi + xi * wr
      const tail = rho * (T[k]! + T[K + k]!)
      const kept = tail > TAIL_FLOOR ? tail : 0 // decays in far silence: gone once ~60 dB under any mic noise
      T[k] = kept
      const power = yr * yr + yi * yi
      T[K + k] = power
      if (kept !== 0 || power !== 0) zero = false
    }
    this.tailIsZero = zero
    // 2B-point rectangular powers → the suppressor's B-point sqrt-Hann frames: ×(B/2)/(2B) = ¼; bin k ↔ 2k.
    const S = this.suppressor.bins
    for (let k = 0; k < S; k++) target[k] = 0.25 * T[2 * k]!
  }

  private updateFrameMetrics(): void {
    const m = this.metrics
    const estimate = this.estimator.estimate
    const rate = this.config.sampleRateHz
    if (this.config.delayEstimation) m.bulkDelayMs = estimate.delayMs
    else m.bulkDelayMs = 0 // (two stores, not a phi of a double and 0: that boxed the double, a heap number per frame)
    m.compensatedDelayMs = (this.appliedDelay * 1000) / rate
    m.delayConfidence = estimate.confidence
    m.delayStable = estimate.stable
    m.nonCausal = estimate.nonCausal
    m.driftPpm = estimate.driftPpm
    if (this.frameBlocks === 0) {
      m.frameMicPower = m.frameErrorPower = 0
      return
    }
    // Untouched: no suppressor gains, or gains that took less than 1 dB off the linear filter's output.
    m.untouched = this.frameTouchedBlocks === 0 || this.frameOut >= UNTOUCHED_RATIO * this.frameError
    const samples = this.frameBlocks * this.blockSamples
    const mic = this.frameMic / samples
    const error = this.frameError / samples
    const far = this.frameFar / samples
    const residual = this.frameResidual / samples
    m.frameMicPower = mic
    m.frameErrorPower = error
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
    const singleTalk = echoActive && !m.doubleTalk && !nearActive && this.suppressor.nearHangover === 0
    if (singleTalk && this.frameOut > 0) {
      const a = 0.2
      this.smoothedMic = (1 - a) * this.smoothedMic + a * this.frameMic
      this.smoothedOut = (1 - a) * this.smoothedOut + a * this.frameOut
      this.smoothedError = (1 - a) * this.smoothedError + a * this.frameError
      this.smoothedFar = (1 - a) * this.smoothedFar + a * this.frameFar
      m.erleDb = toDb(this.smoothedMic / (this.smoothedOut + 1e-20))
      m.linearErleDb = toDb(this.smoothedMic / (this.smoothedError + 1e-20))
      m.erlDb = toDb(this.smoothedFar / (this.smoothedMic + 1e-20))
      this.erleSampleDb = toDb(this.frameMic / (this.frameOut + 1e-20))
      this.recordErle()
    }
    m.echoPath = this.echoPath
    m.echoCoherence = this.echoCoherence
    if (this.echoPath === 'none') {
      // No echo: nothing was removed, so no ERLE is claimed (nor an ERL of the mic's own sound).
      m.erleDb = m.erleMinDb = m.erleMedianDb = m.erleMaxDb = m.linearErleDb = m.erlDb = 0
      m.state = 'idle'
      return
    }
    if (this.divergentBlocks * this.blockSamples > 0.25 * rate) m.state = 'diverged'
    else if (this.farSilentFrames * samples > 2 * rate) m.state = 'idle'
    else if (this.filterConverged()) m.state = 'converged'
    else m.state = 'converging'
  }

  /** The frame's ERLE (erleSampleDb, a field: as an argument the double would be boxed) into the histogram. */
  private recordErle(): void {
    if (this.erleCount === ERLE_WINDOW) this.erleHistogram[this.erleHistory[this.erleNext]!]!--
    else this.erleCount++
    const position = Math.round((this.erleSampleDb - ERLE_HISTOGRAM_MIN_DB) / ERLE_HISTOGRAM_STEP_DB)
    const bin = position < 0 ? 0 : position >= ERLE_HISTOGRAM_BINS ? ERLE_HISTOGRAM_BINS - 1 : position
    this.erleHistory[this.erleNext] = bin
    this.erleNext = (this.erleNext + 1) % ERLE_WINDOW
    this.erleHistogram[bin]!++
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

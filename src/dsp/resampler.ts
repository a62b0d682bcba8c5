/**
 * Streaming sample-rate converter: 8 ↔ 16 kHz for the network side, and any device rate (22.05, 32, 44.1, 48,
 * 88.2, 96 kHz…) ↔ 16 kHz for capture and playback. Stateful: the filter history and the output phase carry over
 * between calls, so feeding a signal in any chunking gives bit-identical output to one call on the whole signal.
 *
 * Algorithm: band-limited interpolation with a rational ratio L/M = outputRateHz/inputRateHz reduced by the gcd
 * (44 100 → 16 000 is 160/441). One linear-phase lowpass h (Kaiser-windowed sinc, odd length N, centre D = (N−1)/2)
 * is designed at construction at the rate R = L·inputRateHz and split into L polyphase branches, so output n costs
 * one short FIR over the input:  y[n] = Σ_k h[p + kL]·x[q − k],  q = ⌊nM/L⌋, p = nM mod L.
 * References: J. O. Smith, "Digital Audio Resampling Home Page" (bandlimited interpolation, ccrma.stanford.edu/~jos/
 * resample); speexdsp libspeexdsp/resample.c (Kaiser-windowed sinc, per-phase tables, gcd-reduced ratio, the
 * interpolated table for awkward ratios); Kaiser's length and β formulas (Oppenheim & Schafer, 3rd ed., §7.6).
 * Specialised kernels, all computing the same convolution:
 *   - 2:1 up or down (8 ↔ 16 k, 16 ↔ 32 k): the filter is a half-band (cut-off at R/4, D odd), so every other tap is
 *     an exact zero. Upsampling: the odd outputs are a pure delay (the one non-zero tap of their phase is h[D] = 1),
 *     the even outputs a symmetric FIR folded in pairs ((D+1)/2 multiplies: 18 for 8 → 16 k). Downsampling: the same
 *     folded pairs plus the centre tap. Both run four outputs at a time with rotating loads (register blocking); for
 *     the standard 8 ↔ 16 kHz filter (18 pairs) the pair loop is spelt out with the coefficients in locals
 *     (runUp2Unrolled, runDown2Unrolled: ~20 % less time, the same sums in the same order).
 *   - 1:M integer decimation (48 → 16 k, 96 → 16 k): one symmetric FIR folded in pairs, evaluated every M inputs,
 *     without the exact zeros of the M-band filter (every M-th tap from the centre: a third of the pairs at 48 → 16 k).
 *   - L:1 integer interpolation (16 → 48 k, 16 → 96 k): per input, L short phase FIRs, 4 inputs at a time per phase.
 *   - general L/M: one table of coefficients per phase, each trimmed of exact zeros (the phase that holds the centre
 *     of an L-band filter, e.g. 16 → 48 k, is a single tap) and laid out contiguously.
 *   - awkward ratios (L·K would exceed RESAMPLER_MAX_TABLE_TAPS, e.g. 44 101 Hz): speexdsp's interpolated mode, a
 *     table of RESAMPLER_INTERPOLATED_PHASES + 1 phases with linear interpolation between the two nearest.
 * Input is copied (non-finite → 0) into a history buffer of K − 1 + block samples so every FIR reads a contiguous
 * window with no modulo; after each block the last K − 1 samples move to the front (copyWithin). The copy has no
 * per-sample branch: one overflow test finds a block with a huge or non-finite sample, which is copied again clamped.
 * Cost per 20 ms frame (bench `resampler`, interleaved with the previous code): 8 → 16 k ~2.7 µs (was ~3.3), 16 → 8 k
 * ~3.0 µs (was ~3.7).
 *
 * Design goals (standard quality; 'high' designs the same edges for 100 dB):
 *   lower rate f = min(in, out) | passband edge | stopband edge | design stopband
 *   f ≤ 8 kHz (telephony)       | 0.425·f (3.4 kHz at 8 k)   | 0.575·f (4.6 kHz) | 80 dB
 *   f > 8 kHz                   | 0.4375·f (7 kHz at 16 k)   | 0.5625·f (9 kHz)  | 80 dB
 * The stopband edge mirrors the passband edge about f/2, so aliases and images that land in the passband are 80 dB
 * down by design (the tests require ≥ 70 dB measured; they measure ≥ 80). Passband ripple of a Kaiser design is ±δ with
 * δ = 10^(−80/20): ±0.001 dB. Linear phase: the group delay is D/R s, reported as delaySamples (output-rate samples,
 * may be fractional, e.g. 8.5 for 16 → 8 k) and delayMs. process allocates nothing.
 *
 * Known limits: integer rates in 8–192 kHz only; the output count per call varies for a non-integer ratio (size the
 * output with maxOutputLength); no flush: the last delaySamples of a stream stay in the history (feed zeros to drain);
 * the band between the passband and f/2 (3.4–4 kHz at 8 k) is attenuated and may carry aliases from just above f/2;
 * the interpolated mode (awkward ratios only) adds a linear-interpolation error ∝ 1/P², below the stopband in the
 * tests, and costs two multiply-adds per tap; finite inputs beyond
 * ±RESAMPLER_INPUT_LIMIT are clamped to it so the output cannot overflow Float32.
 */
import { gcd } from './units'

export type ResamplerQuality = 'standard' | 'high'
export type ResamplerKernel = 'polyphase' | 'halfband-up' | 'halfband-down' | 'decimate' | 'interpolated' | 'upsample'

export interface ResamplerConfig {
  /** Input sample rate, integer Hz in RESAMPLER_MIN_RATE_HZ–RESAMPLER_MAX_RATE_HZ. */
  inputRateHz: number
  /** Output sample rate, integer Hz in RESAMPLER_MIN_RATE_HZ–RESAMPLER_MAX_RATE_HZ. */
  outputRateHz: number
  /** 'standard' (default): 80 dB design stopband; 'high': 100 dB (about 30 % more taps). */
  quality?: ResamplerQuality
}

export const RESAMPLER_MIN_RATE_HZ = 8000
export const RESAMPLER_MAX_RATE_HZ = 192000
/** Exact polyphase tables are used up to this many coefficients (512 KiB of Float64); beyond, the interpolated mode. */
export const RESAMPLER_MAX_TABLE_TAPS = 1 << 16
/** Phases per input sample of the interpolated mode's table (the coefficient error of linear interpolation ∝ 1/P²). */
export const RESAMPLER_INTERPOLATED_PHASES = 256
/** Finite inputs are clamped to ±this: Σ|h|·1e30 stays far below the Float32 maximum 3.4e38. */
export const RESAMPLER_INPUT_LIMIT = 1e30

const STOPBAND_DB: Record<ResamplerQuality, number> = { standard: 80, high: 100 }
/**
 * Input samples copied into the history buffer per inner block: a 20 ms frame at 16 kHz (320) is three blocks. The
 * history is K − 1 + BLOCK_SAMPLES samples in Float64 (1.5 KiB for 16 → 8 k): about the bytes K − 1 + 320 Float32
 * samples took, but the FIR loops read doubles with no Float32 → Float64 conversion per load (8 → 16 k 3.3 → 2.8 µs per
 * 20 ms frame, 16 → 8 k 4.6 → 3.1 with the branch-free input copy; bench `resampler`; a Float32 history is still ~1 µs
 * slower per frame of each with the unrolled kernels). The input is Float32, so the history holds the same values
 * either way (clamped to the Float32 value of the limit), and the output is bit-identical.
 */
const BLOCK_SAMPLES = 128
/**
 * 2:1 up takes a 20 ms frame at 8 kHz (160) in one block: 256 bytes more history (1.5 KiB for 8 → 16 k), and per frame
 * one kernel call (its prologue loads and spills the 18 coefficients) and one history move less: ~0.2 µs.
 */
const UP2_BLOCK_SAMPLES = 160
/** RESAMPLER_INPUT_LIMIT as a Float32 value: what a Float32 history held after clamping. */
const INPUT_LIMIT_32 = Math.fround(RESAMPLER_INPUT_LIMIT)
/**
 * v·2^925 is exact for |v| < 2^99 (6.3e29, below the input limit) and ±Infinity from there on, so v·S − v·S is 0 for
 * such a sample and NaN for a larger or non-finite one: one test finds every sample the clamp or the zeroing would
 * change.
 */
const HUGE_SCALE = 2 ** 925

/**
 * Folded pairs of the 2:1 half-band filter at standard quality for 8 ↔ 16 kHz (71 taps): runUp2Unrolled and
 * runDown2Unrolled spell out the pair loop for exactly this many, with the coefficients in locals (V8 keeps the ones
 * that do not fit in registers on the stack: a reload without a bounds check) and each window sample loaded once per
 * four outputs. The sums run in the same order as the loops', so the output is bit-identical; 8 → 16 k 2.4 → 1.9 µs,
 * 16 → 8 k 2.5 → 1.9 µs per 20 ms frame for the kernels alone.
 */
const UNROLLED_PAIRS = 18

const MODE_POLYPHASE = 0
const MODE_UP2 = 1
const MODE_DOWN2 = 2
const MODE_DECIMATE = 3
const MODE_INTERPOLATED = 4
const MODE_UPSAMPLE = 5
const KERNEL_NAMES: readonly ResamplerKernel[] = [
  'polyphase',
  'halfband-up',
  'halfband-down',
  'decimate',
  'interpolated',
  'upsample',
]

export class Resampler {
  readonly inputRateHz: number
  readonly outputRateHz: number
  readonly quality: ResamplerQuality
  /** L: output rate / gcd. */
  readonly upFactor: number
  /** M: input rate / gcd. */
  readonly downFactor: number
  /** Passband edge (Hz): tones below it keep their level within the design ripple. */
  readonly passbandEdgeHz: number
  /** Stopband edge (Hz): aliases and images of content at or above it are attenuated by the design stopband. */
  readonly stopbandEdgeHz: number
  /** N: taps of the prototype lowpass at the design rate (L·inputRateHz, or 256·inputRateHz when interpolated). */
  readonly filterLength: number
  /** K: input samples each output reads (the FIR window); at most K multiply-adds per output sample. */
  readonly tapsPerPhase: number
  /** Group delay in output-rate samples (D/M; may be fractional). */
  readonly delaySamples: number
  /** Group delay in ms, for the latency budget. */
  readonly delayMs: number
  /** Which kernel runs (see the header). */
  readonly kernel: ResamplerKernel
  /** Non-finite input samples replaced by 0, and the samples taken in and given out since construction. */
  readonly metrics = { nonFiniteSamples: 0, inputSamples: 0, outputSamples: 0 }

  private readonly mode: number
  /** Phase step per output: M mod L. */
  private readonly phaseStep: number
  /** Whole input samples per output: ⌊M/L⌋. */
  private readonly inputStep: number
  /** Coefficients: per-phase tables (polyphase, interpolated) or the folded half of a symmetric filter. */
  private readonly coefficients: Float64Array
  /** Polyphase: start of each phase's table in coefficients. Decimation: the window index j of each non-zero pair. */
  private readonly phaseOffset: Int32Array
  /** Polyphase: first window index (0…K−1) each phase reads, after trimming leading zeros. */
  private readonly phaseWindowStart: Int32Array
  /** Polyphase: taps of each phase after trimming zeros. */
  private readonly phaseTapCount: Int32Array
  /** Symmetric kernels: multiplies of the folded half. */
  private readonly foldedCount: number
  /** Symmetric kernels: the centre tap h[D]. */
  private readonly centerTap: number
  /** 2:1 kernels with UNROLLED_PAIRS folded pairs (standard quality, 8 ↔ 16 kHz) run the unrolled variants. */
  private readonly unrolled: boolean
  /** Input samples per inner block (BLOCK_SAMPLES, UP2_BLOCK_SAMPLES for 2:1 up). */
  private readonly blockSamples: number
  /** History, K − 1 + blockSamples: x[q−K+1 … q] of the next output start at index nextInput. */
  private readonly history: Float64Array
  /** Window start (in history) of the next output; ≥ 0 between calls. */
  private nextInput = 0
  /** Phase p of the next output, 0 ≤ p < L. */
  private phase = 0

  constructor(config: ResamplerConfig) {
    const { inputRateHz, outputRateHz } = config
    const quality = config.quality ?? 'standard'
    checkRate('inputRateHz', inputRateHz)
    checkRate('outputRateHz', outputRateHz)
    if (quality !== 'standard' && quality !== 'high') {
      throw new RangeError(`quality: ${String(quality)} is not 'standard' or 'high'`)
    }
    this.inputRateHz = inputRateHz
    this.outputRateHz = outputRateHz
    this.quality = quality
    const divisor = gcd(inputRateHz, outputRateHz)
    const up = outputRateHz / divisor
    const down = inputRateHz / divisor
    this.upFactor = up
    this.downFactor = down

    const lowRateHz = Math.min(inputRateHz, outputRateHz)
    // Telephony band: 3.4 kHz passband at 8 kHz; wideband and above: 7 kHz at 16 kHz. The stopband mirrors it about f/2.
    this.passbandEdgeHz = lowRateHz * (lowRateHz <= 8000 ? 0.425 : 0.4375)
    this.stopbandEdgeHz = lowRateHz - this.passbandEdgeHz
    const stopbandDb = STOPBAND_DB[quality]

    let mode = MODE_POLYPHASE
    let phases = up // phases of the table; the design rate is phases·inputRateHz
    if (up === 2 && down === 1) mode = MODE_UP2
    else if (up === 1 && down === 2) mode = MODE_DOWN2
    else if (up === 1 && down > 1) mode = MODE_DECIMATE
    else if (down === 1 && up > 1) mode = MODE_UPSAMPLE

    // Kaiser: N − 1 = (A − 7.95) / (2.285·Δω), Δω = 2π·(stopband − passband)/R; β = 0.1102·(A − 8.7) for A > 50.
    const designLength = (rateHz: number): number => {
      const deltaOmega = (2 * Math.PI * (this.stopbandEdgeHz - this.passbandEdgeHz)) / rateHz
      return Math.ceil((stopbandDb - 7.95) / (2.285 * deltaOmega)) + 1
    }
    let length = 1
    if (up !== 1 || down !== 1) {
      length = designLength(up * inputRateHz)
      if (length > RESAMPLER_MAX_TABLE_TAPS) {
        mode = MODE_INTERPOLATED
        phases = RESAMPLER_INTERPOLATED_PHASES
        length = designLength(phases * inputRateHz)
      }
      // Odd length so the centre D is a sample; half-band kernels need D odd (N = 4m + 3) so the end taps are not zeros.
      if (mode === MODE_UP2 || mode === MODE_DOWN2) length = 4 * Math.ceil((length - 3) / 4) + 3
      else if (length % 2 === 0) length++
    }
    const center = (length - 1) / 2
    const prototype = designPrototype(length, lowRateHz / (2 * phases * inputRateHz), phases, stopbandDb)
    // Half-band (ν = 1/4) and L-band filters have exact zeros at multiples of 1/(2ν) from the centre; make them exact.
    const zeroSpacing = (phases * inputRateHz) / lowRateHz
    if (Number.isInteger(zeroSpacing)) {
      for (let i = 0; i < length; i++) if (i !== center && (i - center) % zeroSpacing === 0) prototype[i] = 0
    }

    this.mode = mode
    this.filterLength = length
    this.kernel = KERNEL_NAMES[mode]!
    const designRateHz = phases * inputRateHz
    this.delayMs = (center / designRateHz) * 1000
    this.delaySamples = (center / designRateHz) * outputRateHz
    this.inputStep = Math.floor(down / up)
    this.phaseStep = down % up

    let taps: number
    let coefficients: Float64Array
    let offsets = new Int32Array(0)
    let starts = new Int32Array(0)
    let counts = new Int32Array(0)
    let folded = 0
    let centerTap = 0
    if (mode === MODE_UP2) {
      // Window of K = D + 1 inputs. Even outputs (p = 0): taps h[2j], symmetric in j ↔ D − j; odd outputs (p = 1): h[D].
      taps = center + 1
      folded = (center + 1) / 2
      coefficients = new Float64Array(folded)
      for (let j = 0; j < folded; j++) coefficients[j] = prototype[2 * j]!
      centerTap = prototype[center]!
    } else if (mode === MODE_DOWN2) {
      // Window of K = N inputs, coefficient h[j] at window index j (h is symmetric). Half-band: only even j are non-zero.
      taps = length
      folded = (center + 1) / 2
      coefficients = new Float64Array(folded)
      for (let j = 0; j < folded; j++) coefficients[j] = prototype[2 * j]!
      centerTap = prototype[center]!
    } else if (mode === MODE_DECIMATE) {
      // Window of K = N inputs, h[j] at window index j, folded in pairs j ↔ 2D − j; the M-band filter's exact zeros
      // (every M-th tap from the centre: a third of them for 48 → 16 k) are left out, the rest kept in order of j.
      taps = length
      for (let j = 0; j < center; j++) if (prototype[j] !== 0) folded++
      coefficients = new Float64Array(folded)
      offsets = new Int32Array(folded)
      let k = 0
      for (let j = 0; j < center; j++) {
        if (prototype[j] === 0) continue
        coefficients[k] = prototype[j]!
        offsets[k++] = j
      }
      centerTap = prototype[center]!
    } else {
      // Per phase p, window index j (0…K−1, x[q−K+1+j]) has coefficient h[p + (K−1−j)·phases]; zero beyond N.
      taps = Math.ceil(length / phases)
      const tableLength = mode === MODE_INTERPOLATED ? phases + 1 : phases // the interpolated table keeps phase P too
      const table = new Float64Array(tableLength * taps)
      offsets = new Int32Array(tableLength)
      starts = new Int32Array(tableLength)
      counts = new Int32Array(tableLength)
      let used = 0
      for (let p = 0; p < tableLength; p++) {
        let first = taps
        let last = -1
        for (let j = 0; j < taps; j++) {
          const i = p + (taps - 1 - j) * phases
          if (i < length && prototype[i] !== 0) {
            if (first === taps) first = j
            last = j
          }
        }
        if (mode === MODE_INTERPOLATED) {
          first = 0 // both interpolated phases read the same full window
          last = taps - 1
        }
        offsets[p] = used
        starts[p] = first
        counts[p] = Math.max(0, last - first + 1)
        for (let j = first; j <= last; j++) {
          const i = p + (taps - 1 - j) * phases
          table[used++] = i < length ? prototype[i]! : 0
        }
      }
      coefficients = table.slice(0, used)
    }
    this.tapsPerPhase = taps
    this.coefficients = coefficients
    this.phaseOffset = offsets
    this.phaseWindowStart = starts
    this.phaseTapCount = counts
    this.foldedCount = folded
    this.centerTap = centerTap
    this.unrolled = (mode === MODE_UP2 || mode === MODE_DOWN2) && folded === UNROLLED_PAIRS
    this.blockSamples = mode === MODE_UP2 ? UP2_BLOCK_SAMPLES : BLOCK_SAMPLES
    this.history = new Float64Array(taps - 1 + this.blockSamples)
  }

  /** Upper bound of the samples one process call on inputLength samples writes: ⌈inputLength·L/M⌉. */
  maxOutputLength(inputLength: number): number {
    return inputLength > 0 ? Math.ceil((inputLength * this.upFactor) / this.downFactor) : 0
  }

  /**
   * Resamples input[0, inputLength) into output from index 0 and returns how many output samples it wrote: every
   * output whose window ends within the input seen so far. 8 → 16 k: 160 in → 320 out; 16 → 8 k: 320 → 160; 44.1 →
   * 16 k: 882 → 320. When the chunk is not a whole number of ratio periods the count varies (by one between equal-size calls). Non-finite input counts as 0.
   * Throws RangeError only on a caller bug: inputLength outside 0…input.length, or output shorter than
   * maxOutputLength(inputLength). Allocates nothing.
   */
  process(input: Float32Array, output: Float32Array, inputLength: number = input.length): number {
    if (!(inputLength >= 0 && inputLength <= input.length) || !Number.isInteger(inputLength)) {
      throw new RangeError(`inputLength: ${inputLength} is outside 0–${input.length} (input.length)`)
    }
    const needed = this.maxOutputLength(inputLength)
    if (output.length < needed) {
      throw new RangeError(`output.length: ${output.length} is below ${needed} (maxOutputLength(${inputLength}))`)
    }
    const history = this.history
    const keep = this.tapsPerPhase - 1
    let produced = 0
    let consumed = 0
    while (consumed < inputLength) {
      const count = Math.min(this.blockSamples, inputLength - consumed)
      // A non-finite or huge sample (rare) takes the exact path: clamped, then the non-finite ones zeroed and counted.
      if (copyInput(history, keep, input, consumed, count) !== 0) {
        if (copyInputClamped(history, keep, input, consumed, count) !== 0)
          this.metrics.nonFiniteSamples += zeroNonFinite(history, keep, input, consumed, count)
      }
      switch (this.mode) {
        case MODE_UP2:
          produced = this.unrolled ? this.runUp2Unrolled(count, output, produced) : this.runUp2(count, output, produced)
          break
        case MODE_DOWN2:
          produced = this.unrolled
            ? this.runDown2Unrolled(count, output, produced)
            : this.runDown2(count, output, produced)
          break
        case MODE_DECIMATE:
          produced = this.runDecimate(count, output, produced)
          break
        case MODE_INTERPOLATED:
          produced = this.runInterpolated(count, output, produced)
          break
        case MODE_UPSAMPLE:
          produced = this.runUpsample(count, output, produced)
          break
        default:
          produced = this.runPolyphase(count, output, produced)
      }
      history.copyWithin(0, count, count + keep) // the last K − 1 inputs become the next block's history
      this.nextInput -= count
      consumed += count
    }
    this.metrics.inputSamples += inputLength
    this.metrics.outputSamples += produced
    return produced
  }

  /** Zeroes the history and the phase (the next output is aligned to the next input); keeps the tables. */
  reset(): void {
    this.history.fill(0)
    this.nextInput = 0
    this.phase = 0
  }

  /**
   * 2:1 up: per input, y[2q] = Σ h[2j]·(x_j + x_{D−j}) folded, y[2q+1] = h[D]·x_{(D+1)/2} (window x_0…x_D).
   * Four inputs at a time share each coefficient load, and their windows overlap, so each step of j loads only two new
   * samples (x rotates up, y rotates down). Each output's sum runs over j in the same order as the one-at-a-time tail
   * loop, so the result does not depend on how the stream was chunked.
   */
  private runUp2(count: number, output: Float32Array, produced: number): number {
    const history = this.history
    const c = this.coefficients
    const folded = this.foldedCount
    const span = this.tapsPerPhase - 1 // D
    const centerIndex = folded // (D + 1)/2
    const centerTap = this.centerTap
    let out = produced
    let start = this.nextInput
    for (; start + 3 < count; start += 4) {
      let acc0 = 0
      let acc1 = 0
      let acc2 = 0
      let acc3 = 0
      let a = start
      let b = start + span
      let x0 = history[a]!
      let x1 = history[a + 1]!
      let x2 = history[a + 2]!
      let y1 = history[b + 1]!
      let y2 = history[b + 2]!
      let y3 = history[b + 3]!
      for (let j = 0; j < folded; j++) {
        const cj = c[j]!
        const x3 = history[a + 3]!
        const y0 = history[b]!
        acc0 += cj * (x0 + y0)
        acc1 += cj * (x1 + y1)
        acc2 += cj * (x2 + y2)
        acc3 += cj * (x3 + y3)
        x0 = x1
        x1 = x2
        x2 = x3
        y3 = y2
        y2 = y1
        y1 = y0
        a++
        b--
      }
      const centre = start + centerIndex
      output[out] = acc0
      output[out + 1] = centerTap * history[centre]!
      output[out + 2] = acc1
      output[out + 3] = centerTap * history[centre + 1]!
      output[out + 4] = acc2
      output[out + 5] = centerTap * history[centre + 2]!
      output[out + 6] = acc3
      output[out + 7] = centerTap * history[centre + 3]!
      out += 8
    }
    for (; start < count; start++) {
      let acc = 0
      let a = start
      let b = start + span
      for (let j = 0; j < folded; j++) acc += c[j]! * (history[a++]! + history[b--]!)
      output[out++] = acc
      output[out++] = centerTap * history[start + centerIndex]!
    }
    this.nextInput = start
    return out
  }

  /**
   * 2:1 down: y = h[D]·x_D + Σ h[2j]·(x_{2j} + x_{2D−2j}) over the window x_0…x_{2D}, every other input. Four outputs
   * at a time with rotating loads as in runUp2 (their windows are 2 apart and the taps step by 2).
   */
  private runDown2(count: number, output: Float32Array, produced: number): number {
    const history = this.history
    const c = this.coefficients
    const folded = this.foldedCount
    const span = this.tapsPerPhase - 1 // 2D
    const center = span / 2
    const centerTap = this.centerTap
    let out = produced
    let start = this.nextInput
    for (; start + 6 < count; start += 8) {
      const centre = start + center
      let acc0 = centerTap * history[centre]!
      let acc1 = centerTap * history[centre + 2]!
      let acc2 = centerTap * history[centre + 4]!
      let acc3 = centerTap * history[centre + 6]!
      let a = start
      let b = start + span
      let x0 = history[a]!
      let x1 = history[a + 2]!
      let x2 = history[a + 4]!
      let y1 = history[b + 2]!
      let y2 = history[b + 4]!
      let y3 = history[b + 6]!
      for (let j = 0; j < folded; j++) {
        const cj = c[j]!
        const x3 = history[a + 6]!
        const y0 = history[b]!
        acc0 += cj * (x0 + y0)
        acc1 += cj * (x1 + y1)
        acc2 += cj * (x2 + y2)
        acc3 += cj * (x3 + y3)
        x0 = x1
        x1 = x2
        x2 = x3
        y3 = y2
        y2 = y1
        y1 = y0
        a += 2
        b -= 2
      }
      output[out] = acc0
      output[out + 1] = acc1
      output[out + 2] = acc2
      output[out + 3] = acc3
      out += 4
    }
    for (; start < count; start += 2) {
      let acc = centerTap * history[start + center]!
      let a = start
      let b = start + span
      for (let j = 0; j < folded; j++) {
        acc += c[j]! * (history[a]! + history[b]!)
        a += 2
        b -= 2
      }
      output[out++] = acc
    }
    this.nextInput = start
    return out
  }

  /**
   * runUp2 for UNROLLED_PAIRS pairs, the pair loop spelt out: acc_m += c_j·(x_(m+j) + y_(j−m)) with x_k = x[start + k]
   * and y_k = x[start + D − k] (window sample loads shared by the four outputs, as the rotating loads do). The
   * remaining windows (fewer than four) go to runUp2's tail loop.
   */
  private runUp2Unrolled(count: number, output: Float32Array, produced: number): number {
    const history = this.history
    const c = this.coefficients
    const span = this.tapsPerPhase - 1 // D
    const centerIndex = UNROLLED_PAIRS // (D + 1)/2
    const centerTap = this.centerTap
    const c0 = c[0]!
    const c1 = c[1]!
    const c2 = c[2]!
    const c3 = c[3]!
    const c4 = c[4]!
    const c5 = c[5]!
    const c6 = c[6]!
    const c7 = c[7]!
    const c8 = c[8]!
    const c9 = c[9]!
    const c10 = c[10]!
    const c11 = c[11]!
    const c12 = c[12]!
    const c13 = c[13]!
    const c14 = c[14]!
    const c15 = c[15]!
    const c16 = c[16]!
    const c17 = c[17]!
    let out = produced
    let start = this.nextInput
    for (; start + 3 < count; start += 4) {
      const b = start + span
      let acc0 = 0
      let acc1 = 0
      let acc2 = 0
      let acc3 = 0
      const x0 = history[start]!
      const x1 = history[start + 1]!
      const x2 = history[start + 2]!
      const yn3 = history[b + 3]!
      const yn2 = history[b + 2]!
      const yn1 = history[b + 1]!
      const x3 = history[start + 3]!
      const y0 = history[b]!
      acc0 += c0 * (x0 + y0)
      acc1 += c0 * (x1 + yn1)
      acc2 += c0 * (x2 + yn2)
      acc3 += c0 * (x3 + yn3)
      const x4 = history[start + 4]!
      const y1 = history[b - 1]!
      acc0 += c1 * (x1 + y1)
      acc1 += c1 * (x2 + y0)
      acc2 += c1 * (x3 + yn1)
      acc3 += c1 * (x4 + yn2)
      const x5 = history[start + 5]!
      const y2 = history[b - 2]!
      acc0 += c2 * (x2 + y2)
      acc1 += c2 * (x3 + y1)
      acc2 += c2 * (x4 + y0)
      acc3 += c2 * (x5 + yn1)
      const x6 = history[start + 6]!
      const y3 = history[b - 3]!
      acc0 += c3 * (x3 + y3)
      acc1 += c3 * (x4 + y2)
      acc2 += c3 * (x5 + y1)
      acc3 += c3 * (x6 + y0)
      const x7 = history[start + 7]!
      const y4 = history[b - 4]!
      acc0 += c4 * (x4 + y4)
      acc1 += c4 * (x5 + y3)
      acc2 += c4 * (x6 + y2)
      acc3 += c4 * (x7 + y1)
      const x8 = history[start + 8]!
      const y5 = history[b - 5]!
      acc0 += c5 * (x5 + y5)
      acc1 += c5 * (x6 + y4)
      acc2 += c5 * (x7 + y3)
      acc3 += c5 * (x8 + y2)
      const x9 = history[start + 9]!
      const y6 = history[b - 6]!
      acc0 += c6 * (x6 + y6)
      acc1 += c6 * (x7 + y5)
      acc2 += c6 * (x8 + y4)
      acc3 += c6 * (x9 + y3)
      const x10 = history[start + 10]!
      const y7 = history[b - 7]!
      acc0 += c7 * (x7 + y7)
      acc1 += c7 * (x8 + y6)
      acc2 += c7 * (x9 + y5)
      acc3 += c7 * (x10 + y4)
      const x11 = history[start + 11]!
      const y8 = history[b - 8]!
      acc0 += c8 * (x8 + y8)
      acc1 += c8 * (x9 + y7)
      acc2 += c8 * (x10 + y6)
      acc3 += c8 * (x11 + y5)
      const x12 = history[start + 12]!
      const y9 = history[b - 9]!
      acc0 += c9 * (x9 + y9)
      acc1 += c9 * (x10 + y8)
      acc2 += c9 * (x11 + y7)
      acc3 += c9 * (x12 + y6)
      const x13 = history[start + 13]!
      const y10 = history[b - 10]!
      acc0 += c10 * (x10 + y10)
      acc1 += c10 * (x11 + y9)
      acc2 += c10 * (x12 + y8)
      acc3 += c10 * (x13 + y7)
      const x14 = history[start + 14]!
      const y11 = history[b - 11]!
      acc0 += c11 * (x11 + y11)
      acc1 += c11 * (x12 + y10)
      acc2 += c11 * (x13 + y9)
      acc3 += c11 * (x14 + y8)
      const x15 = history[start + 15]!
      const y12 = history[b - 12]!
      acc0 += c12 * (x12 + y12)
      acc1 += c12 * (x13 + y11)
      acc2 += c12 * (x14 + y10)
      acc3 += c12 * (x15 + y9)
      const x16 = history[start + 16]!
      const y13 = history[b - 13]!
      acc0 += c13 * (x13 + y13)
      acc1 += c13 * (x14 + y12)
      acc2 += c13 * (x15 + y11)
      acc3 += c13 * (x16 + y10)
      const x17 = history[start + 17]!
      const y14 = history[b - 14]!
      acc0 += c14 * (x14 + y14)
      acc1 += c14 * (x15 + y13)
      acc2 += c14 * (x16 + y12)
      acc3 += c14 * (x17 + y11)
      const x18 = history[start + 18]!
      const y15 = history[b - 15]!
      acc0 += c15 * (x15 + y15)
      acc1 += c15 * (x16 + y14)
      acc2 += c15 * (x17 + y13)
      acc3 += c15 * (x18 + y12)
      const x19 = history[start + 19]!
      const y16 = history[b - 16]!
      acc0 += c16 * (x16 + y16)
      acc1 += c16 * (x17 + y15)
      acc2 += c16 * (x18 + y14)
      acc3 += c16 * (x19 + y13)
      const x20 = history[start + 20]!
      const y17 = history[b - 17]!
      acc0 += c17 * (x17 + y17)
      acc1 += c17 * (x18 + y16)
      acc2 += c17 * (x19 + y15)
      acc3 += c17 * (x20 + y14)
      const centre = start + centerIndex
      output[out] = acc0
      output[out + 1] = centerTap * history[centre]!
      output[out + 2] = acc1
      output[out + 3] = centerTap * history[centre + 1]!
      output[out + 4] = acc2
      output[out + 5] = centerTap * history[centre + 2]!
      output[out + 6] = acc3
      output[out + 7] = centerTap * history[centre + 3]!
      out += 8
    }
    this.nextInput = start
    return this.runUp2(count, output, out)
  }

  /**
   * runDown2 for UNROLLED_PAIRS pairs, the pair loop spelt out: acc_m += c_j·(x_(m+j) + y_(j−m)) with x_k = x[start + 2k]
   * and y_k = x[start + 2D − 2k]. The remaining windows go to runDown2's tail loop.
   */
  private runDown2Unrolled(count: number, output: Float32Array, produced: number): number {
    const history = this.history
    const c = this.coefficients
    const span = this.tapsPerPhase - 1 // 2D
    const center = span / 2
    const centerTap = this.centerTap
    const c0 = c[0]!
    const c1 = c[1]!
    const c2 = c[2]!
    const c3 = c[3]!
    const c4 = c[4]!
    const c5 = c[5]!
    const c6 = c[6]!
    const c7 = c[7]!
    const c8 = c[8]!
    const c9 = c[9]!
    const c10 = c[10]!
    const c11 = c[11]!
    const c12 = c[12]!
    const c13 = c[13]!
    const c14 = c[14]!
    const c15 = c[15]!
    const c16 = c[16]!
    const c17 = c[17]!
    let out = produced
    let start = this.nextInput
    for (; start + 6 < count; start += 8) {
      const centre = start + center
      let acc0 = centerTap * history[centre]!
      let acc1 = centerTap * history[centre + 2]!
      let acc2 = centerTap * history[centre + 4]!
      let acc3 = centerTap * history[centre + 6]!
      const b = start + span
      const x0 = history[start]!
      const x1 = history[start + 2]!
      const x2 = history[start + 4]!
      const yn3 = history[b + 6]!
      const yn2 = history[b + 4]!
      const yn1 = history[b + 2]!
      const x3 = history[start + 6]!
      const y0 = history[b]!
      acc0 += c0 * (x0 + y0)
      acc1 += c0 * (x1 + yn1)
      acc2 += c0 * (x2 + yn2)
      acc3 += c0 * (x3 + yn3)
      const x4 = history[start + 8]!
      const y1 = history[b - 2]!
      acc0 += c1 * (x1 + y1)
      acc1 += c1 * (x2 + y0)
      acc2 += c1 * (x3 + yn1)
      acc3 += c1 * (x4 + yn2)
      const x5 = history[start + 10]!
      const y2 = history[b - 4]!
      acc0 += c2 * (x2 + y2)
      acc1 += c2 * (x3 + y1)
      acc2 += c2 * (x4 + y0)
      acc3 += c2 * (x5 + yn1)
      const x6 = history[start + 12]!
      const y3 = history[b - 6]!
      acc0 += c3 * (x3 + y3)
      acc1 += c3 * (x4 + y2)
      acc2 += c3 * (x5 + y1)
      acc3 += c3 * (x6 + y0)
      const x7 = history[start + 14]!
      const y4 = history[b - 8]!
      acc0 += c4 * (x4 + y4)
      acc1 += c4 * (x5 + y3)
      acc2 += c4 * (x6 + y2)
      acc3 += c4 * (x7 + y1)
      const x8 = history[start + 16]!
      const y5 = history[b - 10]!
      acc0 += c5 * (x5 + y5)
      acc1 += c5 * (x6 + y4)
      acc2 += c5 * (x7 + y3)
      acc3 += c5 * (x8 + y2)
      const x9 = history[start + 18]!
      const y6 = history[b - 12]!
      acc0 += c6 * (x6 + y6)
      acc1 += c6 * (x7 + y5)
      acc2 += c6 * (x8 + y4)
      acc3 += c6 * (x9 + y3)
      const x10 = history[start + 20]!
      const y7 = history[b - 14]!
      acc0 += c7 * (x7 + y7)
      acc1 += c7 * (x8 + y6)
      acc2 += c7 * (x9 + y5)
      acc3 += c7 * (x10 + y4)
      const x11 = history[start + 22]!
      const y8 = history[b - 16]!
      acc0 += c8 * (x8 + y8)
      acc1 += c8 * (x9 + y7)
      acc2 += c8 * (x10 + y6)
      acc3 += c8 * (x11 + y5)
      const x12 = history[start + 24]!
      const y9 = history[b - 18]!
      acc0 += c9 * (x9 + y9)
      acc1 += c9 * (x10 + y8)
      acc2 += c9 * (x11 + y7)
      acc3 += c9 * (x12 + y6)
      const x13 = history[start + 26]!
      const y10 = history[b - 20]!
      acc0 += c10 * (x10 + y10)
      acc1 += c10 * (x11 + y9)
      acc2 += c10 * (x12 + y8)
      acc3 += c10 * (x13 + y7)
      const x14 = history[start + 28]!
      const y11 = history[b - 22]!
      acc0 += c11 * (x11 + y11)
      acc1 += c11 * (x12 + y10)
      acc2 += c11 * (x13 + y9)
      acc3 += c11 * (x14 + y8)
      const x15 = history[start + 30]!
      const y12 = history[b - 24]!
      acc0 += c12 * (x12 + y12)
      acc1 += c12 * (x13 + y11)
      acc2 += c12 * (x14 + y10)
      acc3 += c12 * (x15 + y9)
      const x16 = history[start + 32]!
      const y13 = history[b - 26]!
      acc0 += c13 * (x13 + y13)
      acc1 += c13 * (x14 + y12)
      acc2 += c13 * (x15 + y11)
      acc3 += c13 * (x16 + y10)
      const x17 = history[start + 34]!
      const y14 = history[b - 28]!
      acc0 += c14 * (x14 + y14)
      acc1 += c14 * (x15 + y13)
      acc2 += c14 * (x16 + y12)
      acc3 += c14 * (x17 + y11)
      const x18 = history[start + 36]!
      const y15 = history[b - 30]!
      acc0 += c15 * (x15 + y15)
      acc1 += c15 * (x16 + y14)
      acc2 += c15 * (x17 + y13)
      acc3 += c15 * (x18 + y12)
      const x19 = history[start + 38]!
      const y16 = history[b - 32]!
      acc0 += c16 * (x16 + y16)
      acc1 += c16 * (x17 + y15)
      acc2 += c16 * (x18 + y14)
      acc3 += c16 * (x19 + y13)
      const x20 = history[start + 40]!
      const y17 = history[b - 34]!
      acc0 += c17 * (x17 + y17)
      acc1 += c17 * (x18 + y16)
      acc2 += c17 * (x19 + y15)
      acc3 += c17 * (x20 + y14)
      output[out] = acc0
      output[out + 1] = acc1
      output[out + 2] = acc2
      output[out + 3] = acc3
      out += 4
    }
    this.nextInput = start
    return this.runDown2(count, output, out)
  }

  /**
   * 1:M down: y = h[D]·x_D + Σ_{j<D, h[j]≠0} h[j]·(x_j + x_{2D−j}), every M inputs; four outputs at a time share each
   * coefficient load and run four independent sums. The exact zeros of the M-band filter are skipped (a zero term
   * adds ±0, which changes nothing but the sign of an output that is exactly zero).
   */
  private runDecimate(count: number, output: Float32Array, produced: number): number {
    const history = this.history
    const c = this.coefficients
    const pairs = this.phaseOffset // window index j of each non-zero pair
    const folded = this.foldedCount
    const span = this.tapsPerPhase - 1
    const half = span / 2
    const centerTap = this.centerTap
    const step = this.inputStep
    const step2 = 2 * step
    const step3 = 3 * step
    let out = produced
    let start = this.nextInput
    for (; start + step3 < count; start += 4 * step) {
      const centre = start + half
      let acc0 = centerTap * history[centre]!
      let acc1 = centerTap * history[centre + step]!
      let acc2 = centerTap * history[centre + step2]!
      let acc3 = centerTap * history[centre + step3]!
      const end = start + span
      for (let k = 0; k < folded; k++) {
        const ck = c[k]!
        const j = pairs[k]!
        const a = start + j
        const b = end - j
        acc0 += ck * (history[a]! + history[b]!)
        acc1 += ck * (history[a + step]! + history[b + step]!)
        acc2 += ck * (history[a + step2]! + history[b + step2]!)
        acc3 += ck * (history[a + step3]! + history[b + step3]!)
      }
      output[out] = acc0
      output[out + 1] = acc1
      output[out + 2] = acc2
      output[out + 3] = acc3
      out += 4
    }
    for (; start < count; start += step) {
      let acc = centerTap * history[start + half]!
      const end = start + span
      for (let k = 0; k < folded; k++) {
        const j = pairs[k]!
        acc += c[k]! * (history[start + j]! + history[end - j]!)
      }
      output[out++] = acc
    }
    this.nextInput = start
    return out
  }

  /**
   * L:1 up (16 → 48 k): each input q yields L outputs, phase p from table p over its trimmed span. Four inputs at a
   * time per phase share each coefficient load, with rotating loads as in runUp2; each output is one sum over j in
   * order, as in the tail loop.
   */
  private runUpsample(count: number, output: Float32Array, produced: number): number {
    const history = this.history
    const c = this.coefficients
    const offsets = this.phaseOffset
    const starts = this.phaseWindowStart
    const counts = this.phaseTapCount
    const up = this.upFactor
    let out = produced
    let start = this.nextInput
    for (; start + 3 < count; start += 4) {
      for (let phase = 0; phase < up; phase++) {
        let k = offsets[phase]!
        const end = k + counts[phase]!
        let w = start + starts[phase]!
        let acc0 = 0
        let acc1 = 0
        let acc2 = 0
        let acc3 = 0
        let x0 = history[w]!
        let x1 = history[w + 1]!
        let x2 = history[w + 2]!
        for (; k < end; k++) {
          const ck = c[k]!
          const x3 = history[w + 3]!
          acc0 += ck * x0
          acc1 += ck * x1
          acc2 += ck * x2
          acc3 += ck * x3
          x0 = x1
          x1 = x2
          x2 = x3
          w++
        }
        output[out + phase] = acc0
        output[out + up + phase] = acc1
        output[out + 2 * up + phase] = acc2
        output[out + 3 * up + phase] = acc3
      }
      out += 4 * up
    }
    for (; start < count; start++) {
      for (let phase = 0; phase < up; phase++) {
        let k = offsets[phase]!
        const end = k + counts[phase]!
        let w = start + starts[phase]!
        let acc = 0
        for (; k < end; k++) acc += c[k]! * history[w++]!
        output[out++] = acc
      }
    }
    this.nextInput = start
    return out
  }

  /**
   * General L/M: y = Σ_j table_p[j]·x_{start_p + j}, as four interleaved partial sums (j mod 4) so the adds do not
   * wait on each other; then p += M mod L, q += ⌊M/L⌋ (+1 on wrap).
   */
  private runPolyphase(count: number, output: Float32Array, produced: number): number {
    const history = this.history
    const c = this.coefficients
    const offsets = this.phaseOffset
    const starts = this.phaseWindowStart
    const counts = this.phaseTapCount
    const up = this.upFactor
    const phaseStep = this.phaseStep
    const inputStep = this.inputStep
    let out = produced
    let start = this.nextInput
    let phase = this.phase
    while (start < count) {
      let k = offsets[phase]!
      let w = start + starts[phase]!
      const end = k + counts[phase]!
      let acc0 = 0
      let acc1 = 0
      let acc2 = 0
      let acc3 = 0
      for (; k + 3 < end; k += 4) {
        acc0 += c[k]! * history[w]!
        acc1 += c[k + 1]! * history[w + 1]!
        acc2 += c[k + 2]! * history[w + 2]!
        acc3 += c[k + 3]! * history[w + 3]!
        w += 4
      }
      for (; k < end; k++) acc0 += c[k]! * history[w++]!
      output[out++] = acc0 + acc1 + (acc2 + acc3)
      phase += phaseStep
      start += inputStep
      if (phase >= up) {
        phase -= up
        start++
      }
    }
    this.nextInput = start
    this.phase = phase
    return out
  }

  /** Interpolated table: position p/L between table phases ⌊pP/L⌋ and +1, blended linearly. */
  private runInterpolated(count: number, output: Float32Array, produced: number): number {
    const history = this.history
    const c = this.coefficients
    const taps = this.tapsPerPhase
    const up = this.upFactor
    const phaseStep = this.phaseStep
    const inputStep = this.inputStep
    let out = produced
    let start = this.nextInput
    let phase = this.phase
    while (start < count) {
      const scaled = phase * RESAMPLER_INTERPOLATED_PHASES
      const tablePhase = Math.floor(scaled / up)
      const fraction = (scaled - tablePhase * up) / up
      const offset = tablePhase * taps
      let acc0 = 0
      let acc1 = 0
      for (let j = 0; j < taps; j++) {
        const x = history[start + j]!
        acc0 += c[offset + j]! * x
        acc1 += c[offset + taps + j]! * x
      }
      output[out++] = acc0 + fraction * (acc1 - acc0)
      phase += phaseStep
      start += inputStep
      if (phase >= up) {
        phase -= up
        start++
      }
    }
    this.nextInput = start
    this.phase = phase
    return out
  }
}

/**
 * history[at …] = input[from, from + count) as it is; returns 0 when every sample was finite and below 2^99 in
 * magnitude (so the clamp to ±RESAMPLER_INPUT_LIMIT would have left it as it is), NaN otherwise: then the caller
 * copies again with copyInputClamped. No per-sample branch.
 */
function copyInput(history: Float64Array, at: number, input: Float32Array, from: number, count: number): number {
  let check = 0
  let i = 0
  for (; i + 3 < count; i += 4) {
    const a = input[from + i]!
    const b = input[from + i + 1]!
    const c = input[from + i + 2]!
    const d = input[from + i + 3]!
    const sa = a * HUGE_SCALE
    const sb = b * HUGE_SCALE
    const sc = c * HUGE_SCALE
    const sd = d * HUGE_SCALE
    check += sa - sa + (sb - sb) + (sc - sc + (sd - sd))
    history[at + i] = a
    history[at + i + 1] = b
    history[at + i + 2] = c
    history[at + i + 3] = d
  }
  for (; i < count; i++) {
    const a = input[from + i]!
    const sa = a * HUGE_SCALE
    check += sa - sa
    history[at + i] = a
  }
  return check
}

/**
 * history[at …] = input[from, from + count) clamped to ±RESAMPLER_INPUT_LIMIT, without a per-sample branch: returns
 * NaN when a sample was non-finite (v − v is NaN only then; NaN fails both comparisons of the clamp), 0 otherwise.
 */
function copyInputClamped(history: Float64Array, at: number, input: Float32Array, from: number, count: number): number {
  let check = 0
  let i = 0
  for (; i + 3 < count; i += 4) {
    const a = input[from + i]!
    const b = input[from + i + 1]!
    const c = input[from + i + 2]!
    const d = input[from + i + 3]!
    check += a - a + (b - b) + (c - c + (d - d))
    history[at + i] = a > INPUT_LIMIT_32 ? INPUT_LIMIT_32 : a < -INPUT_LIMIT_32 ? -INPUT_LIMIT_32 : a
    history[at + i + 1] = b > INPUT_LIMIT_32 ? INPUT_LIMIT_32 : b < -INPUT_LIMIT_32 ? -INPUT_LIMIT_32 : b
    history[at + i + 2] = c > INPUT_LIMIT_32 ? INPUT_LIMIT_32 : c < -INPUT_LIMIT_32 ? -INPUT_LIMIT_32 : c
    history[at + i + 3] = d > INPUT_LIMIT_32 ? INPUT_LIMIT_32 : d < -INPUT_LIMIT_32 ? -INPUT_LIMIT_32 : d
  }
  for (; i < count; i++) {
    const a = input[from + i]!
    check += a - a
    history[at + i] = a > INPUT_LIMIT_32 ? INPUT_LIMIT_32 : a < -INPUT_LIMIT_32 ? -INPUT_LIMIT_32 : a
  }
  return check
}

/** The slow path of copyInput: the non-finite samples become 0; returns how many there were. */
function zeroNonFinite(history: Float64Array, at: number, input: Float32Array, from: number, count: number): number {
  let bad = 0
  for (let i = 0; i < count; i++) {
    const v = input[from + i]!
    if (v - v !== 0) {
      history[at + i] = 0
      bad++
    }
  }
  return bad
}

function checkRate(field: string, rateHz: number): void {
  if (!Number.isInteger(rateHz) || rateHz < RESAMPLER_MIN_RATE_HZ || rateHz > RESAMPLER_MAX_RATE_HZ) {
    throw new RangeError(
      `${field}: ${rateHz} is outside ${RESAMPLER_MIN_RATE_HZ}–${RESAMPLER_MAX_RATE_HZ} integer Hz (RESAMPLER_MIN_RATE_HZ–RESAMPLER_MAX_RATE_HZ)`,
    )
  }
}

/**
 * Kaiser-windowed sinc lowpass of odd length N, cut-off ν cycles/sample at the design rate, DC gain `gain` (the
 * number of phases, which the zero-stuffing divides out): h[i] = gain·2ν·sinc(2ν(i − D))·I0(β√(1 − ((i−D)/D)²))/I0(β).
 * Computed for i ≤ D and mirrored, so h is exactly symmetric.
 */
function designPrototype(length: number, cutoff: number, gain: number, stopbandDb: number): Float64Array {
  const h = new Float64Array(length)
  const center = (length - 1) / 2
  if (length === 1) {
    h[0] = 1
    return h
  }
  const beta = 0.1102 * (stopbandDb - 8.7)
  const i0Beta = besselI0(beta)
  for (let i = 0; i <= center; i++) {
    const t = i - center
    const x = 2 * cutoff * t
    const sinc = t === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x)
    const r = t / center
    const value = gain * 2 * cutoff * sinc * (besselI0(beta * Math.sqrt(1 - r * r)) / i0Beta)
    h[i] = value
    h[length - 1 - i] = value
  }
  return h
}

/** Modified Bessel function of the first kind, order 0: Σ ((x/2)^k / k!)². */
function besselI0(x: number): number {
  const half = x / 2
  let term = 1
  let sum = 1
  for (let k = 1; k < 500; k++) {
    term *= half / k
    const squared = term * term
    sum += squared
    if (squared < sum * 1e-17) break
  }
  return sum
}

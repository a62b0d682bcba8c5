/**
 * spectrum.ts: the FFTs every spectral stage uses (the echo canceller and its suppressor, the delay estimator, the
 * noise reducer), on fft.js.
 *
 * - ComplexFft: fft.js's radix-4 complex transform behind a small interface (interleaved re/im, unnormalized forward).
 * - RealFft: the real-input transform of N points through one ComplexFft of N/2 (the classic "two for one" packing
 *   z[n] = x[2n] + j·x[2n+1] and its split, e.g. Numerical Recipes §12.3): spectra interleaved re/im over bins 0…N/2,
 *   forward unnormalized, inverse with the 1/N, so inverse(forward(x)) = x.
 *
 * Cost with fft.js in V8 (one core of the project's machines): 0.6 µs for 128 points, 1.55–1.65 µs for 256, 3.0–3.1 µs
 * for 512, forward or inverse. The 256-point transform is the slow one: its complex transform of 128 points is an odd
 * power of two, which fft.js reaches through a radix-2 first stage of one call per butterfly (1.34 µs, against 0.44 for
 * 64 points and 2.36 for 256). Tried on fft.js, no gain: its own realTransform (1.64 µs for 256); a radix-2 split over
 * two fft.js transforms of N/4 (forward 1.55 → 1.85 µs, inverse unchanged: the extra passes and calls); the echo
 * canceller's two inverse transforms paired in one fft.js transform of 256 (−0.4 µs per pair alone, nothing measurable
 * in the canceller, and the leak between the pair breaks the exact zero of a silent path that the suppressor tests). A
 * hand-written radix-8/4 transform takes the 128 points in 0.83 µs and the canceller from 69.7 to 64.6 µs per frame;
 * the project builds on fft.js, as its issues ask, so it is not used here.
 * Nothing allocates after construction; transforms are not reentrant (one fft.js instance per size and one complex
 * scratch shared in the thread: sharedFft, realScratch), which stages that run one after another never need.
 */
import FFT from 'fft.js'

/** fft.js instances by size, shared by every transform of that size in the thread (see sharedFft). */
const fftBySize = new Map<number, FFT>()

/**
 * The fft.js instance of `size` points shared by every user of that size in this thread (the noise reducer's
 * 512-point real transform and the PLC's 256-point complex one use the same tables): its twiddle and bit-reversal
 * tables are read-only after construction, and a transform keeps nothing between calls (not reentrant, which
 * stages that run one after another never need). Cold path (construction).
 */
export function sharedFft(size: number): FFT {
  let fft = fftBySize.get(size)
  if (!fft) {
    fft = new FFT(size)
    fftBySize.set(size, fft)
  }
  return fft
}

/**
 * Complex scratch of the real transforms, shared by every RealFft in the thread: it holds data only within one
 * forward/inverse call, and no caller can pass it in (it is private here). Grown (a new buffer for the larger
 * size; earlier instances keep theirs) only past the pipeline's largest transform, the noise reducer's 512 points.
 */
let realScratch = new Float64Array(512)

/** Complex FFT of n points (a power of two ≥ 2), forward (e^(−2πikt/n)), unnormalized, interleaved re/im. */
export class ComplexFft {
  readonly size: number
  private readonly fft: FFT

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 2 || (size & (size - 1)) !== 0) {
      throw new RangeError(`ComplexFft size: ${size} is not a power of two ≥ 2`)
    }
    this.size = size
    this.fft = sharedFft(size)
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
  /** Complex scratch of N/2 points (interleaved, length ≥ N), shared (realScratch). */
  private readonly scratch: Float64Array
  /** cos(2πk/N), sin(2πk/N) for k = 0…N/4 − 1. */
  private readonly cosTable: Float64Array
  private readonly sinTable: Float64Array

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 4 || (size & (size - 1)) !== 0) {
      throw new RangeError(`RealFft size: ${size} is not a power of two ≥ 4`)
    }
    this.size = size
    this.half = new ComplexFft(size / 2)
    if (realScratch.length < size) realScratch = new Float64Array(size)
    this.scratch = realScratch
    // The split passes pair bins k and N/2 − k, so they read the twiddles of k < N/4 only.
    this.cosTable = new Float64Array(Math.max(1, size / 4))
    this.sinTable = new Float64Array(Math.max(1, size / 4))
    for (let k = 0; k < this.cosTable.length; k++) {
      this.cosTable[k] = Math.cos((2 * Math.PI * k) / size)
      this.sinTable[k] = Math.sin((2 * Math.PI * k) / size)
    }
  }

  /** Bytes of the scratch and tables (the complex transform's included; the shared ones counted as if owned). */
  get stateBytes(): number {
    return 8 * this.size + this.cosTable.byteLength + this.sinTable.byteLength + this.half.stateBytes
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

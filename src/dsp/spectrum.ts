/**
 * spectrum.ts: the FFTs every spectral stage uses (the echo canceller and its suppressor, the delay estimator, the
 * noise reducer).
 *
 * - ComplexFft: a radix-8/4 decimation-in-time complex transform of the project's own (interleaved re/im,
 *   unnormalized forward).
 * - RealFft: the real-input transform of N points through one ComplexFft of N/2 (the classic "two for one" packing
 *   z[n] = x[2n] + j·x[2n+1] and its split, e.g. Numerical Recipes §12.3): spectra interleaved re/im over bins 0…N/2,
 *   forward unnormalized, inverse with the 1/N, so inverse(forward(x)) = x.
 * - sharedFft: fft.js instances by size, for the code off the per-frame path that uses fft.js directly (the PLC's
 *   spectral generator, the VAD's own analysis).
 *
 * Why not fft.js here: it reaches odd powers of two through a radix-2 first stage of one call per butterfly, and the
 * echo canceller's 256-point real transform is a complex one of 128 points: 1.34 µs in fft.js, 0.74 µs here (64
 * points 0.44 → 0.35, 256 points 2.36 → 1.81). At these sizes V8 pays per call and per index computation about as
 * much as per flop, so a transform is one call (ComplexFft.run: the first stage, the radix-4 stages, and the last stage
 * as a flat loop), indices step by additions, and the real splits take their factors 1/2 and 1/h from one table of
 * W^k/2. Real transforms, forward and inverse: 128 points 0.56 and 0.48 µs, 256 points 1.10 and 1.06, 512 points 2.49
 * and 2.35 (fft.js: 0.6, 1.55–1.65, 3.0–3.1). The echo canceller and noise reducer on rt250 (`npm run bench --
 * versus`): ~77 µs per frame against ~85 with fft.js; speexdsp's echo canceller and preprocessor take 78–80 µs.
 * Tried and left out (no gain in the chain): fft.js's own realTransform; pairing two real transforms in one complex
 * one; a radix-2 split over two transforms of N/4; the split fused into the last radix-4 stage (V8 spills its 16 live
 * complex values); radix-8 stages with twiddles; inverses that compute only the half a caller keeps; forwards pruned
 * for inputs with a zero half (−0.09 µs a call). test/dsp/spectrum.test.ts checks both transforms against a naive DFT
 * (sizes 2–1024) and the real one against fft.js.
 * Nothing allocates after construction; transforms are not reentrant (one complex scratch shared in the thread:
 * realScratch), which stages that run one after another never need.
 */
import FFT from 'fft.js'

/** fft.js instances by size, shared by every user of that size in the thread (see sharedFft). */
const fftBySize = new Map<number, FFT>()

/**
 * The fft.js instance of `size` points shared by every user of that size in this thread (the PLC's spectral
 * generators and the VAD's own analysis): its twiddle and bit-reversal
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

/**
 * Complex FFT of n points (a power of two ≥ 2), forward (e^(−2πikt/n)), unnormalized, interleaved re/im.
 *
 * Decimation in time: a first stage that reads the input in digit-reversed order and does radix-8 butterflies (n an
 * odd power of two ≥ 8), radix-4 (even powers) or radix-2 (n = 2), with no twiddles; then radix-4 stages in place in
 * the output, their twiddles W^k, W^2k, W^3k stored per stage in the order the loops read them, the last stage (one
 * block) as a loop of its own. 64, 128 and 256 points: 0.35, 0.74 and 1.81 µs (fft.js 0.44, 1.34 and 2.36).
 */
export class ComplexFft {
  readonly size: number
  /** Points per first-stage butterfly: 8, 4 or 2. */
  private readonly first: number
  /** Each first-stage group's input offset in doubles (2 × the digit-reversed group index). */
  private readonly groupInput: Int32Array
  /** Per radix-4 stage (sub-transform length L = 4·first, 16·first, … n), k = 1 … L/4 − 1: W^k, W^2k, W^3k (re, im). */
  private readonly twiddles: Float64Array

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 2 || (size & (size - 1)) !== 0) {
      throw new RangeError(`ComplexFft size: ${size} is not a power of two ≥ 2`)
    }
    this.size = size
    const log = Math.round(Math.log2(size))
    this.first = log % 2 === 0 ? 4 : log >= 3 ? 8 : 2
    const groups = size / this.first
    // groups is a power of 4: the radix-4 stages that follow take the groups in base-4 digit-reversed order.
    const digits = Math.round(Math.log2(groups) / 2)
    this.groupInput = new Int32Array(groups)
    for (let g = 0; g < groups; g++) {
      let reversed = 0
      for (let d = 0, x = g; d < digits; d++, x >>= 2) reversed = 4 * reversed + (x & 3)
      this.groupInput[g] = 2 * reversed
    }
    let count = 0
    for (let length = 4 * this.first; length <= size; length *= 4) count += 6 * (length / 4 - 1)
    this.twiddles = new Float64Array(Math.max(1, count))
    let at = 0
    for (let length = 4 * this.first; length <= size; length *= 4) {
      for (let k = 1; k < length / 4; k++) {
        for (let m = 1; m <= 3; m++) {
          const angle = (-2 * Math.PI * m * k) / length
          this.twiddles[at++] = Math.cos(angle)
          this.twiddles[at++] = Math.sin(angle)
        }
      }
    }
  }

  /** The twiddles and the first stage's input offsets. */
  get stateBytes(): number {
    return this.twiddles.byteLength + this.groupInput.byteLength
  }

  /** output = DFT(input), both interleaved complex of `size` points; they must not alias. */
  transform(output: Float64Array, input: Float64Array): void {
    this.run(output, input)
  }

  /**
   * The transform in one call (calls cost at these sizes): the first stage, the radix-4 stages but the last, and the
   * last one as a loop of its own.
   */
  run(output: Float64Array, input: Float64Array): void {
    const first = this.first
    if (first === 8) this.firstStage8(output, input)
    else if (first === 4) this.firstStage4(output, input)
    else this.firstStage2(output, input)
    const n = this.size
    if (n < 4 * first) return
    const tw = this.twiddles
    const end = 2 * n
    let t = 0
    // Every radix-4 stage but the last: blocks of `length` points, butterflies k and k + L/4, k + L/2, k + 3L/4.
    for (let length = 4 * first; length < n; length *= 4) {
      const q2 = length >> 1 // a quarter of the sub-transform, in doubles
      const span = 2 * length
      // k = 0: the twiddles are 1.
      for (let a = 0; a < end; a += span) {
        const b = (a + q2) | 0
        const c = (b + q2) | 0
        const d = (c + q2) | 0
        const ar = output[a]!
        const ai = output[(a + 1) | 0]!
        const br = output[b]!
        const bi = output[(b + 1) | 0]!
        const cr = output[c]!
        const ci = output[(c + 1) | 0]!
        const dr = output[d]!
        const di = output[(d + 1) | 0]!
        const t0r = ar + cr
        const t0i = ai + ci
        const t1r = ar - cr
        const t1i = ai - ci
        const t2r = br + dr
        const t2i = bi + di
        const t3r = br - dr
        const t3i = bi - di
        output[a] = t0r + t2r
        output[(a + 1) | 0] = t0i + t2i
        output[b] = t1r + t3i
        output[(b + 1) | 0] = t1i - t3r
        output[c] = t0r - t2r
        output[(c + 1) | 0] = t0i - t2i
        output[d] = t1r - t3i
        output[(d + 1) | 0] = t1i + t3r
      }
      for (let k2 = 2; k2 < q2; k2 += 2, t += 6) {
        const w1r = tw[t]!
        const w1i = tw[(t + 1) | 0]!
        const w2r = tw[(t + 2) | 0]!
        const w2i = tw[(t + 3) | 0]!
        const w3r = tw[(t + 4) | 0]!
        const w3i = tw[(t + 5) | 0]!
        for (let a = k2; a < end; a += span) {
          const b = (a + q2) | 0
          const c = (b + q2) | 0
          const d = (c + q2) | 0
          const ar = output[a]!
          const ai = output[(a + 1) | 0]!
          // The quarters hold the sub-transforms of the inputs ≡ 0, 2, 1, 3 (mod 4): B is multiplied by W^k, C by
          // W^2k, D by W^3k, and C pairs with A first (the radix-2 structure inside the radix-4 butterfly).
          const xbr = output[b]!
          const xbi = output[(b + 1) | 0]!
          const xcr = output[c]!
          const xci = output[(c + 1) | 0]!
          const xdr = output[d]!
          const xdi = output[(d + 1) | 0]!
          const br = xbr * w1r - xbi * w1i
          const bi = xbr * w1i + xbi * w1r
          const cr = xcr * w2r - xci * w2i
          const ci = xcr * w2i + xci * w2r
          const dr = xdr * w3r - xdi * w3i
          const di = xdr * w3i + xdi * w3r
          const t0r = ar + cr
          const t0i = ai + ci
          const t1r = ar - cr
          const t1i = ai - ci
          const t2r = br + dr
          const t2i = bi + di
          const t3r = br - dr
          const t3i = bi - di
          output[a] = t0r + t2r
          output[(a + 1) | 0] = t0i + t2i
          output[b] = t1r + t3i
          output[(b + 1) | 0] = t1i - t3r
          output[c] = t0r - t2r
          output[(c + 1) | 0] = t0i - t2i
          output[d] = t1r - t3i
          output[(d + 1) | 0] = t1i + t3r
        }
      }
    }
    // The last stage (one block of n points): the butterflies' loop alone, k = 0 (twiddles 1) apart.
    const q2 = n >> 1
    {
      const a = 0
      const b = q2
      const c = (b + q2) | 0
      const d = (c + q2) | 0
      const ar = output[a]!
      const ai = output[(a + 1) | 0]!
      const br = output[b]!
      const bi = output[(b + 1) | 0]!
      const cr = output[c]!
      const ci = output[(c + 1) | 0]!
      const dr = output[d]!
      const di = output[(d + 1) | 0]!
      const t0r = ar + cr
      const t0i = ai + ci
      const t1r = ar - cr
      const t1i = ai - ci
      const t2r = br + dr
      const t2i = bi + di
      const t3r = br - dr
      const t3i = bi - di
      output[a] = t0r + t2r
      output[(a + 1) | 0] = t0i + t2i
      output[b] = t1r + t3i
      output[(b + 1) | 0] = t1i - t3r
      output[c] = t0r - t2r
      output[(c + 1) | 0] = t0i - t2i
      output[d] = t1r - t3i
      output[(d + 1) | 0] = t1i + t3r
    }
    for (let a = 2; a < q2; a += 2, t += 6) {
      const w1r = tw[t]!
      const w1i = tw[(t + 1) | 0]!
      const w2r = tw[(t + 2) | 0]!
      const w2i = tw[(t + 3) | 0]!
      const w3r = tw[(t + 4) | 0]!
      const w3i = tw[(t + 5) | 0]!
      const b = (a + q2) | 0
      const c = (b + q2) | 0
      const d = (c + q2) | 0
      const ar = output[a]!
      const ai = output[(a + 1) | 0]!
      const xbr = output[b]!
      const xbi = output[(b + 1) | 0]!
      const xcr = output[c]!
      const xci = output[(c + 1) | 0]!
      const xdr = output[d]!
      const xdi = output[(d + 1) | 0]!
      const br = xbr * w1r - xbi * w1i
      const bi = xbr * w1i + xbi * w1r
      const cr = xcr * w2r - xci * w2i
      const ci = xcr * w2i + xci * w2r
      const dr = xdr * w3r - xdi * w3i
      const di = xdr * w3i + xdi * w3r
      const t0r = ar + cr
      const t0i = ai + ci
      const t1r = ar - cr
      const t1i = ai - ci
      const t2r = br + dr
      const t2i = bi + di
      const t3r = br - dr
      const t3i = bi - di
      output[a] = t0r + t2r
      output[(a + 1) | 0] = t0i + t2i
      output[b] = t1r + t3i
      output[(b + 1) | 0] = t1i - t3r
      output[c] = t0r - t2r
      output[(c + 1) | 0] = t0i - t2i
      output[d] = t1r - t3i
      output[(d + 1) | 0] = t1i + t3r
    }
  }

  /** Radix-8 DFTs of the groups' inputs (stride n/8 points apart) into consecutive outputs. */
  private firstStage8(output: Float64Array, input: Float64Array): void {
    const h = Math.SQRT1_2
    const offsets = this.groupInput
    const groups = offsets.length
    const s = 2 * groups // the stride between a group's inputs, in doubles
    for (let g = 0, o = 0; g < groups; g++, o += 16) {
      const i0 = offsets[g]!
      const i1 = (i0 + s) | 0
      const i2 = (i1 + s) | 0
      const i3 = (i2 + s) | 0
      const i4 = (i3 + s) | 0
      const i5 = (i4 + s) | 0
      const i6 = (i5 + s) | 0
      const i7 = (i6 + s) | 0
      const x0r = input[i0]!
      const x0i = input[(i0 + 1) | 0]!
      const x1r = input[i1]!
      const x1i = input[(i1 + 1) | 0]!
      const x2r = input[i2]!
      const x2i = input[(i2 + 1) | 0]!
      const x3r = input[i3]!
      const x3i = input[(i3 + 1) | 0]!
      const x4r = input[i4]!
      const x4i = input[(i4 + 1) | 0]!
      const x5r = input[i5]!
      const x5i = input[(i5 + 1) | 0]!
      const x6r = input[i6]!
      const x6i = input[(i6 + 1) | 0]!
      const x7r = input[i7]!
      const x7i = input[(i7 + 1) | 0]!
      // Radix-2 over (x_m, x_m+4), then the DFT-4s of the even and odd inputs, then W8 and the last radix-2.
      const a0r = x0r + x4r
      const a0i = x0i + x4i
      const a1r = x0r - x4r
      const a1i = x0i - x4i
      const a2r = x2r + x6r
      const a2i = x2i + x6i
      const a3r = x2r - x6r
      const a3i = x2i - x6i
      const a4r = x1r + x5r
      const a4i = x1i + x5i
      const a5r = x1r - x5r
      const a5i = x1i - x5i
      const a6r = x3r + x7r
      const a6i = x3i + x7i
      const a7r = x3r - x7r
      const a7i = x3i - x7i
      const e0r = a0r + a2r
      const e0i = a0i + a2i
      const e2r = a0r - a2r
      const e2i = a0i - a2i
      const e1r = a1r + a3i
      const e1i = a1i - a3r
      const e3r = a1r - a3i
      const e3i = a1i + a3r
      const o0r = a4r + a6r
      const o0i = a4i + a6i
      const o2r = a4r - a6r
      const o2i = a4i - a6i
      const o1r = a5r + a7i
      const o1i = a5i - a7r
      const o3r = a5r - a7i
      const o3i = a5i + a7r
      // W8^1 = (1 − j)/√2, W8^2 = −j, W8^3 = −(1 + j)/√2
      const t1r = h * (o1r + o1i)
      const t1i = h * (o1i - o1r)
      const t3r = h * (o3i - o3r)
      const t3i = -h * (o3r + o3i)
      output[o] = e0r + o0r
      output[(o + 1) | 0] = e0i + o0i
      output[(o + 2) | 0] = e1r + t1r
      output[(o + 3) | 0] = e1i + t1i
      output[(o + 4) | 0] = e2r + o2i
      output[(o + 5) | 0] = e2i - o2r
      output[(o + 6) | 0] = e3r + t3r
      output[(o + 7) | 0] = e3i + t3i
      output[(o + 8) | 0] = e0r - o0r
      output[(o + 9) | 0] = e0i - o0i
      output[(o + 10) | 0] = e1r - t1r
      output[(o + 11) | 0] = e1i - t1i
      output[(o + 12) | 0] = e2r - o2i
      output[(o + 13) | 0] = e2i + o2r
      output[(o + 14) | 0] = e3r - t3r
      output[(o + 15) | 0] = e3i - t3i
    }
  }

  /** Radix-4 DFTs of the groups' inputs (stride n/4 points apart) into consecutive outputs. */
  private firstStage4(output: Float64Array, input: Float64Array): void {
    const offsets = this.groupInput
    const groups = offsets.length
    const s = 2 * groups
    for (let g = 0, o = 0; g < groups; g++, o += 8) {
      const i0 = offsets[g]!
      const i1 = (i0 + s) | 0
      const i2 = (i1 + s) | 0
      const i3 = (i2 + s) | 0
      const x0r = input[i0]!
      const x0i = input[(i0 + 1) | 0]!
      const x1r = input[i1]!
      const x1i = input[(i1 + 1) | 0]!
      const x2r = input[i2]!
      const x2i = input[(i2 + 1) | 0]!
      const x3r = input[i3]!
      const x3i = input[(i3 + 1) | 0]!
      const ar = x0r + x2r
      const ai = x0i + x2i
      const br = x0r - x2r
      const bi = x0i - x2i
      const cr = x1r + x3r
      const ci = x1i + x3i
      const dr = x1r - x3r
      const di = x1i - x3i
      output[o] = ar + cr
      output[(o + 1) | 0] = ai + ci
      output[(o + 2) | 0] = br + di
      output[(o + 3) | 0] = bi - dr
      output[(o + 4) | 0] = ar - cr
      output[(o + 5) | 0] = ai - ci
      output[(o + 6) | 0] = br - di
      output[(o + 7) | 0] = bi + dr
    }
  }

  /** n = 2: one radix-2 butterfly. */
  private firstStage2(output: Float64Array, input: Float64Array): void {
    const x0r = input[0]!
    const x0i = input[1]!
    const x1r = input[2]!
    const x1i = input[3]!
    output[0] = x0r + x1r
    output[1] = x0i + x1i
    output[2] = x0r - x1r
    output[3] = x0i - x1i
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
  /** cos(2πk/N)/2, sin(2πk/N)/2 interleaved for k = 0…N/4 − 1 (the splits' twiddles, with their factor 1/2). */
  private readonly halfTwiddles: Float64Array

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 4 || (size & (size - 1)) !== 0) {
      throw new RangeError(`RealFft size: ${size} is not a power of two ≥ 4`)
    }
    this.size = size
    const h = size / 2
    this.half = new ComplexFft(h)
    if (realScratch.length < size) realScratch = new Float64Array(size)
    this.scratch = realScratch
    // The split passes pair bins k and N/2 − k, so they read the twiddles of k < N/4 only.
    this.halfTwiddles = new Float64Array(size / 2)
    for (let k = 0; k < size / 4; k++) {
      this.halfTwiddles[2 * k] = 0.5 * Math.cos((2 * Math.PI * k) / size)
      this.halfTwiddles[2 * k + 1] = 0.5 * Math.sin((2 * Math.PI * k) / size)
    }
  }

  /** Bytes of the scratch and tables (the complex transform's included; the shared ones counted as if owned). */
  get stateBytes(): number {
    return 8 * this.size + this.halfTwiddles.byteLength + this.half.stateBytes
  }

  /** output[0 … N−1] = IDFT(spectrum[at …]) / N, for the spectrum of a real signal (bins 0…N/2). Must not alias. */
  inverse(spectrum: Float64Array, output: Float64Array, at = 0): void {
    const h = this.size >> 1
    const z = this.scratch
    const cs = this.halfTwiddles
    const scale = 0.5 / h
    const scale2 = 1 / h
    // Z[k] = Xe[k] + j·Xo[k], Xe = (X[k] + X*[h−k])/2, Xo = (X[k] − X*[h−k])/2 · W^−k; z = IDFT_h(Z) = (x_even, x_odd).
    // IDFT_h(Z)[n] = DFT_h(Z[(h − k) mod h])[n] / h: the forward transform of Z stored index-reversed (so no
    // conjugations and no pass over the output); bins k and h − k again in pairs, each stored at the other's place.
    // The factors 1/2 and 1/h are taken once per term (1/2 of W^−k in the table).
    const end = at + 2 * h
    {
      const x0 = spectrum[at]!
      const xh = spectrum[end]!
      z[0] = scale * (x0 + xh)
      z[1] = scale * (x0 - xh)
    }
    for (let a = 2, b = 2 * h - 2; a < b; a += 2, b -= 2) {
      const i = (at + a) | 0
      const j = (at + b) | 0
      const ar = spectrum[i]!
      const ai = spectrum[(i + 1) | 0]!
      const br = spectrum[j]!
      const bi = -spectrum[(j + 1) | 0]!
      const er = scale * (ar + br)
      const ei = scale * (ai + bi)
      const dr = scale2 * (ar - br)
      const di = scale2 * (ai - bi)
      const c = cs[a]!
      const s = cs[(a + 1) | 0]!
      const or = dr * c - di * s
      const oi = dr * s + di * c
      z[b] = er - oi // Z[k]
      z[(b + 1) | 0] = ei + or
      z[a] = er + oi // Z[h − k]
      z[(a + 1) | 0] = or - ei
    }
    // Bin N/4 (k = h/2): W^−k = j.
    z[h] = scale2 * spectrum[at + h]!
    z[h + 1] = -scale2 * spectrum[at + h + 1]!
    this.half.run(output, z)
  }

  /** spectrum[at … at+N+1] = DFT(input[0 … N−1]) for bins 0…N/2, interleaved. input and spectrum must not alias. */
  forward(input: Float64Array, spectrum: Float64Array, at = 0): void {
    const z = this.scratch
    this.half.run(z, input)
    const h = this.size >> 1
    const cs = this.halfTwiddles
    // X[k] = Xe[k] + W^k·Xo[k], Xe = (Z[k] + Z*[h−k])/2, Xo = (Z[k] − Z*[h−k])/2j, W = e^(−2πj/N). Bins k and h − k
    // share their inputs (and W^(h−k) = −W^(−k)*), so each pass computes both; the table holds W^k/2.
    const end = at + 2 * h
    spectrum[at] = z[0]! + z[1]!
    spectrum[(at + 1) | 0] = 0
    spectrum[end] = z[0]! - z[1]!
    spectrum[(end + 1) | 0] = 0
    for (let a = 2, b = 2 * h - 2; a < b; a += 2, b -= 2) {
      const ar = z[a]!
      const ai = z[(a + 1) | 0]!
      const br = z[b]!
      const bi = z[(b + 1) | 0]!
      const er = 0.5 * (ar + br)
      const ei = 0.5 * (ai - bi)
      const or = ai + bi
      const oi = br - ar
      const c = cs[a]!
      const s = cs[(a + 1) | 0]!
      const u = c * or + s * oi
      const v = c * oi - s * or
      const i = (at + a) | 0
      const j = (at + b) | 0
      spectrum[i] = er + u
      spectrum[(i + 1) | 0] = ei + v
      spectrum[j] = er - u
      spectrum[(j + 1) | 0] = v - ei
    }
    // Bin N/4: W = −j.
    spectrum[at + h] = z[h]!
    spectrum[at + h + 1] = -z[h + 1]!
  }
}

/**
 * Units and small helpers shared by every DSP stage: rates and frame sizes, dB/RMS, clamping,
 * wrap-safe comparison of RTP sequence numbers (16 bit) and timestamps (32 bit), fast ln/exp for per-bin statistics,
 * and a band limit's bins (the echo canceller's and noise reducer's band-limited near end).
 * Pure TypeScript: no Node, Electron or DOM.
 */

export const SAMPLE_RATE_8K = 8000
export const SAMPLE_RATE_16K = 16000
export const FRAME_MS = 20
export const FRAME_SAMPLES_8K = (SAMPLE_RATE_8K * FRAME_MS) / 1000 // 160
export const FRAME_SAMPLES_16K = (SAMPLE_RATE_16K * FRAME_MS) / 1000 // 320

/** Power below which a level reads as silence: 1e-12 ≈ -120 dBFS. */
export const POWER_FLOOR = 1e-12

export function msToSamples(ms: number, sampleRateHz: number): number {
  return Math.round((ms * sampleRateHz) / 1000)
}

export function samplesToMs(samples: number, sampleRateHz: number): number {
  return (samples * 1000) / sampleRateHz
}

export function clamp(value: number, low: number, high: number): number {
  return value < low ? low : value > high ? high : value
}

/** Greatest common divisor of two non-negative integers (Euclid). */
export function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b
    a = b
    b = t
  }
  return a
}

/** Mean square of x[start, end). */
export function meanSquare(x: ArrayLike<number>, start = 0, end = x.length): number {
  let sum = 0
  for (let i = start; i < end; i++) {
    const v = x[i]!
    sum += v * v
  }
  return end > start ? sum / (end - start) : 0
}

export function rms(x: ArrayLike<number>, start = 0, end = x.length): number {
  return Math.sqrt(meanSquare(x, start, end))
}

/** Power (mean square, full scale = 1) to dB, floored at -120 dB. */
export function powerToDb(power: number): number {
  return 10 * Math.log10(power > POWER_FLOOR ? power : POWER_FLOOR)
}

/** Amplitude ratio to dB, floored at -120 dB. */
export function amplitudeToDb(amplitude: number): number {
  return powerToDb(amplitude * amplitude)
}

/**
 * Signed distance b − a between two 16-bit RTP sequence numbers, in (−32768, 32768]:
 * seqDiff(65535, 0) === 1, seqDiff(0, 65535) === −1.
 */
export function seqDiff(a: number, b: number): number {
  const d = (b - a) & 0xffff
  return d > 0x8000 ? d - 0x10000 : d
}

/** True when sequence number a comes before b (wrap-safe). */
export function seqBefore(a: number, b: number): boolean {
  return seqDiff(a, b) > 0
}

/** Signed distance b − a between two 32-bit RTP timestamps (wrap-safe). */
export function timestampDiff(a: number, b: number): number {
  return ((b - a) | 0) as number
}

/** Replaces NaN and ±Infinity with 0 and clamps to [-1, 1] in place; returns how many samples were not finite. */
export function sanitize(x: Float32Array, start = 0, end = x.length): number {
  let bad = 0
  for (let i = start; i < end; i++) {
    const v = x[i]!
    if (v !== v || v === Infinity || v === -Infinity) {
      x[i] = 0
      bad++
    } else if (v > 1) x[i] = 1
    else if (v < -1) x[i] = -1
  }
  return bad
}

// Fast ln and exp for per-bin and per-band statistics (the noise reducer's and the VAD's; about 2.5× faster than
// Math.log/Math.exp, which V8 calls out of line): the exponent is read from the bits of the double, the mantissa's
// log and 2^fraction are polynomials (|error| < 2e-6 and < 1e-5 relative).
const bitsScratch = new Float64Array(1)
const bitsWords = new Uint32Array(bitsScratch.buffer)
bitsScratch[0] = 1
const HIGH_WORD = bitsWords[1] === 0x3ff00000 ? 1 : 0 // the word holding sign and exponent (endianness)
/** 2^(i − 1023) and 2^(1023 − i), i = 0…2047. */
const POW2 = new Float64Array(2048)
const INVERSE_POW2 = new Float64Array(2048)
for (let i = 0; i < 2048; i++) {
  POW2[i] = 2 ** (i - 1023)
  INVERSE_POW2[i] = 2 ** (1023 - i)
}

/** ln(x) for finite x ≥ 1e-300 (normal doubles); |error| < 2e-6. */
export function fastLn(x: number): number {
  bitsScratch[0] = x
  const exponent = bitsWords[HIGH_WORD]! >>> 20 // biased; x > 0 so the sign bit is 0
  const t = x * INVERSE_POW2[exponent]! - 1 // mantissa − 1, in [0, 1)
  // log2(1 + t), a degree-6 fit on [0, 1)
  const log2 = t * (1.4425449 + t * (-0.7181452 + t * (0.4575485 + t * (-0.2779042 + t * (0.121797 - t * 0.0258411)))))
  return (exponent - 1023 + log2) * Math.LN2
}

/** e^y, y clamped to ±690; relative error < 1e-5. */
export function fastExp(y: number): number {
  let v = y * Math.LOG2E
  v = v < -995 ? -995 : v > 995 ? 995 : v
  const n = Math.floor(v)
  const f = v - n // 2^f on [0, 1), degree-6 Taylor-like fit
  const p = 1 + f * (0.6931472 + f * (0.2402265 + f * (0.0555041 + f * (0.0096181 + f * (0.0013334 + f * 0.000154)))))
  return p * POW2[n + 1023]!
}

/** The bins [0, n) of an fftSize-point spectrum at sampleRateHz that reach up to bandwidthHz (0: all fftSize/2 + 1). */
export function bandBins(bandwidthHz: number, fftSize: number, sampleRateHz: number): number {
  const bins = fftSize / 2 + 1
  return bandwidthHz > 0 ? Math.min(bins, Math.ceil((bandwidthHz * fftSize) / sampleRateHz) + 1) : bins
}

/** A band limit is 0 (full band) or 1000 Hz … Nyquist: RangeError naming `field` otherwise. */
export function checkBandwidth(field: string, bandwidthHz: number, sampleRateHz: number): void {
  if (!(bandwidthHz === 0 || (bandwidthHz >= 1000 && bandwidthHz <= sampleRateHz / 2)))
    throw new RangeError(`${field}: ${bandwidthHz} is not 0 (full band) or 1000–${sampleRateHz / 2}`)
}

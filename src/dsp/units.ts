/**
 * Units and small helpers shared by every DSP stage: rates and frame sizes, dB/RMS, clamping,
 * and wrap-safe comparison of RTP sequence numbers (16 bit) and timestamps (32 bit).
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

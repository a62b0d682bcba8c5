/**
 * Seeded test signals and the quality metrics of METRICS.md (the project's copy: tests must not need ../shared).
 * All metrics take Float32/Float64 samples in [-1, 1].
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import FFT from 'fft.js'
import { Random } from '../../src/dsp/random'
import { decodeWav } from './wav'

export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/', import.meta.url))

export function tone(
  frequencyHz: number,
  sampleRateHz: number,
  length: number,
  amplitude = 0.5,
  phase = 0,
): Float32Array {
  const out = new Float32Array(length)
  for (let i = 0; i < length; i++) out[i] = amplitude * Math.sin((2 * Math.PI * frequencyHz * i) / sampleRateHz + phase)
  return out
}

export function whiteNoise(length: number, amplitude: number, seed: number): Float32Array {
  const random = new Random(seed)
  const out = new Float32Array(length)
  for (let i = 0; i < length; i++) out[i] = amplitude * random.normal()
  return out
}

/** Reads a mono WAV fixture from test/fixtures as Float32 in [-1, 1]. */
export function readWavFixture(name: string): { samples: Float32Array; sampleRateHz: number } {
  return decodeWav(readFileSync(FIXTURES_DIR + name), name)
}

/** Σx², over [start, end). */
export function energy(x: ArrayLike<number>, start = 0, end = x.length): number {
  let sum = 0
  for (let i = start; i < end; i++) sum += x[i]! * x[i]!
  return sum
}

export function hasNonFinite(x: ArrayLike<number>): boolean {
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i]!)) return true
  return false
}

/** Lag (in samples) of y against s by cross-correlation over ±maxLag: y[n] ≈ s[n − lag]. */
export function alignmentLag(s: ArrayLike<number>, y: ArrayLike<number>, maxLag = 640): number {
  let bestLag = 0
  let best = -Infinity
  const n = Math.min(s.length, y.length)
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    let sum = 0
    for (let i = Math.max(0, lag); i < n && i - lag < n; i++) sum += y[i]! * s[i - lag]!
    if (sum > best) {
      best = sum
      bestLag = lag
    }
  }
  return bestLag
}

/** SNR (dB) = 10·log10(Σs² / Σ(y−s)²), with y shifted back by lag. */
export function snrDb(s: ArrayLike<number>, y: ArrayLike<number>, lag = 0): number {
  let signal = 0
  let error = 0
  for (let i = 0; i < s.length; i++) {
    const j = i + lag
    if (j < 0 || j >= y.length) continue
    signal += s[i]! * s[i]!
    const e = y[j]! - s[i]!
    error += e * e
  }
  return 10 * Math.log10(signal / Math.max(error, 1e-30))
}

/**
 * Log-spectral distance (dB) of METRICS.md for the frames listed: per frame a Hann window over frameSamples,
 * zero-padded fftSize-point FFT, LSD = sqrt(mean over bins of (10·log10(P_s+1e−8) − 10·log10(P_y+1e−8))²),
 * averaged over the frames. 16 kHz: frameSamples 320, fftSize 512; at 8 kHz the same 31.25 Hz bins are 160 / 256.
 */
export function lsdDb(
  s: ArrayLike<number>,
  y: ArrayLike<number>,
  frames: readonly number[],
  frameSamples = 320,
  fftSize = 512,
): number {
  const fft = new FFT(fftSize)
  const input = new Float64Array(fftSize)
  // Typed buffers, as the DSP's transforms use: fft.js stays monomorphic when a bench scores and runs in one process.
  const spectrumS = new Float64Array(2 * fftSize)
  const spectrumY = new Float64Array(2 * fftSize)
  const window = new Float64Array(frameSamples)
  for (let i = 0; i < frameSamples; i++) window[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / frameSamples)
  let total = 0
  for (const frame of frames) {
    const start = frame * frameSamples
    input.fill(0)
    for (let i = 0; i < frameSamples; i++) input[i] = (s[start + i] ?? 0) * window[i]!
    fft.realTransform(spectrumS, input)
    input.fill(0)
    for (let i = 0; i < frameSamples; i++) input[i] = (y[start + i] ?? 0) * window[i]!
    fft.realTransform(spectrumY, input)
    let sum = 0
    const bins = fftSize / 2 + 1
    for (let k = 0; k < bins; k++) {
      const ps = spectrumS[2 * k]! ** 2 + spectrumS[2 * k + 1]! ** 2
      const py = spectrumY[2 * k]! ** 2 + spectrumY[2 * k + 1]! ** 2
      const d = 10 * Math.log10(ps + 1e-8) - 10 * Math.log10(py + 1e-8)
      sum += d * d
    }
    total += Math.sqrt(sum / bins)
  }
  return frames.length > 0 ? total / frames.length : 0
}

/** Indices of frames within 40 dB of the loudest frame of s (METRICS.md "speech-active"). */
export function activeFrames(s: ArrayLike<number>, frameSamples = 320, rangeDb = 40): number[] {
  const count = Math.floor(s.length / frameSamples)
  const powers = new Float64Array(count)
  let loudest = 0
  for (let f = 0; f < count; f++) {
    powers[f] = energy(s, f * frameSamples, (f + 1) * frameSamples) / frameSamples
    loudest = Math.max(loudest, powers[f]!)
  }
  const threshold = loudest * 10 ** (-rangeDb / 10)
  const out: number[] = []
  for (let f = 0; f < count; f++) if (powers[f]! > threshold && powers[f]! > 0) out.push(f)
  return out
}

/** Magnitude (dB, relative to amplitude 1) of the component of x at frequencyHz, by a windowed single-bin DFT. */
export function toneLevelDb(
  x: ArrayLike<number>,
  frequencyHz: number,
  sampleRateHz: number,
  start = 0,
  end = x.length,
): number {
  let re = 0
  let im = 0
  let windowSum = 0
  const n = end - start
  for (let i = 0; i < n; i++) {
    const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1)) // Hann
    const phase = (2 * Math.PI * frequencyHz * (start + i)) / sampleRateHz
    re += w * x[start + i]! * Math.cos(phase)
    im -= w * x[start + i]! * Math.sin(phase)
    windowSum += w
  }
  const amplitude = (2 * Math.hypot(re, im)) / windowSum
  return 20 * Math.log10(Math.max(amplitude, 1e-15))
}

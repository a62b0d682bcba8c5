/**
 * One spectrogram column: a Hann-windowed FFT (fft.js, radix-4) of `fftSize` samples read from a ring, as level in
 * dBFS per bin, where a full-scale sine centred on a bin reads 0 dBFS (|X| normalised by Σw/2, the window's coherent
 * gain). Then mapped to colour-table indices over a fixed dB range. Allocates only in the constructor.
 */
import FFT from 'fft.js'
import type { SampleRing } from './rings'

/** Level floor (no log of 0): −200 dBFS. */
const POWER_FLOOR = 1e-20

export class SpectrumColumn {
  readonly fftSize: number
  /** fftSize/2 bins, 0 … Nyquist exclusive. */
  readonly bins: number
  readonly levelsDb: Float32Array
  private readonly fft: FFT
  private readonly window: Float64Array
  private readonly frame: Float32Array
  private readonly input: Float64Array
  private readonly spectrum: Float64Array
  private readonly scale: number

  constructor(fftSize: number) {
    if (!Number.isInteger(Math.log2(fftSize)) || fftSize < 16 || fftSize > 16384)
      throw new RangeError(`fftSize: ${fftSize} (a power of 2, 16 … 16384)`)
    this.fftSize = fftSize
    this.bins = fftSize / 2
    this.fft = new FFT(fftSize)
    this.window = new Float64Array(fftSize)
    let sum = 0
    for (let i = 0; i < fftSize; i++) {
      const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / fftSize)
      this.window[i] = w
      sum += w
    }
    this.scale = 1 / ((sum / 2) * (sum / 2))
    this.frame = new Float32Array(fftSize)
    this.input = new Float64Array(fftSize)
    this.spectrum = new Float64Array(fftSize * 2)
    this.levelsDb = new Float32Array(this.bins)
  }

  /** Levels (dBFS) of the `fftSize` samples from absolute position `start` of `ring`, into `levelsDb`. */
  computeFromRing(ring: SampleRing, start: number): Float32Array {
    ring.copyFrom(start, this.frame)
    return this.compute(this.frame)
  }

  /** Levels (dBFS) of the first `fftSize` samples of `samples`, into `levelsDb` (non-finite samples read as 0). */
  compute(samples: Float32Array): Float32Array {
    const n = this.fftSize
    for (let i = 0; i < n; i++) {
      const x = samples[i]!
      this.input[i] = Number.isFinite(x) ? x * this.window[i]! : 0
    }
    this.fft.realTransform(this.spectrum, this.input)
    for (let k = 0; k < this.bins; k++) {
      const re = this.spectrum[2 * k]!
      const im = this.spectrum[2 * k + 1]!
      this.levelsDb[k] = 10 * Math.log10(Math.max(POWER_FLOOR, (re * re + im * im) * this.scale))
    }
    return this.levelsDb
  }
}

/** Maps levels to colour indices 0 … 255 over [minDb, maxDb] (clamped). */
export function levelsToIndices(levelsDb: Float32Array, minDb: number, maxDb: number, out: Uint8Array): void {
  const k = 255 / (maxDb - minDb)
  for (let i = 0; i < out.length; i++) {
    const v = (levelsDb[i]! - minDb) * k
    out[i] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v)
  }
}

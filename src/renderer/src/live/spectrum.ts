/**
 * Spectrogram building blocks, all allocation-free after construction:
 * - SpectrumColumn: a Hann-windowed FFT (fft.js, radix-4) of `fftSize` samples read from a ring, as level in dBFS per
 *   bin, where a full-scale sine centred on a bin reads 0 dBFS (|X| normalised by Σw/2, the window's coherent gain).
 * - SpectrogramHistory: the last columns' levels in one preallocated Float32 ring (with each column's sample
 *   position), so a changed dB range or colour map re-colours what is shown, and the cursor readout is exact.
 * - The frequency axis (linear, or logarithmic from LOG_MIN_HZ) as a per-row bin table, and the colouring of a
 *   column through a colour map's lookup table over a dB range.
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

// ---------------------------------------------------------------------------------------------------------------
// History of columns

/** The last `capacity` columns' levels (dBFS, `bins` per column) and each column's first sample position. */
export class SpectrogramHistory {
  readonly capacity: number
  readonly bins: number
  /** Column c (absolute index) lives at levelsDb[(c % capacity) · bins …]. */
  readonly levelsDb: Float32Array
  /** Absolute ring position of each column's first sample (same slots as levelsDb). */
  readonly positions: Float64Array
  private written = 0

  constructor(capacity: number, bins: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity: ${capacity} (an integer ≥ 1)`)
    if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`bins: ${bins} (an integer ≥ 1)`)
    this.capacity = capacity
    this.bins = bins
    this.levelsDb = new Float32Array(capacity * bins)
    this.positions = new Float64Array(capacity)
  }

  /** Columns pushed since the last reset. */
  get totalWritten(): number {
    return this.written
  }

  /** Columns held (at most `capacity`). */
  get count(): number {
    return Math.min(this.written, this.capacity)
  }

  /** Appends a column (its first `bins` levels) taken at sample position `position`. */
  push(levelsDb: Float32Array, position: number): void {
    const slot = this.written % this.capacity
    const base = slot * this.bins
    for (let k = 0; k < this.bins; k++) this.levelsDb[base + k] = levelsDb[k]!
    this.positions[slot] = position
    this.written++
  }

  /** Offset into `levelsDb` of the column `age` columns before the newest (0: the newest); −1 when not held. */
  columnOffset(age: number): number {
    if (!Number.isInteger(age) || age < 0 || age >= this.count) return -1
    return ((this.written - 1 - age) % this.capacity) * this.bins
  }

  /** Sample position of the column `age` columns before the newest; NaN when not held. */
  position(age: number): number {
    const offset = this.columnOffset(age)
    return offset < 0 ? NaN : this.positions[offset / this.bins]!
  }

  reset(): void {
    this.written = 0
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Frequency axis

export type FrequencyScale = 'linear' | 'log'
/** Lowest frequency of the logarithmic axis (below it telephone speech holds only hum). */
export const LOG_MIN_HZ = 50

/** The frequency at fraction `u` of the axis height (0: bottom, 1: top): linear 0 … Nyquist, or log LOG_MIN_HZ … Nyquist. */
export function axisFrequencyHz(scale: FrequencyScale, u: number, nyquistHz: number): number {
  return scale === 'linear' ? u * nyquistHz : LOG_MIN_HZ * Math.pow(nyquistHz / LOG_MIN_HZ, u)
}

/** Where frequency `hz` sits on the axis, as a fraction of its height (0: bottom); the inverse of axisFrequencyHz. */
export function axisFraction(scale: FrequencyScale, hz: number, nyquistHz: number): number {
  return scale === 'linear' ? hz / nyquistHz : Math.log(hz / LOG_MIN_HZ) / Math.log(nyquistHz / LOG_MIN_HZ)
}

/**
 * Fills `out` (one entry per canvas row, row 0 at the top) with the FFT bin each row shows: the bin k whose band
 * [k, k + 1)·Δf holds the frequency at the row's centre (Δf = sampleRateHz / fftSize). With as many rows as bins the
 * linear axis shows every bin once; the log axis repeats low bins over several rows and skips high ones.
 */
export function fillRowBins(scale: FrequencyScale, fftSize: number, sampleRateHz: number, out: Uint16Array): void {
  const rows = out.length
  const bins = fftSize / 2
  const binHz = sampleRateHz / fftSize
  for (let row = 0; row < rows; row++) {
    const u = (rows - 1 - row + 0.5) / rows
    const bin = Math.floor(axisFrequencyHz(scale, u, sampleRateHz / 2) / binHz)
    out[row] = Math.min(bins - 1, Math.max(0, bin))
  }
}

/**
 * Colours one column: pixel `outOffset + row · outStride` of `out` gets the colour of level
 * `levelsDb[levelsOffset + rowBins[row]]` over [minDb, maxDb] (clamped, 256 colours) from `lut`.
 */
export function colourColumn(
  levelsDb: Float32Array,
  levelsOffset: number,
  rowBins: Uint16Array,
  minDb: number,
  maxDb: number,
  lut: Uint32Array,
  out: Uint32Array,
  outOffset: number,
  outStride: number,
): void {
  const k = 255 / (maxDb - minDb)
  for (let row = 0, p = outOffset; row < rowBins.length; row++, p += outStride) {
    const v = (levelsDb[levelsOffset + rowBins[row]!]! - minDb) * k
    out[p] = lut[v > 0 ? (v < 255 ? Math.round(v) : 255) : 0]!
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Cursor readout

export interface SpectrogramReadout {
  /** Seconds between the column's start and the newest column's start. */
  timeAgoS: number
  /** The bin's centre frequency, Hz, and the bin. */
  frequencyHz: number
  bin: number
  /** The level the pixel was coloured from, dBFS. */
  levelDb: number
}

/** The value shown `age` columns before the newest at `bin`; null where the history holds nothing. */
export function readoutAt(
  history: SpectrogramHistory,
  age: number,
  bin: number,
  sampleRateHz: number,
  fftSize: number,
): SpectrogramReadout | null {
  const offset = history.columnOffset(age)
  if (offset < 0 || !Number.isInteger(bin) || bin < 0 || bin >= history.bins) return null
  return {
    timeAgoS: (history.position(0) - history.position(age)) / sampleRateHz,
    frequencyHz: (bin * sampleRateHz) / fftSize,
    bin,
    levelDb: history.levelsDb[offset + bin]!,
  }
}

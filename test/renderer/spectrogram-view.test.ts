import { describe, expect, it } from 'vitest'
import { colourMapLut } from '../../src/renderer/src/live/colormap'
import {
  axisFraction,
  axisFrequencyHz,
  colourColumn,
  fillRowBins,
  LOG_MIN_HZ,
  readoutAt,
  SpectrogramHistory,
} from '../../src/renderer/src/live/spectrum'
import { describeReadout } from '../../src/renderer/src/panels/spectrogram-panel'

const RATE_HZ = 16000
const FFT = 512
const BINS = FFT / 2

/** A column whose bin k reads `base − k / 10` dBFS, so every (column, bin) has a distinct level. */
function column(base: number): Float32Array {
  return Float32Array.from({ length: BINS }, (_, k) => base - k / 10)
}

describe('SpectrogramHistory', () => {
  it('keeps the newest columns and drops the oldest once full', () => {
    const history = new SpectrogramHistory(4, BINS)
    for (let c = 0; c < 6; c++) history.push(column(-c), c * 256)
    expect(history.count).toBe(4)
    expect(history.totalWritten).toBe(6)
    // age 0 is the newest (c = 5), age 3 the oldest held (c = 2), age 4 is gone.
    for (let age = 0; age < 4; age++) {
      const offset = history.columnOffset(age)
      expect(history.levelsDb[offset]).toBe(-(5 - age))
      expect(history.position(age)).toBe((5 - age) * 256)
    }
    expect(history.columnOffset(4)).toBe(-1)
    expect(history.position(4)).toBeNaN()
    expect(history.columnOffset(-1)).toBe(-1)
    expect(history.columnOffset(0.5)).toBe(-1)
  })

  it('holds nothing after a reset', () => {
    const history = new SpectrogramHistory(8, BINS)
    history.push(column(0), 0)
    history.reset()
    expect(history.count).toBe(0)
    expect(history.columnOffset(0)).toBe(-1)
  })

  it('rejects a capacity that is not a positive integer, naming it', () => {
    expect(() => new SpectrogramHistory(0, BINS)).toThrow(/capacity/)
    expect(() => new SpectrogramHistory(4, 1.5)).toThrow(/bins/)
  })
})

describe('readoutAt', () => {
  it('returns the exact level stored for the column and bin under the cursor, its time and frequency', () => {
    const history = new SpectrogramHistory(16, BINS)
    // Column c taken at sample c·256, except a skipped backlog between columns 9 and 10 (fast replay).
    for (let c = 0; c < 12; c++) history.push(column(-10 * c), c * 256 + (c >= 10 ? 4096 : 0))
    const readout = readoutAt(history, 3, 100, RATE_HZ, FFT)!
    // age 3 = column 8; bin 100 → −80 − 10 dBFS; 1000 Hz... 100 · 31.25 Hz.
    expect(readout.levelDb).toBeCloseTo(-80 - 100 / 10, 4)
    expect(readout.frequencyHz).toBe(3125)
    expect(readout.bin).toBe(100)
    // newest (column 11) at 11·256 + 4096, column 8 at 8·256: the skipped backlog counts in the time.
    expect(readout.timeAgoS).toBeCloseTo((3 * 256 + 4096) / RATE_HZ, 9)
  })

  it('gives null where the history holds nothing or the bin is outside the spectrum', () => {
    const history = new SpectrogramHistory(16, BINS)
    history.push(column(0), 0)
    expect(readoutAt(history, 1, 10, RATE_HZ, FFT)).toBeNull()
    expect(readoutAt(history, 0, BINS, RATE_HZ, FFT)).toBeNull()
    expect(readoutAt(history, 0, 0, RATE_HZ, FFT)!.timeAgoS).toBe(0)
  })
})

describe('frequency axis', () => {
  it('shows every bin once, in order, on a linear axis with one row per bin (top row: highest bin)', () => {
    const rows = new Uint16Array(BINS)
    fillRowBins('linear', FFT, RATE_HZ, rows)
    for (let row = 0; row < BINS; row++) expect(rows[row]).toBe(BINS - 1 - row)
  })

  it('spreads a log axis from LOG_MIN_HZ to Nyquist: octaves get equal heights and bins only rise upwards', () => {
    const rows = new Uint16Array(256)
    fillRowBins('log', FFT, RATE_HZ, rows)
    const binHz = RATE_HZ / FFT
    expect(rows[255]! * binHz).toBeLessThanOrEqual(LOG_MIN_HZ + binHz)
    expect(rows[0]!).toBeGreaterThanOrEqual(BINS - 4) // the top row's centre, 1 % below Nyquist
    for (let row = 1; row < 256; row++) expect(rows[row]!).toBeLessThanOrEqual(rows[row - 1]!)
    // 1–2 kHz and 2–4 kHz (octaves) take the same number of rows; on the linear axis the second takes twice as many.
    const rowsIn = (bins: Uint16Array, lo: number, hi: number) =>
      Array.from(bins).filter((b) => b * binHz >= lo && b * binHz < hi).length
    expect(Math.abs(rowsIn(rows, 1000, 2000) - rowsIn(rows, 2000, 4000))).toBeLessThanOrEqual(2)
    const linear = new Uint16Array(256)
    fillRowBins('linear', FFT, RATE_HZ, linear)
    expect(rowsIn(linear, 2000, 4000)).toBe(2 * rowsIn(linear, 1000, 2000))
  })

  it('places ticks where the rows show that frequency (axisFraction inverts axisFrequencyHz)', () => {
    for (const scale of ['linear', 'log'] as const)
      for (const u of [0, 0.1, 0.37, 0.5, 0.9, 1]) {
        const hz = axisFrequencyHz(scale, u, RATE_HZ / 2)
        expect(axisFraction(scale, hz, RATE_HZ / 2)).toBeCloseTo(u, 9)
      }
    expect(axisFrequencyHz('log', 0, 8000)).toBe(LOG_MIN_HZ)
    expect(axisFrequencyHz('log', 1, 8000)).toBeCloseTo(8000, 6)
  })
})

describe('colourColumn', () => {
  it('colours each row from its bin over the dB range, clamped at both ends, NaN as the floor', () => {
    const lut = colourMapLut('grey')
    const levels = Float32Array.from([-120, -100, -60, -20, 0, NaN])
    const rowBins = Uint16Array.from([0, 1, 2, 3, 4, 5])
    const out = new Uint32Array(12)
    colourColumn(levels, 0, rowBins, -100, -20, lut, out, 1, 2) // every other pixel from 1 (a column of width 2)
    const grey = (v: number) => out[v]! & 255
    expect([1, 3, 5, 7, 9, 11].map(grey)).toEqual([0, 0, 128, 255, 255, 0])
    expect([0, 2, 4].map((i) => out[i])).toEqual([0, 0, 0])
  })

  it('re-colours the same levels for a new range (the history, not the pixels, is the truth)', () => {
    const lut = colourMapLut('grey')
    const levels = Float32Array.from([-60])
    const out = new Uint32Array(1)
    colourColumn(levels, 0, Uint16Array.from([0]), -100, -20, lut, out, 0, 1)
    expect(out[0]! & 255).toBe(128)
    colourColumn(levels, 0, Uint16Array.from([0]), -60, 0, lut, out, 0, 1)
    expect(out[0]! & 255).toBe(0)
  })
})

describe('describeReadout', () => {
  it('names time, frequency, both levels and what processing removed', () => {
    const at = { timeAgoS: 1.234, frequencyHz: 1031.25, bin: 33 }
    const text = describeReadout({ ...at, levelDb: -42.14 }, { ...at, levelDb: -63.5 })
    expect(text).toBe('1.23 s ago · 1031 Hz (bin 33) · before −42.1 dBFS · after −63.5 dBFS · removed 21.4 dB')
    expect(describeReadout(null, null)).toMatch(/no data/)
  })
})

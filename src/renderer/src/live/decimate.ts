/**
 * Min/max decimation of a ring's latest window to one (min, max) pair per pixel column, so every peak shows however
 * long the window (the classic "peak envelope" of audio editors). Columns partition the window: column c covers
 * samples ⌊c·n/C⌋ … ⌊(c+1)·n/C⌋ − 1, at least one sample each, so every sample falls in some column. Reads the ring's
 * backing store directly (no copy) and allocates nothing.
 */
import type { SampleRing } from './rings'

/** |x| at or above this counts as clipped (full scale after the Float32 conversion of 16-bit or µ-law audio). */
export const CLIP_LEVEL = 0.999

/**
 * Decimates the latest `windowSamples` of `ring` into `outMin.length` columns. Samples not yet written read as 0.
 * `outClip[c]` is 1 when column c holds a clipped sample. Returns the number of clipped columns.
 */
export function decimateMinMax(
  ring: SampleRing,
  windowSamples: number,
  outMin: Float32Array,
  outMax: Float32Array,
  outClip: Uint8Array,
): number {
  const columns = outMin.length
  const { data, capacity, totalWritten } = ring
  const n = Math.min(Math.max(1, Math.floor(windowSamples)), capacity)
  const start = totalWritten - n
  let clipped = 0
  for (let c = 0; c < columns; c++) {
    const from = Math.floor((c * n) / columns)
    let to = Math.floor(((c + 1) * n) / columns)
    if (to <= from) to = from + 1
    let lo = Infinity
    let hi = -Infinity
    let p = start + from
    // Not yet written: silence.
    if (p < 0) {
      lo = hi = 0
      p = Math.min(0, start + to)
    }
    const end = start + to
    if (p < end) {
      // Two linear runs over the backing store instead of a modulo per sample.
      let index = p % capacity
      for (let left = end - p; left > 0;) {
        const run = Math.min(left, capacity - index)
        for (let i = index, stop = index + run; i < stop; i++) {
          const x = data[i]!
          if (x < lo) lo = x
          if (x > hi) hi = x
        }
        left -= run
        index = 0
      }
    }
    outMin[c] = lo
    outMax[c] = hi
    const clip = hi >= CLIP_LEVEL || lo <= -CLIP_LEVEL ? 1 : 0
    outClip[c] = clip
    clipped += clip
  }
  return clipped
}

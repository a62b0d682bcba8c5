/**
 * int16.ts: Float32 samples to 16-bit PCM and back, the conversions the 16-bit buffers (FrameBuffer's 'int16'
 * storage, the jitter buffer's 16-bit slots) share, written once.
 *
 * round(v·32768) half up, as Math.round: q + 65536.5 is exact for a Float32 v (24 significant bits, |q| ≤ 2^15) and
 * its truncation is floor(q + 0.5) + 65536 (positive), which an Int16 store keeps modulo 2^16, removing the 65536.
 * The loops have no per-sample branch: they truncate without clamping, and one OR of the truncations less 32768 shows
 * whether any fell outside 0…65535 (a sample to clamp, or a NaN or ±Infinity, truncated to 0); samples of 2^15 full
 * scales or more, whose truncation could wrap into range, show in an overflow test (q·2^994 is ±Infinity from
 * |q| ≥ 2^30, and q·S − q·S then NaN). Either makes the call return false: the caller's exact loop then clamps,
 * zeroes and counts. Four samples per iteration; on little-endian hosts two samples per 32-bit store through an
 * Int32Array view of the same memory (`pairs`, at an even index).
 */

/** Samples × INT16_SCALE are 16-bit PCM; INT16_UNIT is one step (exact powers of two). */
export const INT16_SCALE = 32768
export const INT16_UNIT = 1 / 32768
/** Int16Array and Int32Array views use the host's byte order: pairs of samples as one word need little-endian. */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1
/** No pairs view (a big-endian host, or a caller without one). */
export const EMPTY_PAIRS = new Int32Array(0)
/** q·2^994 overflows to ±Infinity exactly when |q| ≥ 2^30. */
const HUGE_SCALE = 2 ** 994

/**
 * out[at …] = round(source[from …]·32768) for count samples (pairs: an Int32Array view of out's memory, or
 * EMPTY_PAIRS). True when every sample was finite and within −32768…32767 after rounding (an exact clamp would have
 * changed nothing); false with out partly written.
 */
export function float32ToInt16(
  out: Int16Array,
  pairs: Int32Array,
  at: number,
  source: Float32Array,
  from: number,
  count: number,
): boolean {
  let check = 0
  let bits = 0
  let i = 0
  if ((at & 1) === 0 && pairs.length > 0) {
    // Two samples per 32-bit store: the first in the low half (little-endian), each taken modulo 2^16 as the Int16
    // store would.
    for (let p = at >> 1; i + 3 < count; i += 4, p += 2) {
      const a = source[from + i]! * INT16_SCALE
      const b = source[from + i + 1]! * INT16_SCALE
      const c = source[from + i + 2]! * INT16_SCALE
      const d = source[from + i + 3]! * INT16_SCALE
      const sa = a * HUGE_SCALE
      const sb = b * HUGE_SCALE
      const sc = c * HUGE_SCALE
      const sd = d * HUGE_SCALE
      check += sa - sa + (sb - sb) + (sc - sc + (sd - sd))
      const ta = (a + 65536.5) | 0
      const tb = (b + 65536.5) | 0
      const tc = (c + 65536.5) | 0
      const td = (d + 65536.5) | 0
      bits |= (ta - 32768) | (tb - 32768) | (tc - 32768) | (td - 32768)
      pairs[p] = (ta & 0xffff) | (tb << 16)
      pairs[p + 1] = (tc & 0xffff) | (td << 16)
    }
  } else {
    for (; i + 3 < count; i += 4) {
      const a = source[from + i]! * INT16_SCALE
      const b = source[from + i + 1]! * INT16_SCALE
      const c = source[from + i + 2]! * INT16_SCALE
      const d = source[from + i + 3]! * INT16_SCALE
      const sa = a * HUGE_SCALE
      const sb = b * HUGE_SCALE
      const sc = c * HUGE_SCALE
      const sd = d * HUGE_SCALE
      check += sa - sa + (sb - sb) + (sc - sc + (sd - sd)) // one add in the loop-carried chain per four samples
      const ta = (a + 65536.5) | 0
      const tb = (b + 65536.5) | 0
      const tc = (c + 65536.5) | 0
      const td = (d + 65536.5) | 0
      bits |= (ta - 32768) | (tb - 32768) | (tc - 32768) | (td - 32768)
      out[at + i] = ta
      out[at + i + 1] = tb
      out[at + i + 2] = tc
      out[at + i + 3] = td
    }
  }
  for (; i < count; i++) {
    const a = source[from + i]! * INT16_SCALE
    const sa = a * HUGE_SCALE
    check += sa - sa
    const ta = (a + 65536.5) | 0
    bits |= ta - 32768
    out[at + i] = ta
  }
  return check === 0 && (bits & ~0xffff) === 0
}

/**
 * out[at …] = storage[from …]·2^−15 for count samples (exact: a power of two). pairs: an Int32Array view of storage's
 * memory, or EMPTY_PAIRS; from an even index, two samples per 32-bit load (the first in the low half).
 */
export function int16ToFloat32(
  out: Float32Array,
  at: number,
  storage: Int16Array,
  pairs: Int32Array,
  from: number,
  count: number,
): void {
  let i = 0
  if ((from & 1) === 0 && pairs.length > 0) {
    for (let p = from >> 1; i + 3 < count; i += 4, p += 2) {
      const ab = pairs[p]!
      const cd = pairs[p + 1]!
      out[at + i] = ((ab << 16) >> 16) * INT16_UNIT
      out[at + i + 1] = (ab >> 16) * INT16_UNIT
      out[at + i + 2] = ((cd << 16) >> 16) * INT16_UNIT
      out[at + i + 3] = (cd >> 16) * INT16_UNIT
    }
  }
  for (; i + 3 < count; i += 4) {
    out[at + i] = storage[from + i]! * INT16_UNIT
    out[at + i + 1] = storage[from + i + 1]! * INT16_UNIT
    out[at + i + 2] = storage[from + i + 2]! * INT16_UNIT
    out[at + i + 3] = storage[from + i + 3]! * INT16_UNIT
  }
  for (; i < count; i++) out[at + i] = storage[from + i]! * INT16_UNIT
}

/**
 * FrameBuffer: the pipeline's 20 ms framing buffer with latency tracking (the voice service's AudioBufferManager).
 *
 * A ring of fixed-size frames, preallocated at construction: every operation is O(1) and allocates nothing (except
 * `readAsync`, which returns a Promise by its nature). Frames are stored as Float32 (default: exact) or, with
 * `sampleFormat: 'int16'`, as 16-bit PCM like the voice service's own buffers (half the memory; samples are rounded
 * to the nearest 1/32768 and clamped to [−1, 32767/32768]; Int16 writes round-trip exactly). The ring has one slot
 * more than its capacity, never readable, where `append` assembles its partial frame in the storage format. Copies
 * are specialised per source and storage format, with no per-sample branch but the finiteness test (Float32 → Int16:
 * truncation and one OR that sends a chunk with a sample to clamp to the clamping loop), Int16 frames two samples per
 * 32-bit word on little-endian hosts: a 320-sample frame written and read costs ~0.6 µs in Float32, ~0.9 µs appended
 * and read in Int16 (was ~1.4; benches `frameBuffer`, `frameBuffer.int16`). `readInt16` hands a frame out as 16-bit
 * PCM (exact from Int16 storage).
 * - `write(chunk)` stores one frame: a chunk shorter than a frame is zero-padded, a longer one truncated (both counted).
 *   Int16 chunks are scaled to [-1, 1]; non-finite samples become 0.
 * - `append(samples)` re-frames a continuous stream of any chunk size into whole frames (nothing padded or lost).
 * - When the ring is full the oldest frame is dropped (overrun, counted); reading an empty ring is an underrun (counted).
 * - Each frame carries its write time; its age at read time is the buffering latency (current, mean, max ms).
 * Conservation: framesWritten = framesRead + framesDropped + framesBuffered, always.
 *
 * Times are milliseconds from a caller-supplied clock (`config.clock`, default Date.now), so replay at any speed and
 * tests stay deterministic: pass `nowMs` explicitly to write/read to use simulated time.
 */
import { EMPTY_PAIRS, float32ToInt16, INT16_SCALE, int16ToFloat32, LITTLE_ENDIAN } from './int16'

export interface FrameBufferConfig {
  sampleRateHz: number
  /** Frame duration, ms (default 20). */
  frameMs: number
  /** Capacity of the ring, ms (default 500): rounded up to whole frames. */
  capacityMs: number
  /** Clock for write/read timestamps, ms. */
  clock: () => number
  /** Storage of the frames: 'float32' (default, exact) or 'int16' (16-bit PCM, half the memory). */
  sampleFormat: FrameSampleFormat
}

export type FrameSampleFormat = 'float32' | 'int16'

export type ReadOutcome = 'ok' | 'underrun'
export type AsyncReadOutcome = 'ok' | 'timeout'

export interface FrameBufferMetrics {
  framesWritten: number
  framesRead: number
  /** Frames dropped by overruns (oldest first). */
  framesDropped: number
  framesBuffered: number
  overruns: number
  underruns: number
  paddedWrites: number
  truncatedWrites: number
  nonFiniteSamples: number
  fillPercent: number
  latencyCurrentMs: number
  latencyMeanMs: number
  latencyMaxMs: number
}

interface Timers {
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}
const timers = globalThis as unknown as Timers

const DEFAULTS: FrameBufferConfig = {
  sampleRateHz: 16000,
  frameMs: 20,
  capacityMs: 500,
  clock: Date.now,
  sampleFormat: 'float32',
}

export class FrameBuffer {
  readonly frameSamples: number
  readonly capacityFrames: number
  readonly metrics: FrameBufferMetrics = {
    framesWritten: 0,
    framesRead: 0,
    framesDropped: 0,
    framesBuffered: 0,
    overruns: 0,
    underruns: 0,
    paddedWrites: 0,
    truncatedWrites: 0,
    nonFiniteSamples: 0,
    fillPercent: 0,
    latencyCurrentMs: 0,
    latencyMeanMs: 0,
    latencyMaxMs: 0,
  }
  private readonly clock: () => number
  /**
   * Frame storage, (capacityFrames + 1) × frameSamples: one of the two, the other is empty. The frames occupy the
   * `count` slots from `head`; the slot after them, (head + count) mod slots, is never readable: append() assembles
   * its partial frame there (the spare slot is why there is one slot more than the capacity: a full ring can still
   * hold a partial frame, as a separate buffer did before, in the storage format: half the memory for 'int16').
   */
  private readonly storage: Float32Array
  private readonly storage16: Int16Array
  /**
   * storage16's memory as pairs of samples (little-endian hosts; empty otherwise): whole frames start at an even
   * sample, and a pair stored or loaded as one 32-bit word halves the element accesses of a frame copy.
   */
  private readonly pairs16: Int32Array
  private readonly isInt16: boolean
  /** Slots in the ring: capacityFrames + 1. */
  private readonly slots: number
  /** Write time of each slot, ms. */
  private readonly writtenAtMs: Float64Array
  /** Samples of the partial frame append() has assembled in the spare slot. */
  private pendingLength = 0
  private head = 0 // next slot to read
  private count = 0
  private latencySumMs = 0
  /** Waiting readAsync callers, resolved in order by writes. A cold path: each holds a closure. */
  private readonly waiters: Array<{ out: Float32Array; resolve: (outcome: AsyncReadOutcome) => void; timer: unknown }> =
    []

  constructor(config: Partial<FrameBufferConfig> = {}) {
    const { sampleRateHz, frameMs, capacityMs, clock, sampleFormat } = { ...DEFAULTS, ...config }
    if (!(sampleRateHz >= 1000 && sampleRateHz <= 384000))
      throw new RangeError(`sampleRateHz: ${sampleRateHz} is outside 1000–384000`)
    if (!(frameMs >= 2.5 && frameMs <= 120)) throw new RangeError(`frameMs: ${frameMs} is outside 2.5–120`)
    this.frameSamples = Math.round((sampleRateHz * frameMs) / 1000)
    if (!(capacityMs >= frameMs && capacityMs <= 60000))
      throw new RangeError(`capacityMs: ${capacityMs} is outside ${frameMs}–60000 (at least one frame)`)
    if (sampleFormat !== 'float32' && sampleFormat !== 'int16')
      throw new RangeError(`sampleFormat: ${String(sampleFormat)} is not 'float32' or 'int16'`)
    this.capacityFrames = Math.ceil(capacityMs / frameMs - 1e-9)
    this.clock = clock
    this.isInt16 = sampleFormat === 'int16'
    this.slots = this.capacityFrames + 1
    const size = this.slots * this.frameSamples
    this.storage = new Float32Array(this.isInt16 ? 0 : size)
    this.storage16 = new Int16Array(this.isInt16 ? size : 0)
    this.pairs16 = LITTLE_ENDIAN
      ? new Int32Array(this.storage16.buffer, 0, this.storage16.length >> 1)
      : new Int32Array(0)
    this.writtenAtMs = new Float64Array(this.slots)
  }

  /** Stores one chunk as one frame, zero-padding or truncating it to the frame size. */
  write(chunk: Float32Array | Int16Array, nowMs = this.clock()): void {
    const n = this.frameSamples
    if (chunk.length < n) this.metrics.paddedWrites++
    else if (chunk.length > n) this.metrics.truncatedWrites++
    const slot = this.claimSlot(nowMs)
    const base = slot * n
    const pendingLength = this.pendingLength
    if (pendingLength > 0) {
      // The partial frame of append() sits in this slot and follows the written frame: it moves to the next slot, which
      // is free (count + 1 frames and the partial fill at most capacityFrames + 1 slots).
      const next = (slot + 1 === this.slots ? 0 : slot + 1) * n
      if (this.isInt16) this.storage16.copyWithin(next, base, base + pendingLength)
      else this.storage.copyWithin(next, base, base + pendingLength)
    }
    const copy = chunk.length < n ? chunk.length : n
    this.store(chunk, 0, copy, base)
    if (copy < n) {
      if (this.isInt16) this.storage16.fill(0, base + copy, base + n)
      else this.storage.fill(0, base + copy, base + n)
    }
    this.commitSlot()
  }

  /** Appends a stream of samples of any length; every completed frame is stored. Returns frames completed. */
  append(samples: Float32Array | Int16Array, nowMs = this.clock(), length = samples.length): number {
    const n = this.frameSamples
    let completed = 0
    let i = 0
    while (i < length) {
      // Up to the end of the frame being assembled, in the spare slot after the buffered frames.
      const take = Math.min(n - this.pendingLength, length - i)
      this.store(samples, i, take, ((this.head + this.count) % this.slots) * n + this.pendingLength)
      this.pendingLength += take
      i += take
      if (this.pendingLength === n) {
        this.claimSlot(nowMs) // drops the oldest when full; the slot it returns is the one just assembled
        this.pendingLength = 0
        this.commitSlot()
        completed++
      }
    }
    return completed
  }

  /**
   * storage[at …] = source[from, from + count) in the storage format (Int16 sources scaled by 1/32768), non-finite → 0
   * (counted). One specialised loop per source and storage type, so no per-sample branch but the finiteness test.
   */
  private store(source: Float32Array | Int16Array, from: number, count: number, at: number): void {
    let bad = 0
    if (source instanceof Int16Array) {
      if (this.isInt16) copyInt16(this.storage16, at, source, from, count)
      else int16ToFloat32(this.storage, at, source, EMPTY_PAIRS, from, count)
    } else if (this.isInt16) bad = floatToInt16(this.storage16, this.pairs16, at, source, from, count)
    else bad = copyFloat(this.storage, at, source, from, count)
    if (bad > 0) this.metrics.nonFiniteSamples += bad
  }

  /** Non-blocking read of the oldest frame into out (frameSamples long). On underrun out is zero-filled. */
  read(out: Float32Array, nowMs = this.clock()): ReadOutcome {
    if (this.count === 0) {
      this.metrics.underruns++
      out.fill(0, 0, Math.min(out.length, this.frameSamples))
      return 'underrun'
    }
    this.takeOldest(out, nowMs)
    return 'ok'
  }

  /**
   * As read, into 16-bit PCM: an exact copy from 'int16' storage (no Float32 round trip), rounded as an 'int16' buffer
   * stores from 'float32' storage.
   */
  readInt16(out: Int16Array, nowMs = this.clock()): ReadOutcome {
    if (this.count === 0) {
      this.metrics.underruns++
      out.fill(0, 0, Math.min(out.length, this.frameSamples))
      return 'underrun'
    }
    const n = this.frameSamples
    const base = this.head * n
    const copy = out.length < n ? out.length : n
    if (this.isInt16) copyInt16(out, 0, this.storage16, base, copy)
    else floatToInt16(out, EMPTY_PAIRS, 0, this.storage, base, copy)
    this.release(nowMs)
    return 'ok'
  }

  /** Awaits a frame for up to timeoutMs (real time). Resolves 'timeout' (out zero-filled) when none came. */
  readAsync(out: Float32Array, timeoutMs: number): Promise<AsyncReadOutcome> {
    if (this.count > 0 && this.waiters.length === 0) {
      this.takeOldest(out, this.clock())
      return Promise.resolve('ok')
    }
    return new Promise((resolve) => {
      const waiter = { out, resolve, timer: undefined as unknown }
      waiter.timer = timers.setTimeout(() => {
        const index = this.waiters.indexOf(waiter)
        if (index >= 0) this.waiters.splice(index, 1)
        this.metrics.underruns++
        out.fill(0, 0, Math.min(out.length, this.frameSamples))
        resolve('timeout')
      }, timeoutMs)
      this.waiters.push(waiter)
    })
  }

  /** True when the fill percentage is within [minFillPercent, maxFillPercent]. */
  isHealthy(minFillPercent = 10, maxFillPercent = 90): boolean {
    const fill = this.metrics.fillPercent
    return fill >= minFillPercent && fill <= maxFillPercent
  }

  get framesBuffered(): number {
    return this.count
  }

  /** Empties the ring and zeroes the counters; keeps the storage. Pending async readers time out as usual. */
  reset(): void {
    this.head = 0
    this.count = 0
    this.pendingLength = 0
    this.latencySumMs = 0
    const m = this.metrics
    m.framesWritten = m.framesRead = m.framesDropped = m.framesBuffered = 0
    m.overruns = m.underruns = m.paddedWrites = m.truncatedWrites = m.nonFiniteSamples = 0
    m.fillPercent = m.latencyCurrentMs = m.latencyMeanMs = m.latencyMaxMs = 0
  }

  /** Returns the slot to write, dropping the oldest frame when full; the caller fills it, then commitSlot(). */
  private claimSlot(nowMs: number): number {
    if (this.count === this.capacityFrames) {
      this.head = this.head + 1 === this.slots ? 0 : this.head + 1
      this.count--
      this.metrics.overruns++
      this.metrics.framesDropped++
    }
    const slot = (this.head + this.count) % this.slots
    this.writtenAtMs[slot] = nowMs
    return slot
  }

  private commitSlot(): void {
    this.count++
    this.metrics.framesWritten++
    this.updateFill()
    if (this.waiters.length > 0) {
      const waiter = this.waiters.shift()!
      timers.clearTimeout(waiter.timer)
      this.takeOldest(waiter.out, this.clock())
      waiter.resolve('ok')
    }
  }

  private takeOldest(out: Float32Array, nowMs: number): void {
    const n = this.frameSamples
    const base = this.head * n
    const copy = out.length < n ? out.length : n
    if (this.isInt16) int16ToFloat32(out, 0, this.storage16, this.pairs16, base, copy)
    else readFloat(out, this.storage, base, copy)
    this.release(nowMs)
  }

  /** The oldest frame leaves the ring (its samples copied out): the read counters and its latency. */
  private release(nowMs: number): void {
    const ageMs = Math.max(0, nowMs - this.writtenAtMs[this.head]!)
    this.head = this.head + 1 === this.slots ? 0 : this.head + 1
    this.count--
    const m = this.metrics
    m.framesRead++
    m.latencyCurrentMs = ageMs
    this.latencySumMs += ageMs
    m.latencyMeanMs = this.latencySumMs / m.framesRead
    if (ageMs > m.latencyMaxMs) m.latencyMaxMs = ageMs
    this.updateFill()
  }

  private updateFill(): void {
    this.metrics.framesBuffered = this.count
    this.metrics.fillPercent = (100 * this.count) / this.capacityFrames
  }
}

/*
 * The copy loops below are unrolled by four (V8 checks for interrupts on every loop back edge: unrolled, a frame copy
 * costs about half) and test finiteness with one sum per sample instead of a branch: v − v is 0 for a finite v and NaN
 * otherwise, so the sum stays 0 unless a sample is non-finite, and only then does a second pass zero and count them.
 */

/** Float32 → Float32 storage, non-finite → 0; returns the non-finite count. */
function copyFloat(out: Float32Array, at: number, source: Float32Array, from: number, count: number): number {
  if (from === 0 && count === source.length)
    out.set(source, at) // memcpy, no view to allocate
  else {
    let i = 0
    for (; i + 3 < count; i += 4) {
      out[at + i] = source[from + i]!
      out[at + i + 1] = source[from + i + 1]!
      out[at + i + 2] = source[from + i + 2]!
      out[at + i + 3] = source[from + i + 3]!
    }
    for (; i < count; i++) out[at + i] = source[from + i]!
  }
  let check = 0
  let i = 0
  for (; i + 3 < count; i += 4) {
    const a = out[at + i]!
    const b = out[at + i + 1]!
    const c = out[at + i + 2]!
    const d = out[at + i + 3]!
    check += a - a + (b - b) + (c - c + (d - d))
  }
  for (; i < count; i++) {
    const a = out[at + i]!
    check += a - a
  }
  if (check === 0) return 0
  let bad = 0
  for (let j = 0; j < count; j++) {
    const v = out[at + j]!
    if (v - v !== 0) {
      out[at + j] = 0
      bad++
    }
  }
  return bad
}

/**
 * Float32 → Int16 storage: round(v·32768) clamped to −32768…32767, non-finite → 0 (int16.ts's branch-free loop, the
 * clamping loop for a chunk it cannot take); returns the non-finite count.
 */
function floatToInt16(
  out: Int16Array,
  pairs: Int32Array,
  at: number,
  source: Float32Array,
  from: number,
  count: number,
): number {
  if (float32ToInt16(out, pairs, at, source, from, count)) return 0
  return floatToInt16Clamped(out, at, source, from, count)
}

/** floatToInt16 for a chunk with samples to clamp or zero: the clamp per sample, NaN stored as 0, counted. */
function floatToInt16Clamped(out: Int16Array, at: number, source: Float32Array, from: number, count: number): number {
  let check = 0
  for (let i = 0; i < count; i++) {
    const q = source[from + i]! * INT16_SCALE
    check += q - q
    out[at + i] = (q > 32767 ? 32767 : q < -32768 ? -32768 : q) + 65536.5 // NaN falls through: stored as 0
  }
  if (check === 0) return 0
  let bad = 0
  for (let i = 0; i < count; i++) {
    const v = source[from + i]!
    if (v - v !== 0) {
      out[at + i] = 0 // NaN stored 0 already; ±Infinity was clamped to full scale
      bad++
    }
  }
  return bad
}

/** Int16 → Int16 storage: exact (an Int16 sample scaled to [-1, 1] and back is itself). */
function copyInt16(out: Int16Array, at: number, source: Int16Array, from: number, count: number): void {
  let i = 0
  for (; i + 3 < count; i += 4) {
    out[at + i] = source[from + i]!
    out[at + i + 1] = source[from + i + 1]!
    out[at + i + 2] = source[from + i + 2]!
    out[at + i + 3] = source[from + i + 3]!
  }
  for (; i < count; i++) out[at + i] = source[from + i]!
}

function readFloat(out: Float32Array, storage: Float32Array, base: number, count: number): void {
  let i = 0
  for (; i + 3 < count; i += 4) {
    out[i] = storage[base + i]!
    out[i + 1] = storage[base + i + 1]!
    out[i + 2] = storage[base + i + 2]!
    out[i + 3] = storage[base + i + 3]!
  }
  for (; i < count; i++) out[i] = storage[base + i]!
}

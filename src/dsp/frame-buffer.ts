/**
 * FrameBuffer: the pipeline's 20 ms framing buffer with latency tracking (the voice service's AudioBufferManager).
 *
 * A ring of fixed-size frames, preallocated at construction: every operation is O(1) and allocates nothing (except
 * `readAsync`, which returns a Promise by its nature). Frames are stored as Float32 (default: exact) or, with
 * `sampleFormat: 'int16'`, as 16-bit PCM like the voice service's own buffers (half the memory; samples are rounded
 * to the nearest 1/32768 and clamped to [−1, 32767/32768]; Int16 writes round-trip exactly).
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
/** Int16 storage: samples × 32768, clamped to the 16-bit range. */
const INT16_SCALE = 32768

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
  /** Frame storage, capacityFrames × frameSamples: one of the two, the other is empty. */
  private readonly storage: Float32Array
  private readonly storage16: Int16Array
  private readonly isInt16: boolean
  /** Write time of each slot, ms. */
  private readonly writtenAtMs: Float64Array
  /** Partial frame being assembled by append(). */
  private readonly pending: Float32Array
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
    const size = this.capacityFrames * this.frameSamples
    this.storage = new Float32Array(this.isInt16 ? 0 : size)
    this.storage16 = new Int16Array(this.isInt16 ? size : 0)
    this.writtenAtMs = new Float64Array(this.capacityFrames)
    this.pending = new Float32Array(this.frameSamples)
  }

  /** Stores one chunk as one frame, zero-padding or truncating it to the frame size. */
  write(chunk: Float32Array | Int16Array, nowMs = this.clock()): void {
    const n = this.frameSamples
    if (chunk.length < n) this.metrics.paddedWrites++
    else if (chunk.length > n) this.metrics.truncatedWrites++
    const slot = this.claimSlot(nowMs)
    const copy = chunk.length < n ? chunk.length : n
    const scale = chunk instanceof Int16Array ? 1 / 32768 : 1
    this.store(chunk, 0, copy, scale, slot * n)
    this.clearTail(slot * n + copy, slot * n + n)
    this.commitSlot()
  }

  /** Appends a stream of samples of any length; every completed frame is stored. Returns frames completed. */
  append(samples: Float32Array | Int16Array, nowMs = this.clock(), length = samples.length): number {
    const n = this.frameSamples
    const scale = samples instanceof Int16Array ? 1 / 32768 : 1
    let completed = 0
    let i = 0
    while (i < length) {
      // Up to the end of the frame being assembled.
      const take = Math.min(n - this.pendingLength, length - i)
      const pending = this.pending
      let bad = 0
      for (let j = 0; j < take; j++) {
        const v = samples[i + j]! * scale
        if (v === v && v !== Infinity && v !== -Infinity) pending[this.pendingLength + j] = v
        else {
          pending[this.pendingLength + j] = 0
          bad++
        }
      }
      if (bad > 0) this.metrics.nonFiniteSamples += bad
      this.pendingLength += take
      i += take
      if (this.pendingLength === n) {
        const base = this.claimSlot(nowMs) * n
        this.store(pending, 0, n, 1, base)
        this.commitSlot()
        this.pendingLength = 0
        completed++
      }
    }
    return completed
  }

  /** storage[at …] = source[from, from + count)·scale, non-finite → 0 (counted), in the storage format. */
  private store(source: Float32Array | Int16Array, from: number, count: number, scale: number, at: number): void {
    let bad = 0
    if (this.isInt16) {
      const storage = this.storage16
      for (let i = 0; i < count; i++) {
        const v = source[from + i]! * scale
        if (v === v && v !== Infinity && v !== -Infinity) {
          // Round to the nearest step, clamp to the 16-bit range.
          const q = v * INT16_SCALE
          storage[at + i] = q >= 32767 ? 32767 : q <= -32768 ? -32768 : Math.round(q)
        } else {
          storage[at + i] = 0
          bad++
        }
      }
    } else {
      const storage = this.storage
      for (let i = 0; i < count; i++) {
        const v = source[from + i]! * scale
        if (v === v && v !== Infinity && v !== -Infinity) storage[at + i] = v
        else {
          storage[at + i] = 0
          bad++
        }
      }
    }
    if (bad > 0) this.metrics.nonFiniteSamples += bad
  }

  private clearTail(from: number, to: number): void {
    if (this.isInt16) this.storage16.fill(0, from, to)
    else this.storage.fill(0, from, to)
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
      this.head = (this.head + 1) % this.capacityFrames
      this.count--
      this.metrics.overruns++
      this.metrics.framesDropped++
    }
    const slot = (this.head + this.count) % this.capacityFrames
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
    if (this.isInt16) {
      const storage = this.storage16
      for (let i = 0; i < copy; i++) out[i] = storage[base + i]! / INT16_SCALE
    } else {
      const storage = this.storage
      for (let i = 0; i < copy; i++) out[i] = storage[base + i]!
    }
    const ageMs = Math.max(0, nowMs - this.writtenAtMs[this.head]!)
    this.head = (this.head + 1) % this.capacityFrames
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

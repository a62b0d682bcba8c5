/**
 * Float32 ring buffers for the live tap streams (near, far, processed PCM), kept outside React: the transport's tap
 * batches are written in, the draw callbacks of the frame loop (frame-loop.ts) read the latest window out. Positions
 * are absolute sample counts since the last reset, so a reader can tell what is new since its last draw. Nothing here
 * allocates after construction. Samples not yet written read as silence (the ring starts zeroed).
 */
import type { TapBatch } from '../../../shared/contract'

export class SampleRing {
  readonly capacity: number
  /** Backing store; sample at absolute position p lives at data[p % capacity]. */
  readonly data: Float32Array
  private written = 0

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity: ${capacity} (an integer ≥ 1)`)
    this.capacity = capacity
    this.data = new Float32Array(capacity)
  }

  /** Samples written since the last reset (the absolute position of the next sample). */
  get totalWritten(): number {
    return this.written
  }

  /** Appends samples; when more than the capacity, only the last `capacity` are kept. */
  push(samples: Float32Array): void {
    const n = samples.length
    let source = 0
    if (n > this.capacity) {
      source = n - this.capacity
      this.written += source
    }
    let position = this.written % this.capacity
    while (source < n) {
      const run = Math.min(n - source, this.capacity - position)
      this.data.set(samples.subarray(source, source + run), position)
      source += run
      this.written += run
      position = 0
    }
  }

  /** Appends `count` zeros (a gap in the stream shown as silence). */
  pushSilence(count: number): void {
    const n = Math.min(Math.max(0, Math.floor(count)), this.capacity)
    this.written += Math.max(0, Math.floor(count)) - n
    let position = this.written % this.capacity
    let left = n
    while (left > 0) {
      const run = Math.min(left, this.capacity - position)
      this.data.fill(0, position, position + run)
      left -= run
      this.written += run
      position = 0
    }
  }

  /** Whether absolute position `start` … `start + count` is still held (or not yet written: silence). */
  holds(start: number, count: number): boolean {
    return start >= this.written - this.capacity && count <= this.capacity
  }

  /**
   * Copies `out.length` samples from absolute position `start` into `out`. Positions before 0 or at/after the write
   * position read as 0; positions already overwritten read as whatever the ring now holds (check `holds` first).
   */
  copyFrom(start: number, out: Float32Array): void {
    const cap = this.capacity
    for (let i = 0; i < out.length; i++) {
      const p = start + i
      out[i] = p < 0 || p >= this.written ? 0 : this.data[p % cap]!
    }
  }

  /** Copies the latest `out.length` samples (zeros before the first sample written). */
  copyLatest(out: Float32Array): void {
    this.copyFrom(this.written - out.length, out)
  }

  reset(): void {
    this.written = 0
    this.data.fill(0)
  }
}

export const TRACKS = ['near', 'far', 'processed'] as const
export type Track = (typeof TRACKS)[number]

/** Longest window a panel can show. */
export const MAX_WINDOW_S = 30

/** The three PCM rings, fed by tap batches. `version` changes on every write, so a panel can skip redundant draws. */
export class LiveRings {
  readonly sampleRateHz: number
  readonly near: SampleRing
  readonly far: SampleRing
  readonly processed: SampleRing
  version = 0
  /** The engine frame after the last one written (−1: none yet). */
  nextFrame = -1

  constructor(sampleRateHz = 16000, seconds = MAX_WINDOW_S + 2) {
    this.sampleRateHz = sampleRateHz
    const capacity = Math.ceil(sampleRateHz * seconds)
    this.near = new SampleRing(capacity)
    this.far = new SampleRing(capacity)
    this.processed = new SampleRing(capacity)
  }

  ring(track: Track): SampleRing {
    return this[track]
  }

  /**
   * Writes a tap batch (batches at another sample rate are ignored: the rings' rate is fixed). A batch from before
   * the last one (a seek back, a loop to the start, another capture) or far ahead of it resets the rings first; a
   * short gap (a dropped batch, a short seek ahead) is written as silence, so positions stay in step with time.
   */
  pushBatch(batch: Pick<TapBatch, 'near' | 'far' | 'processed' | 'sampleRateHz' | 'fromFrame' | 'frameCount'>): void {
    if (batch.sampleRateHz !== this.sampleRateHz || batch.frameCount === 0) return
    if (this.nextFrame >= 0 && batch.fromFrame !== this.nextFrame) {
      const frameSamples = batch.near.length / batch.frameCount
      const gapSamples = (batch.fromFrame - this.nextFrame) * frameSamples
      if (gapSamples < 0 || gapSamples >= this.near.capacity) this.reset()
      else for (const ring of [this.near, this.far, this.processed]) ring.pushSilence(gapSamples)
    }
    this.near.push(batch.near)
    this.far.push(batch.far)
    this.processed.push(batch.processed)
    this.nextFrame = batch.fromFrame + batch.frameCount
    this.version++
  }

  reset(): void {
    this.near.reset()
    this.far.reset()
    this.processed.reset()
    this.nextFrame = -1
    this.version++
  }
}

/** The renderer's one set of live rings (the transport writes, the panels read). */
export const liveRings = new LiveRings()

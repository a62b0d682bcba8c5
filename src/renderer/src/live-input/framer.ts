/**
 * LiveFramer: cuts the audio callback's blocks (an AudioWorklet's render quanta: 128 samples, or whatever size the
 * device gives) into 20 ms frames by time, for the microphone and the far end played over the same samples.
 *
 * Frames are cut on the device's sample clock, not by a fixed count: frame k covers the absolute samples
 *   [⌊k·R·F/1000⌋, ⌊(k+1)·R·F/1000⌋)    R = sample rate (Hz), F = frame duration (ms)
 * so at 48 kHz every frame is 960 samples, at 44.1 kHz 882, and at a rate where R·F/1000 is fractional
 * (11 025 Hz: 220.5) the lengths alternate (220, 221, …) and frame k always ends exactly at k·F ms, rounded down to a
 * sample. Every sample pushed lands in exactly one frame, in order: none lost, none duplicated, whatever the block
 * sizes (conservation is checked by test/renderer/live-framer.test.ts over rates 8–192 kHz and random block sizes).
 * Integer arithmetic only: k·R·F stays exact in a double for ~10^9 frames (over a year of audio).
 *
 * Pure TypeScript with no DOM: the capture worklet imports it (capture-worklet.ts) and the tests run it in Node. A
 * frame's arrays come from `allocate` (a pool of buffers recycled by the main thread, or new ones) because they are
 * handed over (transferred) to the consumer; the framer keeps no reference to a frame after emitting it.
 */

export interface LiveFramerConfig {
  /** The device's (AudioContext's) sample rate, integer Hz in 8000–192000. */
  sampleRateHz: number
  /** Frame duration, ms (default 20). */
  frameMs?: number
  /** Whether frames carry the far-end samples too (false: far is null). */
  hasFar?: boolean
  /** Gives a Float32Array of exactly `length` samples for the next frame (default: a new one). */
  allocate?: (length: number) => Float32Array<ArrayBuffer>
}

export interface LiveFrame {
  /** Frames since the framer started, from 0. */
  index: number
  /** Absolute sample index of the frame's first sample. */
  startSample: number
  /** Microphone samples (length = this frame's length). */
  near: Float32Array<ArrayBuffer>
  /** Far-end samples played over the same period, or null when the framer carries no far end. */
  far: Float32Array<ArrayBuffer> | null
}

export type FrameSink = (frame: LiveFrame) => void

export const LIVE_FRAME_MS = 20
export const LIVE_MIN_RATE_HZ = 8000
export const LIVE_MAX_RATE_HZ = 192000

/** Absolute sample index at which frame k starts: ⌊k·R·F/1000⌋. */
export function frameBoundary(k: number, sampleRateHz: number, frameMs = LIVE_FRAME_MS): number {
  return Math.floor((k * sampleRateHz * frameMs) / 1000)
}

export class LiveFramer {
  readonly sampleRateHz: number
  readonly frameMs: number
  readonly hasFar: boolean
  private readonly allocate: (length: number) => Float32Array<ArrayBuffer>
  /** Index of the frame being filled. */
  private frameIndex = 0
  /** Absolute index of its first sample, and its length. */
  private frameStart = 0
  private frameLength = 0
  /** Samples of it filled so far. */
  private filled = 0
  private near: Float32Array<ArrayBuffer>
  private far: Float32Array<ArrayBuffer> | null

  constructor(config: LiveFramerConfig) {
    const rate = config.sampleRateHz
    if (!Number.isInteger(rate) || rate < LIVE_MIN_RATE_HZ || rate > LIVE_MAX_RATE_HZ)
      throw new RangeError(`sampleRateHz: ${rate} is outside ${LIVE_MIN_RATE_HZ}–${LIVE_MAX_RATE_HZ} (an integer)`)
    const frameMs = config.frameMs ?? LIVE_FRAME_MS
    if (!Number.isInteger(frameMs) || frameMs < 1 || frameMs > 1000)
      throw new RangeError(`frameMs: ${frameMs} is outside 1–1000 (an integer)`)
    this.sampleRateHz = rate
    this.frameMs = frameMs
    this.hasFar = config.hasFar ?? true
    this.allocate = config.allocate ?? ((length) => new Float32Array(length))
    this.frameLength = frameBoundary(1, rate, frameMs)
    this.near = this.allocate(this.frameLength)
    this.far = this.hasFar ? this.allocate(this.frameLength) : null
  }

  /** Frames emitted so far. */
  get framesEmitted(): number {
    return this.frameIndex
  }

  /** Samples pushed so far (emitted frames plus the partial frame). */
  get samplesPushed(): number {
    return this.frameStart + this.filled
  }

  /** Samples waiting in the partial frame. */
  get samplesPending(): number {
    return this.filled
  }

  /**
   * Appends `count` samples of the microphone (null: the capture gave nothing, taken as silence) and of the far end
   * (null: silence), and emits every frame they complete, in order. Returns the number of frames emitted.
   */
  push(near: Float32Array | null, far: Float32Array | null, count: number, emit: FrameSink): number {
    let offset = 0
    let emitted = 0
    while (offset < count) {
      const take = Math.min(count - offset, this.frameLength - this.filled)
      if (near !== null) this.near.set(near.subarray(offset, offset + take), this.filled)
      else this.near.fill(0, this.filled, this.filled + take)
      if (this.far !== null) {
        if (far !== null) this.far.set(far.subarray(offset, offset + take), this.filled)
        else this.far.fill(0, this.filled, this.filled + take)
      }
      this.filled += take
      offset += take
      if (this.filled === this.frameLength) {
        emit({ index: this.frameIndex, startSample: this.frameStart, near: this.near, far: this.far })
        emitted++
        this.nextFrame()
      }
    }
    return emitted
  }

  private nextFrame(): void {
    this.frameIndex++
    this.frameStart = frameBoundary(this.frameIndex, this.sampleRateHz, this.frameMs)
    this.frameLength = frameBoundary(this.frameIndex + 1, this.sampleRateHz, this.frameMs) - this.frameStart
    this.filled = 0
    this.near = this.allocate(this.frameLength)
    this.far = this.hasFar ? this.allocate(this.frameLength) : null
  }
}

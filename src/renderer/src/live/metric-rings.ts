/**
 * Rings of the per-frame metrics (every FRAME_METRIC, one Float32 value per 20 ms frame) and of the network events
 * worth marking on a timeline (late packets, lost packets, concealed frames), kept outside React like the sample
 * rings (rings.ts): fed by every tap batch (store.ts `addTapListener`), read by the graphs on the frame loop and by
 * the meters at the snapshot rate. Positions are engine frame numbers: frame f lives at index f % capacityFrames, so
 * a chart asks for "frames a … b" and gets NaN for any frame not held (before the first, lost in a gap, overwritten).
 *
 * A batch from before the last one (a seek back, a loop to the start, another capture) or too far ahead of it resets
 * the rings first, as LiveRings does; a short gap (a dropped batch, a short seek ahead) is written as NaN, so a chart
 * shows a gap rather than invented values. Nothing allocates after construction.
 */
import { FRAME_METRICS, NETWORK_OUTCOMES, type FrameMetricName, type TapBatch } from '../../../shared/contract'

/** 2048 frames of 20 ms: 41 s, more than the longest window (30 s) a panel shows. */
export const METRIC_RING_FRAMES = 2048
/** Events held (each frame can hold one of each kind, so 3 per frame at worst: 4096 covers 27 s of that). */
export const EVENT_RING_SIZE = 4096

/** The events marked on the network timeline. */
export const MARKED_EVENTS = ['late', 'lost', 'concealed'] as const
export type MarkedEvent = (typeof MARKED_EVENTS)[number]
const LATE = 0
const LOST = 1
const CONCEALED = 2
const CONCEALED_OUTCOME = NETWORK_OUTCOMES.indexOf('concealed')

export type MetricBatch = Pick<TapBatch, 'fromFrame' | 'frameCount' | 'frameMs' | 'metrics' | 'events'>

export class MetricRings {
  readonly capacityFrames: number
  readonly eventCapacity: number
  /** One column per metric; frame f at index f % capacityFrames. */
  readonly columns: Readonly<Record<FrameMetricName, Float32Array>>
  /** The event ring: event i (absolute, since the reset) at index i % eventCapacity. */
  readonly eventFrames: Int32Array
  readonly eventKinds: Uint8Array
  readonly eventCounts: Float32Array
  /** Events written since the reset. */
  eventsWritten = 0
  /** Totals since the reset (packets late / lost, frames concealed), in MARKED_EVENTS order. */
  readonly totals = new Float64Array(MARKED_EVENTS.length)
  /** The first frame written since the reset (−1: none yet). */
  firstFrame = -1
  /** The frame after the last one written (−1: none yet). */
  nextFrame = -1
  /** Duration of one frame, ms (from the batches). */
  frameMs = 20
  /** Changes on every write and reset, so a chart can skip redundant draws. */
  version = 0

  constructor(capacityFrames = METRIC_RING_FRAMES, eventCapacity = EVENT_RING_SIZE) {
    if (!Number.isInteger(capacityFrames) || capacityFrames < 1)
      throw new RangeError(`capacityFrames: ${capacityFrames} (an integer ≥ 1)`)
    if (!Number.isInteger(eventCapacity) || eventCapacity < 1)
      throw new RangeError(`eventCapacity: ${eventCapacity} (an integer ≥ 1)`)
    this.capacityFrames = capacityFrames
    this.eventCapacity = eventCapacity
    const columns = {} as Record<FrameMetricName, Float32Array>
    for (const name of FRAME_METRICS) columns[name] = new Float32Array(capacityFrames).fill(NaN)
    this.columns = columns
    this.eventFrames = new Int32Array(eventCapacity)
    this.eventKinds = new Uint8Array(eventCapacity)
    this.eventCounts = new Float32Array(eventCapacity)
  }

  /** The oldest frame still held (equal to nextFrame when empty). */
  get oldestFrame(): number {
    return this.nextFrame < 0 ? -1 : Math.max(this.firstFrame, this.nextFrame - this.capacityFrames)
  }

  /** Whether frame f is held. */
  holds(frame: number): boolean {
    return this.nextFrame >= 0 && frame >= this.oldestFrame && frame < this.nextFrame
  }

  /** Writes a tap batch's metric columns and its late/lost events, and the concealed frames as events. */
  pushBatch(batch: MetricBatch): void {
    const count = batch.frameCount
    if (count <= 0) return
    const from = batch.fromFrame
    if (this.nextFrame >= 0 && from !== this.nextFrame) {
      const gap = from - this.nextFrame
      if (gap < 0 || gap >= this.capacityFrames) this.reset()
      else this.fillNaN(this.nextFrame, gap)
    }
    if (this.nextFrame < 0) this.firstFrame = from
    this.frameMs = batch.frameMs
    const cap = this.capacityFrames
    // Frames beyond the capacity in one batch: only the last `cap` are kept.
    const skip = Math.max(0, count - cap)
    for (const name of FRAME_METRICS) {
      const column = this.columns[name]
      const values = batch.metrics[name]
      for (let i = skip; i < count; i++) column[(from + i) % cap] = values[i]!
    }
    // Merged in frame order: the batch's late/lost events and its concealed frames.
    const events = batch.events
    const outcomes = batch.metrics.networkOutcome
    let e = 0
    for (let i = 0; i <= count; i++) {
      const frame = from + i
      for (; e < events.length && (i === count || events[e]!.frame <= frame); e++) {
        const event = events[e]!
        if (event.kind === 'packet-late') this.pushEvent(event.frame, LATE, event.count)
        else if (event.kind === 'packet-lost') this.pushEvent(event.frame, LOST, event.count)
      }
      if (i < count && outcomes[i] === CONCEALED_OUTCOME) this.pushEvent(frame, CONCEALED, 1)
    }
    this.nextFrame = from + count
    this.version++
  }

  /** The value of `name` at frame f (NaN when not held). */
  value(name: FrameMetricName, frame: number): number {
    return this.holds(frame) ? this.columns[name][frame % this.capacityFrames]! : NaN
  }

  /** The latest value of `name` (NaN when empty). */
  latest(name: FrameMetricName): number {
    return this.value(name, this.nextFrame - 1)
  }

  /** out[i] = value of `name` at frame fromFrame + i, NaN where not held. */
  copyFrames(name: FrameMetricName, fromFrame: number, out: Float32Array | Float64Array): void {
    const column = this.columns[name]
    const cap = this.capacityFrames
    const oldest = this.oldestFrame
    const end = this.nextFrame
    for (let i = 0; i < out.length; i++) {
      const f = fromFrame + i
      out[i] = f >= oldest && f < end && end >= 0 ? column[f % cap]! : NaN
    }
  }

  /**
   * Mean of the finite values of `name` over the latest `frames` frames held (NaN when there are none): a steadier
   * reading than one frame for the meters (e.g. processing time).
   */
  meanLatest(name: FrameMetricName, frames: number): number {
    if (this.nextFrame < 0) return NaN
    const column = this.columns[name]
    const from = Math.max(this.oldestFrame, this.nextFrame - Math.max(1, Math.floor(frames)))
    let sum = 0
    let n = 0
    for (let f = from; f < this.nextFrame; f++) {
      const x = column[f % this.capacityFrames]!
      if (Number.isFinite(x)) {
        sum += x
        n++
      }
    }
    return n > 0 ? sum / n : NaN
  }

  /**
   * Marks the events of `kind` in frames fromFrame … fromFrame + out.length − 1: out[frame − fromFrame] = `mark`
   * (or, mark undefined, the event's count, summed over the events of that frame). Other entries are left as they
   * are, so the caller fills `out` first (NaN: no marker). Returns the number of frames marked.
   */
  markEvents(kind: MarkedEvent, fromFrame: number, out: Float32Array | Float64Array, mark?: number): number {
    const code = MARKED_EVENTS.indexOf(kind)
    const cap = this.eventCapacity
    const first = Math.max(0, this.eventsWritten - cap)
    const to = fromFrame + out.length
    let marked = 0
    // Events are in frame order: walk back from the newest and stop before the window.
    for (let e = this.eventsWritten - 1; e >= first; e--) {
      const index = e % cap
      const frame = this.eventFrames[index]!
      if (frame < fromFrame) break
      if (frame >= to || this.eventKinds[index] !== code) continue
      const i = frame - fromFrame
      const previous = out[i]!
      if (mark !== undefined) {
        if (previous !== mark) marked++
        out[i] = mark
      } else {
        if (Number.isNaN(previous)) {
          marked++
          out[i] = this.eventCounts[index]!
        } else out[i] = previous + this.eventCounts[index]!
      }
    }
    return marked
  }

  /** Number of events of `kind` held in frames fromFrame … toFrame − 1 (counts summed). */
  countEvents(kind: MarkedEvent, fromFrame: number, toFrame: number): number {
    const code = MARKED_EVENTS.indexOf(kind)
    const cap = this.eventCapacity
    const first = Math.max(0, this.eventsWritten - cap)
    let total = 0
    for (let e = this.eventsWritten - 1; e >= first; e--) {
      const index = e % cap
      const frame = this.eventFrames[index]!
      if (frame < fromFrame) break
      if (frame < toFrame && this.eventKinds[index] === code) total += this.eventCounts[index]!
    }
    return total
  }

  reset(): void {
    for (const name of FRAME_METRICS) this.columns[name].fill(NaN)
    this.eventsWritten = 0
    this.totals.fill(0)
    this.firstFrame = -1
    this.nextFrame = -1
    this.version++
  }

  private fillNaN(fromFrame: number, frames: number): void {
    const cap = this.capacityFrames
    const n = Math.min(frames, cap)
    for (const name of FRAME_METRICS) {
      const column = this.columns[name]
      for (let i = 0; i < n; i++) column[(fromFrame + i) % cap] = NaN
    }
  }

  private pushEvent(frame: number, code: number, count: number): void {
    // Keep the ring in frame order (markEvents stops at the first event before its window).
    if (this.eventsWritten > 0 && frame < this.eventFrames[(this.eventsWritten - 1) % this.eventCapacity]!) return
    const index = this.eventsWritten % this.eventCapacity
    this.eventFrames[index] = frame
    this.eventKinds[index] = code
    this.eventCounts[index] = count
    this.eventsWritten++
    this.totals[code] = this.totals[code]! + count
  }
}

/** The renderer's one set of metric rings, fed by every tap batch. */
export const metricRings = new MetricRings()

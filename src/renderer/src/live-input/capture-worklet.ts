/**
 * The live capture worklet ('live-capture'): one AudioWorkletNode with one input (the microphone's
 * MediaStreamAudioSourceNode) and one mono output (to the speaker). In each render quantum it
 *   1. writes the next far-end samples (the far-end talker from startLive, looped) to its output, and
 *   2. frames the microphone block and exactly those far-end samples into 20 ms frames by time (framer.ts),
 * so the echo canceller's reference is the very samples played, sample-aligned with the capture on the audio clock.
 * Each frame is posted to the main thread with its arrays transferred; the main thread returns them for reuse
 * ('recycle'), so the audio thread allocates only until the pool is warm.
 *
 * Dropouts: a run of quanta in which the capture delivered no channel (the track stalled or ended) after it had
 * delivered audio, and any jump of the audio clock (currentFrame) past the quanta processed, count one each; the
 * count is posted with the next frame. Loaded with audioWorklet.addModule from a built asset URL (`?worker&url`), so
 * the page's CSP (script-src 'self') allows it.
 */
import { LiveFramer, type LiveFrame } from './framer'
import {
  LIVE_CAPTURE_PROCESSOR,
  type LiveCaptureOptions,
  type WorkletCommand,
  type WorkletFrame,
} from './worklet-protocol'

// The AudioWorkletGlobalScope (no DOM lib types for it).
declare const sampleRate: number
declare const currentFrame: number
declare function registerProcessor(name: string, processor: new (options: WorkletOptions) => Processor): void
declare class AudioWorkletProcessor {
  readonly port: MessagePort
}
interface Processor {
  process(inputs: Float32Array[][], outputs: Float32Array[][]): boolean
}
interface WorkletOptions {
  processorOptions?: Partial<LiveCaptureOptions>
}

/** Recycled buffers kept per length (a few frames' worth). */
const POOL_LIMIT = 16

class LiveCaptureProcessor extends AudioWorkletProcessor implements Processor {
  private readonly framer: LiveFramer
  private far: Float32Array | null = null
  private farPosition = 0
  /** The far-end samples of the current quantum (grown if a quantum is ever longer). */
  private farBlock = new Float32Array(128)
  private readonly pool: Float32Array<ArrayBuffer>[] = []
  private running = true
  private hadInput = false
  private starved = false
  private dropouts = 0
  private expectedFrame = -1
  /** Audio clock at the start of the quantum being processed, and the framer's sample count then. */
  private quantumStart = 0
  private pushedBefore = 0
  private readonly emit = (frame: LiveFrame): void => this.post(frame)

  constructor(options: WorkletOptions) {
    super()
    const frameMs = options.processorOptions?.frameMs ?? 20
    this.framer = new LiveFramer({
      sampleRateHz: sampleRate,
      frameMs,
      hasFar: options.processorOptions?.hasFar ?? true,
      allocate: (length) => this.take(length),
    })
    this.port.onmessage = (event: MessageEvent<WorkletCommand>) => {
      const command = event.data
      if (command.kind === 'far') {
        this.far = command.samples.length > 0 ? command.samples : null
        this.farPosition = 0
      } else if (command.kind === 'recycle') {
        for (const buffer of command.buffers) if (this.pool.length < POOL_LIMIT) this.pool.push(buffer)
      } else this.running = false
    }
  }

  process(inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    if (!this.running) return false
    const input = inputs[0]
    const channel = input !== undefined && input.length > 0 ? input[0]! : null
    const output = outputs[0]
    const n = output?.[0]?.length ?? channel?.length ?? 128
    // Dropouts: the capture stalls after having delivered, or the audio clock skips quanta.
    if (channel === null) {
      if (this.hadInput && !this.starved) this.dropouts++
      this.starved = true
    } else {
      this.hadInput = true
      this.starved = false
    }
    if (this.expectedFrame >= 0 && currentFrame > this.expectedFrame) this.dropouts++
    this.expectedFrame = currentFrame + n
    this.quantumStart = currentFrame
    this.pushedBefore = this.framer.samplesPushed
    // The far end: the next n samples of the loop, played and kept as this quantum's reference.
    const far = this.far
    if (far !== null) {
      if (this.farBlock.length < n) this.farBlock = new Float32Array(n)
      const block = this.farBlock
      let position = this.farPosition
      for (let i = 0; i < n; i++) {
        block[i] = far[position]!
        if (++position === far.length) position = 0
      }
      this.farPosition = position
      if (output !== undefined) for (const out of output) out.set(block.subarray(0, Math.min(n, out.length)))
    } else if (output !== undefined) for (const out of output) out.fill(0)
    this.framer.push(channel, far !== null ? this.farBlock : null, n, this.emit)
    return true
  }

  private post(frame: LiveFrame): void {
    const end = frame.startSample + frame.near.length
    const message: WorkletFrame = {
      kind: 'frame',
      index: frame.index,
      near: frame.near,
      far: frame.far,
      // The framer counts samples from the first quantum, the audio clock from the context's start.
      endFrame: this.quantumStart + (end - this.pushedBefore),
      dropouts: this.dropouts,
    }
    this.dropouts = 0
    const transfer: ArrayBuffer[] = [frame.near.buffer]
    if (frame.far !== null) transfer.push(frame.far.buffer)
    this.port.postMessage(message, transfer)
  }

  private take(length: number): Float32Array<ArrayBuffer> {
    for (let i = 0; i < this.pool.length; i++)
      if (this.pool[i]!.length === length) {
        const buffer = this.pool[i]!
        this.pool[i] = this.pool[this.pool.length - 1]!
        this.pool.pop()
        return buffer
      }
    return new Float32Array(length)
  }
}

registerProcessor(LIVE_CAPTURE_PROCESSOR, LiveCaptureProcessor)

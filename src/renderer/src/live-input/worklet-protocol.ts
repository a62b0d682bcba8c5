/**
 * Messages between the live capture worklet (capture-worklet.ts, on the audio thread) and its controller on the main
 * thread (live-capture.ts), over the AudioWorkletNode's MessagePort. Typed arrays are transferred, not copied.
 */

/** The processor's registered name. */
export const LIVE_CAPTURE_PROCESSOR = 'live-capture'

/** Options of the AudioWorkletNode (processorOptions). */
export interface LiveCaptureOptions {
  /** Frame duration, ms (20). */
  frameMs: number
  /** Whether a far end is played (false: frames carry no far array). */
  hasFar: boolean
}

/** Main thread → worklet. */
export type WorkletCommand =
  /** The far-end talker at the context rate, played looped (transferred). */
  | { kind: 'far'; samples: Float32Array<ArrayBuffer> }
  /** Frame buffers the main thread is done with, for reuse (transferred back). */
  | { kind: 'recycle'; buffers: Float32Array<ArrayBuffer>[] }
  /** Stop processing (the node then renders silence and may be collected). */
  | { kind: 'stop' }

/** Worklet → main thread: one 20 ms frame. */
export interface WorkletFrame {
  kind: 'frame'
  /** Frames since the worklet started, from 0 (becomes pushLive's sequence). */
  index: number
  near: Float32Array<ArrayBuffer>
  far: Float32Array<ArrayBuffer> | null
  /** Audio clock (the context's sample frames) just after the frame's last sample. */
  endFrame: number
  /** Dropouts since the previous frame. */
  dropouts: number
}

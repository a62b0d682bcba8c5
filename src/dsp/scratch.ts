/**
 * scratch.ts: one Float64 scratch area shared by the DSP stages of a thread, for buffers whose contents are dead
 * between two calls of the stage that uses them (an FFT's input and spectrum within one hop, a synthesis buffer).
 *
 * The pipeline runs its stages one after another (network/PLC → echo canceller → noise reducer), and JavaScript runs
 * one call at a time in a thread, so stages that never call each other can overlay their scratch, as speexdsp's
 * preprocessor and echo canceller could share one stack: the pipeline's scratch is the largest stage's, not the sum.
 * A stage takes disjoint views (offset, length) for scratch it uses at the same time, and must not keep data in them
 * from one call to the next, nor call another stage while they hold data. Views are taken at construction or
 * configure (a cold path); the area only grows (a new buffer: views taken earlier keep the old one, still correct,
 * just not shared), so MIN_SCRATCH_DOUBLES covers the pipeline's stages at once.
 */

/**
 * 1796 doubles (14 KiB): the largest user in the default pipeline, the echo canceller at 16 kHz (the MDF's 1028 and
 * six 128-sample blocks; its tap scratch at 1024 taps overlays the blocks); the PLC's 256-point synthesis takes 1024,
 * the noise reducer's 512-point FFT 1026. Larger filters grow it.
 */
const MIN_SCRATCH_DOUBLES = 1796

let area = new Float64Array(0)

/** A view of `length` doubles at `offset` of the thread's shared scratch (contents undefined on each call). */
export function sharedScratch(offset: number, length: number): Float64Array<ArrayBuffer> {
  if (area.length < offset + length) area = new Float64Array(Math.max(MIN_SCRATCH_DOUBLES, offset + length))
  return area.subarray(offset, offset + length)
}

/** A Float32 view of `length` floats starting `offset` doubles into the shared scratch (same rules). */
export function sharedScratch32(offset: number, length: number): Float32Array<ArrayBuffer> {
  const view = sharedScratch(offset, Math.ceil(length / 2))
  return new Float32Array(area.buffer, view.byteOffset, length)
}

/**
 * The bytes of the thread's current shared scratch that `view` reaches into (its end offset), or -1 when `view` is
 * not a view of it. Other calls in the thread (a larger filter) may have grown the area past what a stage uses, so a
 * stage's state counts its views' extent, not the area's length. A cold path.
 */
export function sharedScratchExtent(view: ArrayBufferView): number {
  return view.buffer === area.buffer ? view.byteOffset + view.byteLength : -1
}

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

/** 1540 doubles (12 KiB): the largest user in the default pipeline (the PLC's 256-point synthesis, 2 × 512 + 516). */
const MIN_SCRATCH_DOUBLES = 1540

let area = new Float64Array(0)

/** A view of `length` doubles at `offset` of the thread's shared scratch (contents undefined on each call). */
export function sharedScratch(offset: number, length: number): Float64Array {
  if (area.length < offset + length) area = new Float64Array(Math.max(MIN_SCRATCH_DOUBLES, offset + length))
  return area.subarray(offset, offset + length)
}

/**
 * Benchmark harness: each test/bench/*.bench.ts exports `benches`, a list of named runs that process a number of
 * frames of a known duration. The harness warms up, times repeated runs, and reports µs per frame and the
 * real-time factor (audio duration / processing time). Names are stable: runs are compared over time by them.
 */
export interface BenchFigures {
  usPerFrame: number
  realtimeFactor: number
  [extra: string]: number
}

export interface Bench {
  /** Stable key in the JSON output, e.g. "network" or "resampler.8to16". */
  name: string
  /** Human description printed in the table. */
  description: string
  /** Duration of audio in one frame, ms (20 for the pipeline's frames). */
  frameMs: number
  /** Prepares state and returns a function that processes `frames` frames. */
  setup?(): { frames: number; run(): void; extra?: () => Record<string, number> }
  /**
   * Instead of setup: figures measured by the bench itself (an external peer's time, quality figures of a scene),
   * e.g. { usPerFrame, realtimeFactor, erleDb }. Returns null when it cannot run here (a missing peer).
   */
  figures?(): BenchFigures | null
}

export function measure(bench: Bench, minMs = 400): BenchFigures | null {
  if (bench.figures) {
    const figures = bench.figures()
    if (figures) for (const key of Object.keys(figures)) figures[key] = round(figures[key]!)
    return figures
  }
  if (!bench.setup) throw new Error(`bench ${bench.name} has neither setup nor figures`)
  const { frames, run, extra } = bench.setup()
  // Warm up so the JIT has compiled the hot path.
  const warmStart = performance.now()
  while (performance.now() - warmStart < minMs / 2) run()
  let best = Infinity
  const runStart = performance.now()
  let runs = 0
  while (performance.now() - runStart < minMs || runs < 5) {
    const t0 = performance.now()
    run()
    const elapsed = performance.now() - t0
    if (elapsed < best) best = elapsed
    runs++
  }
  const usPerFrame = (best * 1000) / frames
  const figures: BenchFigures = {
    usPerFrame: round(usPerFrame),
    realtimeFactor: round((bench.frameMs * 1000) / usPerFrame),
  }
  if (extra) for (const [key, value] of Object.entries(extra())) figures[key] = round(value)
  return figures
}

function round(value: number): number {
  return Number(value.toPrecision(4))
}

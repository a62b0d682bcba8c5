/**
 * Echo-cancellation and noise-reduction quality metrics, computed exactly as METRICS.md defines them (the project's copy
 * of the definitions lives in these doc comments: tests must not read ../shared). All signals are 16 kHz mono, frames are
 * 20 ms (320 samples), power is the mean square per frame. `lag` arguments are the output's delay against the truth
 * (y[n + lag] ≈ s[n], as alignmentLag reports it); samples shifted outside the output are skipped.
 */
import { activeFrames, alignmentLag, lsdDb, snrDb } from './signals'

export { activeFrames, alignmentLag, lsdDb, snrDb }

export const METRIC_SAMPLE_RATE_HZ = 16000
export const METRIC_FRAME_SAMPLES = 320 // 20 ms at 16 kHz

/** SDR fit: 128-tap FIR over lags −32…95 (METRICS.md). */
const SDR_FIRST_LAG = -32
const SDR_TAPS = 128
/** Tikhonov ridge of the SDR normal equations, relative to the mean diagonal: keeps Cholesky stable on band-limited s. */
const SDR_RIDGE = 1e-9
/** Segmental SNR clip range, dB. */
const SEGMENTAL_MIN_DB = -10
const SEGMENTAL_MAX_DB = 35
/** Convergence window: the last 0.5 s, with at least 10 listed frames in it. */
const CONVERGENCE_WINDOW_S = 0.5
const CONVERGENCE_MIN_FRAMES = 10

const TINY = 1e-30

/** Mean square of each whole frame of x (a trailing partial frame is dropped). */
export function framePowers(x: ArrayLike<number>, frameSamples = METRIC_FRAME_SAMPLES): Float64Array {
  const count = Math.floor(x.length / frameSamples)
  const out = new Float64Array(count)
  for (let f = 0; f < count; f++) {
    let sum = 0
    const start = f * frameSamples
    for (let i = start; i < start + frameSamples; i++) sum += x[i]! * x[i]!
    out[f] = sum / frameSamples
  }
  return out
}

/** Σ a[i]² and Σ b[i + lag]² over frame f, over the samples where both exist. */
function frameEnergies(a: ArrayLike<number>, b: ArrayLike<number>, f: number, lag: number): [number, number] {
  let ea = 0
  let eb = 0
  const start = f * METRIC_FRAME_SAMPLES
  const end = Math.min(start + METRIC_FRAME_SAMPLES, a.length)
  for (let i = start; i < end; i++) {
    const j = i + lag
    if (j < 0 || j >= b.length) continue
    ea += a[i]! * a[i]!
    eb += b[j]! * b[j]!
  }
  return [ea, eb]
}

function frameStartS(f: number): number {
  return (f * METRIC_FRAME_SAMPLES) / METRIC_SAMPLE_RATE_HZ
}

/**
 * ERLE (dB) = 10·log10(Σ power(mic) / Σ power(out)) over the listed frames (normally the far single-talk frames) that
 * start at t >= fromS (2 s by METRICS.md). `out` is shifted back by `lag` samples (the canceller's reported delay).
 * It counts everything removed, noise included. NaN when no listed frame qualifies.
 */
export function erleDb(
  mic: ArrayLike<number>,
  out: ArrayLike<number>,
  frames: readonly number[],
  fromS = 2,
  lag = 0,
): number {
  let micEnergy = 0
  let outEnergy = 0
  let used = 0
  for (const f of frames) {
    if (frameStartS(f) < fromS) continue
    const [m, o] = frameEnergies(mic, out, f, lag)
    micEnergy += m
    outEnergy += o
    used++
  }
  if (used === 0) return NaN
  return 10 * Math.log10(Math.max(micEnergy, TINY) / Math.max(outEnergy, TINY))
}

/**
 * Convergence time to targetDb (METRICS.md): the first time t >= fromS (an absolute time in the signal, seconds, at a
 * frame end) at which the ERLE over the listed frames lying in the last 0.5 s, and after fromS, reaches targetDb, with at
 * least 10 such frames. After an echo path change at fromS, the convergence time is the result minus fromS.
 * Infinity if it never does.
 */
export function convergenceTimeS(
  mic: ArrayLike<number>,
  out: ArrayLike<number>,
  frames: readonly number[],
  targetDb: number,
  fromS = 0,
  lag = 0,
): number {
  const sorted = frames.filter((f) => frameStartS(f) >= fromS).sort((a, b) => a - b)
  const windowFrames = Math.round((CONVERGENCE_WINDOW_S * METRIC_SAMPLE_RATE_HZ) / METRIC_FRAME_SAMPLES) // 25
  const micEnergy = new Float64Array(sorted.length)
  const outEnergy = new Float64Array(sorted.length)
  for (let k = 0; k < sorted.length; k++) [micEnergy[k], outEnergy[k]] = frameEnergies(mic, out, sorted[k]!, lag)
  // Sliding window over listed frames f with f > end − windowFrames, where end is the frame index the window closes at.
  let first = 0
  let micSum = 0
  let outSum = 0
  for (let k = 0; k < sorted.length; k++) {
    const end = sorted[k]! + 1 // the window closes at the end of frame sorted[k]
    micSum += micEnergy[k]!
    outSum += outEnergy[k]!
    while (sorted[first]! < end - windowFrames) {
      micSum -= micEnergy[first]!
      outSum -= outEnergy[first]!
      first++
    }
    if (k - first + 1 < CONVERGENCE_MIN_FRAMES) continue
    const erle = 10 * Math.log10(Math.max(micSum, TINY) / Math.max(outSum, TINY))
    if (erle >= targetDb) return frameStartS(end)
  }
  return Infinity
}

/** The samples of the listed frames (clipped to length), as [start, end) runs with adjacent frames merged. */
function frameRuns(frames: readonly number[], length: number): Array<[number, number]> {
  const sorted = [...new Set(frames)].sort((a, b) => a - b)
  const runs: Array<[number, number]> = []
  for (const f of sorted) {
    const start = f * METRIC_FRAME_SAMPLES
    const end = Math.min(start + METRIC_FRAME_SAMPLES, length)
    if (start >= end) continue
    const last = runs[runs.length - 1]
    if (last && last[1] === start) last[1] = end
    else runs.push([start, end])
  }
  return runs
}

/** Solves A·x = b in place for symmetric positive-definite A (n×n, row-major) by Cholesky; returns x. */
function choleskySolve(a: Float64Array, b: Float64Array, n: number): Float64Array {
  // A = L·Lᵀ, L stored in the lower triangle of a.
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j]!
    for (let k = 0; k < j; k++) d -= a[j * n + k]! * a[j * n + k]!
    const ljj = Math.sqrt(Math.max(d, TINY))
    a[j * n + j] = ljj
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j]!
      for (let k = 0; k < j; k++) s -= a[i * n + k]! * a[j * n + k]!
      a[i * n + j] = s / ljj
    }
  }
  const x = Float64Array.from(b)
  for (let i = 0; i < n; i++) {
    let s = x[i]!
    for (let k = 0; k < i; k++) s -= a[i * n + k]! * x[k]!
    x[i] = s / a[i * n + i]!
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = x[i]!
    for (let k = i + 1; k < n; k++) s -= a[k * n + i]! * x[k]!
    x[i] = s / a[i * n + i]!
  }
  return x
}

/**
 * Filter-invariant SDR (dB) of METRICS.md: the least-squares 128-tap FIR h (lags −32…95) from s to y over the listed
 * frames, target[n] = Σ h[k]·s[n − k], error = y − target, SDR = 10·log10(Σ target² / Σ error²) over those frames.
 * A fixed EQ, a DC notch or a small delay is not counted as damage; residual echo, noise, time-varying gain and
 * distortion are. y is shifted back by lag first, so the FIR's lag window is centred on the output's reported delay.
 */
export function sdrDb(s: ArrayLike<number>, y: ArrayLike<number>, frames: readonly number[], lag = 0): number {
  const runs = frameRuns(frames, s.length)
  if (runs.length === 0) return NaN
  const sAt = (n: number): number => (n >= 0 && n < s.length ? s[n]! : 0)
  const yAt = (n: number): number => {
    const j = n + lag
    return j >= 0 && j < y.length ? y[j]! : 0
  }
  // Regressor column j is s[n − k_j], k_j = SDR_FIRST_LAG + j. R[i][j] = Σ_{n∈S} s[n − k_i]·s[n − k_j].
  // Column 0 directly; then R[i+1][j+1] = R[i][j] + Σ_runs (s[a−1−k_i]·s[a−1−k_j] − s[b−1−k_i]·s[b−1−k_j]),
  // since shifting both lags by one shifts the run [a, b) to [a − 1, b − 1).
  const n = SDR_TAPS
  const r = new Float64Array(n * n)
  const p = new Float64Array(n)
  for (const [a, b] of runs) {
    for (let t = a; t < b; t++) {
      const y0 = yAt(t)
      const x0 = sAt(t - SDR_FIRST_LAG)
      for (let i = 0; i < n; i++) {
        const xi = sAt(t - SDR_FIRST_LAG - i)
        r[i * n] = r[i * n]! + xi * x0
        p[i] = p[i]! + xi * y0
      }
    }
  }
  for (let i = 0; i < n; i++) r[i] = r[i * n]!
  for (let i = 0; i + 1 < n; i++) {
    for (let j = i; j + 1 < n; j++) {
      let v = r[i * n + j]!
      const ki = SDR_FIRST_LAG + i
      const kj = SDR_FIRST_LAG + j
      for (const [a, b] of runs) v += sAt(a - 1 - ki) * sAt(a - 1 - kj) - sAt(b - 1 - ki) * sAt(b - 1 - kj)
      r[(i + 1) * n + (j + 1)] = v
      r[(j + 1) * n + (i + 1)] = v
    }
  }
  let trace = 0
  for (let i = 0; i < n; i++) trace += r[i * n + i]!
  const ridge = (SDR_RIDGE * trace) / n + TINY
  for (let i = 0; i < n; i++) r[i * n + i] = r[i * n + i]! + ridge
  const h = choleskySolve(r, p, n)
  // Explicit residual (not yᵀy − hᵀp), so a near-perfect fit is not lost to cancellation.
  let targetEnergy = 0
  let errorEnergy = 0
  for (const [a, b] of runs) {
    for (let t = a; t < b; t++) {
      let target = 0
      for (let i = 0; i < n; i++) target += h[i]! * sAt(t - SDR_FIRST_LAG - i)
      const e = yAt(t) - target
      targetEnergy += target * target
      errorEnergy += e * e
    }
  }
  return 10 * Math.log10(Math.max(targetEnergy, TINY) / Math.max(errorEnergy, TINY))
}

/**
 * Segmental SNR (dB): per frame 10·log10(Σs² / Σ(y − s)²) with y shifted back by lag, clipped to [−10, 35] dB,
 * averaged over the speech-active frames of s (within 40 dB of its loudest frame).
 */
export function segmentalSnrDb(s: ArrayLike<number>, y: ArrayLike<number>, lag = 0): number {
  const frames = activeFrames(s, METRIC_FRAME_SAMPLES)
  if (frames.length === 0) return NaN
  let total = 0
  for (const f of frames) {
    let signal = 0
    let error = 0
    const start = f * METRIC_FRAME_SAMPLES
    for (let i = start; i < start + METRIC_FRAME_SAMPLES; i++) {
      const j = i + lag
      const yj = j >= 0 && j < y.length ? y[j]! : 0
      const e = yj - s[i]!
      signal += s[i]! * s[i]!
      error += e * e
    }
    const snr = 10 * Math.log10(Math.max(signal, TINY) / Math.max(error, TINY))
    total += Math.min(SEGMENTAL_MAX_DB, Math.max(SEGMENTAL_MIN_DB, snr))
  }
  return total / frames.length
}

/**
 * Noise attenuation (dB) = 10·log10(Σ power(input) / Σ power(output)) over the listed frames (normally the
 * speech-absent frames after 1 s of adaptation), output shifted back by lag. NaN when no frame is listed.
 */
export function noiseAttenuationDb(
  input: ArrayLike<number>,
  output: ArrayLike<number>,
  frames: readonly number[],
  lag = 0,
): number {
  return erleDb(input, output, frames, -Infinity, lag)
}

/**
 * Speech-absent frames of METRICS.md: frames where the clean signal is silent (more than 40 dB below its loudest
 * frame: lead-in, pauses), starting at t >= fromS (1 s of adaptation by default).
 */
export function speechAbsentFrames(clean: ArrayLike<number>, fromS = 1, frameSamples = METRIC_FRAME_SAMPLES): number[] {
  const active = new Set(activeFrames(clean, frameSamples))
  const count = Math.floor(clean.length / frameSamples)
  const out: number[] = []
  for (let f = 0; f < count; f++) {
    if ((f * frameSamples) / METRIC_SAMPLE_RATE_HZ >= fromS && !active.has(f)) out.push(f)
  }
  return out
}

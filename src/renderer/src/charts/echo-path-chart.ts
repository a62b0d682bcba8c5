/**
 * The echo path view's figures and drawing: the echo canceller's filter (the echo impulse response it has learnt,
 * EchoPathReply.taps) on a time axis in ms after the far-end sample, with the bulk delay, the filter window
 * (windowStartMs … + effective length) and its tail marked, so an engineer sees how long the echo tail is against the
 * filter length. Canvas 2D, drawn at the reply rate (2 Hz), one pass over the taps per draw.
 *
 * The tail check: a converged filter long enough for the room leaves only its misadjustment noise in the last eighth
 * of the window (a misadjustment of −30 dB spread evenly over the taps puts −39 dB of the energy there; an echo
 * decaying 60 dB over 100 ms in a 64 ms window, about −35 dB). When that eighth still holds more than
 * TAIL_ENERGY_LIMIT_DB of the filter's energy (60 dB over 200 ms in 64 ms: −20 dB), the echo goes on past the window:
 * the filter cuts it off, the rest leaks through as residual echo, and ECHO_FILTER_LENGTH should be raised. Checked
 * only once converged: a filter still adapting has its noise spread over all taps (−9 dB in any eighth).
 */
import type { EchoPathReply } from '../../../shared/contract'
import type { ThemeColours } from '../theme'

/** Share of the window at its end checked for energy left (1/8). */
export const TAIL_FRACTION = 1 / 8
/** Tail energy over total energy above which the echo is taken to run past the filter, dB (0.1 %). */
export const TAIL_ENERGY_LIMIT_DB = -30
/** The lowest |h| drawn, dB relative to the strongest tap. */
export const FLOOR_DB = -60

export interface EchoPathSummary {
  sampleRateHz: number
  /** Filter window in ms after the far-end sample: start, end of the effective length, end of the length as set. */
  windowStartMs: number
  windowEndMs: number
  setEndMs: number
  effectiveMs: number
  setMs: number
  /** The strongest tap and where it is, ms after the far-end sample (null: all taps 0). */
  peakTap: number | null
  peakMs: number | null
  peakAbs: number
  /** Energy in the last TAIL_FRACTION of the window over the total, dB (−Infinity: none). */
  tailEnergyDb: number
  tailStartMs: number
  /** The echo runs past the filter (an active, converged filter with a high tail). */
  isTailCut: boolean
}

export function summariseEchoPath(reply: EchoPathReply): EchoPathSummary {
  const { taps, sampleRateHz } = reply
  const msPerTap = 1000 / sampleRateHz
  const n = taps.length
  const tailStart = Math.floor(n * (1 - TAIL_FRACTION))
  let peakTap: number | null = null
  let peakAbs = 0
  let total = 0
  let tail = 0
  for (let i = 0; i < n; i++) {
    const x = taps[i]!
    if (!Number.isFinite(x)) continue
    const energy = x * x
    total += energy
    if (i >= tailStart) tail += energy
    if (Math.abs(x) > peakAbs) {
      peakAbs = Math.abs(x)
      peakTap = i
    }
  }
  const tailEnergyDb = total > 0 ? 10 * Math.log10(tail / total) : -Infinity
  return {
    sampleRateHz,
    windowStartMs: reply.windowStartMs,
    windowEndMs: reply.windowStartMs + reply.effectiveLength * msPerTap,
    setEndMs: reply.windowStartMs + reply.filterLength * msPerTap,
    effectiveMs: reply.effectiveLength * msPerTap,
    setMs: reply.filterLength * msPerTap,
    peakTap,
    peakMs: peakTap === null ? null : reply.windowStartMs + peakTap * msPerTap,
    peakAbs,
    tailEnergyDb,
    tailStartMs: reply.windowStartMs + tailStart * msPerTap,
    isTailCut: reply.active && reply.state === 'converged' && n > 0 && tailEnergyDb > TAIL_ENERGY_LIMIT_DB,
  }
}

/** A round tick step (1, 2 or 5 × 10^k ms) giving at most `maxTicks` ticks over `spanMs`. */
export function tickStepMs(spanMs: number, maxTicks: number): number {
  const raw = spanMs / Math.max(1, maxTicks)
  const power = Math.pow(10, Math.floor(Math.log10(Math.max(raw, 1e-9))))
  for (const m of [1, 2, 5, 10]) if (m * power >= raw) return m * power
  return 10 * power
}

export type EchoPathScale = 'db' | 'amplitude'

/**
 * Per pixel column of the tap range mapped to `columns`, the largest |h| (scale 'db') or the min and max signed
 * amplitude ('amplitude') of the taps it covers, into `outLo` / `outHi`. Columns covering no tap get NaN.
 */
export function decimateTaps(
  taps: Float32Array,
  firstTapX: number,
  pixelsPerTap: number,
  outLo: Float32Array,
  outHi: Float32Array,
): void {
  outLo.fill(NaN)
  outHi.fill(NaN)
  const columns = outLo.length
  for (let i = 0; i < taps.length; i++) {
    const x = taps[i]!
    if (!Number.isFinite(x)) continue
    const c = Math.floor(firstTapX + i * pixelsPerTap)
    if (c < 0 || c >= columns) continue
    const lo = outLo[c]!
    const hi = outHi[c]!
    if (!(lo <= x)) outLo[c] = x
    if (!(hi >= x)) outHi[c] = x
  }
}

export interface EchoPathDrawOptions {
  scale: EchoPathScale
  colours: ThemeColours
  /** Device pixels per CSS pixel. */
  ratio: number
}

/** Scratch buffers of the drawing, reused while the canvas keeps its width. */
export interface EchoPathScratch {
  lo: Float32Array
  hi: Float32Array
}

/** Draws the filter, the window, the bulk delay and the axes onto the canvas (its full backing store). */
export function drawEchoPath(
  ctx: CanvasRenderingContext2D,
  width: number,
  height: number,
  reply: EchoPathReply,
  summary: EchoPathSummary,
  options: EchoPathDrawOptions,
  scratch: EchoPathScratch,
): void {
  const { colours, ratio, scale } = options
  const font = Math.round(10 * ratio)
  const left = Math.round(34 * ratio)
  const right = width - Math.round(8 * ratio)
  const top = Math.round(16 * ratio)
  const bottom = height - Math.round(16 * ratio)
  const plotWidth = Math.max(1, right - left)
  const plotHeight = Math.max(1, bottom - top)
  ctx.fillStyle = colours.canvasBg
  ctx.fillRect(0, 0, width, height)
  ctx.font = `${font}px system-ui, sans-serif`

  // Time axis: 0 (the far-end sample) … the end of the longer of the set and the effective window, plus 5 %.
  const spanMs = Math.max(1, Math.max(summary.windowEndMs, summary.setEndMs) * 1.05)
  const xOf = (ms: number): number => left + (ms / spanMs) * plotWidth
  const yOfDb = (db: number): number => top + (Math.min(0, Math.max(FLOOR_DB, db)) / FLOOR_DB) * plotHeight
  const centre = top + plotHeight / 2
  const yOfAmplitude = (a: number): number => centre - Math.max(-1, Math.min(1, a)) * (plotHeight / 2)

  // The filter window, shaded; the part before it (the bulk delay the filter skips) stays plain.
  ctx.globalAlpha = 0.12
  ctx.fillStyle = colours.accent
  ctx.fillRect(xOf(summary.windowStartMs), top, xOf(summary.windowEndMs) - xOf(summary.windowStartMs), plotHeight)
  ctx.fillStyle = summary.isTailCut ? colours.danger : colours.warn
  ctx.globalAlpha = summary.isTailCut ? 0.25 : 0.1
  ctx.fillRect(xOf(summary.tailStartMs), top, xOf(summary.windowEndMs) - xOf(summary.tailStartMs), plotHeight)
  ctx.globalAlpha = 1

  // Grid and axis labels.
  ctx.fillStyle = colours.chartGrid
  const step = tickStepMs(spanMs, Math.max(2, Math.floor(plotWidth / (60 * ratio))))
  ctx.textAlign = 'center'
  ctx.textBaseline = 'top'
  for (let ms = 0; ms <= spanMs; ms += step) {
    const x = Math.round(xOf(ms))
    ctx.fillStyle = colours.chartGrid
    ctx.fillRect(x, top, 1, plotHeight)
    ctx.fillStyle = colours.canvasText
    ctx.fillText(`${Number(ms.toFixed(3))} ms`, x, bottom + 3 * ratio)
  }
  ctx.textAlign = 'right'
  ctx.textBaseline = 'middle'
  const levels = scale === 'db' ? [0, -20, -40, -60] : [1, 0, -1]
  for (const level of levels) {
    const y = Math.round(scale === 'db' ? yOfDb(level) : yOfAmplitude(level))
    ctx.fillStyle = colours.chartGrid
    ctx.fillRect(left, y, plotWidth, 1)
    ctx.fillStyle = colours.canvasText
    ctx.fillText(scale === 'db' ? `${level}` : level === 0 ? '0' : level > 0 ? '+pk' : '−pk', left - 4 * ratio, y)
  }

  // The taps: per pixel column the largest |h| (dB) as a light area, or the signed min … max (amplitude).
  const columns = width
  if (scratch.lo.length !== columns) {
    scratch.lo = new Float32Array(columns)
    scratch.hi = new Float32Array(columns)
  }
  const pixelsPerTap = (plotWidth * (1000 / reply.sampleRateHz)) / spanMs
  decimateTaps(reply.taps, xOf(reply.windowStartMs), pixelsPerTap, scratch.lo, scratch.hi)
  const peak = summary.peakAbs > 0 ? summary.peakAbs : 1
  ctx.fillStyle = colours.processed
  ctx.globalAlpha = scale === 'db' ? 0.45 : 1
  for (let x = 0; x < columns; x++) {
    const lo = scratch.lo[x]!
    const hi = scratch.hi[x]!
    if (Number.isNaN(lo)) continue
    if (scale === 'db') {
      const abs = Math.max(Math.abs(lo), Math.abs(hi)) / peak
      const y = yOfDb(abs > 0 ? 20 * Math.log10(abs) : FLOOR_DB)
      if (y < bottom) ctx.fillRect(x, y, 1, bottom - y)
    } else {
      const y1 = yOfAmplitude(hi / peak)
      const y2 = yOfAmplitude(lo / peak)
      ctx.fillRect(x, y1, 1, Math.max(1, y2 - y1))
    }
  }
  ctx.globalAlpha = 1
  if (scale === 'db') {
    // The energy envelope: mean h² over 1 ms blocks, dB re the strongest tap's h², as a line (the decay to read).
    const block = Math.max(1, Math.round(reply.sampleRateHz / 1000))
    const peakEnergy = peak * peak
    ctx.strokeStyle = colours.processed
    ctx.lineWidth = Math.max(1, 1.5 * ratio)
    ctx.beginPath()
    for (let from = 0, first = true; from < reply.taps.length; from += block) {
      const to = Math.min(reply.taps.length, from + block)
      let energy = 0
      for (let i = from; i < to; i++) {
        const x = reply.taps[i]!
        if (Number.isFinite(x)) energy += x * x
      }
      const mean = energy / (to - from)
      const x = xOf(reply.windowStartMs + ((from + to) / 2) * (1000 / reply.sampleRateHz))
      const y = yOfDb(mean > 0 ? 10 * Math.log10(mean / peakEnergy) : FLOOR_DB)
      if (first) ctx.moveTo(x, y)
      else ctx.lineTo(x, y)
      first = false
    }
    ctx.stroke()
  }

  // Markers: window start/end (accent), the set length when the engine rounded it (dashed), the bulk delay (far).
  const marker = (ms: number, colour: string, label: string, dashed: boolean, row: number): void => {
    const x = Math.round(xOf(ms))
    ctx.strokeStyle = colour
    ctx.lineWidth = Math.max(1, Math.round(1.5 * ratio))
    ctx.setLineDash(dashed ? [4 * ratio, 3 * ratio] : [])
    ctx.beginPath()
    ctx.moveTo(x + 0.5, top)
    ctx.lineTo(x + 0.5, bottom)
    ctx.stroke()
    ctx.setLineDash([])
    ctx.fillStyle = colour
    ctx.textBaseline = 'top'
    ctx.textAlign = x > (left + right) / 2 ? 'right' : 'left'
    ctx.fillText(label, x + (ctx.textAlign === 'right' ? -3 : 3) * ratio, top + row * (font + 2 * ratio))
  }
  ctx.textBaseline = 'alphabetic'
  marker(summary.windowStartMs, colours.accent, 'window start', false, 0)
  marker(summary.windowEndMs, colours.accent, 'filter end', false, 0)
  if (reply.filterLength !== reply.effectiveLength) marker(summary.setEndMs, colours.muted, 'as set', true, 1)
  if (Number.isFinite(reply.bulkDelayMs)) marker(reply.bulkDelayMs, colours.far, 'bulk delay', false, 2)

  ctx.fillStyle = colours.canvasText
  ctx.textAlign = 'left'
  ctx.textBaseline = 'top'
  ctx.fillText(
    scale === 'db' ? '|h| and its 1 ms energy, dB re the strongest tap' : 'h / |strongest tap|',
    left,
    2 * ratio,
  )
}

/**
 * Live uPlot charts of the metric rings (live/metric-rings.ts), drawn from the frame loop, never through React:
 * each chart owns preallocated Float64Arrays (one x column of capture time in seconds and one column per series,
 * sized for the longest window) and, when the rings changed, refills them for the window ending at the latest frame
 * and calls `setData(data, false)` with explicit scales (x: the window; y: a fixed floor that grows in whole steps
 * to fit the data, so the axis does not jitter). Redraws are throttled to MAX_REDRAW_HZ; nothing is drawn while the
 * replay is paused. Colours come from the theme's CSS variables: the chart is rebuilt when the theme changes.
 *
 * A chart off screen (scrolled away, or in a hidden panel) is not drawn: on a software canvas even an unseen redraw
 * costs main-thread time. It is redrawn as soon as it comes back into view.
 *
 * Each chart's container carries `data-points`: the finite points of its first series in the window as last drawn,
 * updated a few times a second, so an end-to-end test can check that a graph has data.
 */
import { useEffect, useRef, type RefObject } from 'react'
import uPlot from 'uplot'
import { create } from 'zustand'
import 'uplot/dist/uPlot.min.css'
import './chart.css'
import type { FrameMetricName } from '../../../shared/contract'
import { useFrameLoop } from '../live/frame-loop'
import { metricRings, type MetricRings } from '../live/metric-rings'
import { MAX_WINDOW_S } from '../live/rings'
import { addTapListener } from '../store'

/** Redraw rate cap (tap batches arrive at ≤ 30 Hz). */
export const MAX_REDRAW_HZ = 30
/** Charts redrawn per animation frame at most: the others wait a frame, so redraws do not bunch in one task. */
const MAX_REDRAWS_PER_FRAME = 2
let budgetFrameMs = -1
let budgetLeft = MAX_REDRAWS_PER_FRAME
/** How often `data-points` is refreshed. */
const POINTS_ATTRIBUTE_INTERVAL_MS = 250
/** Frames in the longest window (frames of 10 ms or more): the size of every chart's columns. */
const MAX_WINDOW_FRAMES = Math.ceil((MAX_WINDOW_S * 1000) / 10)

// ---------------------------------------------------------------------------------------------------------------
// Feeding the metric rings

let feedUsers = 0
let detachFeed: (() => void) | null = null

/** Keeps the metric rings fed by the tap batches while at least one component using it is mounted. */
export function useMetricFeed(rings: MetricRings = metricRings): void {
  useEffect(() => {
    if (feedUsers++ === 0) detachFeed = addTapListener((batch) => rings.pushBatch(batch))
    return () => {
      if (--feedUsers === 0 && detachFeed !== null) {
        detachFeed()
        detachFeed = null
      }
    }
  }, [rings])
}

// ---------------------------------------------------------------------------------------------------------------
// Theme

export const THEME_COLOURS = [
  'chart-1',
  'chart-2',
  'chart-3',
  'chart-4',
  'chart-5',
  'chart-grid',
  'fg',
  'muted',
  'ok',
  'warn',
  'danger',
  'canvas-bg',
] as const
export type ThemeColour = (typeof THEME_COLOURS)[number]
export type ChartTheme = Record<ThemeColour, string>

/** The theme's colours, read from the CSS variables on <html>. */
export function readChartTheme(): ChartTheme {
  const style = getComputedStyle(document.documentElement)
  const theme = {} as ChartTheme
  for (const name of THEME_COLOURS) theme[name] = style.getPropertyValue(`--${name}`).trim() || '#888'
  return theme
}

/** The theme now applied to the page (App sets data-theme on <html>). */
function currentThemeKey(): string {
  return document.documentElement.dataset['theme'] ?? ''
}

// ---------------------------------------------------------------------------------------------------------------
// Chart specs

/** Fills `out[i]` with the series' value at frame fromFrame + i (NaN: nothing drawn there). */
export type SeriesFill = (rings: MetricRings, fromFrame: number, out: Float64Array) => void

export interface SeriesSpec {
  label: string
  colour: ThemeColour
  /** 'line' (default), 'step' (held values), 'points' (markers only: events), 'limit' (a dashed level line). */
  style?: 'line' | 'step' | 'points' | 'limit'
  /** y scale key ('y' default). */
  scale?: string
  width?: number
  /** Legend value formatting, e.g. (v) => `${v.toFixed(1)} ms`. */
  format: (value: number) => string
  fill: SeriesFill
}

export interface AxisSpec {
  scale: string
  /** e.g. 'ms', 'loss %'. */
  label: string
  side?: 'left' | 'right'
  /** The scale's range: at least [min, floorMax]; the top grows in steps of `stepMax` to fit the data. */
  min: number
  floorMax: number
  stepMax?: number
  /** Tick labels (default: the number). */
  values?: (value: number) => string
  /** Fixed tick positions (e.g. event rows). */
  splits?: number[]
  /**
   * The scale spans this many times the top (default 1), so the series keep to the lower part of the chart and
   * leave the rest to another axis's series; ticks above the top are not labelled.
   */
  headroom?: number
}

export interface ChartSpec {
  testId: string
  heightPx: number
  axes: AxisSpec[]
  series: SeriesSpec[]
}

/** A metric column as a series fill. */
export function metricFill(name: FrameMetricName, scale = 1): SeriesFill {
  return (rings, fromFrame, out) => {
    rings.copyFrames(name, fromFrame, out)
    if (scale !== 1) for (let i = 0; i < out.length; i++) out[i] = out[i]! * scale
  }
}

/** A constant level drawn over the frames held (e.g. the latency limit). */
export function levelFill(level: () => number): SeriesFill {
  return (rings, fromFrame, out) => {
    const value = level()
    const oldest = rings.oldestFrame
    const end = rings.nextFrame
    for (let i = 0; i < out.length; i++) {
      const f = fromFrame + i
      out[i] = end >= 0 && f >= oldest && f < end ? value : NaN
    }
  }
}

/** Window choices (s), the same as the waveforms'. */
export const CHART_WINDOW_CHOICES_S = [2, 5, 10, 20, MAX_WINDOW_S] as const

/** The graphs' time window (s), shared by the network and latency charts; low-rate React state. */
export const useChartWindow = create<{ windowS: number; setWindowS(windowS: number): void }>()((set) => ({
  windowS: 10,
  setWindowS: (windowS) => set({ windowS }),
}))

/** Width of every chart's left axis, so the charts' time axes line up. */
export const LEFT_AXIS_PX = 68
/** Width of every chart's right axis (its label included). */
const RIGHT_AXIS_PX = 56
const AXIS_LABEL_PX = 16

// ---------------------------------------------------------------------------------------------------------------
// The chart

const NAN_GAP = NaN

function formatAxisSeconds(value: number, step: number): string {
  const digits = step >= 1 ? 0 : step >= 0.1 ? 1 : 2
  return `${value.toFixed(digits)} s`
}

/** One live chart: a uPlot instance in `container`, its preallocated columns, and the redraw bookkeeping. */
export class MetricChart {
  private plot: uPlot | null = null
  private themeKey = ''
  /** Columns sized for the longest window; `data` holds views of the current window's length. */
  private readonly buffers: Float64Array[]
  private data: Float64Array[] = []
  private windowFrames = 0
  private drawnVersion = -1
  private drawnAtMs = -Infinity
  private pointsAtMs = -Infinity
  private points = 0
  /** Current top of each axis's scale (grown in steps). */
  private readonly scaleMax = new Map<string, number>()
  /** Reused setScale arguments, one per scale: uPlot keeps the object until its next commit. */
  private readonly xLimits = { min: 0, max: 1 }
  private readonly yLimits: { min: number; max: number }[]
  private readonly legendIndex = { idx: 0 }
  /** Set every y scale on the next apply (after a rebuild or a new window). */
  private forceScales = false
  private readonly resize: ResizeObserver | null
  private readonly intersection: IntersectionObserver | null
  /** The container's width (from the ResizeObserver: no layout read on the frame loop); 0 while hidden. */
  private width: number
  /** Whether the container is on screen: off screen, nothing is drawn (a software canvas costs even there). */
  private onScreen = true

  constructor(
    private readonly container: HTMLElement,
    private readonly spec: ChartSpec,
  ) {
    this.buffers = [new Float64Array(MAX_WINDOW_FRAMES)]
    for (let s = 0; s < spec.series.length; s++) this.buffers.push(new Float64Array(MAX_WINDOW_FRAMES).fill(NAN_GAP))
    this.yLimits = spec.axes.map((axis) => ({ min: axis.min, max: axis.floorMax }))
    container.dataset['points'] = '0'
    this.width = container.clientWidth
    this.resize =
      typeof ResizeObserver === 'undefined'
        ? null
        : new ResizeObserver((entries) => {
            const width = Math.floor(entries[entries.length - 1]!.contentRect.width)
            if (width === this.width) return
            this.width = width
            if (this.plot && width > 0) this.plot.setSize({ width, height: this.spec.heightPx })
          })
    this.resize?.observe(container)
    this.intersection =
      typeof IntersectionObserver === 'undefined'
        ? null
        : new IntersectionObserver((entries) => {
            const onScreen = entries[entries.length - 1]!.isIntersecting
            // Back on screen: redraw at once, whatever changed meanwhile.
            if (onScreen && !this.onScreen) this.drawnVersion = -1
            this.onScreen = onScreen
          })
    this.intersection?.observe(container)
  }

  /** Redraws when the rings changed (at most MAX_REDRAW_HZ), for the window of `windowS` ending at the latest frame. */
  update(rings: MetricRings, windowS: number, nowMs: number, force = false): void {
    if (this.width === 0 || !this.onScreen) return // hidden or scrolled away
    const windowFrames = Math.min(MAX_WINDOW_FRAMES, Math.max(2, Math.round((windowS * 1000) / rings.frameMs)))
    if (windowFrames !== this.windowFrames) {
      // A new window length: views of that length on the same buffers (a cold path).
      this.windowFrames = windowFrames
      this.data = this.buffers.map((column) => column.subarray(0, windowFrames))
      force = true
    }
    const themeKey = currentThemeKey()
    if (this.plot === null || themeKey !== this.themeKey) {
      this.fill(rings)
      this.build(themeKey)
      force = true
    }
    if (!force && rings.version === this.drawnVersion) return
    if (!force && nowMs - this.drawnAtMs < 1000 / MAX_REDRAW_HZ) return
    if (nowMs !== budgetFrameMs) {
      budgetFrameMs = nowMs
      budgetLeft = MAX_REDRAWS_PER_FRAME
    }
    if (!force && budgetLeft <= 0) return
    budgetLeft--
    this.drawnVersion = rings.version
    this.drawnAtMs = nowMs
    this.fill(rings)
    const plot = this.plot!
    const frameS = rings.frameMs / 1000
    const end = Math.max(rings.nextFrame, 0)
    this.xLimits.min = (end - windowFrames) * frameS
    this.xLimits.max = (end - 1) * frameS
    this.forceScales = force
    plot.batch(this.apply)
    if (force || nowMs - this.pointsAtMs >= POINTS_ATTRIBUTE_INTERVAL_MS) {
      this.pointsAtMs = nowMs
      const first = this.data[1]
      let points = 0
      if (first) for (let i = 0; i < first.length; i++) if (Number.isFinite(first[i]!)) points++
      if (points !== this.points) {
        this.points = points
        this.container.dataset['points'] = String(points)
      }
      // The legend shows the values under the cursor, else the latest frame's.
      if (plot.cursor.left === undefined || plot.cursor.left < 0) {
        this.legendIndex.idx = windowFrames - 1
        plot.setLegend(this.legendIndex)
      }
    }
  }

  /** setData and the scales, as one uPlot commit (a bound field: no closure per redraw). */
  private readonly apply = (): void => {
    const plot = this.plot!
    plot.setData(this.data as unknown as uPlot.AlignedData, false)
    plot.setScale('x', this.xLimits)
    const axes = this.spec.axes
    for (let a = 0; a < axes.length; a++) {
      const axis = axes[a]!
      const top = this.fitTop(axis)
      if (top !== this.scaleMax.get(axis.scale) || this.forceScales) {
        this.scaleMax.set(axis.scale, top)
        const limits = this.yLimits[a]!
        limits.min = axis.min
        limits.max = axis.min + (top - axis.min) * (axis.headroom ?? 1)
        plot.setScale(axis.scale, limits)
      }
    }
  }

  destroy(): void {
    this.resize?.disconnect()
    this.intersection?.disconnect()
    this.plot?.destroy()
    this.plot = null
  }

  private fill(rings: MetricRings): void {
    const windowFrames = this.windowFrames
    const from = Math.max(rings.nextFrame, 0) - windowFrames
    const frameS = rings.frameMs / 1000
    const x = this.data[0]!
    for (let i = 0; i < windowFrames; i++) x[i] = (from + i) * frameS
    const series = this.spec.series
    for (let s = 0; s < series.length; s++) {
      const column = this.data[s + 1]!
      column.fill(NAN_GAP)
      series[s]!.fill(rings, from, column)
    }
  }

  /** The axis's top: its floor, or the data's maximum rounded up to a whole step. */
  private fitTop(axis: AxisSpec): number {
    if (axis.stepMax === undefined) return axis.floorMax
    let max = -Infinity
    const series = this.spec.series
    for (let s = 0; s < series.length; s++) {
      if ((series[s]!.scale ?? 'y') !== axis.scale) continue
      const column = this.data[s + 1]!
      for (let i = 0; i < column.length; i++) if (column[i]! > max) max = column[i]!
    }
    if (!(max > axis.floorMax)) return axis.floorMax
    return Math.ceil(max / axis.stepMax) * axis.stepMax
  }

  private build(themeKey: string): void {
    this.plot?.destroy()
    this.themeKey = themeKey
    this.scaleMax.clear()
    const theme = readChartTheme()
    const spec = this.spec
    const font = '11px system-ui, sans-serif'
    const scales: uPlot.Scales = { x: { time: false, auto: false } }
    for (const axis of spec.axes)
      scales[axis.scale] = {
        auto: false,
        range: [axis.min, axis.min + (axis.floorMax - axis.min) * (axis.headroom ?? 1)],
      }
    const axes: uPlot.Axis[] = [
      {
        stroke: theme.muted,
        font,
        size: 28,
        grid: { stroke: theme['chart-grid'], width: 1 },
        ticks: { stroke: theme['chart-grid'], width: 1, size: 4 },
        values: (_u, splits, _axis, _space, step) => splits.map((v) => formatAxisSeconds(v, step)),
      },
    ]
    for (const axis of spec.axes) {
      const option: uPlot.Axis = {
        scale: axis.scale,
        side: axis.side === 'right' ? 1 : 3,
        label: axis.label,
        labelSize: AXIS_LABEL_PX,
        labelFont: font,
        stroke: theme.muted,
        font,
        size: axis.side === 'right' ? RIGHT_AXIS_PX - AXIS_LABEL_PX : LEFT_AXIS_PX,
        grid: { show: axis.side !== 'right', stroke: theme['chart-grid'], width: 1 },
        ticks: { stroke: theme['chart-grid'], width: 1, size: 4 },
      }
      const format = axis.values
      // Splits hidden by the filter come as null.
      if (format) option.values = (_u, splits) => splits.map((v) => (v == null ? '' : format(v)))
      const splits = axis.splits
      if (splits) option.splits = () => splits
      if (axis.headroom !== undefined) {
        const scaleMax = this.scaleMax
        option.filter = (_u, values) =>
          values.map((v) => (v <= (scaleMax.get(axis.scale) ?? axis.floorMax) + 1e-9 ? v : null))
      }
      axes.push(option)
    }
    // A chart without a right axis mirrors its left one there (the latest values are at the right edge), so every
    // chart's plot spans the same pixels and their time axes line up.
    const first = spec.axes[0]
    if (first && !spec.axes.some((axis) => axis.side === 'right')) {
      const mirror: uPlot.Axis = { ...axes[1]!, side: 1, label: undefined, labelSize: 0, size: RIGHT_AXIS_PX }
      mirror.grid = { show: false }
      axes.push(mirror)
    }
    const series: uPlot.Series[] = [{ label: 'time', value: (_u, v) => (v == null ? '–' : `${v.toFixed(2)} s`) }]
    for (const s of spec.series) {
      const colour = theme[s.colour]
      const option: uPlot.Series = {
        label: s.label,
        scale: s.scale ?? 'y',
        stroke: colour,
        width: s.width ?? 1.5,
        spanGaps: false,
        points: { show: false },
        value: (_u, v) => (v == null || !Number.isFinite(v) ? (s.style === 'points' ? '' : '–') : s.format(v)),
      }
      if (s.style === 'step') option.paths = uPlot.paths.stepped!({ align: 1 })
      if (s.style === 'limit') option.dash = [6, 4]
      if (s.style === 'points') {
        option.paths = () => null
        option.points = { show: true, size: 7, width: 1, stroke: colour, fill: colour }
      }
      series.push(option)
    }
    const options: uPlot.Options = {
      width: Math.max(100, this.width),
      height: spec.heightPx,
      scales,
      axes,
      series,
      legend: { show: true, live: true },
      cursor: { sync: { key: 'metric-charts' }, drag: { x: false, y: false, setScale: false }, points: { size: 6 } },
      padding: [8, 8, 0, 0],
    }
    this.plot = new uPlot(
      options,
      this.data.length > 0 ? (this.data as unknown as uPlot.AlignedData) : undefined,
      this.container,
    )
  }
}

/**
 * A MetricChart in the element `ref` points at, drawn on the frame loop from the metric rings over `windowS()`
 * seconds. `spec` is read once, at mount (its fill functions read whatever they need at draw time).
 */
export function useMetricChart(
  ref: RefObject<HTMLElement | null>,
  spec: ChartSpec,
  rings: MetricRings = metricRings,
  windowS: () => number = () => useChartWindow.getState().windowS,
): void {
  const chart = useRef<MetricChart | null>(null)
  const specRef = useRef(spec)
  useEffect(() => {
    const element = ref.current
    if (!element) return
    chart.current = new MetricChart(element, specRef.current)
    return () => {
      chart.current?.destroy()
      chart.current = null
    }
  }, [ref])
  useFrameLoop((nowMs) => chart.current?.update(rings, windowS(), nowMs))
}

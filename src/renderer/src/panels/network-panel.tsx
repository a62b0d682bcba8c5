/**
 * Network graphs over the chosen window (the same choices as the waveforms), drawn from the metric rings on the frame
 * loop (chart.ts): the RFC 3550 interarrival jitter; the jitter buffer's target against the delay of the frame it
 * played (with its maximum); late and lost packets and concealed frames marked on the timeline, with the loss rate.
 * A summary line counts the events in view; it is written straight into the DOM a few times a second, not via React.
 */
import { useRef } from 'react'
import { useFrameLoop } from '../live/frame-loop'
import { metricRings, type MetricRings } from '../live/metric-rings'
import { useWorkbench } from '../store'
import {
  CHART_WINDOW_CHOICES_S,
  levelFill,
  metricFill,
  useChartWindow,
  useMetricChart,
  useMetricFeed,
  type ChartSpec,
  type SeriesFill,
} from './chart'

const ms = (v: number): string => `${v.toFixed(1)} ms`
const SUMMARY_INTERVAL_MS = 250

/** Event rows on the events chart (y positions). */
const ROW_LATE = 3
const ROW_LOST = 2
const ROW_CONCEALED = 1
const ROW_NAMES: Record<number, string> = { [ROW_LATE]: 'late', [ROW_LOST]: 'lost', [ROW_CONCEALED]: 'concealed' }

const eventFill =
  (kind: 'late' | 'lost' | 'concealed', row: number): SeriesFill =>
  (rings, fromFrame, out) => {
    rings.markEvents(kind, fromFrame, out, row)
  }

const JITTER_CHART: ChartSpec = {
  testId: 'jitter-chart',
  heightPx: 120,
  axes: [{ scale: 'y', label: 'jitter (ms)', min: 0, floorMax: 20, stepMax: 10 }],
  series: [{ label: 'Interarrival jitter', colour: 'chart-1', format: ms, fill: metricFill('jitterMs') }],
}

const BUFFER_CHART: ChartSpec = {
  testId: 'buffer-chart',
  heightPx: 130,
  axes: [{ scale: 'y', label: 'buffer delay (ms)', min: 0, floorMax: 100, stepMax: 50 }],
  series: [
    { label: 'Target', colour: 'chart-2', style: 'step', width: 2, format: ms, fill: metricFill('targetDelayMs') },
    { label: 'Actual delay', colour: 'chart-1', style: 'step', format: ms, fill: metricFill('bufferDelayMs') },
    {
      label: 'Maximum',
      colour: 'muted',
      style: 'limit',
      width: 1,
      format: (v) => `${v.toFixed(0)} ms`,
      fill: levelFill(() => useWorkbench.getState().session?.settings.jitterBufferMaxMs ?? NaN),
    },
  ],
}

const EVENTS_CHART: ChartSpec = {
  testId: 'events-chart',
  heightPx: 130,
  axes: [
    {
      scale: 'events',
      label: 'events',
      // The rows keep to the upper half, the loss rate (headroom 2) to the lower half.
      min: -2.6,
      floorMax: 3.5,
      splits: [ROW_CONCEALED, ROW_LOST, ROW_LATE],
      values: (v) => ROW_NAMES[v] ?? '',
    },
    {
      scale: 'loss',
      label: 'loss (%)',
      side: 'right',
      min: 0,
      floorMax: 5,
      stepMax: 5,
      headroom: 2,
      values: (v) => `${v.toFixed(0)}`,
    },
  ],
  series: [
    // First series: its finite points are the chart's data-points (the loss rate, one per frame).
    {
      label: 'Loss rate',
      colour: 'chart-5',
      scale: 'loss',
      format: (v) => `${v.toFixed(2)} %`,
      fill: metricFill('lossRate', 100),
    },
    {
      label: 'Late',
      colour: 'warn',
      style: 'points',
      scale: 'events',
      format: () => 'this frame',
      fill: eventFill('late', ROW_LATE),
    },
    {
      label: 'Lost',
      colour: 'danger',
      style: 'points',
      scale: 'events',
      format: () => 'this frame',
      fill: eventFill('lost', ROW_LOST),
    },
    {
      label: 'Concealed',
      colour: 'chart-4',
      style: 'points',
      scale: 'events',
      format: () => 'this frame',
      fill: eventFill('concealed', ROW_CONCEALED),
    },
  ],
}

/** "In view: …" for the window ending at the latest frame. */
export function summarizeWindow(rings: MetricRings, windowS: number): string {
  if (rings.nextFrame < 0) return 'No frames yet: open a capture and press Play.'
  const to = rings.nextFrame
  const from = to - Math.round((windowS * 1000) / rings.frameMs)
  const late = rings.countEvents('late', from, to)
  const lost = rings.countEvents('lost', from, to)
  const concealed = rings.countEvents('concealed', from, to)
  const loss = rings.latest('lossRate')
  const jitter = rings.latest('jitterMs')
  return (
    `Last ${windowS} s: ${late} late, ${lost} lost packets, ${concealed} concealed frames` +
    ` · jitter now ${Number.isFinite(jitter) ? jitter.toFixed(1) : '–'} ms` +
    ` · loss so far ${Number.isFinite(loss) ? (100 * loss).toFixed(2) : '–'} %`
  )
}

export function NetworkPanel({ rings = metricRings }: { rings?: MetricRings }) {
  useMetricFeed(rings)
  const windowS = useChartWindow((s) => s.windowS)
  const setWindowS = useChartWindow((s) => s.setWindowS)
  const jitter = useRef<HTMLDivElement>(null)
  const buffer = useRef<HTMLDivElement>(null)
  const events = useRef<HTMLDivElement>(null)
  const summary = useRef<HTMLSpanElement>(null)
  const summarized = useRef({ version: -1, windowS: 0, atMs: -Infinity })
  useMetricChart(jitter, JITTER_CHART, rings)
  useMetricChart(buffer, BUFFER_CHART, rings)
  useMetricChart(events, EVENTS_CHART, rings)
  useFrameLoop((nowMs) => {
    const element = summary.current
    const last = summarized.current
    const w = useChartWindow.getState().windowS
    if (!element || (last.version === rings.version && last.windowS === w)) return
    if (nowMs - last.atMs < SUMMARY_INTERVAL_MS) return
    last.version = rings.version
    last.windowS = w
    last.atMs = nowMs
    element.textContent = summarizeWindow(rings, w)
  })

  return (
    <section className="panel" data-testid="network-panel">
      <header>
        <h2>Network</h2>
        <label>
          Window{' '}
          <select
            data-testid="chart-window"
            value={windowS}
            onChange={(event) => setWindowS(Number(event.target.value))}
          >
            {CHART_WINDOW_CHOICES_S.map((s) => (
              <option key={s} value={s}>
                {s} s
              </option>
            ))}
          </select>
        </label>
        <span className="muted chart-summary" data-testid="network-summary" ref={summary} />
      </header>
      <div className="metric-chart" data-testid={JITTER_CHART.testId} ref={jitter} />
      <div className="metric-chart" data-testid={BUFFER_CHART.testId} ref={buffer} />
      <div className="metric-chart" data-testid={EVENTS_CHART.testId} ref={events} />
    </section>
  )
}

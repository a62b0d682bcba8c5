/**
 * The end-to-end latency budget (pipeline.ts `updateLatency`): the latest frame's latency stacked by stage in one
 * horizontal bar against the limit (maxAudioLatencyMs, 200 ms by default), each stage named with its value, and the
 * total over the chosen window with the limit line (chart.ts, from the metric rings on the frame loop). The bar and
 * the numbers follow the 10 Hz snapshot.
 *
 * Stages: jitter buffer (packets held by the adaptive buffer), network algorithmic delay (PLC lookahead and the
 * 8→16 kHz resampler), echo canceller (its block delay), noise reducer (its analysis delay) and framing (one 20 ms
 * frame plus what waits in the input frame buffer).
 */
import { useRef } from 'react'
import type { FrameMetricName } from '../../../shared/contract'
import { metricRings, type MetricRings } from '../live/metric-rings'
import { useWorkbench } from '../store'
import './latency-panel.css'
import { levelFill, metricFill, useMetricChart, useMetricFeed, type ChartSpec, type ThemeColour } from './chart'

export const LATENCY_STAGES: {
  metric: FrameMetricName
  id: string
  label: string
  hint: string
  colour: ThemeColour
}[] = [
  {
    metric: 'latencyJitterBufferMs',
    id: 'jitter-buffer',
    label: 'Jitter buffer',
    hint: 'audio held by the adaptive jitter buffer',
    colour: 'chart-1',
  },
  {
    metric: 'latencyNetworkMs',
    id: 'network',
    label: 'PLC + resampler',
    hint: 'packet loss concealment lookahead and the 8→16 kHz resampler',
    colour: 'chart-2',
  },
  {
    metric: 'latencyEchoMs',
    id: 'echo',
    label: 'Echo canceller',
    hint: 'block delay of the echo canceller',
    colour: 'chart-3',
  },
  {
    metric: 'latencyNoiseMs',
    id: 'noise',
    label: 'Noise reducer',
    hint: 'analysis delay of the noise reducer',
    colour: 'chart-4',
  },
  {
    metric: 'latencyFramingMs',
    id: 'framing',
    label: 'Framing',
    hint: 'one 20 ms frame plus what waits in the input frame buffer',
    colour: 'chart-5',
  },
]

const DEFAULT_LIMIT_MS = 200

const limitMs = (): number => useWorkbench.getState().session?.settings.maxAudioLatencyMs ?? DEFAULT_LIMIT_MS

const LATENCY_CHART: ChartSpec = {
  testId: 'latency-chart',
  heightPx: 110,
  axes: [{ scale: 'y', label: 'latency (ms)', min: 0, floorMax: 250, stepMax: 50 }],
  series: [
    {
      label: 'Total',
      colour: 'chart-1',
      width: 2,
      format: (v) => `${v.toFixed(1)} ms`,
      fill: metricFill('latencyTotalMs'),
    },
    {
      label: 'Jitter buffer',
      colour: 'chart-2',
      width: 1,
      format: (v) => `${v.toFixed(1)} ms`,
      fill: metricFill('latencyJitterBufferMs'),
    },
    { label: 'Limit', colour: 'danger', style: 'limit', format: (v) => `${v.toFixed(0)} ms`, fill: levelFill(limitMs) },
  ],
}

const formatMs = (v: number | undefined): string =>
  v === undefined || !Number.isFinite(v) ? '–' : `${v.toFixed(1)} ms`

export function LatencyPanel({ rings = metricRings }: { rings?: MetricRings }) {
  useMetricFeed(rings)
  const values = useWorkbench((s) => s.snapshot?.values)
  const limit = useWorkbench((s) => s.session?.settings.maxAudioLatencyMs ?? DEFAULT_LIMIT_MS)
  const chart = useRef<HTMLDivElement>(null)
  useMetricChart(chart, LATENCY_CHART, rings)

  const total = values?.latencyTotalMs
  const stages = LATENCY_STAGES.map((stage) => ({ ...stage, ms: Math.max(0, values?.[stage.metric] ?? 0) }))
  const sum = stages.reduce((acc, stage) => acc + stage.ms, 0)
  // The bar's full width: the limit plus a quarter, or more when the total is over it.
  const scaleMs = Math.max(limit * 1.25, (total ?? sum) * 1.05, 1)
  const status =
    total === undefined
      ? 'muted'
      : total > limit
        ? 'status-unhealthy'
        : total > 0.8 * limit
          ? 'status-degraded'
          : 'status-healthy'
  const headroom = total === undefined ? null : limit - total

  return (
    <section className="panel" data-testid="latency-panel">
      <header>
        <h2>Latency budget</h2>
        <span data-testid="latency-total" className={status} style={{ fontWeight: 600, fontSize: 15 }}>
          {formatMs(total)}
        </span>
        <span className="muted latency-limit" data-testid="latency-limit">
          of the {limit} ms limit (maxAudioLatencyMs)
          {headroom !== null &&
            (headroom >= 0 ? ` · ${headroom.toFixed(1)} ms to spare` : ` · ${(-headroom).toFixed(1)} ms over`)}
        </span>
      </header>
      <div
        data-testid="latency-bar"
        title="The latest frame's end-to-end latency, stacked by stage"
        style={{
          position: 'relative',
          height: 22,
          background: 'var(--canvas-bg)',
          border: '1px solid var(--panel-border)',
          borderRadius: 4,
          overflow: 'hidden',
          display: 'flex',
        }}
      >
        {stages.map((stage) => (
          <div
            key={stage.id}
            title={`${stage.label}: ${stage.ms.toFixed(1)} ms (${stage.hint})`}
            style={{ width: `${(100 * stage.ms) / scaleMs}%`, background: `var(--${stage.colour})` }}
          />
        ))}
        <div
          title={`limit ${limit} ms`}
          style={{
            position: 'absolute',
            left: `${(100 * limit) / scaleMs}%`,
            top: 0,
            bottom: 0,
            borderLeft: '2px dashed var(--danger)',
          }}
        />
      </div>
      <div style={{ position: 'relative', height: 14, fontSize: 10 }} className="muted">
        <span style={{ position: 'absolute', left: 0 }}>0</span>
        <span style={{ position: 'absolute', left: `${(100 * limit) / scaleMs}%`, transform: 'translateX(-50%)' }}>
          {limit} ms limit
        </span>
      </div>
      <ul data-testid="latency-stages" className="latency-stages">
        {stages.map((stage) => (
          <li key={stage.id} title={stage.hint}>
            <span style={{ width: 10, height: 10, borderRadius: 2, background: `var(--${stage.colour})` }} />
            <span className="muted">{stage.label}</span>
            <span data-testid={`latency-stage-${stage.id}`} className="latency-number">
              {formatMs(values?.[stage.metric])}
            </span>
          </li>
        ))}
      </ul>
      <div className="metric-chart" data-testid={LATENCY_CHART.testId} ref={chart} style={{ marginTop: 6 }} />
    </section>
  )
}

/**
 * Echo path view: the echo canceller's current filter (the echo impulse response it models) against its window, and
 * the estimated bulk delay, so an engineer sees how long the echo tail is against the filter length
 * (charts/echo-path-chart.ts). Polls getEchoPath at 2 Hz while the replay plays or live mode runs (and once after
 * a pause, a seek or a settings change); an engine without the command shows "not available". The reply lives in a
 * ref and is drawn on the frame loop when it, the theme or the canvas size changes; React holds only the figures.
 */
import { useEffect, useRef, useState } from 'react'
import type { EchoPathReply } from '../../../shared/contract'
import {
  drawEchoPath,
  summariseEchoPath,
  TAIL_FRACTION,
  type EchoPathScale,
  type EchoPathScratch,
  type EchoPathSummary,
} from '../charts/echo-path-chart'
import { useFrameLoop } from '../live/frame-loop'
import { useWorkbench } from '../store'
import { themeColours, type ThemeColours } from '../theme'
import { fitCanvas } from './canvas-size'

const POLL_MS = 500
const HEIGHT_CSS_PX = 170

type Status =
  | { kind: 'waiting' }
  | { kind: 'unavailable'; message: string }
  | { kind: 'ok'; reply: EchoPathReply; summary: EchoPathSummary }

function ms(value: number, digits = 1): string {
  return Number.isFinite(value) ? `${value.toFixed(digits)} ms` : '–'
}

export function EchoPathPanel() {
  const api = useWorkbench((s) => s.api)
  const playing = useWorkbench((s) => (s.session?.transport.playing ?? false) || s.session?.live != null)
  // Paused: the position (a seek changes the filter); playing: the polling covers it.
  const pausedAt = useWorkbench((s) => (s.session?.transport.playing ? -1 : (s.session?.transport.positionFrame ?? 0)))
  // As strings: the session object is replaced on every state push (live mode pushes them periodically).
  const settingsKey = useWorkbench((s) => (s.session ? JSON.stringify(s.session.settings) : ''))
  const captureKey = useWorkbench((s) => `${s.session?.capture?.path ?? ''}|${s.session?.capture?.name ?? ''}`)
  const [status, setStatus] = useState<Status>({ kind: 'waiting' })
  const [scale, setScale] = useState<EchoPathScale>('db')
  const canvasRef = useRef<HTMLCanvasElement>(null)
  const scratch = useRef<EchoPathScratch>({ lo: new Float32Array(0), hi: new Float32Array(0) })
  const drawn = useRef<{ status: Status | null; colours: ThemeColours | null; scale: EchoPathScale }>({
    status: null,
    colours: null,
    scale: 'db',
  })

  // Poll while playing; one request on a change of what the filter depends on when paused.
  useEffect(() => {
    if (!api) return
    let cancelled = false
    let inFlight = false
    const poll = async (): Promise<void> => {
      if (inFlight) return
      inFlight = true
      try {
        const result = await api.getEchoPath()
        if (cancelled) return
        if (result.ok) setStatus({ kind: 'ok', reply: result.value, summary: summariseEchoPath(result.value) })
        else
          setStatus({
            kind: 'unavailable',
            message:
              result.error.code === 'unsupported'
                ? 'not available: this engine does not report its echo path yet'
                : result.error.code === 'no-capture'
                  ? 'no capture open'
                  : `not available: ${result.error.message}`,
          })
      } finally {
        inFlight = false
      }
    }
    void poll()
    const timer = playing ? setInterval(() => void poll(), POLL_MS) : null
    return () => {
      cancelled = true
      if (timer !== null) clearInterval(timer)
    }
  }, [api, playing, pausedAt, settingsKey, captureKey])

  useFrameLoop(() => {
    const canvas = canvasRef.current
    if (!canvas) return
    const resized = fitCanvas(canvas)
    const colours = themeColours()
    const last = drawn.current
    if (!resized && last.status === status && last.colours === colours && last.scale === scale) return
    drawn.current = { status, colours, scale }
    const ctx = canvas.getContext('2d')
    if (!ctx) return
    if (status.kind !== 'ok') {
      ctx.fillStyle = colours.canvasBg
      ctx.fillRect(0, 0, canvas.width, canvas.height)
      return
    }
    const ratio = window.devicePixelRatio || 1
    drawEchoPath(
      ctx,
      canvas.width,
      canvas.height,
      status.reply,
      status.summary,
      { scale, colours, ratio },
      scratch.current,
    )
  })

  const reply = status.kind === 'ok' ? status.reply : null
  const summary = status.kind === 'ok' ? status.summary : null
  return (
    <section className="panel" data-testid="echo-path-panel">
      <header>
        <h2>Echo path</h2>
        <span data-testid="echo-path-status" className="muted">
          {status.kind === 'waiting' && 'waiting for the engine…'}
          {status.kind === 'unavailable' && status.message}
          {reply && !reply.active && 'echo cancellation off or no far end: no filter'}
          {reply && reply.active && `${reply.engine.toUpperCase()} · ${reply.state}`}
        </span>
        <span className="spacer" style={{ flex: 1 }} />
        <label>
          <select
            data-testid="echo-path-scale"
            value={scale}
            onChange={(e) => setScale(e.target.value === 'amplitude' ? 'amplitude' : 'db')}
          >
            <option value="db">|h| in dB</option>
            <option value="amplitude">amplitude</option>
          </select>
        </label>
      </header>
      <canvas
        ref={canvasRef}
        data-testid="echo-path-canvas"
        style={{ display: 'block', width: '100%', height: HEIGHT_CSS_PX, borderRadius: 4 }}
      />
      {reply && summary && (
        <dl
          style={{
            display: 'grid',
            gridTemplateColumns: 'max-content auto',
            gap: '1px 12px',
            margin: '6px 0 0',
            fontVariantNumeric: 'tabular-nums',
          }}
        >
          <dt>Bulk delay</dt>
          <dd data-testid="echo-path-delay" style={{ margin: 0 }}>
            {ms(reply.bulkDelayMs)}
            <span className="muted">
              {' '}
              · confidence {reply.delayConfidence.toFixed(2)} · {reply.delayStable ? 'stable' : 'not stable'}
            </span>
          </dd>
          <dt>Filter length</dt>
          <dd data-testid="echo-path-length" style={{ margin: 0 }}>
            {reply.filterLength} taps ({ms(summary.setMs, 0)}) set
            {reply.effectiveLength !== reply.filterLength
              ? ` · ${reply.effectiveLength} taps (${ms(summary.effectiveMs, 0)}) running`
              : ''}
          </dd>
          <dt>Window</dt>
          <dd style={{ margin: 0 }}>
            {ms(summary.windowStartMs)} … {ms(summary.windowEndMs)} after the far-end sample
          </dd>
          <dt>Strongest tap</dt>
          <dd style={{ margin: 0 }}>{summary.peakMs === null ? '–' : ms(summary.peakMs)}</dd>
          <dt>Energy in the last {ms(summary.effectiveMs * TAIL_FRACTION, 0)}</dt>
          <dd data-testid="echo-path-tail" style={{ margin: 0 }}>
            {Number.isFinite(summary.tailEnergyDb) ? `${summary.tailEnergyDb.toFixed(1)} dB of the total` : '–'}
          </dd>
        </dl>
      )}
      {summary?.isTailCut && (
        <div data-testid="echo-path-hint" style={{ color: 'var(--danger)', marginTop: 4 }}>
          The echo tail runs past the filter: raise ECHO_FILTER_LENGTH (now {reply?.filterLength} taps,{' '}
          {ms(summary.setMs, 0)}) and keep it if the Linear filter meter rises. A tail under the noise gains nothing.
        </div>
      )}
    </section>
  )
}

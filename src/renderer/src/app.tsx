/**
 * The workbench window, minimal for now: connection and contract status, the capture, transport buttons, a noise
 * strength slider, a few live metrics as text, .env export, and an error banner. Works the same over IPC (desktop)
 * and WebSocket (browser mode) through transport.ts. High-rate tap data stays out of React state: the latest frame's
 * metrics go into a ref, copied into state at most 10 times a second.
 */
import { useCallback, useEffect, useRef, useState, type ChangeEvent } from 'react'
import {
  APP_NAME,
  NETWORK_OUTCOMES,
  type EngineApi,
  type FrameMetricName,
  type Result,
  type SessionHealth,
  type SessionState,
  type TapBatch,
} from '../../shared/contract'
import { liveRings } from './live/rings'
import { SpectrogramPanel } from './panels/spectrogram-panel'
import { WaveformPanel } from './panels/waveform-panel'
import { connect, type Connection } from './transport'

interface Snapshot {
  frame: number
  values: Partial<Record<FrameMetricName, number>>
  health: SessionHealth
  lostPackets: number
  latePackets: number
  configApplied: number
}

type ConnectionStatus =
  | { status: 'connecting' }
  | { status: 'connected'; connection: Connection }
  | { status: 'failed' | 'closed'; message: string }

const SNAPSHOT_INTERVAL_MS = 100
const CONFIGURE_THROTTLE_MS = 50

function formatMs(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`
}

function formatValue(value: number | undefined, digits = 1, unit = ''): string {
  return value === undefined || !Number.isFinite(value) ? '–' : `${value.toFixed(digits)}${unit}`
}

export function App() {
  const [connection, setConnection] = useState<ConnectionStatus>({ status: 'connecting' })
  const [session, setSession] = useState<SessionState | null>(null)
  const [snapshot, setSnapshot] = useState<Snapshot | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [strength, setStrength] = useState<number | null>(null)
  const latest = useRef<Snapshot | null>(null)
  const published = useRef<Snapshot | null>(null)
  const configureTimer = useRef<ReturnType<typeof setTimeout> | null>(null)

  const api: EngineApi | null = connection.status === 'connected' ? connection.connection.api : null

  /** Runs a command; a failure shows in the banner. */
  const run = useCallback(async <T,>(call: Promise<Result<T>>): Promise<T | null> => {
    const result = await call
    if (!result.ok) {
      setError(result.error.message)
      return null
    }
    return result.value
  }, [])

  useEffect(() => {
    let cancelled = false
    const unsubscribe: (() => void)[] = []
    const onTap = (batch: TapBatch): void => {
      liveRings.pushBatch(batch)
      const previous = latest.current
      const last = batch.frameCount - 1
      const values: Snapshot['values'] = { ...previous?.values }
      if (last >= 0)
        for (const name of Object.keys(batch.metrics) as FrameMetricName[]) values[name] = batch.metrics[name][last]
      let lost = previous?.lostPackets ?? 0
      let late = previous?.latePackets ?? 0
      let applied = previous?.configApplied ?? 0
      for (const event of batch.events) {
        if (event.kind === 'packet-lost') lost += event.count
        else if (event.kind === 'packet-late') late += event.count
        else if (event.kind === 'config-applied') applied += event.count
        else if (event.kind === 'looped') lost = late = 0
        else if (event.kind === 'error') setError(event.detail ?? 'the replay stopped on an error')
      }
      latest.current = {
        frame: last >= 0 ? batch.fromFrame + last : (previous?.frame ?? 0),
        values,
        health: batch.health,
        lostPackets: lost,
        latePackets: late,
        configApplied: applied,
      }
    }
    connect()
      .then(async (connection) => {
        if (cancelled) return
        const { api } = connection
        unsubscribe.push(api.on('state', (state) => setSession(state)))
        unsubscribe.push(api.on('tap', onTap))
        unsubscribe.push(
          api.on('event', (event) => {
            if (event.kind === 'error') setError(event.message)
            else if (event.kind === 'engine-restarted') setError(event.message)
          }),
        )
        connection.onClose((message) => setConnection({ status: 'closed', message }))
        setConnection({ status: 'connected', connection })
        const state = await api.getState()
        if (!state.ok) return setError(state.error.message)
        setSession(state.value)
        if (state.value.capture === null) {
          const opened = await api.openCapture({ source: { kind: 'demo' } })
          if (!opened.ok) setError(opened.error.message)
        }
      })
      .catch((reason: unknown) => {
        if (!cancelled) setConnection({ status: 'failed', message: (reason as Error).message })
      })
    const timer = setInterval(() => {
      if (latest.current !== published.current) {
        published.current = latest.current
        setSnapshot(latest.current)
      }
    }, SNAPSHOT_INTERVAL_MS)
    return () => {
      cancelled = true
      clearInterval(timer)
      for (const off of unsubscribe) off()
    }
  }, [])

  const openFile = async (event: ChangeEvent<HTMLInputElement>): Promise<void> => {
    const file = event.target.files?.[0]
    event.target.value = ''
    if (!file || !api) return
    const bytes = new Uint8Array(await file.arrayBuffer())
    await run(api.openCapture({ source: { kind: 'bytes', name: file.name, bytes } }))
  }

  const exportEnv = async (): Promise<void> => {
    if (!api || connection.status !== 'connected') return
    if (connection.connection.hello.capabilities.nativeDialogs) {
      await run(api.saveEnv({ includeWorkbench: false }))
      return
    }
    const exported = await run(api.exportEnv({ includeWorkbench: false }))
    if (!exported) return
    const url = URL.createObjectURL(new Blob([exported.text], { type: 'text/plain' }))
    const link = document.createElement('a')
    link.href = url
    link.download = exported.suggestedName
    link.click()
    setTimeout(() => URL.revokeObjectURL(url), 1000)
  }

  const changeStrength = (value: number): void => {
    setStrength(value)
    if (configureTimer.current !== null) clearTimeout(configureTimer.current)
    configureTimer.current = setTimeout(() => {
      configureTimer.current = null
      if (api) void run(api.configure({ noiseReductionStrength: value })).then(() => setStrength(null))
    }, CONFIGURE_THROTTLE_MS)
  }

  const transport = session?.transport
  const capture = session?.capture ?? null
  const values = snapshot?.values ?? {}
  const hello = connection.status === 'connected' ? connection.connection.hello : null
  const outcome = values.networkOutcome !== undefined ? NETWORK_OUTCOMES[values.networkOutcome] : undefined

  return (
    <main style={{ fontFamily: 'system-ui, sans-serif', padding: 16, maxWidth: 1280 }}>
      <header style={{ display: 'flex', alignItems: 'baseline', gap: 16 }}>
        <h1 style={{ fontSize: 20, margin: 0 }}>{APP_NAME}</h1>
        <span data-testid="connection">
          {connection.status === 'connecting' && 'Connecting to the engine…'}
          {connection.status === 'connected' &&
            `Connected · ${hello!.mode === 'desktop' ? 'desktop app' : 'browser mode'} · contract v${hello!.contractVersion}`}
          {(connection.status === 'failed' || connection.status === 'closed') && `Not connected: ${connection.message}`}
        </span>
      </header>

      {error !== null && (
        <div
          role="alert"
          data-testid="error-banner"
          style={{ background: '#fde8e8', border: '1px solid #e0a0a0', padding: 8, margin: '12px 0' }}
        >
          {error}{' '}
          <button type="button" onClick={() => setError(null)}>
            Dismiss
          </button>
        </div>
      )}

      <section style={{ margin: '12px 0' }} data-testid="capture">
        <strong>Capture:</strong>{' '}
        {capture === null
          ? transport?.busy === 'loading'
            ? 'loading…'
            : 'none'
          : `${capture.name} · ${capture.description} · ${formatMs(capture.durationMs)}`}
        {capture !== null && capture.warnings.length > 0 && ` · ${capture.warnings.length} warnings`}
      </section>

      <section style={{ display: 'flex', gap: 8, alignItems: 'center', flexWrap: 'wrap' }}>
        <button
          type="button"
          disabled={!api}
          onClick={() => api && void run(api.openCapture({ source: { kind: 'demo' } }))}
        >
          Open demo
        </button>
        {hello?.capabilities.nativeDialogs ? (
          <button type="button" onClick={() => api && void run(api.pickCapture())}>
            Open capture…
          </button>
        ) : (
          <label>
            Open capture…{' '}
            <input type="file" data-testid="file-input" disabled={!api} onChange={(e) => void openFile(e)} />
          </label>
        )}
      </section>

      <section style={{ display: 'flex', gap: 8, alignItems: 'center', margin: '12px 0', flexWrap: 'wrap' }}>
        <button type="button" disabled={!api || !capture} onClick={() => api && void run(api.play())}>
          Play
        </button>
        <button type="button" disabled={!api || !capture} onClick={() => api && void run(api.pause())}>
          Pause
        </button>
        <button type="button" disabled={!api || !capture} onClick={() => api && void run(api.seek({ positionMs: 0 }))}>
          To start
        </button>
        <label>
          Speed{' '}
          <select
            value={transport?.speed ?? 'realtime'}
            disabled={!api}
            onChange={(e) => api && void run(api.setSpeed({ speed: e.target.value === 'max' ? 'max' : 'realtime' }))}
          >
            <option value="realtime">1× real time</option>
            <option value="max">as fast as possible</option>
          </select>
        </label>
        <label>
          <input
            type="checkbox"
            checked={transport?.loop ?? false}
            disabled={!api}
            onChange={(e) => api && void run(api.setLoop({ enabled: e.target.checked }))}
          />{' '}
          Loop
        </label>
        <span data-testid="position">
          {transport
            ? `${transport.playing ? 'Playing' : transport.ended ? 'Ended' : 'Paused'} · ${formatMs(
                (snapshot?.frame ?? 0) * transport.frameMs,
              )} of ${formatMs(transport.durationMs)}${transport.busy ? ` · ${transport.busy}…` : ''}`
            : ''}
        </span>
      </section>

      <section style={{ margin: '12px 0' }}>
        <label>
          Noise reduction strength{' '}
          <input
            type="range"
            min={0}
            max={1}
            step={0.05}
            disabled={!api}
            value={strength ?? session?.settings.noiseReductionStrength ?? 0.8}
            onChange={(e) => changeStrength(Number(e.target.value))}
          />{' '}
          {(strength ?? session?.settings.noiseReductionStrength ?? 0.8).toFixed(2)}
        </label>{' '}
        <button type="button" disabled={!api} onClick={() => void exportEnv()}>
          Export .env
        </button>
      </section>

      <WaveformPanel />
      <SpectrogramPanel />

      <section data-testid="metrics">
        <h2 style={{ fontSize: 16 }}>Live metrics</h2>
        <dl style={{ display: 'grid', gridTemplateColumns: 'max-content auto', gap: '2px 16px' }}>
          <dt>Frame</dt>
          <dd data-testid="metric-frame">{snapshot?.frame ?? '–'}</dd>
          <dt>Health</dt>
          <dd data-testid="metric-health">
            {snapshot
              ? `${snapshot.health.status}${snapshot.health.reasons.length ? `: ${snapshot.health.reasons.join('; ')}` : ''}`
              : '–'}
          </dd>
          <dt>ERLE</dt>
          <dd data-testid="metric-erle">{formatValue(values.erleDb, 1, ' dB')}</dd>
          <dt>Echo delay</dt>
          <dd>{formatValue(values.echoDelayMs, 1, ' ms')}</dd>
          <dt>Noise attenuation</dt>
          <dd data-testid="metric-noise">{formatValue(values.noiseAttenuationDb, 1, ' dB')}</dd>
          <dt>Jitter</dt>
          <dd>{formatValue(values.jitterMs, 1, ' ms')}</dd>
          <dt>Buffer delay / target</dt>
          <dd>
            {formatValue(values.bufferDelayMs, 0)} / {formatValue(values.targetDelayMs, 0, ' ms')}
          </dd>
          <dt>Packets lost / late</dt>
          <dd>
            {snapshot?.lostPackets ?? 0} / {snapshot?.latePackets ?? 0} · last frame {outcome ?? '–'}
          </dd>
          <dt>Levels in / far / out</dt>
          <dd>
            {formatValue(values.inputLevelDb, 0)} / {formatValue(values.farLevelDb, 0)} /{' '}
            {formatValue(values.outputLevelDb, 0, ' dBFS')}
          </dd>
          <dt>Latency</dt>
          <dd>{formatValue(values.latencyTotalMs, 0, ' ms')}</dd>
          <dt>Stage time (network / echo / noise)</dt>
          <dd>
            {formatValue(values.networkUs, 0)} / {formatValue(values.echoUs, 0)} /{' '}
            {formatValue(values.noiseUs, 0, ' µs')}
          </dd>
          <dt>Settings applied</dt>
          <dd>{snapshot?.configApplied ?? 0}</dd>
        </dl>
      </section>
    </main>
  )
}

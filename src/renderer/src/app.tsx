/**
 * The workbench window: header (connection, health, theme), the error banner, the source and transport bar, then a
 * two-column workspace: signal views on the left (waveforms, spectrograms, network and latency graphs), meters,
 * tuning, echo path, live mode and exports on the right. Works the same over IPC (desktop) and WebSocket (browser
 * mode): the store (store.ts) owns the connection; high-rate tap data stays out of React (live/).
 */
import { useEffect } from 'react'
import { APP_NAME } from '../../shared/contract'
import { EchoPathPanel } from './panels/echo-path-panel'
import { ExportPanel } from './panels/export-panel'
import { LatencyPanel } from './panels/latency-panel'
import { ListenPanel } from './panels/listen-panel'
import { LivePanel } from './panels/live-panel'
import { MetersPanel } from './panels/meters-panel'
import { NetworkPanel } from './panels/network-panel'
import { SourcePanel } from './panels/source-panel'
import { SpectrogramPanel } from './panels/spectrogram-panel'
import { TuningPanel } from './panels/tuning-panel'
import { WaveformPanel } from './panels/waveform-panel'
import { startConnection, useWorkbench } from './store'

function ConnectionStatus() {
  const connection = useWorkbench((s) => s.connection)
  const hello = useWorkbench((s) => s.hello)
  return (
    <span data-testid="connection" className="muted">
      {connection.status === 'connecting' && 'Connecting to the engine…'}
      {connection.status === 'connected' &&
        hello &&
        `Connected · ${hello.mode === 'desktop' ? 'desktop app' : 'browser mode'} · contract v${hello.contractVersion}`}
      {(connection.status === 'failed' || connection.status === 'closed') && `Not connected: ${connection.message}`}
    </span>
  )
}

function ThemeToggle() {
  const theme = useWorkbench((s) => s.theme)
  const setTheme = useWorkbench((s) => s.setTheme)
  return (
    <button
      type="button"
      data-testid="theme-toggle"
      title="Switch between the light and dark themes"
      onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')}
    >
      {theme === 'dark' ? 'Light theme' : 'Dark theme'}
    </button>
  )
}

function Banner() {
  const error = useWorkbench((s) => s.error)
  const notice = useWorkbench((s) => s.notice)
  const setError = useWorkbench((s) => s.setError)
  if (error === null) return notice === null ? null : <div className="notice">{notice}</div>
  return (
    <div role="alert" data-testid="error-banner" className="banner">
      <span style={{ flex: 1 }}>{error}</span>
      <button type="button" onClick={() => setError(null)}>
        Dismiss
      </button>
    </div>
  )
}

export function App() {
  const theme = useWorkbench((s) => s.theme)
  useEffect(() => startConnection(), [])
  useEffect(() => {
    document.documentElement.dataset['theme'] = theme
  }, [theme])

  return (
    <main className="app">
      <header className="app-header">
        <h1>{APP_NAME}</h1>
        <ConnectionStatus />
        <span className="spacer" />
        <ThemeToggle />
      </header>
      <Banner />
      <SourcePanel />
      <div className="workspace">
        <div className="column">
          <WaveformPanel />
          <SpectrogramPanel />
          <NetworkPanel />
          <LatencyPanel />
        </div>
        <div className="column">
          <MetersPanel />
          <TuningPanel />
          <EchoPathPanel />
          <LivePanel />
          <ListenPanel />
          <ExportPanel />
        </div>
      </div>
    </main>
  )
}

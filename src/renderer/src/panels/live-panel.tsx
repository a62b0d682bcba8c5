/**
 * Live mode: the pipeline on the real microphone and speaker. Device pickers (enumerateDevices; the output only where
 * the browser can choose one, setSinkId), the far-end talker (the bundled bot voice, the open capture's far end, or
 * none), Start/Stop, recording (from the start, or toggled while live), a monitor of the processed near end on a
 * chosen output (headphones), and the live figures: device rates, frames sent and processed, added latency
 * last/p50/p99, dropouts and missing blocks. The last recording can be downloaded (browser mode) or replayed.
 *
 * The capture itself is imperative (live-input/live-capture.ts), held in a ref; React holds only low-rate state: the
 * phase, the choices, the engine's LiveState (session.live, pushed ~2 Hz) and the capture's counters polled at 4 Hz.
 * The monitor takes the tap's processed PCM through a tap listener, outside React.
 */
import { useCallback, useEffect, useRef, useState } from 'react'
import type { LiveFarSource, LiveState, RecordingInfo } from '../../../shared/contract'
import { LiveCapture, LiveCaptureError, type LiveCaptureStats } from '../live-input/live-capture'
import { MonitorPlayer } from '../live-input/monitor'
import { addTapListener, useWorkbench } from '../store'

type Phase = 'idle' | 'starting' | 'live' | 'stopping'

interface DeviceLists {
  inputs: MediaDeviceInfo[]
  outputs: MediaDeviceInfo[]
}

const STATS_INTERVAL_MS = 250
const canChooseOutput = typeof AudioContext !== 'undefined' && 'setSinkId' in AudioContext.prototype

async function listDevices(): Promise<DeviceLists> {
  const devices = (await navigator.mediaDevices?.enumerateDevices?.()) ?? []
  return {
    inputs: devices.filter((d) => d.kind === 'audioinput' && d.deviceId !== 'default' && d.deviceId !== ''),
    outputs: devices.filter((d) => d.kind === 'audiooutput' && d.deviceId !== 'default' && d.deviceId !== ''),
  }
}

function label(device: MediaDeviceInfo, index: number): string {
  return device.label || `${device.kind === 'audioinput' ? 'Microphone' : 'Output'} ${index + 1}`
}

function ms(value: number | undefined, digits = 1): string {
  return value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits)
}

function download(bytes: Uint8Array, name: string, mimeType: string): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: mimeType }))
  const link = document.createElement('a')
  link.href = url
  link.download = name
  link.click()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}

export function LivePanel() {
  const api = useWorkbench((s) => s.api)
  const hello = useWorkbench((s) => s.hello)
  const live = useWorkbench((s) => s.session?.live ?? null)
  // The figures stay on screen after live mode ends (the engine's state then says live: null).
  const [lastLive, setLastLive] = useState<LiveState | null>(null)
  if (live !== null && live !== lastLive) setLastLive(live)
  const shown = live ?? lastLive
  const captureHasFar = useWorkbench((s) => (s.session?.capture?.far ?? null) !== null)
  const setError = useWorkbench((s) => s.setError)
  const run = useWorkbench((s) => s.run)
  const [devices, setDevices] = useState<DeviceLists>({ inputs: [], outputs: [] })
  const [inputId, setInputId] = useState('')
  const [outputId, setOutputId] = useState('')
  const [monitorId, setMonitorId] = useState('')
  const [far, setFar] = useState<LiveFarSource>('bot')
  const [recordOnStart, setRecordOnStart] = useState(false)
  const [monitorOn, setMonitorOn] = useState(false)
  const [phase, setPhase] = useState<Phase>('idle')
  const [status, setStatus] = useState<string | null>(null)
  const [recording, setRecording] = useState<RecordingInfo | null>(null)
  const [stats, setStats] = useState<LiveCaptureStats | null>(null)
  const [rateHz, setRateHz] = useState<number | null>(null)
  const [farPlaying, setFarPlaying] = useState<string | null>(null)
  const captureRef = useRef<LiveCapture | null>(null)
  /** The engine has reported this live session (so its disappearing means the engine ended it). */
  const seenLive = useRef(false)

  const refreshDevices = useCallback(() => {
    listDevices()
      .then(setDevices)
      .catch(() => undefined)
  }, [])

  useEffect(() => {
    refreshDevices()
    const media = navigator.mediaDevices
    media?.addEventListener?.('devicechange', refreshDevices)
    return () => media?.removeEventListener?.('devicechange', refreshDevices)
  }, [refreshDevices])

  // Leaving the page (or unmounting) ends live mode; the engine keeps the recording.
  useEffect(() => () => void captureRef.current?.stop('the live panel was closed'), [])

  // The capture's own counters, a few times a second.
  useEffect(() => {
    if (phase !== 'live') return
    const timer = setInterval(() => {
      const capture = captureRef.current
      if (capture) setStats(capture.snapshot())
    }, STATS_INTERVAL_MS)
    return () => clearInterval(timer)
  }, [phase])

  // The monitor: the tap's processed PCM on the chosen output, while live.
  useEffect(() => {
    if (phase !== 'live' || !monitorOn) return
    let player: MonitorPlayer | null = null
    let cancelled = false
    const remove = addTapListener((batch) => player?.play(batch.processed, batch.sampleRateHz))
    MonitorPlayer.open(monitorId)
      .then((opened) => {
        if (cancelled) opened.close()
        else player = opened
      })
      .catch((error: unknown) => setError(`The monitor output could not be opened: ${(error as Error).message}`))
    return () => {
      cancelled = true
      remove()
      player?.close()
    }
  }, [phase, monitorOn, monitorId, setError])

  const ended = useCallback(
    (reason: string, info: RecordingInfo | null) => {
      captureRef.current = null
      seenLive.current = false
      setPhase('idle')
      setStatus(reason)
      setError(reason)
      if (info !== null) setRecording(info)
    },
    [setError],
  )

  // The engine ended live mode by itself (its worker restarted): stop capturing here too.
  useEffect(() => {
    if (live !== null) seenLive.current = true
    else if (phase === 'live' && seenLive.current) {
      const capture = captureRef.current
      if (capture !== null && !capture.isStopping)
        void capture.stop('the engine ended live mode').then(() => ended('The engine ended live mode.', null))
    }
  }, [live, phase, ended])

  const start = async (): Promise<void> => {
    if (!api || phase !== 'idle') return
    setPhase('starting')
    setStatus(null)
    setStats(null)
    setLastLive(null)
    try {
      const capture = await LiveCapture.start({
        api,
        inputDeviceId: inputId,
        outputDeviceId: canChooseOutput ? outputId : '',
        far,
        record: recordOnStart,
        onEnded: ended,
      })
      captureRef.current = capture
      setRateHz(capture.sampleRateHz)
      setFarPlaying(capture.reply.farDescription)
      setPhase('live')
      refreshDevices() // labels are readable once the microphone is allowed
    } catch (error) {
      const message = error instanceof LiveCaptureError ? error.message : `Live mode failed: ${String(error)}`
      setPhase('idle')
      setStatus(message)
      setError(message)
    }
  }

  const stop = async (): Promise<void> => {
    const capture = captureRef.current
    if (capture === null) return
    setPhase('stopping')
    const result = await capture.stop('stopped by the user')
    captureRef.current = null
    seenLive.current = false
    setStats(capture.snapshot())
    setPhase('idle')
    if (!result.ok) {
      setError(result.error.message)
      setStatus(result.error.message)
      return
    }
    setStatus('Stopped.')
    if (result.value.recording !== null) setRecording(result.value.recording)
  }

  const toggleRecording = async (): Promise<void> => {
    if (!api) return
    if (live?.recording) {
      const info = await run(api.stopRecording())
      if (info) setRecording(info)
    } else await run(api.startRecording())
  }

  const downloadRecording = async (): Promise<void> => {
    if (!api) return
    const exported = await run(api.exportRecording())
    if (exported) for (const file of exported.files) download(file.bytes, file.suggestedName, file.mimeType)
  }

  const replayRecording = async (): Promise<void> => {
    if (!api || recording === null) return
    const separator = recording.directory.includes('\\') ? '\\' : '/'
    await run(
      api.openCapture({
        source: { kind: 'path', path: `${recording.directory}${separator}${recording.files.capture}` },
      }),
    )
  }

  const isLive = phase === 'live'
  const busy = phase === 'starting' || phase === 'stopping'
  return (
    <section className="panel" data-testid="live-panel">
      <header>
        <h2>Live mode</h2>
        <span className="muted" data-testid="live-status">
          {phase === 'starting'
            ? 'Starting…'
            : phase === 'stopping'
              ? 'Stopping…'
              : isLive
                ? `Live${live?.recording ? ' · recording' : ''}`
                : (status ?? 'Off')}
        </span>
      </header>
      <div className="row">
        <label>
          Input{' '}
          <select
            data-testid="live-input"
            value={inputId}
            disabled={isLive || busy}
            onChange={(e) => setInputId(e.target.value)}
          >
            <option value="">Default microphone</option>
            {devices.inputs.map((d, i) => (
              <option key={d.deviceId} value={d.deviceId}>
                {label(d, i)}
              </option>
            ))}
          </select>
        </label>
        <label title={canChooseOutput ? '' : 'This browser plays through the system default output only'}>
          Output{' '}
          <select
            data-testid="live-output"
            value={outputId}
            disabled={isLive || busy || !canChooseOutput}
            onChange={(e) => setOutputId(e.target.value)}
          >
            <option value="">Default speaker</option>
            {devices.outputs.map((d, i) => (
              <option key={d.deviceId} value={d.deviceId}>
                {label(d, i)}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div className="row" style={{ marginTop: 6 }}>
        <label>
          Far end{' '}
          <select
            data-testid="live-far"
            value={far}
            disabled={isLive || busy}
            onChange={(e) => setFar(e.target.value as LiveFarSource)}
          >
            <option value="bot">Bot voice (bundled)</option>
            <option value="capture" disabled={!captureHasFar}>
              Far end of the open capture
            </option>
            <option value="none">None (microphone only)</option>
          </select>
        </label>
        <label>
          <input
            type="checkbox"
            data-testid="live-record-on-start"
            checked={recordOnStart}
            disabled={isLive || busy}
            onChange={(e) => setRecordOnStart(e.target.checked)}
          />{' '}
          Record from the start
        </label>
      </div>
      <div className="row" style={{ marginTop: 6 }}>
        {isLive || phase === 'stopping' ? (
          <button type="button" data-testid="live-stop" disabled={busy} onClick={() => void stop()}>
            Stop live
          </button>
        ) : (
          <button
            type="button"
            className="primary"
            data-testid="live-start"
            disabled={!api || busy}
            onClick={() => void start()}
          >
            Start live
          </button>
        )}
        <button type="button" data-testid="live-record" disabled={!isLive} onClick={() => void toggleRecording()}>
          {live?.recording ? 'Stop recording' : 'Record'}
        </button>
        <label>
          <input
            type="checkbox"
            data-testid="live-monitor"
            checked={monitorOn}
            onChange={(e) => setMonitorOn(e.target.checked)}
          />{' '}
          Monitor
        </label>
        <select
          aria-label="Monitor output"
          value={monitorId}
          disabled={!canChooseOutput}
          onChange={(e) => setMonitorId(e.target.value)}
        >
          <option value="">Default output</option>
          {devices.outputs.map((d, i) => (
            <option key={d.deviceId} value={d.deviceId}>
              {label(d, i)}
            </option>
          ))}
        </select>
      </div>
      <dl
        data-testid="live-metrics"
        style={{ display: 'grid', gridTemplateColumns: 'max-content auto', gap: '2px 16px', margin: '8px 0 0' }}
      >
        <dt>Device rate in / out</dt>
        <dd data-testid="live-rates">
          {shown ? `${shown.inputRateHz} / ${shown.outputRateHz} Hz` : rateHz !== null ? `${rateHz} Hz` : '–'}
        </dd>
        <dt>Far end playing</dt>
        <dd data-testid="live-far-playing">{farPlaying ?? '–'}</dd>
        <dt>Audio captured</dt>
        <dd data-testid="live-captured">{stats ? `${(stats.capturedMs / 1000).toFixed(2)} s` : '–'}</dd>
        <dt>Frames sent / processed</dt>
        <dd>
          <span data-testid="live-frames-sent">{stats?.framesSent ?? 0}</span> /{' '}
          <span data-testid="live-frames">{shown?.frames ?? 0}</span>
        </dd>
        <dt>Added latency last / p50 / p99</dt>
        <dd data-testid="live-latency">
          {shown ? `${ms(shown.latencyMs.last)} / ${ms(shown.latencyMs.p50)} / ${ms(shown.latencyMs.p99)} ms` : '–'}
        </dd>
        <dt>Dropouts / missing blocks</dt>
        <dd>
          <span data-testid="live-dropouts">{shown?.dropouts ?? stats?.dropouts ?? 0}</span> /{' '}
          <span data-testid="live-missing">{shown?.missingBlocks ?? 0}</span>
        </dd>
        <dt>Recording</dt>
        <dd data-testid="live-recording">
          {live?.recording ? `${(live.recording.durationMs / 1000).toFixed(1)} s` : 'off'}
        </dd>
      </dl>
      {recording !== null && (
        <div className="row" style={{ marginTop: 6 }} data-testid="live-last-recording">
          <span>
            Recorded <span data-testid="live-last-recording-frames">{recording.frames}</span> frames (
            {(recording.durationMs / 1000).toFixed(2)} s): {recording.files.capture}
            {recording.directory !== '' && <span className="muted"> in {recording.directory}</span>}
          </span>
          <button type="button" data-testid="live-download" disabled={!api} onClick={() => void downloadRecording()}>
            Download
          </button>
          {hello?.capabilities.openPath && (
            <button
              type="button"
              data-testid="live-replay"
              disabled={!api || isLive}
              onClick={() => void replayRecording()}
            >
              Open as capture
            </button>
          )}
        </div>
      )}
    </section>
  )
}

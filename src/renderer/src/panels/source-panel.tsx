/**
 * Source and transport: the capture (demo, a file: native dialog on the desktop, file input in browser mode), its
 * warnings, the replay transport (play, pause, to start, speed, loop), a timeline to seek on (click or drag; the seek
 * is sent when the thumb is released), the near/far stream choice of a pcap capture, and the what-if network profile
 * (the capture replayed through a simulated network, deterministic with its seed; 'as recorded' plays it as is).
 */
import { useRef, useState, type ChangeEvent } from 'react'
import { NETWORK_PROFILE_NAMES, type CaptureInfo, type StreamSummary } from '../../../shared/contract'
import { useWorkbench } from '../store'
import { formatClock, replayPositionMs } from '../source-ui'
import './source-panel.css'

const AS_RECORDED = 'as-recorded'
const NO_FAR = 'none'
const DEFAULT_SEED = 1
const MAX_SEED = 2 ** 32 - 1

function formatS(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`
}

function formatSsrc(ssrc: number): string {
  return `0x${ssrc.toString(16).padStart(8, '0')}`
}

/** A stream in a select: index and direction (the codec, SSRC and counts are in the streams table). */
function streamLabel(stream: StreamSummary): string {
  return `#${stream.index} ${stream.source} → ${stream.destination}`
}

export function SourcePanel() {
  const api = useWorkbench((s) => s.api)
  const hello = useWorkbench((s) => s.hello)
  const session = useWorkbench((s) => s.session)
  const frame = useWorkbench((s) => s.snapshot?.frame ?? null)
  const run = useWorkbench((s) => s.run)
  const transport = session?.transport
  const capture = session?.capture ?? null
  const isLive = session?.live != null

  const openFile = async (event: ChangeEvent<HTMLInputElement>): Promise<void> => {
    const file = event.target.files?.[0]
    event.target.value = ''
    if (!file || !api) return
    const bytes = new Uint8Array(await file.arrayBuffer())
    await run(api.openCapture({ source: { kind: 'bytes', name: file.name, bytes } }))
  }

  const positionMs = transport ? replayPositionMs(transport, frame) : 0
  return (
    <section className="panel source" data-testid="source-panel">
      <div className="row">
        <div className="source-capture" data-testid="capture">
          <strong>Capture:</strong>{' '}
          <span>
            {capture === null
              ? transport?.busy === 'loading'
                ? 'loading…'
                : 'none'
              : `${capture.name} · ${capture.description}`}
          </span>
        </div>
        {capture !== null && capture.warnings.length > 0 && <CaptureWarnings warnings={capture.warnings} />}
      </div>
      <div className="row source-transport">
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
        <span className="source-gap" />
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
            data-testid="speed"
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
            data-testid="loop"
            checked={transport?.loop ?? false}
            disabled={!api}
            onChange={(e) => api && void run(api.setLoop({ enabled: e.target.checked }))}
          />{' '}
          Loop
        </label>
        <span data-testid="position">
          {transport
            ? `${transport.playing ? 'Playing' : transport.ended ? 'Ended' : 'Paused'} · ${formatS(positionMs)} of ${formatS(
                transport.durationMs,
              )}${transport.busy ? ` · ${transport.busy}…` : ''}`
            : ''}
        </span>
      </div>
      <Timeline positionMs={positionMs} disabled={!api || !capture || isLive} />
      {capture !== null && <CaptureOptions capture={capture} disabled={!api || isLive} />}
    </section>
  )
}

function CaptureWarnings({ warnings }: { warnings: string[] }) {
  return (
    <details className="source-warnings" data-testid="capture-warnings">
      <summary>
        {warnings.length} warning{warnings.length === 1 ? '' : 's'}
      </summary>
      <ul>
        {warnings.map((warning, index) => (
          <li key={index}>{warning}</li>
        ))}
      </ul>
    </details>
  )
}

/**
 * The replay position on a range input: a click or a drag moves the thumb (the time shown follows it) and the seek is
 * sent on release; keyboard steps (arrows, Page Up/Down) seek at once.
 */
function Timeline({ positionMs, disabled }: { positionMs: number; disabled: boolean }) {
  const api = useWorkbench((s) => s.api)
  const transport = useWorkbench((s) => s.session?.transport)
  const setError = useWorkbench((s) => s.setError)
  const [scrubMs, setScrubMs] = useState<number | null>(null)
  const dragging = useRef(false)
  const durationMs = transport?.durationMs ?? 0
  const frameMs = transport?.frameMs ?? 20

  const seek = (targetMs: number): void => {
    if (!api) return
    void api.seek({ positionMs: targetMs }).then((result) => {
      // A seek superseded by a later one is expected while scrubbing.
      if (!result.ok && result.error.code !== 'cancelled') setError(result.error.message)
      if (!dragging.current) setScrubMs(null)
    })
  }

  const shownMs = scrubMs ?? positionMs
  return (
    <div className="row source-timeline">
      <span className="source-time" data-testid="timeline-position">
        {formatClock(shownMs)}
      </span>
      <input
        type="range"
        data-testid="timeline"
        aria-label="Replay position"
        min={0}
        max={Math.max(durationMs, frameMs)}
        step={frameMs}
        value={Math.min(shownMs, Math.max(durationMs, frameMs))}
        disabled={disabled || durationMs === 0}
        onPointerDown={() => {
          dragging.current = true
        }}
        onPointerUp={(e) => {
          dragging.current = false
          seek(Number((e.target as HTMLInputElement).value))
        }}
        onChange={(e) => {
          const value = Number(e.target.value)
          setScrubMs(value)
          if (!dragging.current) seek(value)
        }}
      />
      <span className="source-time" data-testid="timeline-duration">
        {formatClock(durationMs)}
      </span>
    </div>
  )
}

function CaptureOptions({ capture, disabled }: { capture: CaptureInfo; disabled: boolean }) {
  const api = useWorkbench((s) => s.api)
  const run = useWorkbench((s) => s.run)
  const [seedText, setSeedText] = useState<string | null>(null)
  const streams = capture.streams
  const near = streams.find((s) => s.role === 'near') ?? null
  const far = streams.find((s) => s.role === 'far') ?? null
  const profile = capture.impairment?.profile ?? null
  const seed = capture.impairment?.seed ?? DEFAULT_SEED

  const selectStreams = (nearIndex: number, farIndex: number | null): void => {
    if (api) void run(api.selectStreams({ nearStream: nearIndex, farStream: farIndex }))
  }
  const setImpairment = (nextProfile: (typeof NETWORK_PROFILE_NAMES)[number] | null, nextSeed: number): void => {
    if (api) void run(api.setImpairment({ profile: nextProfile, seed: nextSeed }))
  }
  const commitSeed = (): void => {
    if (seedText === null) return
    const value = Number(seedText)
    setSeedText(null)
    if (!Number.isInteger(value) || value < 0 || value > MAX_SEED) {
      useWorkbench.getState().setError(`Seed: ${JSON.stringify(seedText)} is not a whole number from 0 to ${MAX_SEED}`)
      return
    }
    if (profile !== null && value !== seed) setImpairment(profile, value)
  }

  return (
    <div className="row source-options">
      {streams.length > 0 && (
        <>
          <label title="The stream from the caller: the audio the pipeline processes">
            Near{' '}
            <select
              data-testid="near-stream"
              value={near === null ? '' : String(near.index)}
              disabled={disabled}
              onChange={(e) => selectStreams(Number(e.target.value), far?.index ?? null)}
            >
              {near === null && <option value="">–</option>}
              {streams.map((stream) => (
                <option key={stream.index} value={String(stream.index)}>
                  {streamLabel(stream)}
                </option>
              ))}
            </select>
          </label>
          <label title="The stream towards the caller (the bot's TTS): the echo canceller's reference">
            Far{' '}
            <select
              data-testid="far-stream"
              value={far === null ? NO_FAR : String(far.index)}
              disabled={disabled || near === null}
              onChange={(e) =>
                near !== null && selectStreams(near.index, e.target.value === NO_FAR ? null : Number(e.target.value))
              }
            >
              <option value={NO_FAR}>none</option>
              {streams.map((stream) => (
                <option key={stream.index} value={String(stream.index)}>
                  {streamLabel(stream)}
                </option>
              ))}
            </select>
          </label>
          <StreamTable streams={streams} />
        </>
      )}
      <label title="What-if: replay the capture through a simulated network profile (deterministic for a seed)">
        What-if{' '}
        <select
          data-testid="impairment-profile"
          value={profile ?? AS_RECORDED}
          disabled={disabled}
          onChange={(e) =>
            setImpairment(
              e.target.value === AS_RECORDED ? null : (e.target.value as (typeof NETWORK_PROFILE_NAMES)[number]),
              seed,
            )
          }
        >
          <option value={AS_RECORDED}>as recorded</option>
          {NETWORK_PROFILE_NAMES.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
      </label>
      <label title="The simulator's random seed: the same seed gives the same arrivals">
        seed{' '}
        <input
          type="number"
          className="source-seed"
          data-testid="impairment-seed"
          min={0}
          max={MAX_SEED}
          step={1}
          value={seedText ?? String(seed)}
          disabled={disabled || profile === null}
          onChange={(e) => setSeedText(e.target.value)}
          onBlur={commitSeed}
          onKeyDown={(e) => {
            if (e.key === 'Enter') commitSeed()
            else if (e.key === 'Escape') setSeedText(null)
          }}
        />
      </label>
    </div>
  )
}

function StreamTable({ streams }: { streams: StreamSummary[] }) {
  return (
    <details className="source-streams" data-testid="capture-streams">
      <summary>
        {streams.length} RTP stream{streams.length === 1 ? '' : 's'}
      </summary>
      <table>
        <thead>
          <tr>
            <th>#</th>
            <th>From → to</th>
            <th>SSRC</th>
            <th>Codec</th>
            <th>Packets</th>
            <th>Lost</th>
            <th>Jitter</th>
            <th>Role</th>
          </tr>
        </thead>
        <tbody>
          {streams.map((stream) => (
            <tr key={stream.index}>
              <td>{stream.index}</td>
              <td>
                {stream.source} → {stream.destination}
              </td>
              <td>{formatSsrc(stream.ssrc)}</td>
              <td>{stream.codec}</td>
              <td>{stream.packets}</td>
              <td>{stream.lost}</td>
              <td>{stream.meanJitterMs.toFixed(1)} ms</td>
              <td>{stream.role ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  )
}

/**
 * Source and transport: the capture (demo, a file: native dialog on the desktop, file input in browser mode) and the
 * replay transport (play, pause, to start, speed, loop) with the position.
 */
import type { ChangeEvent } from 'react'
import { useWorkbench } from '../store'

function formatS(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`
}

export function SourcePanel() {
  const api = useWorkbench((s) => s.api)
  const hello = useWorkbench((s) => s.hello)
  const session = useWorkbench((s) => s.session)
  const frame = useWorkbench((s) => s.snapshot?.frame ?? 0)
  const run = useWorkbench((s) => s.run)
  const transport = session?.transport
  const capture = session?.capture ?? null

  const openFile = async (event: ChangeEvent<HTMLInputElement>): Promise<void> => {
    const file = event.target.files?.[0]
    event.target.value = ''
    if (!file || !api) return
    const bytes = new Uint8Array(await file.arrayBuffer())
    await run(api.openCapture({ source: { kind: 'bytes', name: file.name, bytes } }))
  }

  return (
    <section className="panel" data-testid="source-panel">
      <div className="row" data-testid="capture">
        <strong>Capture:</strong>
        <span>
          {capture === null
            ? transport?.busy === 'loading'
              ? 'loading…'
              : 'none'
            : `${capture.name} · ${capture.description} · ${formatS(capture.durationMs)}`}
          {capture !== null && capture.warnings.length > 0 && ` · ${capture.warnings.length} warnings`}
        </span>
      </div>
      <div className="row" style={{ marginTop: 6 }}>
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
        <span style={{ width: 16 }} />
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
            ? `${transport.playing ? 'Playing' : transport.ended ? 'Ended' : 'Paused'} · ${formatS(
                frame * transport.frameMs,
              )} of ${formatS(transport.durationMs)}${transport.busy ? ` · ${transport.busy}…` : ''}`
            : ''}
        </span>
      </div>
    </section>
  )
}

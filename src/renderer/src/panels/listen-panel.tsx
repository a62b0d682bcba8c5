/**
 * A/B listening (ab-player.ts): unmute, then switch between the near end as received (A, original) and after
 * processing (B) while the replay plays at 1×; the current source is shown and exposed as data attributes
 * (data-ab-source, data-ab-status) for tests, since headless browsers cannot be heard. It also mounts the keyboard
 * shortcuts (shortcuts.ts useShortcuts: mount this panel once) and their list ('?' or its button), as an overlay.
 */
import { abPlayer, useAbPlayer, type AbStatus } from '../ab-player'
import { SHORTCUTS, useShortcuts } from '../shortcuts'

const STATUS_TEXT: Record<AbStatus, string> = {
  muted: 'muted',
  waiting: 'waiting for the replay to play',
  playing: 'playing',
  fast: 'plays only at 1× real time',
  live: 'off in live mode (it would feed back into the microphone)',
  unavailable: 'no Web Audio in this browser',
}

export function ListenPanel() {
  const source = useAbPlayer((s) => s.source)
  const status = useAbPlayer((s) => s.status)
  const volume = useAbPlayer((s) => s.volume)
  const underruns = useAbPlayer((s) => s.underruns)
  const muted = status === 'muted' || status === 'unavailable'
  const { isHelpOpen, setHelpOpen } = useShortcuts()
  return (
    <section className="panel" data-testid="listen-panel" data-ab-source={source} data-ab-status={status}>
      <header>
        <h2>A/B listening</h2>
        <span className="muted" data-testid="ab-status">
          {STATUS_TEXT[status]}
          {status === 'playing' && underruns > 0 ? ` · ${underruns} dropouts` : ''}
        </span>
        <span style={{ flex: 1 }} />
        <button
          type="button"
          data-testid="shortcuts-button"
          title="Keyboard shortcuts (?)"
          onClick={() => setHelpOpen(!isHelpOpen)}
        >
          Shortcuts ?
        </button>
      </header>
      <div className="row">
        <button
          type="button"
          data-testid="ab-listen"
          className={muted ? 'primary' : undefined}
          disabled={status === 'unavailable'}
          onClick={() => (muted ? void abPlayer.unmute() : abPlayer.mute())}
        >
          {muted ? 'Listen' : 'Mute'}
        </button>
        <button
          type="button"
          data-testid="ab-toggle"
          aria-pressed={source === 'processed'}
          title="Switch between the original and the processed near end (B)"
          onClick={() => abPlayer.toggleSource()}
        >
          <span style={{ color: source === 'original' ? 'var(--near)' : 'var(--muted)', fontWeight: 600 }}>
            A original
          </span>
          {' / '}
          <span style={{ color: source === 'processed' ? 'var(--processed)' : 'var(--muted)', fontWeight: 600 }}>
            B processed
          </span>
        </button>
        <label title="Output volume">
          Vol{' '}
          <input
            type="range"
            min={0}
            max={1}
            step={0.05}
            value={volume}
            style={{ width: 70, verticalAlign: 'middle' }}
            onChange={(e) => abPlayer.setVolume(Number(e.target.value))}
          />
        </label>
      </div>
      <div data-testid="ab-source" style={{ marginTop: 4 }}>
        {status === 'playing' ? 'Hearing' : 'Selected'}:{' '}
        <strong style={{ color: source === 'original' ? 'var(--near)' : 'var(--processed)' }}>
          {source === 'original'
            ? 'A · near end as received (before AEC and noise reduction)'
            : 'B · processed near end'}
        </strong>
      </div>
      {isHelpOpen && <ShortcutsHelp onClose={() => setHelpOpen(false)} />}
    </section>
  )
}

/** The shortcut list, as an overlay; closes on Esc, '?', a click outside or its button. */
export function ShortcutsHelp({ onClose }: { onClose: () => void }) {
  return (
    <div
      role="presentation"
      onClick={onClose}
      style={{
        position: 'fixed',
        inset: 0,
        background: 'rgba(0, 0, 0, 0.35)',
        display: 'flex',
        alignItems: 'center',
        justifyContent: 'center',
        zIndex: 10,
      }}
    >
      <div
        role="dialog"
        aria-label="Keyboard shortcuts"
        data-testid="shortcuts-help"
        className="panel"
        onClick={(e) => e.stopPropagation()}
        style={{ minWidth: 380, boxShadow: '0 8px 24px rgba(0, 0, 0, 0.3)' }}
      >
        <header>
          <h2>Keyboard shortcuts</h2>
          <span style={{ flex: 1 }} />
          <button type="button" onClick={onClose}>
            Close
          </button>
        </header>
        <table style={{ borderCollapse: 'collapse' }}>
          <tbody>
            {SHORTCUTS.map((shortcut) => (
              <tr key={shortcut.action}>
                <td style={{ padding: '2px 16px 2px 0' }}>
                  <kbd
                    style={{
                      border: '1px solid var(--panel-border)',
                      borderRadius: 3,
                      padding: '0 6px',
                      background: 'var(--input-bg)',
                      fontFamily: 'inherit',
                    }}
                  >
                    {shortcut.keys}
                  </kbd>
                </td>
                <td>{shortcut.description}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p className="muted" style={{ margin: '6px 0 0' }}>
          Not while typing in a field. Space on a focused button plays/pauses.
        </p>
      </div>
    </div>
  )
}

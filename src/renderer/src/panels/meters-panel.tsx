/**
 * The latest frame's metrics as numbers (the 10 Hz snapshot) and the session's health.
 */
import { NETWORK_OUTCOMES } from '../../../shared/contract'
import { useWorkbench } from '../store'

function formatValue(value: number | undefined, digits = 1, unit = ''): string {
  return value === undefined || !Number.isFinite(value) ? '–' : `${value.toFixed(digits)}${unit}`
}

export function MetersPanel() {
  const snapshot = useWorkbench((s) => s.snapshot)
  const values = snapshot?.values ?? {}
  const outcome = values.networkOutcome !== undefined ? NETWORK_OUTCOMES[values.networkOutcome] : undefined
  return (
    <section className="panel" data-testid="metrics">
      <header>
        <h2>Live metrics</h2>
      </header>
      <dl style={{ display: 'grid', gridTemplateColumns: 'max-content auto', gap: '2px 16px', margin: 0 }}>
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
          {formatValue(values.networkUs, 0)} / {formatValue(values.echoUs, 0)} / {formatValue(values.noiseUs, 0, ' µs')}
        </dd>
        <dt>Settings applied</dt>
        <dd>{snapshot?.configApplied ?? 0}</dd>
      </dl>
    </section>
  )
}

/**
 * Meters: the session's health in words (the engine's reasons, coloured by status), then bars with numbers for the
 * echo canceller (ERLE, its median and spread over far single talk, the linear filter's share, ERL, echo delay against
 * the filter's span and its confidence; chips for double talk, the filter's state and clock drift), the noise reducer
 * (noise floor, attenuation), levels
 * (input, SNR = input level − noise floor, far end, output), the processing time of each stage per frame against the
 * frame's time budget, and the packet counts. Values follow the 10 Hz snapshot; processing times are averaged over
 * the last second of frames from the metric rings, so they read steadily.
 */
import type { ReactNode } from 'react'
import { SAMPLE_RATE_16K } from '../../../dsp/units'
import { ECHO_PATH_STATES, ECHO_STATES, type FrameMetricName, type HealthStatus } from '../../../shared/contract'
import { metricRings, type MetricRings } from '../live/metric-rings'
import { useWorkbench } from '../store'
import { useMetricFeed } from './chart'
import './meters-panel.css'

/** Frames averaged for the processing times (1 s of 20 ms frames). */
const TIMING_FRAMES = 50
/** The processing-time bars span this share of the frame's time budget. */
const TIMING_BAR_SHARE = 0.1
/** Input below this is digital silence: no SNR. */
const SILENCE_DB = -100
/** A noise floor at or below this is the reducer's clamp, not an estimate. */
const NO_FLOOR_DB = -119.5
/** Clock drift shown as a chip from this size on, ppm (the estimate's spread on a drift-free call is a few ppm). */
const DRIFT_CHIP_PPM = 20

type Tone = 'ok' | 'warn' | 'danger' | 'accent'

/** ok at or above `ok`, warn at or above `warn`, danger below; accent when there is no value. */
function levelTone(value: number | undefined, ok: number, warn: number): Tone {
  return value === undefined ? 'accent' : value >= ok ? 'ok' : value >= warn ? 'warn' : 'danger'
}

function formatValue(value: number | undefined, digits: number, unit: string): string {
  return value === undefined || !Number.isFinite(value) ? '–' : `${value.toFixed(digits)}${unit}`
}

function Meter({
  label,
  hint,
  value,
  text,
  min,
  max,
  tone = 'accent',
  testId,
}: {
  label: string
  hint: string
  value: number | undefined
  text: string
  min: number
  max: number
  tone?: Tone
  testId?: string
}) {
  const fraction =
    value === undefined || !Number.isFinite(value) ? 0 : Math.min(1, Math.max(0, (value - min) / (max - min)))
  return (
    <div className="meter" title={hint}>
      <span className="meter-label">{label}</span>
      <span className="meter-track">
        <span className={`meter-fill tone-${tone}`} style={{ transform: `scaleX(${fraction.toFixed(3)})` }} />
      </span>
      <span className="meter-value" data-testid={testId}>
        {text}
      </span>
    </div>
  )
}

function Group({ title, note, children }: { title: string; note?: ReactNode; children: ReactNode }) {
  return (
    <div className="meter-group">
      <div className="meter-group-title">
        <span>{title}</span>
        {note !== undefined && <span className="meter-note">{note}</span>}
      </div>
      {children}
    </div>
  )
}

const STATUS_CLASS: Record<HealthStatus, string> = {
  healthy: 'status-healthy',
  degraded: 'status-degraded',
  unhealthy: 'status-unhealthy',
}

/** The health line: status and the engine's reasons (TapBatch.health, else the session's). */
function HealthLine() {
  const snapshotHealth = useWorkbench((s) => s.snapshot?.health)
  const sessionHealth = useWorkbench((s) => s.session?.health)
  const health = snapshotHealth ?? sessionHealth
  if (!health)
    return (
      <div className="health" data-status="none">
        <span data-testid="metric-health">–</span>
        <span className="muted"> no frames yet</span>
      </div>
    )
  return (
    <div className={`health health-${health.status}`} data-status={health.status} role="status">
      <div data-testid="metric-health">
        <strong className={STATUS_CLASS[health.status]}>{health.status}</strong>
        {health.reasons.length > 0 && <span className={STATUS_CLASS[health.status]}>: </span>}
        {health.reasons.map((reason, i) => (
          <span key={i} className="health-reason">
            {i > 0 && <span className="health-separator">; </span>}
            {reason}
          </span>
        ))}
      </div>
      {health.reasons.length === 0 && <span className="muted">no problems detected</span>}
    </div>
  )
}

const STAGES: { metric: FrameMetricName; label: string; hint: string }[] = [
  { metric: 'networkUs', label: 'Network', hint: 'jitter buffer, PLC, µ-law decode and resampling' },
  { metric: 'echoUs', label: 'Echo canceller', hint: 'adaptive filter, delay estimation, residual suppression' },
  { metric: 'noiseUs', label: 'Noise reducer', hint: 'noise floor tracking and spectral gain' },
  { metric: 'framingUs', label: 'Framing', hint: 're-framing to the output frame size' },
]

export function MetersPanel({ rings = metricRings }: { rings?: MetricRings }) {
  useMetricFeed(rings)
  const snapshot = useWorkbench((s) => s.snapshot)
  const settings = useWorkbench((s) => s.session?.settings)
  const frameMs = useWorkbench((s) => s.session?.transport.frameMs ?? 20)
  const values = snapshot?.values ?? {}

  const erle = values.erleDb
  const echoDelay = values.echoDelayMs
  const filterMs = settings ? (settings.echoFilterLengthTaps * 1000) / SAMPLE_RATE_16K : undefined
  const maxDelayMs = settings?.echoMaxBulkDelayMs ?? 400
  const input = values.inputLevelDb
  const floor = values.noiseFloorDb
  // No SNR on a silent input or before the noise floor has an estimate (it starts at the −120 dBFS clamp).
  const snr =
    input !== undefined && floor !== undefined && input > SILENCE_DB && floor > NO_FLOOR_DB ? input - floor : undefined
  const budgetUs = frameMs * 1000
  const timings = STAGES.map((stage) => ({ ...stage, us: rings.meanLatest(stage.metric, TIMING_FRAMES) }))
  const totalUs = timings.reduce((sum, t) => sum + (Number.isFinite(t.us) ? t.us : 0), 0)
  const hasTimings = timings.some((t) => Number.isFinite(t.us))
  const concealed = rings.totals[2] ?? 0
  const lossRate = values.lossRate
  const doubleTalk = values.doubleTalk === 1
  const echoPath = values.echoPath !== undefined ? ECHO_PATH_STATES[values.echoPath] : undefined
  const echoState = values.echoState !== undefined ? ECHO_STATES[values.echoState] : undefined
  // The spread is over far single-talk frames: none yet (or no echo path) reads as –.
  const { erleMinDb: erleMin, erleMedianDb: erleMedian, erleMaxDb: erleMax } = values
  const hasSpread = echoPath === 'found' && !(erleMin === 0 && erleMedian === 0 && erleMax === 0)
  const linearErle = echoPath === 'found' ? values.linearErleDb : undefined
  const erl = echoPath === 'found' ? values.erlDb : undefined
  const drift = values.echoDriftPpm
  const confidence = values.echoDelayConfidence

  return (
    <section className="panel meters" data-testid="metrics">
      <header>
        <h2>Meters</h2>
        <span className="muted">
          frame <span data-testid="metric-frame">{snapshot?.frame ?? '–'}</span>
          {snapshot && ` · ${((snapshot.frame * frameMs) / 1000).toFixed(2)} s`}
          {snapshot && snapshot.configApplied > 0 && ` · ${snapshot.configApplied} settings changes applied`}
        </span>
      </header>
      <HealthLine />

      <Group
        title="Echo"
        note={
          <>
            {doubleTalk && <span className="chip">double talk</span>}
            {echoPath === 'none' && (
              <span
                className="chip"
                data-testid="echo-path-none"
                title="The far end plays but none of it reaches the mic (a headset, or the reference is not what the speaker played): the canceller passes the mic through untouched"
              >
                no echo path
              </span>
            )}
            {echoPath === 'searching' && <span className="chip">looking for the echo path</span>}
            {echoPath === 'found' && (echoState === 'converging' || echoState === 'diverged') && (
              <span
                className={`chip${echoState === 'diverged' ? ' chip-danger' : ''}`}
                data-testid="echo-state"
                title={
                  echoState === 'diverged'
                    ? 'The filter output grew past the mic: the echo path changed or double talk is constant; it re-converges on its own'
                    : 'The filter is still learning the echo path'
                }
              >
                {echoState}
              </span>
            )}
            {drift !== undefined && Math.abs(drift) >= DRIFT_CHIP_PPM && (
              <span
                className="chip"
                data-testid="echo-drift"
                title="Near clock minus far clock, from the echo delay's slope: the delay estimator follows it"
              >
                clock drift {drift.toFixed(0)} ppm
              </span>
            )}
            {filterMs !== undefined && `filter spans ${filterMs.toFixed(0)} ms`}
          </>
        }
      >
        <Meter
          label="ERLE"
          hint="Echo return loss enhancement: how much of the echo the canceller removes (higher is better; ≥ 20 dB is good)"
          value={erle}
          text={formatValue(erle, 1, ' dB')}
          min={0}
          max={50}
          tone={levelTone(erle, 20, 10)}
          testId="metric-erle"
        />
        <Meter
          label="ERLE median"
          hint="Median of the per-frame ERLE over the last 500 far single-talk frames, with its min – max: the smoothed ERLE above swings with double talk and pauses, this does not"
          value={hasSpread ? erleMedian : undefined}
          text={
            hasSpread
              ? `${formatValue(erleMedian, 1, ' dB')} (${formatValue(erleMin, 0, '')} – ${formatValue(erleMax, 0, '')})`
              : '–'
          }
          min={0}
          max={50}
          tone={levelTone(hasSpread ? erleMedian : undefined, 20, 10)}
          testId="metric-erle-median"
        />
        <Meter
          label="Linear filter"
          hint="ERLE of the adaptive filter alone (mic over its error, far single talk); the residual echo suppressor takes the rest. A longer echo filter or a better delay estimate shows here first"
          value={linearErle}
          text={formatValue(linearErle, 1, ' dB')}
          min={0}
          max={30}
          testId="metric-linear-erle"
        />
        <Meter
          label="ERL"
          hint="Echo return loss: far-end over mic power in far single talk, dB (below 0: the echo reaches the mic louder than the reference, a hot speaker or mic gain)"
          value={erl}
          text={formatValue(erl, 1, ' dB')}
          min={-10}
          max={40}
          tone={erl !== undefined && erl < 0 ? 'warn' : 'accent'}
          testId="metric-erl"
        />
        <Meter
          label="Echo delay"
          hint={`Estimated far-to-near bulk delay (searched up to ${maxDelayMs} ms, echoMaxBulkDelayMs)`}
          value={echoDelay}
          text={formatValue(echoDelay, 1, ' ms')}
          min={0}
          max={maxDelayMs}
          testId="metric-echo-delay"
        />
        <Meter
          label="Confidence"
          hint="Echo delay confidence: how sure the delay estimator is of the echo delay (0–100 %); low with no far end, no echo, or a changing path"
          value={confidence}
          text={confidence === undefined || !Number.isFinite(confidence) ? '–' : `${Math.round(100 * confidence)} %`}
          min={0}
          max={1}
          tone={levelTone(confidence, 0.5, 0)}
          testId="metric-echo-confidence"
        />
      </Group>

      <Group title="Noise">
        <Meter
          label="Noise floor"
          hint="The noise reducer's tracked noise floor, dBFS"
          value={floor}
          text={formatValue(floor, 1, ' dBFS')}
          min={-100}
          max={-20}
          tone={floor !== undefined && floor > -45 ? 'warn' : 'accent'}
          testId="metric-noise-floor"
        />
        <Meter
          label="Attenuation"
          hint="Noise reducer: input over output power of the frame, dB"
          value={values.noiseAttenuationDb}
          text={formatValue(values.noiseAttenuationDb, 1, ' dB')}
          min={0}
          max={30}
          testId="metric-noise"
        />
      </Group>

      <Group title="Levels" note="SNR = input level − noise floor">
        <Meter
          label="Input"
          hint="Near end entering the echo canceller, dBFS"
          value={input}
          text={formatValue(input, 1, ' dBFS')}
          min={-80}
          max={0}
          tone={input !== undefined && input > -3 ? 'danger' : 'accent'}
          testId="metric-input-level"
        />
        <Meter
          label="SNR"
          hint="Input level minus the tracked noise floor, dB: how far the near end stands above the noise (– while the input is silent)"
          value={snr}
          text={formatValue(snr, 1, ' dB')}
          min={0}
          max={60}
          tone={levelTone(snr, 20, 10)}
          testId="metric-snr"
        />
        <Meter
          label="Far end"
          hint="Far-end reference (what the speaker plays), dBFS"
          value={values.farLevelDb}
          text={formatValue(values.farLevelDb, 1, ' dBFS')}
          min={-80}
          max={0}
        />
        <Meter
          label="Output"
          hint="Processed near end, dBFS"
          value={values.outputLevelDb}
          text={formatValue(values.outputLevelDb, 1, ' dBFS')}
          min={-80}
          max={0}
        />
      </Group>

      <Group
        title="Processing time per frame"
        note={
          <span data-testid="metric-processing-total">
            {hasTimings
              ? `${totalUs.toFixed(0)} µs = ${((100 * totalUs) / budgetUs).toFixed(1)} % of ${frameMs} ms`
              : '–'}
          </span>
        }
      >
        {timings.map((t) => (
          <Meter
            key={t.metric}
            label={t.label}
            hint={`${t.hint}; mean over the last ${TIMING_FRAMES} frames; the bar spans ${100 * TIMING_BAR_SHARE} % of the ${frameMs} ms frame`}
            value={t.us}
            text={Number.isFinite(t.us) ? `${t.us.toFixed(0)} µs · ${((100 * t.us) / budgetUs).toFixed(1)} %` : '–'}
            min={0}
            max={budgetUs * TIMING_BAR_SHARE}
            tone={t.us > budgetUs * 0.5 ? 'danger' : t.us > budgetUs * TIMING_BAR_SHARE ? 'warn' : 'accent'}
            testId={`metric-time-${t.metric.replace(/Us$/, '')}`}
          />
        ))}
      </Group>

      <Group
        title="Packets"
        note={lossRate !== undefined && Number.isFinite(lossRate) ? `loss ${(100 * lossRate).toFixed(2)} %` : undefined}
      >
        <div className="counts">
          <span>
            lost <strong data-testid="metric-lost">{snapshot?.lostPackets ?? 0}</strong>
          </span>
          <span>
            late <strong data-testid="metric-late">{snapshot?.latePackets ?? 0}</strong>
          </span>
          <span>
            concealed frames <strong data-testid="metric-concealed">{concealed}</strong>
          </span>
        </div>
      </Group>
    </section>
  )
}

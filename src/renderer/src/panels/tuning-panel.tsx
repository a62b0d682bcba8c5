/**
 * Tuning: a control for every setting of the schema (generated from src/shared/config.ts by settings-ui.ts), grouped
 * by stage with the stage's on/off switch in the group's heading. Sliders keep their drag value locally, send
 * `configure` throttled (~50 ms) and show the value the engine confirms (the session state); numbers typed out of
 * range are refused with the schema's message (the engine's own), and a change that pushes another setting out of
 * its range (the jitter min raised over the target) moves it and says so. Below: the settings that differ from the
 * defaults (key, .env name, default → current), undo/redo (Ctrl+Z, Ctrl+Shift+Z / Ctrl+Y when the focus is not in
 * a text field), reset to defaults, and the .env tools (env-tools.tsx).
 */
import {
  useCallback,
  useEffect,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  type KeyboardEvent,
  type ReactNode,
} from 'react'
import type { ConfigureReply } from '../../../shared/contract'
import {
  DEFAULT_SETTINGS,
  diffSettings,
  settingSpec,
  type PipelineSettings,
  type SettingKey,
} from '../../../shared/config'
import {
  PatchThrottle,
  changedSettings,
  echoEffectiveLength,
  formatMs,
  formatSetting,
  patchBetween,
  planChange,
  sameSettings,
  settingGroups,
  sliderRange,
  sliderStep,
  tapsToMs,
  type SettingControl,
} from '../settings-ui'
import { useWorkbench } from '../store'
import { UndoStack, undoShortcut } from '../undo'
import { EnvName, EnvTools } from './env-tools'
import './tuning-panel.css'

const CONFIGURE_THROTTLE_MS = 50
/** Wait before asking the engine for the echo path after a length change (a frame or two must run first). */
const ECHO_PATH_DELAY_MS = 300
const GROUPS = settingGroups()

type Draft = Partial<Record<SettingKey, PipelineSettings[SettingKey]>>

/** What the engine said about the last change (from the configure reply). */
type ApplyStatus =
  | { kind: 'idle' }
  | { kind: 'sending' }
  | { kind: 'applied'; reply: ConfigureReply; origin: string }
  | { kind: 'refused'; message: string }

function describeApplied(reply: ConfigureReply): string {
  if (reply.changed.length === 0) return 'no change'
  const parts = reply.changed.map(
    (change) =>
      `${settingSpec(change.key).label} ${formatSetting(change.key, change.from)} → ${formatSetting(change.key, change.to)}`,
  )
  return `${parts.join(', ')} (frame ${reply.effectiveFrame})`
}

export function TuningPanel() {
  const api = useWorkbench((s) => s.api)
  const confirmed = useWorkbench((s) => s.session?.settings ?? null)
  const setError = useWorkbench((s) => s.setError)
  const [draft, setDraft] = useState<Draft>({})
  const [status, setStatus] = useState<ApplyStatus>({ kind: 'idle' })
  const [fieldErrors, setFieldErrors] = useState<Partial<Record<SettingKey, string>>>({})
  const [notes, setNotes] = useState<Partial<Record<SettingKey, string>>>({})
  const [history, setHistory] = useState({ canUndo: false, canRedo: false })
  const [engineEchoLength, setEngineEchoLength] = useState<{ filterLength: number; effective: number } | null>(null)

  const undoStack = useRef(new UndoStack<PipelineSettings>(sameSettings))
  const syncHistory = useCallback(
    () => setHistory({ canUndo: undoStack.current.canUndo, canRedo: undoStack.current.canRedo }),
    [],
  )
  /** Counts local changes; each draft key remembers the count of its latest change. */
  const changeCount = useRef(0)
  const draftChange = useRef(new Map<SettingKey, number>())
  const settings = useMemo<PipelineSettings | null>(
    () => (confirmed === null ? null : ({ ...confirmed, ...draft } as PipelineSettings)),
    [confirmed, draft],
  )
  const current = useRef<PipelineSettings | null>(settings)
  useLayoutEffect(() => {
    current.current = settings
  }, [settings])

  const send = useCallback(
    (patch: Partial<PipelineSettings>) => {
      if (!api) return
      const sentAt = changeCount.current
      setStatus({ kind: 'sending' })
      void api.configure(patch).then((result) => {
        // The keys not changed again since this patch left: show the engine's value from now on.
        const settled = (Object.keys(patch) as SettingKey[]).filter(
          (key) => (draftChange.current.get(key) ?? 0) <= sentAt,
        )
        for (const key of settled) draftChange.current.delete(key)
        setDraft((previous) => {
          const next = { ...previous }
          for (const key of settled) delete next[key]
          return next
        })
        if (result.ok) setStatus({ kind: 'applied', reply: result.value, origin: 'Applied' })
        else {
          setStatus({ kind: 'refused', message: result.error.message })
          setError(result.error.message)
        }
      })
    },
    [api, setError],
  )

  const throttle = useRef<PatchThrottle | null>(null)
  useEffect(() => {
    const created = new PatchThrottle(send, CONFIGURE_THROTTLE_MS)
    throttle.current = created
    return () => {
      created.flush()
      created.dispose()
    }
  }, [send])

  /** Shows a patch at once and queues it for the engine. */
  const queue = useCallback((patch: Partial<PipelineSettings>, flush: boolean) => {
    changeCount.current++
    for (const key of Object.keys(patch) as SettingKey[]) draftChange.current.set(key, changeCount.current)
    setDraft((previous) => ({ ...previous, ...patch }))
    throttle.current?.push(patch)
    if (flush) throttle.current?.flush()
  }, [])

  const change = useCallback(
    (key: SettingKey, value: unknown): boolean => {
      const before = current.current
      if (before === null) return false
      const plan = planChange(before, key, value)
      if (!plan.ok) {
        setFieldErrors((errors) => ({ ...errors, [key]: plan.message }))
        return false
      }
      // The keys the change sets (the one edited and any moved into range) are valid now.
      setFieldErrors((errors) => {
        const next = { ...errors }
        for (const changedKey of Object.keys(plan.patch) as SettingKey[]) delete next[changedKey]
        return next
      })
      setNotes((previous) => ({
        ...previous,
        [key]:
          plan.adjusted.length === 0
            ? undefined
            : `Also moved, to stay in range: ${plan.adjusted
                .map(
                  (a) => `${settingSpec(a.key).label} ${formatSetting(a.key, a.from)} → ${formatSetting(a.key, a.to)}`,
                )
                .join(', ')}`,
      }))
      if (diffSettings(before, { ...before, ...plan.patch }).length === 0) return true
      undoStack.current.record(before, key, performance.now())
      syncHistory()
      queue(plan.patch, false)
      return true
    },
    [queue, syncHistory],
  )

  /** Moves every setting to `target` in one configure (undo, redo, reset, a .env file's settings). */
  const applyAll = useCallback(
    (target: PipelineSettings, record: boolean) => {
      throttle.current?.flush()
      const before = current.current
      if (before === null) return
      const patch = patchBetween(before, target)
      if (Object.keys(patch).length === 0) return
      if (record) undoStack.current.record(before, null, performance.now())
      setFieldErrors({})
      setNotes({})
      syncHistory()
      queue(patch, true)
    },
    [queue, syncHistory],
  )

  const undo = useCallback(() => {
    throttle.current?.flush()
    const before = current.current
    if (before === null) return
    const target = undoStack.current.undo(before)
    if (target !== null) applyAll(target, false)
    else syncHistory()
  }, [applyAll, syncHistory])

  const redo = useCallback(() => {
    throttle.current?.flush()
    const before = current.current
    if (before === null) return
    const target = undoStack.current.redo(before)
    if (target !== null) applyAll(target, false)
    else syncHistory()
  }, [applyAll, syncHistory])

  useEffect(() => {
    const onKey = (event: globalThis.KeyboardEvent): void => {
      const action = undoShortcut(event, document.activeElement as HTMLElement | null)
      if (action === null) return
      event.preventDefault()
      if (action === 'undo') undo()
      else redo()
    }
    window.addEventListener('keydown', onKey)
    return () => window.removeEventListener('keydown', onKey)
  }, [undo, redo])

  /** Before a change made elsewhere (a .env import): the current settings become an undo step. */
  const recordExternal = useCallback(() => {
    throttle.current?.flush()
    if (current.current === null) return
    undoStack.current.record(current.current, null, performance.now())
    syncHistory()
  }, [syncHistory])

  // The engine's own report of the echo filter it runs (getEchoPath), once a frame has run with the new length.
  const filterLength = confirmed?.echoFilterLengthTaps
  const echoEngine = confirmed?.echoCancellationEngine
  useEffect(() => {
    if (!api || filterLength === undefined) return
    let cancelled = false
    const timer = setTimeout(() => {
      void api.getEchoPath().then((result) => {
        // 'unsupported' (not built yet) or 'no-capture': the computed length alone is shown.
        if (!cancelled && result.ok)
          setEngineEchoLength({ filterLength: result.value.filterLength, effective: result.value.effectiveLength })
      })
    }, ECHO_PATH_DELAY_MS)
    return () => {
      cancelled = true
      clearTimeout(timer)
    }
  }, [api, filterLength, echoEngine])

  const disabled = !api || settings === null
  const changed = settings === null ? [] : changedSettings(settings)

  const renderControl = (control: SettingControl, stageOff: boolean) => {
    if (settings === null) return null
    const props = {
      control,
      value: settings[control.key],
      settings,
      disabled,
      dimmed: stageOff,
      error: fieldErrors[control.key],
      note: notes[control.key],
      onChange: change,
    }
    const extra =
      control.key === 'echoFilterLengthTaps' ? (
        <EchoLengthNote settings={settings} engineReport={engineEchoLength} />
      ) : null
    return <SettingRow key={control.key} {...props} extra={extra} />
  }

  return (
    <section className="panel tuning" data-testid="tuning-panel">
      <header>
        <h2>Tuning</h2>
        <span className="spacer" />
        <button
          type="button"
          data-testid="undo"
          disabled={disabled || !history.canUndo}
          title="Undo the last settings change (Ctrl+Z)"
          onClick={undo}
        >
          Undo
        </button>
        <button
          type="button"
          data-testid="redo"
          disabled={disabled || !history.canRedo}
          title="Redo (Ctrl+Shift+Z or Ctrl+Y)"
          onClick={redo}
        >
          Redo
        </button>
        <button
          type="button"
          data-testid="reset-defaults"
          disabled={disabled || changed.length === 0}
          title="Every setting back to the service's defaults (undoable)"
          onClick={() => applyAll({ ...DEFAULT_SETTINGS }, true)}
        >
          Reset to defaults
        </button>
      </header>
      <div className="tuning-status muted" data-testid="tuning-status" aria-live="polite">
        {status.kind === 'idle' && 'Changes apply at once, at the next frame.'}
        {status.kind === 'sending' && 'Applying…'}
        {status.kind === 'applied' && `${status.origin}: ${describeApplied(status.reply)}`}
        {status.kind === 'refused' && <span className="tuning-error">Refused: {status.message}</span>}
      </div>
      {GROUPS.map((group) => {
        const stageOff = group.stage !== null && settings !== null && settings[group.stage.key] === false
        return (
          <fieldset key={group.group} className="tuning-group" data-testid={`tuning-group-${group.group}`}>
            <legend>
              {group.stage !== null && settings !== null ? (
                <label title={`${group.stage.spec.description} (${group.stage.spec.envName})`}>
                  <input
                    type="checkbox"
                    data-testid={`setting-${group.stage.key}`}
                    checked={settings[group.stage.key] === true}
                    disabled={disabled}
                    onChange={(e) => change(group.stage!.key, e.target.checked)}
                  />{' '}
                  {group.title}
                </label>
              ) : (
                group.title
              )}
              {stageOff && <span className="muted"> · off</span>}
            </legend>
            {group.controls.map((control) => renderControl(control, stageOff))}
          </fieldset>
        )
      })}
      <ChangedSettings rows={changed} />
      <EnvTools
        settings={settings}
        applySettings={(target) => applyAll(target, true)}
        recordExternal={recordExternal}
      />
    </section>
  )
}

// ---------------------------------------------------------------------------------------------------------------

interface SettingRowProps {
  control: SettingControl
  value: PipelineSettings[SettingKey]
  settings: PipelineSettings
  disabled: boolean
  /** The stage is off: the setting applies once it is on again. */
  dimmed: boolean
  error: string | undefined
  note: string | undefined
  extra: ReactNode
  onChange(key: SettingKey, value: unknown): boolean
}

function SettingRow({ control, value, settings, disabled, dimmed, error, note, extra, onChange }: SettingRowProps) {
  const { key, spec } = control
  const id = `setting-${key}`
  const title = `${spec.description}\n${spec.envName}${spec.scope === 'workbench' ? ' (workbench setting: exported only on request)' : ''} · default ${formatSetting(key, spec.default as PipelineSettings[SettingKey])}`
  const label = (
    <label htmlFor={id} title={title} className="tuning-label">
      {spec.label}
      {spec.scope === 'workbench' && <span className="tuning-badge">WB</span>}
    </label>
  )
  if (control.kind === 'toggle') {
    // A checkbox with its label after it, across the row.
    return (
      <div className={`tuning-row tuning-toggle${dimmed ? ' tuning-dimmed' : ''}`} data-testid={`row-${key}`}>
        <label title={title} className="tuning-label">
          <input
            id={id}
            data-testid={id}
            type="checkbox"
            checked={value === true}
            disabled={disabled}
            onChange={(e) => onChange(key, e.target.checked)}
          />{' '}
          {spec.label}
          {spec.scope === 'workbench' && <span className="tuning-badge">WB</span>}
        </label>
        {error !== undefined && (
          <div className="tuning-error" role="alert" data-testid={`${id}-error`}>
            {error}
          </div>
        )}
      </div>
    )
  }
  let input: ReactNode
  if (control.kind === 'choice') {
    input = (
      <select
        id={id}
        data-testid={id}
        value={String(value)}
        disabled={disabled}
        onChange={(e) => onChange(key, typeof spec.default === 'number' ? Number(e.target.value) : e.target.value)}
      >
        {control.options.map((option) => (
          <option key={option} value={String(option)}>
            {option}
            {spec.unit !== '' ? ` ${spec.unit}` : ''}
          </option>
        ))}
      </select>
    )
  } else {
    const range = sliderRange(key, settings)!
    const numeric = value as number
    input = (
      <>
        <input
          id={id}
          data-testid={id}
          type="range"
          min={range.min}
          max={range.max}
          step={sliderStep(range, numeric, spec.type === 'integer')}
          value={numeric}
          disabled={disabled}
          title={`${range.min}–${range.max}${spec.unit ? ` ${spec.unit}` : ''}`}
          onChange={(e) => onChange(key, Number(e.target.value))}
        />
        <NumberField
          testId={`${id}-number`}
          value={numeric}
          integer={spec.type === 'integer'}
          disabled={disabled}
          label={spec.label}
          onCommit={(typed) => onChange(key, typed)}
        />
        <span className="tuning-unit">{spec.unit}</span>
      </>
    )
  }
  return (
    <div className={`tuning-row tuning-${control.kind}${dimmed ? ' tuning-dimmed' : ''}`} data-testid={`row-${key}`}>
      {label}
      <div className="tuning-input">{input}</div>
      {extra}
      {error !== undefined && (
        <div className="tuning-error" role="alert" data-testid={`${id}-error`}>
          {error}
        </div>
      )}
      {note !== undefined && (
        <div className="tuning-note muted" data-testid={`${id}-note`}>
          {note}
        </div>
      )}
    </div>
  )
}

/**
 * A number typed in: edited as text, applied on Enter or when the field loses the focus, Escape restores the
 * setting. Outside editing it shows the setting's value.
 */
function NumberField(props: {
  testId: string
  value: number
  integer: boolean
  disabled: boolean
  label: string
  onCommit(value: number | string): boolean
}) {
  const [text, setText] = useState<string | null>(null)
  const commit = (): void => {
    if (text === null) return
    const trimmed = text.trim()
    const parsed = trimmed === '' ? Number.NaN : Number(trimmed)
    // Not a number: passed as typed, so the schema's message names it.
    props.onCommit(Number.isFinite(parsed) ? parsed : trimmed)
    setText(null)
  }
  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>): void => {
    if (event.key === 'Enter') commit()
    else if (event.key === 'Escape') setText(null)
  }
  return (
    <input
      type="number"
      className="tuning-number"
      data-testid={props.testId}
      aria-label={`${props.label} (number)`}
      step={props.integer ? 1 : 'any'}
      value={text ?? String(props.value)}
      disabled={props.disabled}
      onChange={(e) => setText(e.target.value)}
      onBlur={commit}
      onKeyDown={onKeyDown}
    />
  )
}

function EchoLengthNote({
  settings,
  engineReport,
}: {
  settings: PipelineSettings
  engineReport: { filterLength: number; effective: number } | null
}) {
  const taps = settings.echoFilterLengthTaps
  const length = echoEffectiveLength(settings)
  const rounded = length.effectiveTaps !== taps
  const confirmedByEngine =
    engineReport !== null && engineReport.filterLength === taps && engineReport.effective === length.effectiveTaps
  return (
    <div
      className="tuning-note"
      data-testid="setting-echoFilterLengthTaps-effective"
      title={
        length.partitionTaps !== null
          ? `The MDF filter runs whole partitions of ${length.partitionTaps} taps (${formatMs(tapsToMs(length.partitionTaps))})`
          : 'The NLMS filter runs the length as set'
      }
    >
      <span data-testid="setting-echoFilterLengthTaps-ms">{formatMs(tapsToMs(taps))}</span> at 16 kHz · effective{' '}
      <strong data-testid="setting-echoFilterLengthTaps-effective-taps">{length.effectiveTaps}</strong> taps ={' '}
      {formatMs(tapsToMs(length.effectiveTaps))}
      {length.partitionTaps !== null && ` (${length.effectiveTaps / length.partitionTaps} × ${length.partitionTaps})`}
      {rounded && <span className="tuning-warn"> · rounded up to whole partitions</span>}
      {confirmedByEngine && (
        <span className="muted" title="getEchoPath: the echo canceller reports the same length">
          {' '}
          · engine ✓
        </span>
      )}
    </div>
  )
}

function ChangedSettings({ rows }: { rows: ReturnType<typeof changedSettings> }) {
  return (
    <div className="tuning-changed" data-testid="changed-settings">
      <h3>Changed from the defaults</h3>
      {rows.length === 0 ? (
        <p className="muted" data-testid="changed-settings-none">
          Every setting is at its default.
        </p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Setting · .env name</th>
              <th>Default → current</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.key} data-testid={`changed-${row.key}`}>
                <td title={row.key}>
                  {row.label}
                  {row.isWorkbench && <span className="tuning-badge">WB</span>}
                  <br />
                  <EnvName name={row.envName} />
                </td>
                <td className="tuning-values">
                  {row.defaultText} → <strong>{row.currentText}</strong>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  )
}

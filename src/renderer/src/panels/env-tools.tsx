/**
 * The tuning panel's .env tools: export the tuned settings (the native save dialog on the desktop, a download in
 * browser mode; the service's keys only unless the workbench's are asked for), import a .env (applied whole or not at
 * all; its errors, by line, in the banner and listed here), and compare with the service's current .env: the file is
 * read without applying it (previewEnv) and shown against the tuned settings, to apply or to leave.
 */
import { Fragment, useState, type ChangeEvent } from 'react'
import type { EnvLineIssue, PreviewEnvReply } from '../../../shared/contract'
import { diffSettings, settingSpec, type PipelineSettings } from '../../../shared/config'
import { formatSetting, splitEnvErrors } from '../settings-ui'
import { useWorkbench } from '../store'

interface EnvToolsProps {
  settings: PipelineSettings | null
  /** Applies settings as one undoable change. */
  applySettings(target: PipelineSettings): void
  /** Records the current settings as an undo step before a change the engine makes itself (an import). */
  recordExternal(): void
}

interface Comparison {
  name: string
  preview: PreviewEnvReply
}

/** Offers text as a file download (browser mode). */
function downloadText(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }))
  const link = document.createElement('a')
  link.href = url
  link.download = name
  document.body.append(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}

async function readPicked(event: ChangeEvent<HTMLInputElement>): Promise<{ name: string; text: string } | null> {
  const file = event.target.files?.[0]
  event.target.value = ''
  if (!file) return null
  return { name: file.name, text: await file.text() }
}

export function EnvTools({ settings, applySettings, recordExternal }: EnvToolsProps) {
  const api = useWorkbench((s) => s.api)
  const hello = useWorkbench((s) => s.hello)
  const run = useWorkbench((s) => s.run)
  const setError = useWorkbench((s) => s.setError)
  const setNotice = useWorkbench((s) => s.setNotice)
  const [includeWorkbench, setIncludeWorkbench] = useState(false)
  const [importProblems, setImportProblems] = useState<{ name: string; errors: string[]; warnings: string[] } | null>(
    null,
  )
  const [comparison, setComparison] = useState<Comparison | null>(null)
  const disabled = !api || settings === null

  const exportEnv = async (): Promise<void> => {
    if (!api) return
    if (hello?.capabilities.nativeDialogs) {
      const saved = await run(api.saveEnv({ includeWorkbench }))
      if (saved?.path) setNotice(`Saved ${saved.path}`)
      return
    }
    const exported = await run(api.exportEnv({ includeWorkbench }))
    if (!exported) return
    downloadText(exported.suggestedName, exported.text)
    setNotice(`Exported ${exported.suggestedName}`)
  }

  const importEnv = async (event: ChangeEvent<HTMLInputElement>): Promise<void> => {
    const picked = await readPicked(event)
    if (!picked || !api) return
    recordExternal()
    const result = await api.importEnv({ text: picked.text, name: picked.name })
    if (!result.ok) {
      setError(result.error.message)
      // The problems by line: previewEnv's list when the engine has it, else the message's parts.
      const preview = await api.previewEnv({ text: picked.text, name: picked.name })
      const errors = preview.ok
        ? preview.value.issues.filter((i) => i.severity === 'error').map((i) => i.message)
        : splitEnvErrors(result.error.message)
      const warnings = preview.ok
        ? preview.value.issues.filter((i) => i.severity === 'warning').map((i) => i.message)
        : []
      setImportProblems({ name: picked.name, errors: errors.length > 0 ? errors : [result.error.message], warnings })
      return
    }
    const { changed, warnings } = result.value
    setImportProblems(warnings.length > 0 ? { name: picked.name, errors: [], warnings } : null)
    setNotice(
      `Imported ${picked.name}: ${changed.length === 0 ? 'no setting changed' : `${changed.length} settings changed`}`,
    )
  }

  const compare = async (event: ChangeEvent<HTMLInputElement>): Promise<void> => {
    const picked = await readPicked(event)
    if (!picked || !api) return
    const preview = await run(api.previewEnv({ text: picked.text, name: picked.name }))
    if (preview) setComparison({ name: picked.name, preview })
  }

  return (
    <div className="env-tools" data-testid="env-tools">
      <h3>.env</h3>
      <div className="row">
        <button
          type="button"
          data-testid="env-export"
          disabled={disabled}
          title="The tuned settings as a .env the voice service loads as is"
          onClick={() => void exportEnv()}
        >
          Export .env
        </button>
        <label title="Also write the workbench's own settings (WORKBENCH_*); the service's loader rejects keys it does not know">
          <input
            type="checkbox"
            data-testid="env-include-workbench"
            checked={includeWorkbench}
            onChange={(e) => setIncludeWorkbench(e.target.checked)}
          />{' '}
          with workbench keys
        </label>
      </div>
      <div className="row">
        <label className="file-button" title="Replace the settings with a .env file's (applied whole, or not at all)">
          Import .env…
          <input
            type="file"
            accept=".env,text/plain,*"
            data-testid="env-import-input"
            disabled={disabled}
            onChange={(e) => void importEnv(e)}
          />
        </label>
        <label className="file-button" title="Read the service's current .env and compare it with the tuned settings">
          Compare with service .env…
          <input
            type="file"
            accept=".env,text/plain,*"
            data-testid="env-compare-input"
            disabled={disabled}
            onChange={(e) => void compare(e)}
          />
        </label>
      </div>
      {importProblems !== null && (
        <div className="env-problems" data-testid="env-import-problems">
          <div className="row">
            <strong>
              {importProblems.errors.length > 0 ? `${importProblems.name} was not applied` : importProblems.name}
            </strong>
            <span className="spacer" />
            <button type="button" onClick={() => setImportProblems(null)}>
              Close
            </button>
          </div>
          <ul>
            {importProblems.errors.map((message) => (
              <li key={`e${message}`} className="tuning-error" data-testid="env-import-error">
                {message}
              </li>
            ))}
            {importProblems.warnings.map((message) => (
              <li key={`w${message}`} className="tuning-warn" data-testid="env-import-warning">
                {message}
              </li>
            ))}
          </ul>
        </div>
      )}
      {comparison !== null && settings !== null && (
        <EnvComparison
          comparison={comparison}
          tuned={settings}
          onApply={() => {
            applySettings(comparison.preview.settings)
            setNotice(`Applied the settings of ${comparison.name}`)
            setComparison(null)
          }}
          onKeep={() => setComparison(null)}
        />
      )}
    </div>
  )
}

/** A .env name that may break after its underscores in a narrow column. */
export function EnvName({ name }: { name: string }) {
  const parts = name.split('_')
  return (
    <code>
      {parts.map((part, index) => (
        <Fragment key={index}>
          {part}
          {index < parts.length - 1 && (
            <>
              _<wbr />
            </>
          )}
        </Fragment>
      ))}
    </code>
  )
}

function IssueList({ issues }: { issues: EnvLineIssue[] }) {
  if (issues.length === 0) return null
  return (
    <ul data-testid="env-compare-issues">
      {issues.map((issue, index) => (
        <li key={index} className={issue.severity === 'error' ? 'tuning-error' : 'tuning-warn'}>
          {issue.message}
        </li>
      ))}
    </ul>
  )
}

function EnvComparison({
  comparison,
  tuned,
  onApply,
  onKeep,
}: {
  comparison: Comparison
  tuned: PipelineSettings
  onApply(): void
  onKeep(): void
}) {
  const { name, preview } = comparison
  // Computed here rather than taken from the reply, so it follows tuning done while the comparison is open.
  const diff = diffSettings(tuned, preview.settings)
  const errors = preview.issues.filter((issue) => issue.severity === 'error').length
  return (
    <div className="env-compare" data-testid="env-compare">
      <div className="row">
        <strong>
          {name} against the tuned settings: {diff.length === 0 ? 'the same settings' : `${diff.length} differ`}
        </strong>
      </div>
      {errors > 0 && (
        <p className="tuning-warn">
          {errors} line{errors === 1 ? '' : 's'} of the file cannot be read; the table uses the defaults for them.
        </p>
      )}
      <IssueList issues={preview.issues} />
      {diff.length > 0 && (
        <table data-testid="env-compare-table">
          <thead>
            <tr>
              <th>Setting</th>
              <th>Service ({name})</th>
              <th>Tuned</th>
            </tr>
          </thead>
          <tbody>
            {diff.map((change) => (
              <tr key={change.key} data-testid={`env-compare-${change.key}`}>
                <td title={settingSpec(change.key).description}>
                  {settingSpec(change.key).label}
                  <br />
                  <EnvName name={change.envName} />
                </td>
                <td className="tuning-values" data-testid="env-compare-service">
                  {formatSetting(change.key, change.to)}
                </td>
                <td className="tuning-values" data-testid="env-compare-tuned">
                  {formatSetting(change.key, change.from)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="row">
        <button type="button" data-testid="env-compare-apply" disabled={diff.length === 0} onClick={onApply}>
          Apply the service file
        </button>
        <button type="button" data-testid="env-compare-keep" onClick={onKeep}>
          Keep the tuned settings
        </button>
      </div>
    </div>
  )
}

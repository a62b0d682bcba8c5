/**
 * Tuning: the noise reduction strength (hot-applied, throttled) and the .env export.
 */
import { useRef, useState } from 'react'
import { useWorkbench } from '../store'

const CONFIGURE_THROTTLE_MS = 50

export function TuningPanel() {
  const api = useWorkbench((s) => s.api)
  const hello = useWorkbench((s) => s.hello)
  const settings = useWorkbench((s) => s.session?.settings)
  const run = useWorkbench((s) => s.run)
  const [strength, setStrength] = useState<number | null>(null)
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null)

  const changeStrength = (value: number): void => {
    setStrength(value)
    if (timer.current !== null) clearTimeout(timer.current)
    timer.current = setTimeout(() => {
      timer.current = null
      if (api) void run(api.configure({ noiseReductionStrength: value })).then(() => setStrength(null))
    }, CONFIGURE_THROTTLE_MS)
  }

  const exportEnv = async (): Promise<void> => {
    if (!api) return
    if (hello?.capabilities.nativeDialogs) {
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

  const shown = strength ?? settings?.noiseReductionStrength ?? 0.8
  return (
    <section className="panel" data-testid="tuning-panel">
      <header>
        <h2>Tuning</h2>
      </header>
      <div className="row">
        <label>
          Noise reduction strength{' '}
          <input
            type="range"
            min={0}
            max={1}
            step={0.05}
            disabled={!api}
            value={shown}
            onChange={(e) => changeStrength(Number(e.target.value))}
          />{' '}
          {shown.toFixed(2)}
        </label>
        <button type="button" disabled={!api} onClick={() => void exportEnv()}>
          Export .env
        </button>
      </div>
    </section>
  )
}

/**
 * Exports: the whole capture rendered with the tuned settings as a 16 kHz WAV (processed, near as received, far, or
 * all three as channels) and the session's metrics report as JSON. Desktop: the engine's native save dialog
 * (saveAudio / saveReport); browser mode: the bytes come back (exportAudio / exportReport) and download through a
 * Blob link. The buttons are disabled while an export renders; a notice confirms what was written.
 *
 * Until the lead places it, this panel also renders the A/B listening panel (listen-panel.tsx) above itself.
 */
import { useState } from 'react'
import { AUDIO_TRACKS, type AudioTrack, type FileReply } from '../../../shared/contract'
import { useWorkbench } from '../store'

const TRACK_LABELS: Record<AudioTrack, string> = {
  processed: 'processed near end',
  near: 'near end as received',
  far: 'far end (reference)',
  all: 'all three (near, far, processed)',
}

/** Duration and channels of a PCM WAV's bytes (null when they are not a RIFF/WAVE file with fmt and data chunks). */
export function wavInfo(bytes: Uint8Array): { durationS: number; channels: number; sampleRateHz: number } | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const tag = (offset: number): string => String.fromCharCode(...bytes.subarray(offset, offset + 4))
  if (bytes.byteLength < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') return null
  let channels = 0
  let sampleRateHz = 0
  let blockAlign = 0
  for (let offset = 12; offset + 8 <= bytes.byteLength;) {
    const id = tag(offset)
    const size = view.getUint32(offset + 4, true)
    if (id === 'fmt ' && offset + 24 <= bytes.byteLength) {
      channels = view.getUint16(offset + 10, true)
      sampleRateHz = view.getUint32(offset + 12, true)
      blockAlign = view.getUint16(offset + 20, true)
    } else if (id === 'data') {
      if (blockAlign === 0 || sampleRateHz === 0) return null
      const dataBytes = Math.min(size, bytes.byteLength - offset - 8)
      return { durationS: dataBytes / blockAlign / sampleRateHz, channels, sampleRateHz }
    }
    offset += 8 + size + (size & 1) // chunks are padded to an even size
  }
  return null
}

/** Saves bytes through a temporary Blob link (browser mode). */
export function downloadFile(file: FileReply): void {
  const blob = new Blob([file.bytes as Uint8Array<ArrayBuffer>], { type: file.mimeType })
  const url = URL.createObjectURL(blob)
  const link = document.createElement('a')
  link.href = url
  link.download = file.suggestedName
  link.click()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}

function describeFile(file: FileReply): string {
  const kb = `${Math.round(file.bytes.byteLength / 1024)} kB`
  const wav = file.mimeType === 'audio/wav' ? wavInfo(file.bytes) : null
  return wav
    ? `${file.suggestedName} (${wav.durationS.toFixed(1)} s, ${wav.channels} channel${wav.channels === 1 ? '' : 's'}, ${kb})`
    : `${file.suggestedName} (${kb})`
}

export function ExportPanel() {
  const api = useWorkbench((s) => s.api)
  const nativeDialogs = useWorkbench((s) => s.hello?.capabilities.nativeDialogs ?? false)
  const capture = useWorkbench((s) => s.session?.capture ?? null)
  const run = useWorkbench((s) => s.run)
  const setNotice = useWorkbench((s) => s.setNotice)
  const [chosenTrack, setTrack] = useState<AudioTrack>('processed')
  const [busy, setBusy] = useState<'audio' | 'report' | null>(null)
  const hasFar = capture?.far != null
  // A capture without a far end has only the near-end tracks.
  const track = !hasFar && (chosenTrack === 'far' || chosenTrack === 'all') ? 'processed' : chosenTrack

  const exportAudio = async (): Promise<void> => {
    if (!api) return
    setBusy('audio')
    try {
      if (nativeDialogs) {
        const saved = await run(api.saveAudio({ track }))
        if (saved?.path) setNotice(`Saved ${saved.path}`)
        return
      }
      const file = await run(api.exportAudio({ track }))
      if (!file) return
      downloadFile(file)
      setNotice(`Exported ${describeFile(file)}`)
    } finally {
      setBusy(null)
    }
  }

  const exportReport = async (): Promise<void> => {
    if (!api) return
    setBusy('report')
    try {
      if (nativeDialogs) {
        const saved = await run(api.saveReport())
        if (saved?.path) setNotice(`Saved ${saved.path}`)
        return
      }
      const file = await run(api.exportReport())
      if (!file) return
      downloadFile(file)
      setNotice(`Exported ${describeFile(file)}`)
    } finally {
      setBusy(null)
    }
  }

  const disabled = !api || capture === null || busy !== null
  return (
    <>
      <section className="panel" data-testid="export-panel" aria-busy={busy !== null}>
        <header>
          <h2>Export</h2>
          {busy !== null && (
            <span className="muted" data-testid="export-progress">
              <progress style={{ width: 60, verticalAlign: 'middle' }} />{' '}
              {busy === 'audio' ? 'rendering the capture…' : 'building the report…'}
            </span>
          )}
        </header>
        <div className="row">
          <label>
            Audio{' '}
            <select
              data-testid="export-track"
              value={track}
              disabled={busy !== null}
              onChange={(e) => setTrack(e.target.value as AudioTrack)}
            >
              {AUDIO_TRACKS.map((t) => (
                <option key={t} value={t} disabled={!hasFar && (t === 'far' || t === 'all')}>
                  {TRACK_LABELS[t]}
                </option>
              ))}
            </select>
          </label>
          <button type="button" data-testid="export-audio" disabled={disabled} onClick={() => void exportAudio()}>
            {busy === 'audio' ? 'Rendering…' : nativeDialogs ? 'Save WAV…' : 'Export WAV'}
          </button>
        </div>
        <div className="row" style={{ marginTop: 6 }}>
          <button type="button" data-testid="export-report" disabled={disabled} onClick={() => void exportReport()}>
            {busy === 'report' ? 'Building…' : nativeDialogs ? 'Save metrics report…' : 'Export metrics report (JSON)'}
          </button>
        </div>
        <p className="muted" style={{ margin: '6px 0 0', fontSize: 12 }}>
          The whole capture, rendered offline with the current settings (16 kHz, 16-bit).
        </p>
      </section>
    </>
  )
}

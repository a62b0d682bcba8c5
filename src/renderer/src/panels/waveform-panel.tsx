/**
 * Waveforms: near end (mic), far end (bot/TTS reference) and processed output in three lanes of one canvas,
 * scrolling in real time over a selectable window (2–30 s). Each pixel column shows the min…max of the samples it
 * covers (live/decimate.ts), so every peak shows however long the window; columns holding a clipped sample are marked
 * red at the lane's edges. Drawn from the frame loop straight out of the rings; React holds only the window length.
 */
import { useRef, useState } from 'react'
import { CLIP_LEVEL, decimateMinMax } from '../live/decimate'
import { useFrameLoop } from '../live/frame-loop'
import { liveRings, MAX_WINDOW_S, type LiveRings, type Track } from '../live/rings'
import { fitCanvas } from './canvas-size'

export const WINDOW_CHOICES_S = [2, 5, 10, 20, MAX_WINDOW_S] as const
export const WAVEFORM_BACKGROUND = '#101319'
const AXIS_COLOUR = '#2b3140'
const CLIP_COLOUR = '#ff3b30'
const LANES: { track: Track; label: string; colour: string }[] = [
  { track: 'near', label: 'Near end (mic)', colour: '#4fc3f7' },
  { track: 'far', label: 'Far end (reference)', colour: '#ffb74d' },
  { track: 'processed', label: 'Processed', colour: '#81c784' },
]
const HEIGHT_CSS_PX = 270

interface Buffers {
  min: Float32Array
  max: Float32Array
  clip: Uint8Array
}

export function WaveformPanel({ rings = liveRings }: { rings?: LiveRings }) {
  const [windowS, setWindowS] = useState<number>(10)
  const canvasRef = useRef<HTMLCanvasElement>(null)
  const buffers = useRef<Buffers | null>(null)
  const drawn = useRef({ version: -1, windowS: 0, width: 0 })
  const [clipped, setClipped] = useState(false)
  const clippedRef = useRef(false)

  useFrameLoop(() => {
    const canvas = canvasRef.current
    if (!canvas) return
    const resized = fitCanvas(canvas)
    const { width, height } = canvas
    if (!resized && drawn.current.version === rings.version && drawn.current.windowS === windowS) return
    drawn.current = { version: rings.version, windowS, width }
    if (buffers.current === null || buffers.current.min.length !== width)
      buffers.current = { min: new Float32Array(width), max: new Float32Array(width), clip: new Uint8Array(width) }
    const { min, max, clip } = buffers.current
    const ctx = canvas.getContext('2d')
    if (!ctx) return
    const ratio = window.devicePixelRatio || 1
    ctx.fillStyle = WAVEFORM_BACKGROUND
    ctx.fillRect(0, 0, width, height)
    const laneHeight = Math.floor(height / LANES.length)
    const windowSamples = Math.round(windowS * rings.sampleRateHz)
    let anyClip = false
    LANES.forEach((lane, index) => {
      const top = index * laneHeight
      const centre = top + Math.floor(laneHeight / 2)
      const scale = laneHeight / 2 - 2 * ratio
      const clippedColumns = decimateMinMax(rings.ring(lane.track), windowSamples, min, max, clip)
      ctx.fillStyle = AXIS_COLOUR
      ctx.fillRect(0, centre, width, Math.max(1, Math.round(ratio)))
      if (index > 0) ctx.fillRect(0, top, width, 1)
      ctx.fillStyle = lane.colour
      for (let x = 0; x < width; x++) {
        const hi = max[x]!
        const lo = min[x]!
        if (hi === 0 && lo === 0) continue
        const y1 = Math.round(centre - Math.min(1, hi) * scale)
        const y2 = Math.round(centre - Math.max(-1, lo) * scale)
        ctx.fillRect(x, y1, 1, Math.max(1, y2 - y1 + 1))
      }
      if (clippedColumns > 0) {
        anyClip = true
        ctx.fillStyle = CLIP_COLOUR
        const mark = Math.round(4 * ratio)
        for (let x = 0; x < width; x++)
          if (clip[x]) {
            ctx.fillRect(x, top + 1, 1, mark)
            ctx.fillRect(x, top + laneHeight - mark, 1, mark)
          }
      }
      ctx.fillStyle = '#c9d1d9'
      ctx.font = `${Math.round(11 * ratio)}px system-ui, sans-serif`
      ctx.fillText(lane.label, 6 * ratio, top + 14 * ratio)
    })
    if (anyClip !== clippedRef.current) {
      clippedRef.current = anyClip
      setClipped(anyClip) // at most on a change of the clip state, not per frame
    }
  })

  return (
    <section data-testid="waveform-panel" style={{ margin: '12px 0' }}>
      <header style={{ display: 'flex', gap: 12, alignItems: 'baseline' }}>
        <h2 style={{ fontSize: 16, margin: 0 }}>Waveforms</h2>
        <label>
          Window{' '}
          <select
            data-testid="waveform-window"
            value={windowS}
            onChange={(event) => setWindowS(Number(event.target.value))}
          >
            {WINDOW_CHOICES_S.map((s) => (
              <option key={s} value={s}>
                {s} s
              </option>
            ))}
          </select>
        </label>
        <span data-testid="waveform-clipping" style={{ color: clipped ? CLIP_COLOUR : '#888' }}>
          {clipped ? `clipping in view (|x| ≥ ${CLIP_LEVEL})` : 'no clipping in view'}
        </span>
      </header>
      <canvas
        ref={canvasRef}
        data-testid="waveform-canvas"
        style={{ display: 'block', width: '100%', height: HEIGHT_CSS_PX, marginTop: 6, borderRadius: 4 }}
      />
      <div style={{ display: 'flex', justifyContent: 'space-between', fontSize: 11, color: '#888' }}>
        <span>−{windowS} s</span>
        <span>now</span>
      </div>
    </section>
  )
}

/**
 * Waveforms: near end (mic), far end (bot/TTS reference) and processed output in three lanes of one canvas,
 * scrolling in real time over a selectable window (2–30 s). Each pixel column shows the min…max of the samples it
 * covers (live/decimate.ts), so every peak shows however long the window; columns holding a clipped sample are marked
 * at the lane's edges. Drawn from the frame loop straight out of the rings in the theme's colours (theme.ts); React
 * holds only the window length and whether anything in view clips.
 */
import { useRef, useState } from 'react'
import { CLIP_LEVEL, decimateMinMax } from '../live/decimate'
import { useFrameLoop } from '../live/frame-loop'
import { liveRings, MAX_WINDOW_S, type LiveRings, type Track } from '../live/rings'
import { themeColours, type ThemeColours } from '../theme'
import { fitCanvas } from './canvas-size'

export const WINDOW_CHOICES_S = [2, 5, 10, 20, MAX_WINDOW_S] as const
const LANES: { track: Track; label: string; colour: 'near' | 'far' | 'processed' }[] = [
  { track: 'near', label: 'Near end (mic)', colour: 'near' },
  { track: 'far', label: 'Far end (reference)', colour: 'far' },
  { track: 'processed', label: 'Processed', colour: 'processed' },
]
const HEIGHT_CSS_PX = 180

interface Buffers {
  min: Float32Array
  max: Float32Array
  clip: Uint8Array
}

export function WaveformPanel({ rings = liveRings }: { rings?: LiveRings }) {
  const [windowS, setWindowS] = useState<number>(10)
  const canvasRef = useRef<HTMLCanvasElement>(null)
  const buffers = useRef<Buffers | null>(null)
  const drawn = useRef<{ version: number; windowS: number; colours: ThemeColours | null }>({
    version: -1,
    windowS: 0,
    colours: null,
  })
  const [clipped, setClipped] = useState(false)
  const clippedRef = useRef(false)

  useFrameLoop(() => {
    const canvas = canvasRef.current
    if (!canvas) return
    const resized = fitCanvas(canvas)
    const colours = themeColours()
    const { width, height } = canvas
    const last = drawn.current
    if (!resized && last.version === rings.version && last.windowS === windowS && last.colours === colours) return
    drawn.current = { version: rings.version, windowS, colours }
    if (buffers.current === null || buffers.current.min.length !== width)
      buffers.current = { min: new Float32Array(width), max: new Float32Array(width), clip: new Uint8Array(width) }
    const { min, max, clip } = buffers.current
    const ctx = canvas.getContext('2d')
    if (!ctx) return
    const ratio = window.devicePixelRatio || 1
    ctx.fillStyle = colours.canvasBg
    ctx.fillRect(0, 0, width, height)
    const laneHeight = Math.floor(height / LANES.length)
    const windowSamples = Math.round(windowS * rings.sampleRateHz)
    let anyClip = false
    ctx.font = `${Math.round(11 * ratio)}px system-ui, sans-serif`
    for (let index = 0; index < LANES.length; index++) {
      const lane = LANES[index]!
      const top = index * laneHeight
      const centre = top + Math.floor(laneHeight / 2)
      const scale = laneHeight / 2 - 2 * ratio
      const clippedColumns = decimateMinMax(rings.ring(lane.track), windowSamples, min, max, clip)
      ctx.fillStyle = colours.canvasAxis
      ctx.fillRect(0, centre, width, Math.max(1, Math.round(ratio)))
      if (index > 0) ctx.fillRect(0, top, width, 1)
      ctx.fillStyle = colours[lane.colour]
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
        ctx.fillStyle = colours.clip
        const mark = Math.round(4 * ratio)
        for (let x = 0; x < width; x++)
          if (clip[x]) {
            ctx.fillRect(x, top + 1, 1, mark)
            ctx.fillRect(x, top + laneHeight - mark, 1, mark)
          }
      }
      ctx.fillStyle = colours.canvasText
      ctx.fillText(lane.label, 6 * ratio, top + 14 * ratio)
    }
    if (anyClip !== clippedRef.current) {
      clippedRef.current = anyClip
      setClipped(anyClip) // at most on a change of the clip state, not per frame
    }
  })

  return (
    <section className="panel" data-testid="waveform-panel">
      <header>
        <h2>Waveforms</h2>
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
        <span data-testid="waveform-clipping" style={{ color: clipped ? 'var(--clip)' : 'var(--muted)' }}>
          {clipped ? `clipping in view (|x| ≥ ${CLIP_LEVEL})` : 'no clipping in view'}
        </span>
      </header>
      <canvas
        ref={canvasRef}
        data-testid="waveform-canvas"
        style={{ display: 'block', width: '100%', height: HEIGHT_CSS_PX, borderRadius: 4 }}
      />
      <div className="muted" style={{ display: 'flex', justifyContent: 'space-between', fontSize: 11 }}>
        <span>−{windowS} s</span>
        <span>now</span>
      </div>
    </section>
  )
}

/**
 * Spectrograms before (near end as received) and after processing, side by side: where an engineer sees echo and
 * noise. Each column is a Hann-windowed 512-point FFT (live/spectrum.ts) every 256 samples (16 ms at 16 kHz). The
 * levels of the last HISTORY_COLUMNS columns are kept (SpectrogramHistory), so a new colour map, dB range or frequency
 * scale re-colours what is shown, and the cursor readout gives the exact level each pixel was coloured from.
 *
 * Drawing (frame loop, no React state): new columns are blitted onto a scrolling canvas (the canvas shifts left by
 * drawImage onto itself and each column is written through one reused 1-pixel-wide ImageData); a view change or a
 * resize repaints the whole canvas from the history through one reused full-size ImageData. The canvas has one row
 * per bin (256), stretched by CSS; the row → bin table gives the linear or logarithmic frequency axis.
 */
import { useMemo, useRef, useState, type MouseEvent } from 'react'
import { COLOUR_MAPS, colourMapLut, colourMapRgb, type ColourMapName } from '../live/colormap'
import { useFrameLoop } from '../live/frame-loop'
import { liveRings, type LiveRings, type SampleRing } from '../live/rings'
import {
  axisFraction,
  colourColumn,
  fillRowBins,
  readoutAt,
  SpectrogramHistory,
  SpectrumColumn,
  type FrequencyScale,
  type SpectrogramReadout,
} from '../live/spectrum'
import { fitCanvas } from './canvas-size'

export const SPECTROGRAM_FFT_SIZE = 512
export const SPECTROGRAM_HOP = 256
export const SPECTROGRAM_MIN_DB = -100
export const SPECTROGRAM_MAX_DB = -20
/** Columns kept for re-colouring and the readout: wider than any canvas at 1280–2560 px (32 s at a 16 ms hop). */
const HISTORY_COLUMNS = 2048
const ROWS = SPECTROGRAM_FFT_SIZE / 2
/** Most columns computed per animation frame per spectrogram; beyond that the backlog is skipped (fast replay). */
const MAX_COLUMNS_PER_FRAME = 64
const HEIGHT_CSS_PX = 170
const MIN_DB_CHOICES = [-150, -140, -130, -120, -110, -100, -90, -80, -70, -60, -50]
const MAX_DB_CHOICES = [-70, -60, -50, -40, -30, -20, -10, 0]
const LINEAR_TICKS_HZ = [0, 2000, 4000, 6000, 8000]
const LOG_TICKS_HZ = [100, 200, 500, 1000, 2000, 4000, 8000]

interface View {
  lut: Uint32Array
  minDb: number
  maxDb: number
  rowBins: Uint16Array
  /** Changes whenever anything above does: the cue to repaint from the history. */
  key: string
}

/** One scrolling spectrogram: its FFT, the history of levels, and the ImageData it reuses. */
class ScrollingSpectrogram {
  readonly history = new SpectrogramHistory(HISTORY_COLUMNS, ROWS)
  private readonly column = new SpectrumColumn(SPECTROGRAM_FFT_SIZE)
  private columnImage: ImageData | null = null
  private columnPixels: Uint32Array | null = null
  private fullImage: ImageData | null = null
  private fullPixels: Uint32Array | null = null
  /** Absolute ring position of the next column's first sample. */
  private cursor = 0
  private viewKey = ''

  /** Draws what is new; returns whether anything changed (new columns or a repaint). */
  draw(canvas: HTMLCanvasElement, ring: SampleRing, view: View): boolean {
    const ctx = canvas.getContext('2d')
    if (!ctx) return false
    let repaint = fitCanvas(canvas, ROWS) || this.columnImage === null || view.key !== this.viewKey
    if (this.columnImage === null) {
      this.columnImage = ctx.createImageData(1, ROWS)
      this.columnPixels = new Uint32Array(this.columnImage.data.buffer)
    }
    const total = ring.totalWritten
    if (total < this.cursor) {
      // The rings were reset (seek back, loop, another capture): start the view afresh.
      this.cursor = 0
      this.history.reset()
      repaint = true
    }
    const width = canvas.width
    let available =
      total >= this.cursor + SPECTROGRAM_FFT_SIZE
        ? Math.floor((total - SPECTROGRAM_FFT_SIZE - this.cursor) / SPECTROGRAM_HOP) + 1
        : 0
    const keep = Math.min(width, MAX_COLUMNS_PER_FRAME)
    if (available > keep || !ring.holds(this.cursor, SPECTROGRAM_FFT_SIZE)) {
      // A backlog (fast replay, a hidden tab): skip to the newest columns. The history keeps each column's position.
      const skip = Math.max(0, available - keep)
      this.cursor += skip * SPECTROGRAM_HOP
      available -= skip
    }
    for (let i = 0; i < available; i++) {
      this.history.push(this.column.computeFromRing(ring, this.cursor), this.cursor)
      this.cursor += SPECTROGRAM_HOP
    }
    if (repaint) {
      this.viewKey = view.key
      this.repaint(ctx, width, view)
      return true
    }
    if (available <= 0) return false
    ctx.drawImage(canvas, -available, 0)
    const pixels = this.columnPixels!
    for (let age = available - 1; age >= 0; age--) {
      const offset = this.history.columnOffset(age)
      colourColumn(this.history.levelsDb, offset, view.rowBins, view.minDb, view.maxDb, view.lut, pixels, 0, 1)
      ctx.putImageData(this.columnImage, width - 1 - age, 0)
    }
    return true
  }

  /** Paints every column of the canvas from the history (the floor colour where it holds nothing). */
  private repaint(ctx: CanvasRenderingContext2D, width: number, view: View): void {
    if (this.fullImage === null || this.fullImage.width !== width) {
      this.fullImage = ctx.createImageData(width, ROWS)
      this.fullPixels = new Uint32Array(this.fullImage.data.buffer)
    }
    const pixels = this.fullPixels!
    const floor = view.lut[0]!
    for (let x = 0; x < width; x++) {
      const offset = this.history.columnOffset(width - 1 - x)
      if (offset < 0) for (let row = 0, p = x; row < ROWS; row++, p += width) pixels[p] = floor
      else colourColumn(this.history.levelsDb, offset, view.rowBins, view.minDb, view.maxDb, view.lut, pixels, x, width)
    }
    ctx.putImageData(this.fullImage, 0, 0)
  }
}

interface Hover {
  /** 0: before, 1: after. */
  index: number
  /** Pointer position as a fraction of the canvas (0 … 1, left/top). */
  x: number
  y: number
}

function formatLevel(levelDb: number): string {
  return levelDb <= -199 ? '< −199' : levelDb.toFixed(1).replace('-', '−')
}

/** The readout line for the point under the cursor, in both spectrograms. */
export function describeReadout(before: SpectrogramReadout | null, after: SpectrogramReadout | null): string {
  const at = before ?? after
  if (at === null) return 'no data under the cursor yet'
  const parts = [`${at.timeAgoS.toFixed(2)} s ago`, `${Math.round(at.frequencyHz)} Hz (bin ${at.bin})`]
  if (before) parts.push(`before ${formatLevel(before.levelDb)} dBFS`)
  if (after) parts.push(`after ${formatLevel(after.levelDb)} dBFS`)
  if (before && after) {
    const removed = before.levelDb - after.levelDb
    parts.push(`${removed >= 0 ? 'removed' : 'added'} ${Math.abs(removed).toFixed(1)} dB`)
  }
  return parts.join(' · ')
}

function formatHz(hz: number): string {
  return hz >= 1000 ? `${hz / 1000} kHz` : `${hz} Hz`
}

function ColourBar({ map, minDb, maxDb }: { map: ColourMapName; minDb: number; maxDb: number }) {
  const stops = Array.from({ length: 9 }, (_, i) => `rgb(${colourMapRgb(map, i / 8).join(', ')})`)
  return (
    <span className="row muted" style={{ gap: 4, fontSize: 11 }} title="Colour scale">
      {minDb}
      <span
        data-testid="spectrogram-colour-bar"
        style={{
          display: 'inline-block',
          width: 90,
          height: 10,
          borderRadius: 2,
          border: '1px solid var(--panel-border)',
          background: `linear-gradient(to right, ${stops.join(', ')})`,
        }}
      />
      {maxDb} dBFS
    </span>
  )
}

function FrequencyTicks({ scale, nyquistHz }: { scale: FrequencyScale; nyquistHz: number }) {
  const ticks = scale === 'linear' ? LINEAR_TICKS_HZ : LOG_TICKS_HZ
  return (
    <div className="muted" style={{ position: 'relative', width: 44, fontSize: 10, flex: 'none' }}>
      {ticks
        .filter((hz) => hz <= nyquistHz)
        .map((hz) => {
          const u = Math.min(1, Math.max(0, axisFraction(scale, hz, nyquistHz)))
          return (
            <span
              key={hz}
              style={{
                position: 'absolute',
                right: 0,
                bottom: `${u * 100}%`,
                transform: `translateY(${u === 0 ? 0 : u === 1 ? 100 : 50}%)`,
                whiteSpace: 'nowrap',
              }}
            >
              {formatHz(hz)}
            </span>
          )
        })}
    </div>
  )
}

export function SpectrogramPanel({ rings = liveRings }: { rings?: LiveRings }) {
  const [map, setMap] = useState<ColourMapName>('viridis')
  const [minDb, setMinDb] = useState(SPECTROGRAM_MIN_DB)
  const [maxDb, setMaxDb] = useState(SPECTROGRAM_MAX_DB)
  const [scale, setScale] = useState<FrequencyScale>('linear')
  const [spanS, setSpanS] = useState(0)
  const canvases = useRef<(HTMLCanvasElement | null)[]>([null, null])
  const spectrograms = useRef<ScrollingSpectrogram[] | null>(null)
  const readoutRef = useRef<HTMLOutputElement>(null)
  const hover = useRef<Hover | null>(null)
  const hoverChanged = useRef(true)

  const view = useMemo<View>(() => {
    const rowBins = new Uint16Array(ROWS)
    fillRowBins(scale, SPECTROGRAM_FFT_SIZE, rings.sampleRateHz, rowBins)
    return { lut: colourMapLut(map), minDb, maxDb, rowBins, key: `${map} ${minDb} ${maxDb} ${scale}` }
  }, [map, minDb, maxDb, scale, rings.sampleRateHz])

  useFrameLoop(() => {
    spectrograms.current ??= [new ScrollingSpectrogram(), new ScrollingSpectrogram()]
    const [before, after] = spectrograms.current
    const [beforeCanvas, afterCanvas] = canvases.current
    let changed = false
    if (beforeCanvas) changed = before!.draw(beforeCanvas, rings.near, view) || changed
    if (afterCanvas) changed = after!.draw(afterCanvas, rings.processed, view) || changed
    if (beforeCanvas) {
      const span = Math.round((beforeCanvas.width * SPECTROGRAM_HOP) / rings.sampleRateHz)
      if (span !== spanS) setSpanS(span) // on a resize only
    }
    const output = readoutRef.current
    if (!output || !(changed || hoverChanged.current)) return
    hoverChanged.current = false
    const point = hover.current
    const canvas = point ? canvases.current[point.index] : null
    if (!point || !canvas) {
      output.textContent = 'Hover a spectrogram: time, frequency and level under the cursor'
      return
    }
    const age = canvas.width - 1 - Math.min(canvas.width - 1, Math.floor(point.x * canvas.width))
    const bin = view.rowBins[Math.min(ROWS - 1, Math.floor(point.y * ROWS))]!
    const sampleRateHz = rings.sampleRateHz
    output.textContent = describeReadout(
      readoutAt(before!.history, age, bin, sampleRateHz, SPECTROGRAM_FFT_SIZE),
      readoutAt(after!.history, age, bin, sampleRateHz, SPECTROGRAM_FFT_SIZE),
    )
  })

  const onMove = (index: number) => (event: MouseEvent<HTMLCanvasElement>) => {
    const box = event.currentTarget.getBoundingClientRect()
    hover.current = {
      index,
      x: Math.min(1, Math.max(0, (event.clientX - box.left) / box.width)),
      y: Math.min(1, Math.max(0, (event.clientY - box.top) / box.height)),
    }
    hoverChanged.current = true
  }
  const onLeave = () => {
    hover.current = null
    hoverChanged.current = true
  }

  const nyquistHz = rings.sampleRateHz / 2
  const spectrogram = (index: number, title: string, testId: string) => (
    <figure style={{ flex: 1, margin: 0, minWidth: 0 }}>
      <figcaption style={{ marginBottom: 4 }}>{title}</figcaption>
      <div style={{ display: 'flex', gap: 4, height: HEIGHT_CSS_PX }}>
        <FrequencyTicks scale={scale} nyquistHz={nyquistHz} />
        <canvas
          ref={(canvas) => {
            canvases.current[index] = canvas
          }}
          data-testid={testId}
          onMouseMove={onMove(index)}
          onMouseLeave={onLeave}
          style={{ display: 'block', flex: 1, minWidth: 0, height: '100%', borderRadius: 4, cursor: 'crosshair' }}
        />
      </div>
      <div className="muted" style={{ display: 'flex', justifyContent: 'space-between', fontSize: 11, marginLeft: 48 }}>
        <span>−{spanS} s</span>
        <span>now</span>
      </div>
    </figure>
  )

  return (
    <section className="panel" data-testid="spectrogram-panel">
      <header>
        <h2
          title={`${SPECTROGRAM_FFT_SIZE}-point FFT (Hann), hop ${(SPECTROGRAM_HOP / rings.sampleRateHz) * 1000} ms, ${(
            rings.sampleRateHz / SPECTROGRAM_FFT_SIZE
          ).toFixed(2)} Hz per bin`}
        >
          Spectrograms
        </h2>
        <label>
          Colours{' '}
          <select
            data-testid="spectrogram-colour-map"
            value={map}
            onChange={(e) => setMap(e.target.value as ColourMapName)}
          >
            {COLOUR_MAPS.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Range{' '}
          <select data-testid="spectrogram-min-db" value={minDb} onChange={(e) => setMinDb(Number(e.target.value))}>
            {MIN_DB_CHOICES.filter((db) => db < maxDb).map((db) => (
              <option key={db} value={db}>
                {db}
              </option>
            ))}
          </select>{' '}
          …{' '}
          <select data-testid="spectrogram-max-db" value={maxDb} onChange={(e) => setMaxDb(Number(e.target.value))}>
            {MAX_DB_CHOICES.filter((db) => db > minDb).map((db) => (
              <option key={db} value={db}>
                {db}
              </option>
            ))}
          </select>{' '}
          dBFS
        </label>
        <label>
          Frequency{' '}
          <select
            data-testid="spectrogram-scale"
            value={scale}
            onChange={(e) => setScale(e.target.value === 'log' ? 'log' : 'linear')}
          >
            <option value="linear">linear</option>
            <option value="log">log</option>
          </select>
        </label>
      </header>
      <div style={{ display: 'flex', gap: 12 }}>
        {spectrogram(0, 'Before (near end as received)', 'spectrogram-near')}
        {spectrogram(1, 'After (processed)', 'spectrogram-processed')}
      </div>
      <div className="row" style={{ marginTop: 4, flexWrap: 'nowrap' }}>
        <output
          ref={readoutRef}
          data-testid="spectrogram-readout"
          className="muted"
          style={{
            flex: 1,
            minWidth: 0,
            fontVariantNumeric: 'tabular-nums',
            whiteSpace: 'nowrap',
            overflow: 'hidden',
            textOverflow: 'ellipsis',
          }}
        />
        <ColourBar map={map} minDb={minDb} maxDb={maxDb} />
      </div>
    </section>
  )
}

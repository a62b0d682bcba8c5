/**
 * Spectrograms before (near end as received) and after processing, side by side. Each column is a Hann-windowed
 * 512-point FFT (live/spectrum.ts) every 256 samples (16 ms at 16 kHz), coloured with viridis over a fixed
 * −100…−20 dBFS, and blitted onto a scrolling canvas: the canvas shifts left by the new columns (drawImage onto
 * itself) and each column is written through one reused 1-pixel-wide ImageData. Linear frequency, 0 Hz at the bottom.
 */
import { useRef } from 'react'
import { viridisLut, viridisRgb } from '../live/colormap'
import { useFrameLoop } from '../live/frame-loop'
import { liveRings, type LiveRings, type SampleRing, type Track } from '../live/rings'
import { SpectrumColumn, levelsToIndices } from '../live/spectrum'
import { fitCanvas } from './canvas-size'

export const SPECTROGRAM_FFT_SIZE = 512
export const SPECTROGRAM_HOP = 256
export const SPECTROGRAM_MIN_DB = -100
export const SPECTROGRAM_MAX_DB = -20
/** Most columns computed per animation frame per panel; beyond that the backlog is skipped (fast replay). */
const MAX_COLUMNS_PER_FRAME = 64
const HEIGHT_CSS_PX = 220
const LUT = viridisLut()
/** The colour of the floor of the range (the canvas's background). */
export const SPECTROGRAM_BACKGROUND = `rgb(${viridisRgb(0).join(', ')})`

/** One scrolling spectrogram: its canvas, FFT and the one ImageData column it reuses. */
class ScrollingSpectrogram {
  private readonly column = new SpectrumColumn(SPECTROGRAM_FFT_SIZE)
  private readonly indices = new Uint8Array(SPECTROGRAM_FFT_SIZE / 2)
  private image: ImageData | null = null
  private pixels: Uint32Array | null = null
  /** Absolute ring position of the next column's first sample. */
  private cursor = 0

  draw(canvas: HTMLCanvasElement, ring: SampleRing): void {
    const bins = this.column.bins
    const ctx = canvas.getContext('2d')
    if (!ctx) return
    if (fitCanvas(canvas, bins) || this.image === null) {
      this.image = ctx.createImageData(1, bins)
      this.pixels = new Uint32Array(this.image.data.buffer)
      ctx.fillStyle = SPECTROGRAM_BACKGROUND
      ctx.fillRect(0, 0, canvas.width, canvas.height)
    }
    const width = canvas.width
    const total = ring.totalWritten
    if (total < this.cursor) this.cursor = 0 // the rings were reset
    let available =
      total >= this.cursor + SPECTROGRAM_FFT_SIZE
        ? Math.floor((total - SPECTROGRAM_FFT_SIZE - this.cursor) / SPECTROGRAM_HOP) + 1
        : 0
    if (available > width || !ring.holds(this.cursor, SPECTROGRAM_FFT_SIZE)) {
      const skip = Math.max(0, available - width)
      this.cursor += skip * SPECTROGRAM_HOP
      available -= skip
    }
    if (available > MAX_COLUMNS_PER_FRAME) {
      this.cursor += (available - MAX_COLUMNS_PER_FRAME) * SPECTROGRAM_HOP
      available = MAX_COLUMNS_PER_FRAME
    }
    if (available <= 0) return
    ctx.drawImage(canvas, -available, 0)
    const pixels = this.pixels!
    for (let i = 0; i < available; i++) {
      const levels = this.column.computeFromRing(ring, this.cursor)
      levelsToIndices(levels, SPECTROGRAM_MIN_DB, SPECTROGRAM_MAX_DB, this.indices)
      for (let k = 0; k < bins; k++) pixels[bins - 1 - k] = LUT[this.indices[k]!]!
      ctx.putImageData(this.image!, width - available + i, 0)
      this.cursor += SPECTROGRAM_HOP
    }
  }
}

function Spectrogram({
  title,
  track,
  testId,
  rings,
}: {
  title: string
  track: Track
  testId: string
  rings: LiveRings
}) {
  const canvasRef = useRef<HTMLCanvasElement>(null)
  const spectrogram = useRef<ScrollingSpectrogram | null>(null)
  useFrameLoop(() => {
    const canvas = canvasRef.current
    if (!canvas) return
    spectrogram.current ??= new ScrollingSpectrogram()
    spectrogram.current.draw(canvas, rings.ring(track))
  })
  const nyquistKHz = rings.sampleRateHz / 2000
  return (
    <figure style={{ flex: 1, margin: 0, minWidth: 0 }}>
      <figcaption style={{ fontSize: 13, marginBottom: 4 }}>{title}</figcaption>
      <div style={{ display: 'flex', gap: 4 }}>
        <div
          style={{
            display: 'flex',
            flexDirection: 'column',
            justifyContent: 'space-between',
            fontSize: 10,
            color: '#888',
            textAlign: 'right',
          }}
        >
          <span>{nyquistKHz} kHz</span>
          <span>{nyquistKHz / 2} kHz</span>
          <span>0</span>
        </div>
        <canvas
          ref={canvasRef}
          data-testid={testId}
          style={{ display: 'block', flex: 1, minWidth: 0, height: HEIGHT_CSS_PX, borderRadius: 4 }}
        />
      </div>
    </figure>
  )
}

export function SpectrogramPanel({ rings = liveRings }: { rings?: LiveRings }) {
  return (
    <section data-testid="spectrogram-panel" style={{ margin: '12px 0' }}>
      <header style={{ display: 'flex', gap: 12, alignItems: 'baseline' }}>
        <h2 style={{ fontSize: 16, margin: 0 }}>Spectrograms</h2>
        <span style={{ fontSize: 12, color: '#888' }}>
          {SPECTROGRAM_MIN_DB}…{SPECTROGRAM_MAX_DB} dBFS · {SPECTROGRAM_FFT_SIZE}-point FFT, hop{' '}
          {(SPECTROGRAM_HOP / rings.sampleRateHz) * 1000} ms · viridis
        </span>
      </header>
      <div style={{ display: 'flex', gap: 12 }}>
        <Spectrogram title="Before (near end)" track="near" testId="spectrogram-near" rings={rings} />
        <Spectrogram title="After (processed)" track="processed" testId="spectrogram-processed" rings={rings} />
      </div>
    </section>
  )
}

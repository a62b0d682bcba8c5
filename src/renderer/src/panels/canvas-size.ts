/**
 * Keeps a canvas's backing store at its CSS size times the device pixel ratio, checked from the frame loop (no
 * ResizeObserver state, no re-render). Returns true when the canvas was resized (its content is then cleared).
 */
export function fitCanvas(canvas: HTMLCanvasElement, fixedHeight?: number): boolean {
  const ratio = window.devicePixelRatio || 1
  const width = Math.max(1, Math.round(canvas.clientWidth * ratio))
  const height = fixedHeight ?? Math.max(1, Math.round(canvas.clientHeight * ratio))
  if (canvas.width === width && canvas.height === height) return false
  canvas.width = width
  canvas.height = height
  return true
}

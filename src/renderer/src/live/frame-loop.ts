/**
 * The renderer's one requestAnimationFrame loop. Panels register draw callbacks; the loop runs while at least one is
 * registered and calls each once per animation frame with the frame's timestamp. A callback that throws is reported
 * on the console and stays registered (one broken panel must not stop the others).
 */
import { useEffect, useRef } from 'react'

export type DrawCallback = (nowMs: number) => void

const callbacks = new Set<DrawCallback>()
let handle: number | null = null

function tick(nowMs: number): void {
  handle = callbacks.size > 0 ? requestAnimationFrame(tick) : null
  for (const draw of callbacks) {
    try {
      draw(nowMs)
    } catch (error) {
      console.error('frame loop: a draw callback failed', error)
    }
  }
}

/** Registers a draw callback; returns the function that removes it. */
export function registerDraw(draw: DrawCallback): () => void {
  callbacks.add(draw)
  if (handle === null) handle = requestAnimationFrame(tick)
  return () => {
    callbacks.delete(draw)
    if (callbacks.size === 0 && handle !== null) {
      cancelAnimationFrame(handle)
      handle = null
    }
  }
}

/** Calls `draw` on every animation frame while the component is mounted (always the latest `draw`; no re-render). */
export function useFrameLoop(draw: DrawCallback): void {
  const latest = useRef(draw)
  useEffect(() => {
    latest.current = draw
  })
  useEffect(() => registerDraw((nowMs) => latest.current(nowMs)), [])
}

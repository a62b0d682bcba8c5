/**
 * Keyboard shortcuts for the transport, A/B listening and the view: Space play/pause, Home to the start, ← / → seek
 * 5 s, B switches A/B, L loop, T theme, ? the list. Ignored while typing (focus in an input, select, textarea or
 * editable text) and with Ctrl/Alt/Meta held (the browser's and the OS's own shortcuts). Space on a focused button
 * plays/pauses instead of clicking the button again (after clicking Play, Space must pause, not play).
 *
 * `shortcutFor` maps a key to an action (pure, unit-tested); `useShortcuts` is the hook that listens on the window
 * and runs the actions through the store's api; mount it once.
 */
import { useEffect, useState } from 'react'
import { abPlayer } from './ab-player'
import { useWorkbench } from './store'

export type ShortcutAction =
  'play-pause' | 'to-start' | 'seek-back' | 'seek-forward' | 'ab-toggle' | 'loop' | 'theme' | 'help' | 'close'

export const SEEK_STEP_MS = 5000

/** The list shown by '?': keys as printed, and what they do. */
export const SHORTCUTS: readonly { keys: string; action: ShortcutAction; description: string }[] = [
  { keys: 'Space', action: 'play-pause', description: 'Play / pause' },
  { keys: 'Home', action: 'to-start', description: 'Back to the start' },
  { keys: '←', action: 'seek-back', description: `Seek back ${SEEK_STEP_MS / 1000} s` },
  { keys: '→', action: 'seek-forward', description: `Seek forward ${SEEK_STEP_MS / 1000} s` },
  { keys: 'B', action: 'ab-toggle', description: 'A/B: switch between the original and the processed near end' },
  { keys: 'L', action: 'loop', description: 'Loop on / off' },
  { keys: 'T', action: 'theme', description: 'Light / dark theme' },
  { keys: '?', action: 'help', description: 'Show / hide this list' },
  { keys: 'Esc', action: 'close', description: 'Close this list' },
]

export interface KeyLike {
  key: string
  ctrlKey?: boolean
  altKey?: boolean
  metaKey?: boolean
}

/** The action of a key press, or null (not a shortcut, or a modifier held). */
export function shortcutFor(event: KeyLike): ShortcutAction | null {
  if (event.ctrlKey || event.altKey || event.metaKey) return null
  switch (event.key) {
    case ' ':
    case 'Spacebar':
      return 'play-pause'
    case 'Home':
      return 'to-start'
    case 'ArrowLeft':
      return 'seek-back'
    case 'ArrowRight':
      return 'seek-forward'
    case 'b':
    case 'B':
      return 'ab-toggle'
    case 'l':
    case 'L':
      return 'loop'
    case 't':
    case 'T':
      return 'theme'
    case '?':
      return 'help'
    case 'Escape':
      return 'close'
    default:
      return null
  }
}

interface TargetLike {
  tagName?: string
  isContentEditable?: boolean
}

/** Whether keys typed with focus on `target` belong to it (text entry, a select, a slider, a checkbox…). */
export function isTypingTarget(target: unknown): boolean {
  if (typeof target !== 'object' || target === null) return false
  const element = target as TargetLike
  const tag = element.tagName?.toUpperCase()
  return tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA' || element.isContentEditable === true
}

/** The position after a seek by `deltaMs` from `positionMs`, kept within 0 … durationMs. */
export function seekTargetMs(positionMs: number, deltaMs: number, durationMs: number): number {
  return Math.min(Math.max(0, durationMs), Math.max(0, positionMs + deltaMs))
}

/** The replay's position now, ms: the latest frame processed while playing, the transport's position when not. */
function currentPositionMs(): number {
  const { session, snapshot } = useWorkbench.getState()
  const transport = session?.transport
  if (!transport) return 0
  if (transport.playing && snapshot !== null) return (snapshot.frame + 1) * transport.frameMs
  return transport.positionMs
}

/** Runs a shortcut's action (the help list's open state is the caller's). */
export function runShortcut(action: ShortcutAction): void {
  const { api, session, run, theme, setTheme } = useWorkbench.getState()
  switch (action) {
    case 'theme':
      return setTheme(theme === 'dark' ? 'light' : 'dark')
    case 'ab-toggle':
      return abPlayer.toggleSource()
    case 'help':
    case 'close':
      return
  }
  if (!api || !session?.capture) return
  const transport = session.transport
  switch (action) {
    case 'play-pause':
      void run(transport.playing ? api.pause() : api.play())
      return
    case 'to-start':
      void run(api.seek({ positionMs: 0 }))
      return
    case 'seek-back':
    case 'seek-forward': {
      const delta = action === 'seek-back' ? -SEEK_STEP_MS : SEEK_STEP_MS
      void run(api.seek({ positionMs: seekTargetMs(currentPositionMs(), delta, transport.durationMs) }))
      return
    }
    case 'loop':
      void run(api.setLoop({ enabled: !transport.loop }))
      return
  }
}

/** Listens for the shortcuts on the window while mounted; returns the help list's open state. */
export function useShortcuts(): { isHelpOpen: boolean; setHelpOpen: (open: boolean) => void } {
  const [isHelpOpen, setHelpOpen] = useState(false)
  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      if (event.defaultPrevented || event.repeat || isTypingTarget(event.target)) return
      const action = shortcutFor(event)
      if (action === null) return
      if (action === 'close') {
        setHelpOpen(false)
        return
      }
      event.preventDefault()
      if (action === 'help') setHelpOpen((open) => !open)
      else runShortcut(action)
    }
    window.addEventListener('keydown', onKey)
    return () => window.removeEventListener('keydown', onKey)
  }, [])
  return { isHelpOpen, setHelpOpen }
}

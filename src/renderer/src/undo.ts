/**
 * Undo and redo for the tuning panel: a bounded stack of earlier settings. A slider drag is one step, not one per
 * configure: changes of the same setting within `coalesceMs` of each other keep the state from before the first.
 * Entries equal to the current state (a change the engine refused) are skipped when undoing, so every undo changes
 * something. Also the check for Ctrl+Z: not while the focus is in a text field, whose own undo it is.
 */

export class UndoStack<T> {
  private past: T[] = []
  private future: T[] = []
  private lastTag: string | null = null
  private lastRecordMs = -Infinity

  constructor(
    private readonly equals: (a: T, b: T) => boolean,
    private readonly limit = 100,
    private readonly coalesceMs = 1000,
  ) {}

  /**
   * Records `before`, the state before a change. `tag` names what changes (a setting key): a change with the same tag
   * within coalesceMs of the previous one joins its step. null never joins (reset, import). Clears the redo stack.
   */
  record(before: T, tag: string | null, nowMs: number): void {
    const joins = tag !== null && tag === this.lastTag && nowMs - this.lastRecordMs < this.coalesceMs
    this.lastTag = tag
    this.lastRecordMs = nowMs
    this.future = []
    if (joins) return
    this.past.push(before)
    if (this.past.length > this.limit) this.past.shift()
  }

  /** The state to go back to from `current` (pushed on the redo stack), or null when there is none. */
  undo(current: T): T | null {
    this.lastTag = null
    let target = this.past.pop()
    while (target !== undefined && this.equals(target, current)) target = this.past.pop()
    if (target === undefined) return null
    this.future.push(current)
    return target
  }

  /** The state undone last, from `current` (pushed back on the undo stack), or null. */
  redo(current: T): T | null {
    this.lastTag = null
    let target = this.future.pop()
    while (target !== undefined && this.equals(target, current)) target = this.future.pop()
    if (target === undefined) return null
    this.past.push(current)
    return target
  }

  get canUndo(): boolean {
    return this.past.length > 0
  }

  get canRedo(): boolean {
    return this.future.length > 0
  }

  get depth(): number {
    return this.past.length
  }

  clear(): void {
    this.past = []
    this.future = []
    this.lastTag = null
  }
}

/** The parts of a DOM element the check reads (so that it is tested without a DOM). */
export interface FocusTarget {
  tagName?: string
  type?: string
  isContentEditable?: boolean
}

const NON_TEXT_INPUTS = new Set(['range', 'checkbox', 'radio', 'button', 'submit', 'reset', 'file', 'color', 'image'])

/** True when the focus is where typing goes (a text or number field, a textarea, editable content). */
export function isTextEntry(target: FocusTarget | null): boolean {
  if (target === null) return false
  if (target.isContentEditable === true) return true
  const tag = (target.tagName ?? '').toUpperCase()
  if (tag === 'TEXTAREA') return true
  if (tag !== 'INPUT') return false
  return !NON_TEXT_INPUTS.has((target.type ?? 'text').toLowerCase())
}

export type UndoShortcut = 'undo' | 'redo' | null

/** Ctrl+Z (⌘Z) undoes; Ctrl+Shift+Z, ⌘⇧Z and Ctrl+Y redo; nothing while typing in a text field. */
export function undoShortcut(
  event: { key: string; ctrlKey: boolean; metaKey: boolean; shiftKey: boolean; altKey: boolean },
  focus: FocusTarget | null,
): UndoShortcut {
  if (!(event.ctrlKey || event.metaKey) || event.altKey || isTextEntry(focus)) return null
  const key = event.key.toLowerCase()
  if (key === 'z') return event.shiftKey ? 'redo' : 'undo'
  if (key === 'y' && !event.shiftKey) return 'redo'
  return null
}

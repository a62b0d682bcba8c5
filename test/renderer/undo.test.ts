import { describe, expect, it } from 'vitest'
import { UndoStack, isTextEntry, undoShortcut } from '../../src/renderer/src/undo'

const same = (a: number, b: number): boolean => a === b

describe('UndoStack', () => {
  it('undoes and redoes in order', () => {
    const stack = new UndoStack(same)
    stack.record(1, 'a', 0) // 1 → 2
    stack.record(2, 'b', 5000) // 2 → 3
    expect(stack.undo(3)).toBe(2)
    expect(stack.undo(2)).toBe(1)
    expect(stack.undo(1)).toBeNull()
    expect(stack.redo(1)).toBe(2)
    expect(stack.redo(2)).toBe(3)
    expect(stack.redo(3)).toBeNull()
    expect(stack.canUndo).toBe(true)
  })

  it('makes one step of a drag: changes of the same setting close together keep the first state', () => {
    const stack = new UndoStack(same, 100, 1000)
    for (let t = 0; t < 3000; t += 50) stack.record(t === 0 ? 10 : 10 + t, 'strength', t)
    expect(stack.depth).toBe(1)
    expect(stack.undo(99)).toBe(10)
  })

  it('starts a new step for another setting, after a pause, after an undo, or for an untagged change', () => {
    const stack = new UndoStack(same, 100, 1000)
    stack.record(1, 'a', 0)
    stack.record(2, 'b', 10)
    stack.record(3, 'b', 2000)
    stack.record(4, null, 2010)
    stack.record(5, null, 2020)
    expect(stack.depth).toBe(5)
    expect(stack.undo(6)).toBe(5)
    stack.record(5, 'b', 2030)
    expect(stack.depth).toBe(5)
  })

  it('clears redo on a new change', () => {
    const stack = new UndoStack(same)
    stack.record(1, null, 0)
    expect(stack.undo(2)).toBe(1)
    expect(stack.canRedo).toBe(true)
    stack.record(1, null, 10)
    expect(stack.canRedo).toBe(false)
  })

  it('skips steps that would change nothing (a refused change)', () => {
    const stack = new UndoStack(same)
    stack.record(1, null, 0)
    stack.record(2, null, 10)
    stack.record(2, null, 20) // the change from 2 was refused: still 2
    expect(stack.undo(2)).toBe(1)
  })

  it('keeps at most `limit` steps, dropping the oldest', () => {
    const stack = new UndoStack(same, 3)
    for (let i = 0; i < 10; i++) stack.record(i, null, i)
    expect(stack.depth).toBe(3)
    expect(stack.undo(10)).toBe(9)
    expect(stack.undo(9)).toBe(8)
    expect(stack.undo(8)).toBe(7)
    expect(stack.undo(7)).toBeNull()
  })
})

describe('undo shortcuts', () => {
  const key = (
    k: string,
    mods: Partial<{ ctrlKey: boolean; metaKey: boolean; shiftKey: boolean; altKey: boolean }>,
  ) => ({
    key: k,
    ctrlKey: false,
    metaKey: false,
    shiftKey: false,
    altKey: false,
    ...mods,
  })
  const body = { tagName: 'BODY' }

  it('maps Ctrl+Z to undo and Ctrl+Shift+Z, Ctrl+Y, ⌘⇧Z to redo', () => {
    expect(undoShortcut(key('z', { ctrlKey: true }), body)).toBe('undo')
    expect(undoShortcut(key('z', { metaKey: true }), body)).toBe('undo')
    expect(undoShortcut(key('Z', { ctrlKey: true, shiftKey: true }), body)).toBe('redo')
    expect(undoShortcut(key('y', { ctrlKey: true }), body)).toBe('redo')
    expect(undoShortcut(key('z', {}), body)).toBeNull()
    expect(undoShortcut(key('z', { ctrlKey: true, altKey: true }), body)).toBeNull()
  })

  it('leaves Ctrl+Z to a text or number field, but not to a slider, checkbox or select', () => {
    expect(undoShortcut(key('z', { ctrlKey: true }), { tagName: 'INPUT', type: 'number' })).toBeNull()
    expect(undoShortcut(key('z', { ctrlKey: true }), { tagName: 'INPUT', type: 'text' })).toBeNull()
    expect(undoShortcut(key('z', { ctrlKey: true }), { tagName: 'TEXTAREA' })).toBeNull()
    expect(undoShortcut(key('z', { ctrlKey: true }), { tagName: 'DIV', isContentEditable: true })).toBeNull()
    expect(undoShortcut(key('z', { ctrlKey: true }), { tagName: 'INPUT', type: 'range' })).toBe('undo')
    expect(undoShortcut(key('z', { ctrlKey: true }), { tagName: 'INPUT', type: 'checkbox' })).toBe('undo')
    expect(undoShortcut(key('z', { ctrlKey: true }), { tagName: 'SELECT' })).toBe('undo')
    expect(isTextEntry(null)).toBe(false)
    expect(isTextEntry({ tagName: 'input' })).toBe(true)
  })
})

import { describe, expect, it } from 'vitest'
import { isTypingTarget, seekTargetMs, shortcutFor, SHORTCUTS } from '../../src/renderer/src/shortcuts'

describe('shortcutFor', () => {
  it('maps the transport, A/B, loop, theme and help keys', () => {
    expect(shortcutFor({ key: ' ' })).toBe('play-pause')
    expect(shortcutFor({ key: 'Home' })).toBe('to-start')
    expect(shortcutFor({ key: 'ArrowLeft' })).toBe('seek-back')
    expect(shortcutFor({ key: 'ArrowRight' })).toBe('seek-forward')
    expect(shortcutFor({ key: 'b' })).toBe('ab-toggle')
    expect(shortcutFor({ key: 'B' })).toBe('ab-toggle') // Caps Lock or Shift
    expect(shortcutFor({ key: 'l' })).toBe('loop')
    expect(shortcutFor({ key: 't' })).toBe('theme')
    expect(shortcutFor({ key: '?' })).toBe('help')
    expect(shortcutFor({ key: 'Escape' })).toBe('close')
  })

  it('leaves other keys and anything with Ctrl, Alt or Meta to the browser', () => {
    expect(shortcutFor({ key: 'x' })).toBeNull()
    expect(shortcutFor({ key: 'Enter' })).toBeNull()
    expect(shortcutFor({ key: 'ArrowUp' })).toBeNull()
    expect(shortcutFor({ key: 'l', ctrlKey: true })).toBeNull() // the address bar
    expect(shortcutFor({ key: 't', metaKey: true })).toBeNull() // a new tab
    expect(shortcutFor({ key: 'ArrowLeft', altKey: true })).toBeNull() // back
  })

  it('lists every action it maps, once', () => {
    const actions = SHORTCUTS.map((s) => s.action)
    expect(new Set(actions).size).toBe(actions.length)
    for (const key of [' ', 'Home', 'ArrowLeft', 'ArrowRight', 'b', 'l', 't', '?', 'Escape'])
      expect(actions).toContain(shortcutFor({ key }))
  })
})

describe('isTypingTarget', () => {
  it('is true in inputs, selects, text areas and editable text; false on buttons and the page', () => {
    expect(isTypingTarget({ tagName: 'INPUT' })).toBe(true)
    expect(isTypingTarget({ tagName: 'select' })).toBe(true)
    expect(isTypingTarget({ tagName: 'TEXTAREA' })).toBe(true)
    expect(isTypingTarget({ tagName: 'DIV', isContentEditable: true })).toBe(true)
    expect(isTypingTarget({ tagName: 'BUTTON' })).toBe(false)
    expect(isTypingTarget({ tagName: 'BODY', isContentEditable: false })).toBe(false)
    expect(isTypingTarget(null)).toBe(false)
  })
})

describe('seekTargetMs', () => {
  it('seeks by the step and stays within the capture', () => {
    expect(seekTargetMs(12_000, 5000, 60_000)).toBe(17_000)
    expect(seekTargetMs(12_000, -5000, 60_000)).toBe(7000)
    expect(seekTargetMs(3000, -5000, 60_000)).toBe(0)
    expect(seekTargetMs(58_000, 5000, 60_000)).toBe(60_000)
  })
})

import { describe, expect, it } from 'vitest'
import type { TransportState } from '../../src/shared/contract'
import { formatClock, replayPositionMs } from '../../src/renderer/src/source-ui'

const transport = (patch: Partial<TransportState>): TransportState => ({
  playing: true,
  ended: false,
  speed: 'realtime',
  loop: false,
  positionFrame: 100,
  totalFrames: 3000,
  frameMs: 20,
  positionMs: 2000,
  durationMs: 60000,
  busy: null,
  ...patch,
})

describe('replayPositionMs', () => {
  it('follows the latest frame received while playing', () => {
    expect(replayPositionMs(transport({}), 499)).toBe(10000)
  })

  it('shows the session position when paused, seeking, or before any frame', () => {
    expect(replayPositionMs(transport({ playing: false }), 499)).toBe(2000)
    expect(replayPositionMs(transport({ busy: 'seeking' }), 499)).toBe(2000)
    expect(replayPositionMs(transport({}), null)).toBe(2000)
  })

  it('never goes past the end', () => {
    expect(replayPositionMs(transport({}), 5000)).toBe(60000)
  })
})

describe('formatClock', () => {
  it('writes minutes, seconds and tenths', () => {
    expect(formatClock(0)).toBe('0:00.0')
    expect(formatClock(7349)).toBe('0:07.3')
    expect(formatClock(61_000)).toBe('1:01.0')
    expect(formatClock(720_000)).toBe('12:00.0')
    expect(formatClock(-5)).toBe('0:00.0')
    expect(formatClock(Number.NaN)).toBe('0:00.0')
  })
})

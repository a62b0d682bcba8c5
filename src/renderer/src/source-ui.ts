/**
 * The source panel's small pieces of logic: the replay position to show and the time format of the timeline.
 */
import type { TransportState } from '../../shared/contract'

/**
 * The position to show, ms: while playing, the end of the latest frame the renderer received (the 10 Hz snapshot,
 * fresher than the session state, which is sent on changes only); paused, seeking or without a frame yet, the
 * session's position (the next frame to process). Never past the duration.
 */
export function replayPositionMs(transport: TransportState, snapshotFrame: number | null): number {
  const fromState = transport.positionMs
  if (!transport.playing || transport.busy !== null || snapshotFrame === null) return fromState
  return Math.min(transport.durationMs, (snapshotFrame + 1) * transport.frameMs)
}

/** m:ss.t (rounded to tenths), e.g. 0:07.3, 12:00.0; negative or non-finite values read 0:00.0. */
export function formatClock(ms: number): string {
  const tenths = Number.isFinite(ms) && ms > 0 ? Math.round(ms / 100) : 0
  const minutes = Math.floor(tenths / 600)
  const seconds = (tenths % 600) / 10
  return `${minutes}:${seconds < 10 ? '0' : ''}${seconds.toFixed(1)}`
}

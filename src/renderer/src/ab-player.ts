/**
 * A/B listening: plays the near end as received (A, "original") or after echo cancellation and noise reduction (B,
 * "processed") through the speakers during a 1× replay, switchable while playing without a click.
 *
 * Fed from the tap batches (store.addTapListener), outside React. Each batch's two tracks are scheduled together on
 * the AudioContext's clock as two AudioBufferSourceNodes, each through its own gain; A/B is a short linear crossfade
 * between the two gains (the tracks stay sample-aligned, so the switch lands mid-batch, at once, with no gap).
 * Batches are queued back to back JITTER_MARGIN_S ahead of the audio clock; a lead under MIN_LEAD_S (the tap fell
 * behind: a pause, a stall) restarts the queue from now + the margin, a lead over MAX_LEAD_S (a faster-than-real-time
 * replay) drops the batch rather than piling up delay. Muted by default: the AudioContext is created on the user's
 * click (browsers start audio only from a user gesture) and closed on mute, so nothing stale plays on the next start.
 * Off in live mode: the processed microphone on the speakers would feed back into the microphone.
 *
 * The scheduling and crossfade maths are pure (AbScheduler, fadeGain, startFade) and unit-tested.
 */
import { create } from 'zustand'
import type { TapBatch } from '../../shared/contract'
import { addTapListener, useWorkbench } from './store'

export type AbSource = 'original' | 'processed'

/** Lead given to the queue when it (re)starts, s: absorbs the tap's ~33 ms batches and their arrival jitter. */
export const JITTER_MARGIN_S = 0.12
/** Below this lead the queue has run dry (or nearly): restart it from now + JITTER_MARGIN_S, s. */
export const MIN_LEAD_S = 0.01
/** Above this lead batches come faster than real time: drop them, s. */
export const MAX_LEAD_S = 0.6
/** A full A ↔ B crossfade, s (short enough to feel instant, long enough that the step is inaudible). */
export const CROSSFADE_S = 0.03

// ---------------------------------------------------------------------------------------------------------------
// Scheduling maths

/** Where each batch goes on the audio clock (context time, s). */
export class AbScheduler {
  /** Context time where the next batch starts (−Infinity: nothing queued yet). */
  nextStartS = -Infinity
  scheduled = 0
  dropped = 0
  /** Restarts of a queue that had started (the tap fell behind). */
  underruns = 0

  /** The start time for a batch of `durationS` arriving at context time `nowS`, or null to drop it. */
  schedule(nowS: number, durationS: number): number | null {
    let start = this.nextStartS
    if (!(start >= nowS + MIN_LEAD_S)) {
      if (Number.isFinite(start)) this.underruns++
      start = nowS + JITTER_MARGIN_S
    }
    if (start - nowS > MAX_LEAD_S) {
      this.dropped++
      return null
    }
    this.nextStartS = start + durationS
    this.scheduled++
    return start
  }

  reset(): void {
    this.nextStartS = -Infinity
    this.scheduled = this.dropped = this.underruns = 0
  }
}

/** A linear ramp of the original's gain (the processed one's is 1 − it, so the sum stays 1). */
export interface Fade {
  from: number
  to: number
  startS: number
  durationS: number
}

/** The original's gain at time `tS` (the processed track gets 1 − this). */
export function fadeGain(fade: Fade, tS: number): number {
  if (fade.durationS <= 0 || tS >= fade.startS + fade.durationS) return fade.to
  if (tS <= fade.startS) return fade.from
  return fade.from + ((fade.to - fade.from) * (tS - fade.startS)) / fade.durationS
}

/**
 * The fade to `target` starting at `nowS` from wherever `previous` is then; a switch back mid-fade takes only the
 * distance left, at the same slope (at most 1 / CROSSFADE_S per second), so there is never a step.
 */
export function startFade(previous: Fade, target: AbSource, nowS: number, fullS = CROSSFADE_S): Fade {
  const from = fadeGain(previous, nowS)
  const to = target === 'original' ? 1 : 0
  return { from, to, startS: nowS, durationS: fullS * Math.abs(to - from) }
}

/** The steady state for a source (no fade in progress). */
export function steadyFade(source: AbSource): Fade {
  const gain = source === 'original' ? 1 : 0
  return { from: gain, to: gain, startS: 0, durationS: 0 }
}

// ---------------------------------------------------------------------------------------------------------------
// The player

export type AbStatus =
  | 'muted' // not started (default) or muted by the user
  | 'waiting' // listening, but no batches: paused, ended, or nothing open
  | 'playing'
  | 'fast' // the replay runs faster than real time: not played
  | 'live' // live mode: not played (feedback)
  | 'unavailable' // no Web Audio

export interface AbState {
  source: AbSource
  status: AbStatus
  /** Output volume, 0–1. */
  volume: number
  scheduled: number
  dropped: number
  underruns: number
}

export const useAbPlayer = create<AbState>()(() => ({
  source: 'processed',
  status: 'muted',
  volume: 0.8,
  scheduled: 0,
  dropped: 0,
  underruns: 0,
}))

const SAMPLE_RATE_HZ = 16000
/** How long without a played batch before the status falls back to 'waiting', ms. */
const IDLE_MS = 400
const PUBLISH_MS = 500

class AbPlayer {
  private context: AudioContext | null = null
  private master: GainNode | null = null
  private originalGain: GainNode | null = null
  private processedGain: GainNode | null = null
  private readonly scheduler = new AbScheduler()
  private fade: Fade = steadyFade('processed')
  private removeListener: (() => void) | null = null
  private idleTimer: ReturnType<typeof setTimeout> | null = null
  private publishedAtMs = -Infinity

  /** Starts listening (call from a click: browsers allow audio only after a user gesture). */
  async unmute(): Promise<void> {
    if (this.context !== null) return
    if (typeof AudioContext === 'undefined') {
      useAbPlayer.setState({ status: 'unavailable' })
      return
    }
    const context = new AudioContext({ sampleRate: SAMPLE_RATE_HZ, latencyHint: 'interactive' })
    const master = context.createGain()
    master.gain.value = useAbPlayer.getState().volume
    master.connect(context.destination)
    const originalGain = context.createGain()
    const processedGain = context.createGain()
    originalGain.connect(master)
    processedGain.connect(master)
    this.fade = steadyFade(useAbPlayer.getState().source)
    originalGain.gain.value = this.fade.to
    processedGain.gain.value = 1 - this.fade.to
    Object.assign(this, { context, master, originalGain, processedGain })
    this.scheduler.reset()
    this.removeListener = addTapListener((batch) => this.onBatch(batch))
    useAbPlayer.setState({ status: 'waiting', scheduled: 0, dropped: 0, underruns: 0 })
    if (context.state === 'suspended') await context.resume().catch(() => undefined)
  }

  mute(): void {
    this.removeListener?.()
    this.removeListener = null
    if (this.idleTimer !== null) clearTimeout(this.idleTimer)
    this.idleTimer = null
    void this.context?.close().catch(() => undefined)
    this.context = this.master = this.originalGain = this.processedGain = null
    useAbPlayer.setState({ status: 'muted' })
  }

  setSource(source: AbSource): void {
    useAbPlayer.setState({ source })
    const context = this.context
    if (context === null || this.originalGain === null || this.processedGain === null) {
      this.fade = steadyFade(source)
      return
    }
    const now = context.currentTime
    this.fade = startFade(this.fade, source, now)
    const end = this.fade.startS + this.fade.durationS
    for (const [param, from, to] of [
      [this.originalGain.gain, this.fade.from, this.fade.to],
      [this.processedGain.gain, 1 - this.fade.from, 1 - this.fade.to],
    ] as const) {
      param.cancelScheduledValues(now)
      param.setValueAtTime(from, now)
      param.linearRampToValueAtTime(to, end)
    }
  }

  toggleSource(): void {
    this.setSource(useAbPlayer.getState().source === 'original' ? 'processed' : 'original')
  }

  setVolume(volume: number): void {
    const v = Math.min(1, Math.max(0, volume))
    useAbPlayer.setState({ volume: v })
    if (this.context && this.master) this.master.gain.setTargetAtTime(v, this.context.currentTime, 0.02)
  }

  private setStatus(status: AbStatus): void {
    if (useAbPlayer.getState().status !== status) useAbPlayer.setState({ status })
  }

  private onBatch(batch: TapBatch): void {
    const context = this.context
    if (context === null || this.originalGain === null || this.processedGain === null) return
    const session = useWorkbench.getState().session
    if (session?.live != null) return this.setStatus('live')
    if (session?.transport.speed === 'max') return this.setStatus('fast')
    const samples = batch.near.length
    if (samples === 0 || batch.sampleRateHz <= 0) return
    const start = this.scheduler.schedule(context.currentTime, samples / batch.sampleRateHz)
    if (start !== null) {
      for (const [track, gain] of [
        [batch.near, this.originalGain],
        [batch.processed, this.processedGain],
      ] as const) {
        const buffer = context.createBuffer(1, samples, batch.sampleRateHz)
        buffer.copyToChannel(track as Float32Array<ArrayBuffer>, 0)
        const node = context.createBufferSource()
        node.buffer = buffer
        node.connect(gain)
        node.start(start)
      }
    }
    // The counters reach React at most every PUBLISH_MS (the batches come at ~30 Hz).
    const nowMs = performance.now()
    if (useAbPlayer.getState().status !== 'playing' || nowMs - this.publishedAtMs >= PUBLISH_MS) {
      this.publishedAtMs = nowMs
      const { scheduled, dropped, underruns } = this.scheduler
      useAbPlayer.setState({ status: 'playing', scheduled, dropped, underruns })
    }
    if (this.idleTimer !== null) clearTimeout(this.idleTimer)
    this.idleTimer = setTimeout(() => this.context !== null && this.setStatus('waiting'), IDLE_MS)
  }
}

/** The renderer's one A/B player. */
export const abPlayer = new AbPlayer()

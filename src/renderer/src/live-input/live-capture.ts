/**
 * LiveCapture: the renderer's side of live mode. Opens the microphone with getUserMedia (the browser's own echo
 * cancellation, noise suppression and gain control off: they would hide what the workbench diagnoses), runs the
 * capture worklet (capture-worklet.ts) in an AudioContext on the chosen speaker (setSinkId where supported), plays the
 * far-end talker the engine returned from startLive, and sends each 20 ms frame of microphone + far-end samples to the
 * engine with pushLive (binary over the WebSocket in browser mode, IPC on the desktop), in order, without waiting for
 * replies.
 *
 * capturedAtMs: when the frame was complete on the audio thread, on the epoch clock the engine shares
 * (performance.timeOrigin + performance.now()): the time the message is handled, minus how far the audio clock has
 * moved past the frame's last sample since (the main thread's backlog), less half an audio burst (see send).
 *
 * Failures end the session cleanly with a message in words: permission denied, no microphone, the device busy, the
 * microphone unplugged mid-session (track 'ended'), the chosen speaker gone (devicechange), the engine refusing the
 * frames. stopLive is called with the reason; the engine keeps what was recorded.
 */
import type { EngineApi, LiveFarSource, LiveStartReply, RecordingInfo, Result } from '../../../shared/contract'
import workletUrl from './capture-worklet.ts?worker&url'
import {
  LIVE_CAPTURE_PROCESSOR,
  type LiveCaptureOptions,
  type WorkletCommand,
  type WorkletFrame,
} from './worklet-protocol'

export const LIVE_FRAME_MS = 20

export interface LiveCaptureStart {
  api: EngineApi
  /** MediaDeviceInfo.deviceId of the microphone ('' : the default). */
  inputDeviceId: string
  /** Of the speaker ('' : the default). */
  outputDeviceId: string
  far: LiveFarSource
  record: boolean
  /** Called once when the session ends by itself (device lost, engine error), after stopLive. */
  onEnded(reason: string, recording: RecordingInfo | null): void
}

export interface LiveCaptureStats {
  /** Frames posted by the worklet and sent to the engine. */
  framesSent: number
  /** pushLive replies that were errors. */
  sendErrors: number
  /** Dropouts the worklet reported. */
  dropouts: number
  /** Audio the frames sent cover on the context's clock, ms: from the first frame's first sample to the last's end. */
  capturedMs: number
}

/** A start failure, with the message to show. */
export class LiveCaptureError extends Error {}

/** The user-facing message for a getUserMedia / setSinkId / AudioContext failure. */
export function describeMediaError(error: unknown, what: 'microphone' | 'speaker' = 'microphone'): string {
  const name = (error as { name?: string } | null)?.name ?? ''
  const detail = (error as Error | null)?.message ?? String(error)
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return what === 'microphone'
        ? 'Microphone access was denied: allow the microphone for this page (the padlock or site settings), then start again.'
        : `The speaker could not be chosen: permission denied (${detail}).`
    case 'NotFoundError':
    case 'OverconstrainedError':
      return what === 'microphone'
        ? 'No microphone was found (or the one chosen is gone): plug one in or pick another input, then start again.'
        : 'The chosen speaker was not found: pick another output.'
    case 'NotReadableError':
    case 'AbortError':
      return `The ${what} could not be opened: another application may be using it, or the device failed (${detail}).`
    default:
      return `The ${what} could not be opened: ${detail}`
  }
}

function epochNow(): number {
  return performance.timeOrigin + performance.now()
}

export class LiveCapture {
  private readonly stats: LiveCaptureStats = { framesSent: 0, sendErrors: 0, dropouts: 0, capturedMs: 0 }
  private stopping: Promise<Result<{ recording: RecordingInfo | null }>> | null = null
  private readonly removeListeners: (() => void)[] = []
  private readonly emptyFar = new Float32Array(0)
  /** Audio clock at the first frame's first sample. */
  private firstFrame = -1

  private constructor(
    private readonly options: LiveCaptureStart,
    private readonly stream: MediaStream,
    private readonly context: AudioContext,
    private readonly node: AudioWorkletNode,
    private readonly source: MediaStreamAudioSourceNode,
    readonly reply: LiveStartReply,
    readonly inputLabel: string,
    readonly outputLabel: string,
  ) {}

  /** Opens the devices, starts live mode in the engine and starts streaming. Throws LiveCaptureError. */
  static async start(options: LiveCaptureStart): Promise<LiveCapture> {
    const media = navigator.mediaDevices
    if (media?.getUserMedia === undefined)
      throw new LiveCaptureError('This page cannot use a microphone (it needs a secure page: https or 127.0.0.1).')
    let stream: MediaStream
    try {
      stream = await media.getUserMedia({
        audio: {
          ...(options.inputDeviceId !== '' ? { deviceId: { exact: options.inputDeviceId } } : {}),
          echoCancellation: false,
          noiseSuppression: false,
          autoGainControl: false,
          channelCount: { ideal: 1 },
        },
      })
    } catch (error) {
      throw new LiveCaptureError(describeMediaError(error))
    }
    const track = stream.getAudioTracks()[0]
    if (track === undefined || track.readyState === 'ended') {
      for (const t of stream.getTracks()) t.stop()
      throw new LiveCaptureError('No microphone was found: plug one in or pick another input, then start again.')
    }
    let context: AudioContext | null = null
    let started = false
    try {
      context = new AudioContext({ latencyHint: 'interactive' })
      const sinkable = context as AudioContext & { setSinkId?: (id: string) => Promise<void> }
      if (options.outputDeviceId !== '' && sinkable.setSinkId !== undefined) {
        try {
          await sinkable.setSinkId(options.outputDeviceId)
        } catch (error) {
          throw new LiveCaptureError(describeMediaError(error, 'speaker'))
        }
      }
      await context.audioWorklet.addModule(workletUrl)
      const outputLabel =
        options.outputDeviceId === '' ? 'default' : await deviceLabel('audiooutput', options.outputDeviceId)
      const reply = await options.api.startLive({
        inputRateHz: context.sampleRate,
        outputRateHz: context.sampleRate,
        far: options.far,
        record: options.record,
        inputDevice: track.label || 'default',
        outputDevice: outputLabel,
      })
      if (!reply.ok) throw new LiveCaptureError(reply.error.message)
      started = true
      const processorOptions: LiveCaptureOptions = { frameMs: LIVE_FRAME_MS, hasFar: reply.value.farAudio !== null }
      const node = new AudioWorkletNode(context, LIVE_CAPTURE_PROCESSOR, {
        numberOfInputs: 1,
        numberOfOutputs: 1,
        outputChannelCount: [1],
        channelCount: 1,
        channelCountMode: 'explicit',
        processorOptions,
      })
      const source = context.createMediaStreamSource(stream)
      const capture = new LiveCapture(
        options,
        stream,
        context,
        node,
        source,
        reply.value,
        track.label || 'default',
        outputLabel,
      )
      capture.wire(track)
      if (reply.value.farAudio !== null) {
        const far = reply.value.farAudio as Float32Array<ArrayBuffer>
        capture.post({ kind: 'far', samples: far }, [far.buffer])
      }
      source.connect(node)
      node.connect(context.destination)
      if (context.state === 'suspended') await context.resume()
      return capture
    } catch (error) {
      for (const t of stream.getTracks()) t.stop()
      void context?.close().catch(() => undefined)
      if (started) await options.api.stopLive({ reason: 'the renderer could not start capturing' })
      if (error instanceof LiveCaptureError) throw error
      throw new LiveCaptureError(`Live mode could not start: ${(error as Error).message ?? String(error)}`)
    }
  }

  /** Sample rate of the capture and playback (one AudioContext for both). */
  get sampleRateHz(): number {
    return this.context.sampleRate
  }

  get isStopping(): boolean {
    return this.stopping !== null
  }

  snapshot(): LiveCaptureStats {
    return { ...this.stats }
  }

  /** Stops capturing and ends live mode in the engine (once; later calls return the same result). */
  stop(reason: string): Promise<Result<{ recording: RecordingInfo | null }>> {
    if (this.stopping !== null) return this.stopping
    this.stopping = (async () => {
      this.teardown()
      const result = await this.options.api.stopLive({ reason })
      return result.ok ? { ok: true as const, value: { recording: result.value.recording } } : result
    })()
    return this.stopping
  }

  private wire(track: MediaStreamTrack): void {
    this.node.port.onmessage = (event: MessageEvent<WorkletFrame>) => this.send(event.data)
    const ended = () => void this.fail('The microphone was disconnected (its track ended): live mode stopped.')
    track.addEventListener('ended', ended)
    this.removeListeners.push(() => track.removeEventListener('ended', ended))
    const outputId = this.options.outputDeviceId
    const media = navigator.mediaDevices
    if (outputId !== '' && media !== undefined) {
      const changed = () => {
        void media.enumerateDevices().then((devices) => {
          if (!devices.some((d) => d.kind === 'audiooutput' && d.deviceId === outputId))
            void this.fail(`The speaker (${this.outputLabel}) was disconnected: live mode stopped.`)
        })
      }
      media.addEventListener('devicechange', changed)
      this.removeListeners.push(() => media.removeEventListener('devicechange', changed))
    }
  }

  private send(frame: WorkletFrame): void {
    if (this.stopping !== null) return
    // When the frame was complete: now, minus how far the audio clock has run past its last sample since. The audio
    // thread renders a burst of baseLatency (10 ms here) at once and the clock jumps by it, so a frame completed
    // within the last burst reads up to one burst "behind" though it was just made: half a burst is taken off
    // (error ±baseLatency/2).
    const rate = this.context.sampleRate
    const aheadMs = ((this.context.currentTime * rate - frame.endFrame) / rate) * 1000
    const behindMs = Math.max(0, aheadMs - (this.context.baseLatency * 1000) / 2)
    const capturedAtMs = epochNow() - behindMs
    this.stats.framesSent++
    this.stats.dropouts += frame.dropouts
    if (this.firstFrame < 0) this.firstFrame = frame.endFrame - frame.near.length
    this.stats.capturedMs = ((frame.endFrame - this.firstFrame) / rate) * 1000
    const pending = this.options.api.pushLive({
      sequence: frame.index,
      near: frame.near,
      far: frame.far ?? this.emptyFar,
      ...(frame.dropouts > 0 ? { dropouts: frame.dropouts } : {}),
      capturedAtMs,
    })
    // The request has been serialised (WebSocket frame or IPC clone): the buffers go back to the worklet.
    const buffers = frame.far !== null ? [frame.near, frame.far] : [frame.near]
    this.post(
      { kind: 'recycle', buffers },
      buffers.map((b) => b.buffer),
    )
    void pending.then((result) => {
      if (result.ok || this.stopping !== null) return
      this.stats.sendErrors++
      // The engine no longer takes frames (live mode ended there, or the engine restarted): stop here too.
      if (result.error.code !== 'invalid-request' || /not on/.test(result.error.message))
        void this.fail(`Live mode stopped: the engine refused the audio (${result.error.message}).`)
    })
  }

  private post(command: WorkletCommand, transfer: ArrayBuffer[] = []): void {
    this.node.port.postMessage(command, transfer)
  }

  private async fail(reason: string): Promise<void> {
    if (this.stopping !== null) return
    const result = await this.stop(reason)
    this.options.onEnded(reason, result.ok ? result.value.recording : null)
  }

  private teardown(): void {
    for (const remove of this.removeListeners.splice(0)) remove()
    this.node.port.onmessage = null
    this.post({ kind: 'stop' })
    this.source.disconnect()
    this.node.disconnect()
    for (const track of this.stream.getTracks()) track.stop()
    void this.context.close().catch(() => undefined)
  }
}

/** A device's label (empty labels before permission: the id's start). */
async function deviceLabel(kind: MediaDeviceKind, deviceId: string): Promise<string> {
  try {
    const devices = await navigator.mediaDevices.enumerateDevices()
    const device = devices.find((d) => d.kind === kind && d.deviceId === deviceId)
    return device?.label || `${kind} ${deviceId.slice(0, 8)}`
  } catch {
    return deviceId.slice(0, 8)
  }
}

/**
 * MonitorPlayer: plays the processed near end of live mode (the tap's `processed` PCM, 16 kHz) on a chosen output,
 * typically headphones, so an engineer hears what the pipeline makes of the microphone. Its own AudioContext (at the
 * tap's rate) on its own sink (setSinkId where supported), separate from the speaker that plays the far end: routed
 * to that speaker, the monitor would feed back into the microphone.
 *
 * Batches are scheduled back to back on the context's clock, MONITOR_LEAD_S ahead of now; when the tap falls behind
 * (a gap longer than the lead), playback restarts from now + the lead instead of piling up delay.
 */

/** How far ahead of the audio clock batches are scheduled, s (absorbs the tap's ~33 ms batching). */
const MONITOR_LEAD_S = 0.08

export class MonitorPlayer {
  private nextTime = 0

  private constructor(private readonly context: AudioContext) {}

  /** Opens the monitor on an output device ('' : the default). */
  static async open(outputDeviceId: string, sampleRateHz = 16000): Promise<MonitorPlayer> {
    const context = new AudioContext({ sampleRate: sampleRateHz, latencyHint: 'interactive' })
    const sinkable = context as AudioContext & { setSinkId?: (id: string) => Promise<void> }
    if (outputDeviceId !== '' && sinkable.setSinkId !== undefined) await sinkable.setSinkId(outputDeviceId)
    if (context.state === 'suspended') await context.resume()
    return new MonitorPlayer(context)
  }

  /** Schedules one batch of processed samples right after the previous one. */
  play(samples: Float32Array, sampleRateHz: number): void {
    if (samples.length === 0 || this.context.state === 'closed') return
    const buffer = this.context.createBuffer(1, samples.length, sampleRateHz)
    buffer.copyToChannel(samples as Float32Array<ArrayBuffer>, 0)
    const node = this.context.createBufferSource()
    node.buffer = buffer
    node.connect(this.context.destination)
    const now = this.context.currentTime
    if (this.nextTime < now + 0.005) this.nextTime = now + MONITOR_LEAD_S
    node.start(this.nextTime)
    this.nextTime += buffer.duration
  }

  close(): void {
    void this.context.close().catch(() => undefined)
  }
}

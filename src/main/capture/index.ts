/**
 * Capture sources for replay (plain Node, no Electron): WAV recordings, Twilio Media Streams logs, pcap and pcapng
 * RTP captures, read into one Capture shape (types.ts), and what-if network impairment of a capture.
 *
 *   const capture = await loadCapture('call.pcap', { nearStream: '192.0.2.1:40000' })
 *   const worse = impairCapture(capture, 'wifi', 7)
 *
 * The format comes from the content (magic bytes), never from the file name: RIFF/RIFX…WAVE is a WAV, a pcap or pcapng
 * magic number is a capture, text whose first object has an `event` field (or whose lines mention one) is a Twilio
 * log. Every error is a CaptureError whose message starts with the file name and says what is wrong; a file damaged
 * part-way is read up to the damage, with a warning naming the file and the byte offset.
 */
import { readFileSync, statSync } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import {
  NETWORK_PROFILES,
  NetworkSimulator,
  type NetworkParams,
  type NetworkProfileName,
  type SentPacket,
} from '../../dsp/network-simulator'
import { FRAME_SAMPLES_8K, seqDiff, timestampDiff } from '../../dsp/units'
import { packetizeG711 } from './audio'
import { pcapCapture, pcapFormat } from './pcap'
import { twilioCapture } from './twilio'
import {
  CaptureError,
  type Capture,
  type CaptureFormat,
  type CapturePacket,
  type LoadCaptureOptions,
  type PacketTrack,
} from './types'
import { wavCapture } from './wav'

export * from './types'
export { checkChannelMap, readWav } from './wav'
export { parseRelaxed, RelaxedJsonError } from './relaxed-json'

/** Default largest file read: 1 GiB. */
export const MAX_CAPTURE_BYTES = 1024 * 1024 * 1024

/** The capture format of some bytes, from their content; null if none. */
export function detectFormat(bytes: Uint8Array): CaptureFormat | null {
  if (bytes.length >= 12) {
    const riff = String.fromCharCode(bytes[0]!, bytes[1]!, bytes[2]!, bytes[3]!)
    const wave = String.fromCharCode(bytes[8]!, bytes[9]!, bytes[10]!, bytes[11]!)
    if ((riff === 'RIFF' || riff === 'RIFX' || riff === 'RF64') && wave === 'WAVE') return 'wav'
  }
  const pcap = pcapFormat(bytes)
  if (pcap !== null) return pcap
  if (looksLikeTwilio(bytes)) return 'twilio'
  return null
}

/** Text (no NUL, mostly printable) with an event field near the start. */
function looksLikeTwilio(bytes: Uint8Array): boolean {
  const head = bytes.subarray(0, Math.min(bytes.length, 65536))
  let control = 0
  for (const b of head) {
    if (b === 0) return false
    if (b < 9 || (b > 13 && b < 32)) control++
  }
  if (control > head.length / 100) return false
  const text = new TextDecoder('utf-8').decode(head)
  return /["']?event["']?\s*:/.test(text) && text.includes('{')
}

function describeMagic(bytes: Uint8Array): string {
  const shown = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ')
  return bytes.length === 0 ? 'the file is empty' : `first bytes ${shown}`
}

/** Reads a capture from bytes already in memory (file names the source in messages). */
export function parseCapture(
  bytes: Uint8Array,
  file: string,
  options: LoadCaptureOptions = {},
  far: { bytes: Uint8Array; file: string } | null = null,
): Capture {
  if (bytes.length === 0) throw new CaptureError(file, 'the file is empty')
  const format = detectFormat(bytes)
  if (format === null)
    throw new CaptureError(
      file,
      `unknown format (${describeMagic(bytes)}): not a WAV (RIFF/WAVE), pcap, pcapng or Twilio Media Streams log`,
    )
  let capture: Capture
  try {
    if (format === 'wav') capture = wavCapture(bytes, file, options, far)
    else if (format === 'twilio') capture = twilioCapture(bytes, file)
    else capture = pcapCapture(bytes, file, options)
  } catch (error) {
    if (error instanceof CaptureError) throw error
    // A bug or a case the readers did not foresee: still name the file and the format.
    throw new CaptureError(file, `unreadable ${format} file: ${(error as Error).message}`)
  }
  if (far !== null && format !== 'wav')
    capture.warnings.push(
      `${file}: the far-end WAV ${far.file} is ignored: a ${format} capture carries its own far end`,
    )
  return capture
}

function readBounded(path: string, maxBytes: number): Uint8Array {
  let size: number
  try {
    const stat = statSync(path)
    if (stat.isDirectory()) throw new CaptureError(path, 'is a directory, not a capture file')
    size = stat.size
  } catch (error) {
    if (error instanceof CaptureError) throw error
    throw new CaptureError(path, `cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
  if (size > maxBytes) throw new CaptureError(path, `is ${size} bytes, over the ${maxBytes}-byte limit for a capture`)
  try {
    const buffer = readFileSync(path)
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
  } catch (error) {
    throw new CaptureError(path, `cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
}

/**
 * Loads a capture file: a WAV (options.channels, options.farPath), a Twilio Media Streams log, or a pcap/pcapng
 * (options.nearStream, options.farStream). Throws CaptureError naming the file and the problem.
 */
export async function loadCapture(path: string, options: LoadCaptureOptions = {}): Promise<Capture> {
  const maxBytes = options.maxBytes ?? MAX_CAPTURE_BYTES
  const bytes = await readBoundedAsync(path, maxBytes)
  const far =
    options.farPath === undefined
      ? null
      : { bytes: await readBoundedAsync(options.farPath, maxBytes), file: options.farPath }
  return parseWithFar(bytes, path, options, far)
}

async function readBoundedAsync(path: string, maxBytes: number): Promise<Uint8Array> {
  let size: number
  try {
    const info = await stat(path)
    if (info.isDirectory()) throw new CaptureError(path, 'is a directory, not a capture file')
    size = info.size
  } catch (error) {
    if (error instanceof CaptureError) throw error
    throw new CaptureError(path, `cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
  if (size > maxBytes) throw new CaptureError(path, `is ${size} bytes, over the ${maxBytes}-byte limit for a capture`)
  try {
    const buffer = await readFile(path)
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
  } catch (error) {
    throw new CaptureError(path, `cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
}

function parseWithFar(
  bytes: Uint8Array,
  path: string,
  options: LoadCaptureOptions,
  far: { bytes: Uint8Array; file: string } | null,
): Capture {
  if (far !== null && detectFormat(far.bytes) !== 'wav')
    throw new CaptureError(far.file, `the far-end file is not a WAV (${describeMagic(far.bytes)})`)
  return parseCapture(bytes, path, options, far)
}

/** Synchronous loadCapture (for workers and scripts). */
export function loadCaptureSync(path: string, options: LoadCaptureOptions = {}): Capture {
  const maxBytes = options.maxBytes ?? MAX_CAPTURE_BYTES
  const bytes = readBounded(path, maxBytes)
  const far =
    options.farPath === undefined ? null : { bytes: readBounded(options.farPath, maxBytes), file: options.farPath }
  return parseWithFar(bytes, path, options, far)
}

export interface ImpairOptions {
  /** Which tracks to impair: the near one (default; the far end is the local reference) or both. */
  tracks?: 'near' | 'both'
  /**
   * What the simulator starts from: 'media' (default) sends each packet at its media time, replacing the capture's
   * own network; 'arrival' sends it at its captured arrival, adding the impairment on top of the real one.
   */
  basis?: 'media' | 'arrival'
}

/**
 * The capture replayed through the network simulator (src/dsp/network-simulator), deterministic for a seed: a packet
 * track's packets are re-sent (unique sequence numbers, in order; the capture's own losses stay lost) and get new
 * arrival times, losses, duplicates and reordering; a 16 kHz track (WAV) is first packetised as 20 ms G.711 µ-law at
 * 8 kHz, as the service's network would carry it (so it also becomes narrowband). The result's timing is 'arrival'.
 */
export function impairCapture(
  capture: Capture,
  impairment: NetworkProfileName | (Partial<NetworkParams> & { profile?: NetworkProfileName }),
  seed = 1,
  options: ImpairOptions = {},
): Capture {
  const settings = typeof impairment === 'string' ? { profile: impairment } : impairment
  const profile = settings.profile ?? null
  if (profile !== null && !(profile in NETWORK_PROFILES))
    throw new CaptureError(
      capture.file,
      `impairment profile '${String(profile)}' is not one of ${Object.keys(NETWORK_PROFILES).join(', ')}`,
    )
  let simulator: NetworkSimulator
  try {
    simulator = new NetworkSimulator({ ...settings, seed })
  } catch (error) {
    throw new CaptureError(capture.file, `impairment: ${(error as Error).message}`)
  }
  const basis = options.basis ?? 'media'
  const near = impairTrack(capture.near, simulator, basis)
  const stats = { ...simulator.stats }
  const far =
    capture.far !== null && options.tracks === 'both' ? impairTrack(capture.far, simulator, basis) : capture.far
  const warnings = [
    ...capture.warnings,
    `${capture.file}: impaired with ${profile ?? 'explicit parameters'} (seed ${seed}): ` +
      `${stats.sent} sent, ${stats.lost} lost, ${stats.duplicated} duplicated, ${stats.reordered} reordered`,
  ]
  if (capture.near.kind === 'pcm')
    warnings.push(`${capture.file}: the 16 kHz near end was sent as 8 kHz µ-law for the impairment (narrowband)`)
  const last = near.packets.reduce((m, p) => Math.max(m, p.arrivalMs), 0)
  const first = near.packets.reduce((m, p) => Math.min(m, p.arrivalMs), Infinity)
  return {
    ...capture,
    description: `${capture.description}; impaired (${profile ?? 'custom'}, seed ${seed})`,
    near,
    far,
    durationMs: near.packets.length > 0 ? last - first + near.frameMs : 0,
    warnings,
    impairment: { profile, params: { ...simulator.params }, seed, stats },
  }
}

function impairTrack(track: Capture['near'], simulator: NetworkSimulator, basis: 'media' | 'arrival'): PacketTrack {
  let source: PacketTrack
  if (track.kind === 'pcm') {
    const payloads = packetizeG711(track.samples, 'ulaw')
    source = {
      kind: 'packets',
      law: 'ulaw',
      timing: 'media-timestamp',
      frameMs: 20,
      packets: payloads.map((payload, i) => ({
        seq: i & 0xffff,
        rtpTimestamp: (i * FRAME_SAMPLES_8K) >>> 0,
        arrivalMs: i * 20,
        payload,
        ssrc: 0x5eed0000,
        marker: i === 0,
        content: 'audio' as const,
        payloadType: 0,
      })),
    }
  } else source = track
  // Unique packets in send order: by SSRC segment (order of appearance), then by extended sequence number.
  const unique = uniqueInSendOrder(source.packets)
  const t0 = unique.length > 0 ? unique[0]! : null
  const sent: SentPacket[] = unique.map((p, i) => {
    let sendMs: number
    if (basis === 'arrival') sendMs = p.arrivalMs
    else if (t0 !== null && p.ssrc === t0.ssrc) sendMs = (timestampDiff(t0.rtpTimestamp, p.rtpTimestamp) * 1000) / 8000
    else sendMs = i * source.frameMs
    return { seq: p.seq, rtpTimestamp: p.rtpTimestamp, sendMs, ssrc: p.ssrc }
  })
  if (basis === 'arrival') {
    const order = sent.map((s, i) => ({ s, i })).sort((a, b) => a.s.sendMs - b.s.sendMs || a.i - b.i)
    const arrivals = simulator.simulate(order.map((o) => o.s))
    return rebuild(source, arrivals, (index) => unique[order[index]!.i]!)
  }
  // Media basis: a segment after an SSRC change continues after the previous one, in send order.
  for (let i = 1; i < sent.length; i++)
    if (sent[i]!.sendMs < sent[i - 1]!.sendMs) sent[i]!.sendMs = sent[i - 1]!.sendMs + source.frameMs
  const arrivals = simulator.simulate(sent)
  return rebuild(source, arrivals, (index) => unique[index]!)
}

function rebuild(
  source: PacketTrack,
  arrivals: ReturnType<NetworkSimulator['simulate']>,
  packetOf: (index: number) => CapturePacket,
): PacketTrack {
  const first = arrivals.length > 0 ? arrivals[0]!.arrivalMs : 0
  const packets: CapturePacket[] = arrivals.map((a) => ({ ...packetOf(a.index), arrivalMs: a.arrivalMs - first }))
  return { kind: 'packets', law: source.law, timing: 'arrival', frameMs: source.frameMs, packets }
}

function uniqueInSendOrder(packets: readonly CapturePacket[]): CapturePacket[] {
  const segments = new Map<number, { highest: number; extended: number; byExtended: Map<number, CapturePacket> }>()
  const order: number[] = []
  for (const p of packets) {
    let segment = segments.get(p.ssrc)
    if (segment === undefined) {
      segment = { highest: p.seq, extended: p.seq, byExtended: new Map() }
      segments.set(p.ssrc, segment)
      order.push(p.ssrc)
    }
    const step = seqDiff(segment.highest, p.seq)
    const extended = segment.extended + step
    if (step > 0) {
      segment.highest = p.seq
      segment.extended = extended
    }
    if (!segment.byExtended.has(extended)) segment.byExtended.set(extended, p)
  }
  const out: CapturePacket[] = []
  for (const ssrc of order) {
    const byExtended = segments.get(ssrc)!.byExtended
    for (const key of [...byExtended.keys()].sort((a, b) => a - b)) out.push(byExtended.get(key)!)
  }
  return out
}

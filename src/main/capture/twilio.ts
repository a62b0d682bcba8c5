/**
 * Twilio Media Streams logs: the websocket messages of a call (https://www.twilio.com/docs/voice/media-streams/
 * websocket-messages) as a JSON array, JSON lines, or console dumps of JavaScript object literals (read with the
 * tolerant parser of relaxed-json.ts, never eval), possibly behind a log prefix.
 *
 * Records: the text is scanned for `{`; each object found is one record, and the text before it on its line is its
 * prefix. A record is a message (it has `event`) or a wrapper whose `message` / `msg` / `data` / `body` / `payload`
 * field holds the message (an object or a JSON string). Events: connected, start (mediaFormat: audio/x-mulaw 8 kHz),
 * media, mark, dtmf, clear, stop. media.track inbound → near (the caller), outbound → far (what the caller hears: the
 * AEC reference); a media message without a track is one the bot sent to Twilio, also far. Payloads are base64 G.711
 * µ-law at 8 kHz, split into 20 ms packets (160 bytes; a shorter tail is padded with silence).
 *
 * Sequence numbers per track: from media.chunk (Twilio's per-track counter; the message-wide sequenceNumber interleaves
 * both tracks, so it cannot number one track's packets) when every message of the track has it, else from
 * media.timestamp (ms since the stream started, one packet per 20 ms), else in file order. A repeated chunk is a
 * duplicate; a missing one is a loss. RTP timestamps are media.timestamp·8 (8 kHz samples), else seq·160.
 *
 * Arrival times: a receive time per line drives the jitter buffer (timing 'arrival'): a top-level `receivedAt` (or
 * `receivedAtMs`, `recvTime`, `time`, `ts`) field, ISO 8601 or epoch ms (or s), or an ISO 8601 timestamp in the prefix
 * (no zone = UTC). Without one on every media line, the media timestamp is the arrival time (timing 'media-timestamp',
 * no jitter). Unreadable lines are skipped with a warning naming the line; a stream other than the first (another
 * streamSid) is ignored with a warning.
 */
import { ULAW_SILENCE, ALAW_SILENCE, type G711Law } from '../../dsp/g711'
import { FRAME_SAMPLES_8K } from '../../dsp/units'
import { parseRelaxed } from './relaxed-json'
import { sequenceStats } from './rtp-stats'
import { CaptureError, type Capture, type CapturePacket, type PacketTrack, type StreamInfo } from './types'

const FRAME_MS = 20
/** Warnings listing lines name at most this many. */
const MAX_LINES_LISTED = 10

interface MediaRecord {
  line: number
  track: 'inbound' | 'outbound'
  chunk: number | null
  timestampMs: number | null
  receiveMs: number | null
  codes: Uint8Array
}

const ISO_8601 = /(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2}(?:[.,]\d+)?)(Z|[+-]\d{2}:?\d{2})?/

/** Epoch ms from an ISO 8601 string (no zone = UTC) or a number (ms; values below 1e11 are seconds). */
export function parseReceiveTime(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value < 1e11 ? value * 1000 : value
  if (typeof value !== 'string') return null
  const text = value.trim()
  if (/^\d+(\.\d+)?$/.test(text)) return parseReceiveTime(Number(text))
  const m = ISO_8601.exec(text)
  if (m === null) return null
  return isoToMs(m)
}

function isoToMs(m: RegExpExecArray): number | null {
  let zone = m[3] ?? 'Z'
  if (zone !== 'Z' && !zone.includes(':')) zone = `${zone.slice(0, 3)}:${zone.slice(3)}`
  // Date.parse keeps ms only; add the sub-ms digits by hand.
  const [whole, fractionDigits = ''] = m[2]!.replace(',', '.').split('.')
  const ms = Date.parse(`${m[1]}T${whole}.${(fractionDigits + '000').slice(0, 3)}${zone}`)
  if (!Number.isFinite(ms)) return null
  const subMs = fractionDigits.length > 3 ? Number(`0.${fractionDigits.slice(3)}`) : 0
  return ms + subMs
}

const RECEIVE_FIELDS = ['receivedAt', 'receivedAtMs', 'receiveTime', 'recvTime', 'time', 'ts']
const WRAPPER_FIELDS = ['message', 'msg', 'data', 'body', 'payload', 'json']

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The message inside a record (itself, or a wrapper's field), or null. */
function unwrap(record: Record<string, unknown>): Record<string, unknown> | null {
  if (typeof record['event'] === 'string') return record
  for (const field of WRAPPER_FIELDS) {
    let inner = record[field]
    if (typeof inner === 'string' && inner.trimStart().startsWith('{')) {
      try {
        inner = parseRelaxed(inner).value
      } catch {
        continue
      }
    }
    if (isRecord(inner) && typeof inner['event'] === 'string') return inner
  }
  return null
}

function toInteger(value: unknown): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN
  return Number.isFinite(n) ? n : null
}

const BASE64 = /^[A-Za-z0-9+/\-_\s]*={0,2}\s*$/

function lineList(lines: number[]): string {
  const shown = lines.slice(0, MAX_LINES_LISTED).join(', ')
  return lines.length > MAX_LINES_LISTED ? `${shown} and ${lines.length - MAX_LINES_LISTED} more` : shown
}

/** Reads a Twilio Media Streams log as a Capture. */
export function twilioCapture(bytes: Uint8Array, file: string): Capture {
  let text = new TextDecoder('utf-8').decode(bytes)
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
  const warnings: string[] = []
  const media: MediaRecord[] = []
  const unreadable: { line: number; reason: string }[] = []
  const badPayload: number[] = []
  const events = new Map<string, number>()
  let law: G711Law = 'ulaw'
  let streamSid: string | null = null
  let otherStreamMessages = 0
  let startReceiveMs: number | null = null

  // Line numbers: newlines counted up to each record.
  let line = 1
  let counted = 0
  const lineAt = (offset: number): number => {
    for (let i = counted; i < offset; i++) if (text.charCodeAt(i) === 10) line++
    counted = Math.max(counted, offset)
    return line
  }
  let at = 0
  // `at` is at a line start, or just after the previous record (then the rest of that line is not reported).
  let atLineStart = true
  while (at < text.length) {
    const newline = text.indexOf('\n', at)
    const lineEnd = newline < 0 ? text.length : newline
    const brace = text.indexOf('{', at)
    if (brace < 0 || brace > lineEnd) {
      const rest = text.slice(at, lineEnd).trim()
      if (atLineStart && rest !== '' && !/^[[\],]+$/.test(rest))
        unreadable.push({ line: lineAt(at), reason: 'no JSON object' })
      at = lineEnd + 1
      atLineStart = true
      continue
    }
    const recordLine = lineAt(brace)
    const prefix = text.slice(at, brace)
    let value: unknown
    try {
      const parsed = parseRelaxed(text, brace)
      value = parsed.value
      at = parsed.end
      atLineStart = false
    } catch (error) {
      unreadable.push({ line: recordLine, reason: (error as Error).message })
      // Resume on the line after the one where the object started.
      at = lineEnd + 1
      atLineStart = true
      continue
    }
    if (!isRecord(value)) continue
    const message = unwrap(value)
    if (message === null) {
      unreadable.push({ line: recordLine, reason: 'an object without an event field' })
      continue
    }
    let receiveMs: number | null = null
    for (const field of RECEIVE_FIELDS) {
      const candidate = value[field] ?? message[field]
      if (candidate !== undefined) {
        receiveMs = parseReceiveTime(candidate)
        if (receiveMs !== null) break
      }
    }
    if (receiveMs === null) {
      const m = ISO_8601.exec(prefix)
      if (m !== null) receiveMs = isoToMs(m)
    }
    const event = String(message['event'])
    events.set(event, (events.get(event) ?? 0) + 1)
    const sid = typeof message['streamSid'] === 'string' ? message['streamSid'] : null
    if (event === 'start') {
      const start = isRecord(message['start']) ? message['start'] : {}
      const startSid = sid ?? (typeof start['streamSid'] === 'string' ? start['streamSid'] : null)
      if (streamSid === null) streamSid = startSid
      else if (startSid !== null && startSid !== streamSid) {
        otherStreamMessages++
        continue
      }
      if (startReceiveMs === null) startReceiveMs = receiveMs
      const format = isRecord(start['mediaFormat']) ? start['mediaFormat'] : null
      if (format !== null) {
        const encoding = String(format['encoding'] ?? '').toLowerCase()
        if (encoding.includes('alaw') || encoding.includes('pcma')) law = 'alaw'
        else if (encoding !== '' && !encoding.includes('mulaw') && !encoding.includes('pcmu'))
          warnings.push(`${file}: line ${recordLine}: media format '${encoding}' is not G.711: read as µ-law`)
        const rate = toInteger(format['sampleRate'])
        if (rate !== null && rate !== 8000)
          warnings.push(
            `${file}: line ${recordLine}: sample rate ${rate} Hz: Media Streams G.711 is 8000 Hz; read as 8000`,
          )
      }
      continue
    }
    if (event !== 'media') continue
    if (sid !== null) {
      if (streamSid === null) streamSid = sid
      else if (sid !== streamSid) {
        otherStreamMessages++
        continue
      }
    }
    const body = isRecord(message['media']) ? message['media'] : null
    const payload = body?.['payload']
    if (body === null || typeof payload !== 'string' || !BASE64.test(payload)) {
      badPayload.push(recordLine)
      continue
    }
    const codes = new Uint8Array(Buffer.from(payload, 'base64'))
    if (codes.length === 0) {
      badPayload.push(recordLine)
      continue
    }
    const trackName = String(body['track'] ?? '').toLowerCase()
    media.push({
      line: recordLine,
      track: trackName.startsWith('inbound') ? 'inbound' : 'outbound',
      chunk: toInteger(body['chunk']),
      timestampMs: toInteger(body['timestamp']),
      receiveMs,
      codes,
    })
  }

  if (unreadable.length > 0) {
    const first = unreadable[0]!
    warnings.push(
      `${file}: ${unreadable.length} unreadable line${unreadable.length > 1 ? 's' : ''} skipped (line ${lineList(unreadable.map((u) => u.line))}); ` +
        `line ${first.line}: ${first.reason}`,
    )
  }
  if (badPayload.length > 0)
    warnings.push(`${file}: media without a valid base64 payload skipped (line ${lineList(badPayload)})`)
  if (otherStreamMessages > 0)
    warnings.push(`${file}: ${otherStreamMessages} messages of another stream (streamSid ≠ ${streamSid}) ignored`)
  if (media.length === 0) {
    const seen = [...events.entries()].map(([e, n]) => `${n} ${e}`).join(', ')
    throw new CaptureError(
      file,
      events.size === 0
        ? 'no Twilio Media Streams messages found (not a JSON / JSON-lines log of connected, start, media, stop events)'
        : `no media messages (found ${seen})`,
    )
  }

  const withReceive = media.filter((m) => m.receiveMs !== null).length
  const timing: PacketTrack['timing'] = withReceive === media.length ? 'arrival' : 'media-timestamp'
  if (withReceive > 0 && withReceive < media.length)
    warnings.push(
      `${file}: ${media.length - withReceive} of ${media.length} media lines have no receive time: timed by media timestamp`,
    )
  let originMs = 0
  let startEpochMs: number | null = null
  if (timing === 'arrival') {
    originMs = media.reduce((m, r) => Math.min(m, r.receiveMs!), Infinity)
    startEpochMs = originMs
  } else {
    startEpochMs = startReceiveMs
  }

  const inbound = media.filter((m) => m.track === 'inbound')
  const outbound = media.filter((m) => m.track === 'outbound')
  if (inbound.length === 0)
    throw new CaptureError(file, `no inbound media (the caller's audio): ${outbound.length} outbound messages only`)
  const near = buildTrack(inbound, law, timing, originMs)
  const far = outbound.length > 0 ? buildTrack(outbound, law, timing, originMs) : null
  const streams = [streamInfo(0, 'inbound', near), ...(far === null ? [] : [streamInfo(1, 'outbound', far)])]

  const firstArrival = near.packets.reduce((m, p) => Math.min(m, p.arrivalMs), Infinity)
  const lastArrival = near.packets.reduce((m, p) => Math.max(m, p.arrivalMs), -Infinity)
  const durationMs = lastArrival - firstArrival + FRAME_MS
  const eventList = [...events.entries()].map(([e, n]) => `${n} ${e}`).join(', ')
  const description =
    `Twilio Media Streams log, ${law === 'ulaw' ? 'µ-law' : 'A-law'} 8 kHz, ${eventList}; near ${near.packets.length} packets` +
    `${far === null ? ', no far end (outbound track)' : `, far ${far.packets.length} packets`}, timed by ${
      timing === 'arrival' ? 'receive time' : 'media timestamp'
    }, ${(durationMs / 1000).toFixed(2)} s`
  return {
    file,
    format: 'twilio',
    description,
    near,
    far,
    durationMs,
    startEpochMs,
    warnings,
    streams,
    impairment: null,
  }
}

/** One track's media messages (file order) as 20 ms packets. */
function buildTrack(
  records: MediaRecord[],
  law: G711Law,
  timing: PacketTrack['timing'],
  originMs: number,
): PacketTrack {
  const silenceCode = law === 'ulaw' ? ULAW_SILENCE : ALAW_SILENCE
  const useChunk = records.every((r) => r.chunk !== null)
  const useTimestamp = records.every((r) => r.timestampMs !== null)
  const firstChunk = useChunk ? records.reduce((m, r) => Math.min(m, r.chunk!), Infinity) : 0
  const firstTimestampMs = useTimestamp ? records.reduce((m, r) => Math.min(m, r.timestampMs!), Infinity) : 0
  const piecesPerChunk = Math.max(1, Math.ceil(records[0]!.codes.length / FRAME_SAMPLES_8K))
  const packets: CapturePacket[] = []
  let counter = 0
  for (const r of records) {
    const pieces = Math.max(1, Math.ceil(r.codes.length / FRAME_SAMPLES_8K))
    let firstSeq: number
    if (useChunk) firstSeq = (r.chunk! - firstChunk) * piecesPerChunk
    else if (useTimestamp) firstSeq = Math.round((r.timestampMs! - firstTimestampMs) / FRAME_MS)
    else firstSeq = counter
    counter += pieces
    for (let k = 0; k < pieces; k++) {
      const payload = new Uint8Array(FRAME_SAMPLES_8K).fill(silenceCode)
      payload.set(r.codes.subarray(k * FRAME_SAMPLES_8K, (k + 1) * FRAME_SAMPLES_8K))
      const seqIndex = firstSeq + k
      const mediaMs = useTimestamp ? r.timestampMs! - firstTimestampMs + k * FRAME_MS : seqIndex * FRAME_MS
      const rtpTimestamp = useTimestamp
        ? Math.round(r.timestampMs! * 8) + k * FRAME_SAMPLES_8K
        : seqIndex * FRAME_SAMPLES_8K
      packets.push({
        seq: ((seqIndex % 65536) + 65536) % 65536,
        rtpTimestamp: rtpTimestamp >>> 0,
        arrivalMs: timing === 'arrival' ? r.receiveMs! - originMs : mediaMs,
        payload,
        ssrc: 0,
        marker: false,
        content: 'audio',
        payloadType: -1,
      })
    }
  }
  if (timing === 'arrival') {
    // Stable sort: lines are usually in receive order already.
    const indexed = packets.map((p, i) => ({ p, i }))
    indexed.sort((a, b) => a.p.arrivalMs - b.p.arrivalMs || a.i - b.i)
    for (let i = 0; i < packets.length; i++) packets[i] = indexed[i]!.p
  }
  return { kind: 'packets', law, packets, timing, frameMs: FRAME_MS }
}

function streamInfo(index: number, track: 'inbound' | 'outbound', t: PacketTrack): StreamInfo {
  const stats = sequenceStats(
    t.packets.map((p) => ({ seq: p.seq, rtpTimestamp: p.rtpTimestamp, arrivalMs: p.arrivalMs, isAudio: true })),
  )
  let firstMs = Infinity
  let lastMs = -Infinity
  for (const p of t.packets) {
    firstMs = Math.min(firstMs, p.arrivalMs)
    lastMs = Math.max(lastMs, p.arrivalMs)
  }
  const isInbound = track === 'inbound'
  return {
    index,
    sourceAddress: isInbound ? 'caller' : 'bot',
    sourcePort: 0,
    destinationAddress: isInbound ? 'bot' : 'caller',
    destinationPort: 0,
    source: `twilio:${track}`,
    destination: isInbound ? 'bot' : 'caller',
    ssrc: 0,
    segment: 0,
    payloadType: t.law === 'ulaw' ? 0 : 8,
    codec: t.law === 'ulaw' ? 'PCMU' : 'PCMA',
    payloadTypes: { [t.law === 'ulaw' ? 0 : 8]: t.packets.length },
    packets: stats.packets,
    audioPackets: stats.packets,
    comfortNoisePackets: 0,
    telephoneEventPackets: 0,
    sent: stats.sent,
    lost: stats.lost,
    duplicates: stats.duplicates,
    reordered: stats.reordered,
    firstMs,
    lastMs,
    meanJitterMs: stats.meanJitterMs,
    maxJitterMs: stats.maxJitterMs,
    role: isInbound ? 'near' : 'far',
  }
}

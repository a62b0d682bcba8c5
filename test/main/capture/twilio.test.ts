import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { g711DecodeFloat } from '../../../src/dsp/g711'
import {
  loadCaptureSync,
  parseCapture,
  parseRelaxed,
  type Capture,
  type CapturePacket,
  type PacketTrack,
} from '../../../src/main/capture'
import { packetizeG711 } from '../../../src/main/capture/audio'
import { echoScene } from '../../helpers/scenes'
import { FIXTURES_DIR } from '../../helpers/signals'

const CAPTURES = FIXTURES_DIR + 'captures/'
const facts = JSON.parse(readFileSync(CAPTURES + 'demo-call.json', 'utf8')) as {
  packetsPerTrack: number
  twilio: { maxExtraDelayMs: number }
}

function packets(track: Capture['near'] | null): PacketTrack {
  if (track === null || track.kind !== 'packets') throw new Error('expected a packet track')
  return track
}

function text(s: string): Uint8Array {
  return new TextEncoder().encode(s)
}

/** A media message (JSON) with 160 bytes of one µ-law code. */
function media(track: string, chunk: number, extra: Record<string, unknown> = {}, code = 0x7f): string {
  const payload = Buffer.from(new Uint8Array(160).fill(code)).toString('base64')
  return JSON.stringify({
    event: 'media',
    sequenceNumber: String(chunk + 1),
    media: { track, chunk: String(chunk), timestamp: String((chunk - 1) * 20), payload },
    streamSid: 'MZ1',
    ...extra,
  })
}

describe('Twilio Media Streams logs', () => {
  it('reads the demo JSON lines: inbound → near, outbound → far, 500 packets each, timed by receivedAt', () => {
    const capture = loadCaptureSync(CAPTURES + 'demo-call.twilio.jsonl')
    expect(capture.format).toBe('twilio')
    expect(capture.warnings).toEqual([])
    const near = packets(capture.near)
    const far = packets(capture.far)
    expect(near.packets.length).toBe(facts.packetsPerTrack)
    expect(far.packets.length).toBe(facts.packetsPerTrack)
    expect(near.timing).toBe('arrival')
    expect(near.law).toBe('ulaw')
    // The first inbound packet, sent at 09:00:00, arrives after the 'wifi' base delay (15 ms) and some jitter.
    const firstLatenessMs = capture.startEpochMs! - Date.UTC(2024, 0, 1, 9, 0, 0)
    expect(firstLatenessMs).toBeGreaterThanOrEqual(15)
    expect(firstLatenessMs).toBeLessThan(15 + facts.twilio.maxExtraDelayMs)
    // Arrivals follow the path's jitter: arrival − media time spans the simulated extra delay (µs resolution).
    const lateness = near.packets.map((p) => p.arrivalMs - p.seq * 20)
    const spread = Math.max(...lateness) - Math.min(...lateness)
    expect(spread).toBeGreaterThan(20)
    expect(spread).toBeLessThanOrEqual(facts.twilio.maxExtraDelayMs + 0.002)
    // The outbound track was sent every 20 ms: no jitter.
    expect(capture.streams[1]!.maxJitterMs).toBeLessThan(0.01)
    expect(capture.streams[0]!.lost).toBe(0)
    expect(capture.streams[0]!.meanJitterMs).toBeGreaterThan(1)
  })

  it('carries the call audio: inbound payloads are the mic as 8 kHz µ-law, outbound the bot', () => {
    const capture = loadCaptureSync(CAPTURES + 'demo-call.twilio.jsonl')
    const scene = echoScene('rt250')
    const micFrames = packetizeG711(scene.mic.subarray(0, 160_000), 'ulaw')
    const farFrames = packetizeG711(scene.far.subarray(0, 160_000), 'ulaw')
    const bySeq = (list: CapturePacket[]): CapturePacket[] => [...list].sort((a, b) => a.seq - b.seq)
    const near = bySeq(packets(capture.near).packets)
    const far = bySeq(packets(capture.far).packets)
    near.forEach((p, i) => expect(p.payload).toEqual(micFrames[i]))
    far.forEach((p, i) => expect(p.payload).toEqual(farFrames[i]))
  })

  it('reads the console.log dump (multi-line object literals behind an ISO prefix) like the JSON lines', () => {
    const dump = loadCaptureSync(CAPTURES + 'demo-call.twilio-console.log')
    const lines = loadCaptureSync(CAPTURES + 'demo-call.twilio.jsonl')
    expect(dump.warnings).toEqual([])
    const a = packets(dump.near).packets
    const b = packets(lines.near).packets
    expect(a.length).toBeGreaterThan(40)
    a.forEach((p, i) => {
      expect(p.seq).toBe(b[i]!.seq)
      expect(p.arrivalMs).toBeCloseTo(b[i]!.arrivalMs, 6)
      expect(p.payload).toEqual(b[i]!.payload)
    })
    expect(packets(dump.far).packets.length).toBeGreaterThan(40)
  })

  it('reads a JSON array, and times by media.timestamp when lines carry no receive time', () => {
    const log = `[${[media('inbound', 1), media('inbound', 2), media('outbound', 1), media('inbound', 3)].join(',\n')}]`
    const capture = parseCapture(text(log), 'array.json')
    const near = packets(capture.near)
    expect(near.timing).toBe('media-timestamp')
    expect(near.packets.map((p) => p.arrivalMs)).toEqual([0, 20, 40])
    expect(near.packets.map((p) => p.rtpTimestamp)).toEqual([0, 160, 320])
    expect(packets(capture.far).packets.length).toBe(1)
  })

  it('counts a missing chunk as a loss and a repeated chunk as a duplicate', () => {
    const lines = [1, 2, 4, 5, 5, 6].map((c) => media('inbound', c)).join('\n')
    const capture = parseCapture(text(lines), 'gaps.jsonl')
    const stream = capture.streams[0]!
    expect(stream.sent).toBe(6)
    expect(stream.lost).toBe(1)
    expect(stream.duplicates).toBe(1)
    expect(packets(capture.near).packets.map((p) => p.seq)).toEqual([0, 1, 3, 4, 4, 5])
  })

  it('takes receive times from receivedAt (ISO with µs, epoch ms) or from an ISO timestamp before the JSON', () => {
    const lines = [
      media('inbound', 1, { receivedAt: '2024-03-01T10:00:00.000500Z' }),
      media('inbound', 2, { receivedAt: Date.UTC(2024, 2, 1, 10, 0, 0) + 27.25 }),
      `2024-03-01T10:00:00.061+00:00 debug ${media('inbound', 3)}`,
      `[2024-03-01 10:00:00.075] ${media('inbound', 4)}`,
    ].join('\n')
    const capture = parseCapture(text(lines), 'times.log')
    const near = packets(capture.near)
    expect(near.timing).toBe('arrival')
    expect(capture.startEpochMs).toBeCloseTo(Date.UTC(2024, 2, 1, 10, 0, 0) + 0.5, 6)
    expect(near.packets.map((p) => Math.round(p.arrivalMs * 1000) / 1000)).toEqual([0, 26.75, 60.5, 74.5])
  })

  it('splits a payload longer than 20 ms into 160-byte packets and pads a short tail with silence', () => {
    const payload = Buffer.from(new Uint8Array(400).fill(0x10)).toString('base64')
    const line = JSON.stringify({ event: 'media', media: { track: 'inbound', timestamp: '0', payload } })
    const near = packets(parseCapture(text(line), 'long.jsonl').near)
    expect(near.packets.map((p) => p.payload.length)).toEqual([160, 160, 160])
    expect(near.packets.map((p) => p.rtpTimestamp)).toEqual([0, 160, 320])
    expect(near.packets[2]!.payload[79]).toBe(0x10)
    expect(near.packets[2]!.payload[80]).toBe(0xff) // µ-law silence
    const decoded = new Float32Array(160)
    g711DecodeFloat('ulaw', near.packets[2]!.payload.subarray(80), decoded, 80)
    expect(decoded.subarray(0, 80).every((v) => v === 0)).toBe(true)
  })

  it('accepts JavaScript object literals: single quotes, bare keys, trailing commas, split strings', () => {
    const payload = Buffer.from(new Uint8Array(160).fill(0x55)).toString('base64')
    const literal = `{
  event: 'media',
  sequenceNumber: '3',
  media: {
    track: 'inbound',
    chunk: '1',
    timestamp: '5',
    payload: '${payload.slice(0, 100)}' +
      '${payload.slice(100)}',
  },
  streamSid: 'MZ1', // a comment
}`
    const capture = parseCapture(
      text(`received ${literal}\nreceived ${literal.replace("chunk: '1'", "chunk: '2'")}`),
      'dump.log',
    )
    const near = packets(capture.near)
    expect(near.packets.length).toBe(2)
    expect(near.packets[0]!.payload.every((c) => c === 0x55)).toBe(true)
  })

  it('unwraps messages inside a wrapper object or a JSON string field', () => {
    const inner = JSON.parse(media('inbound', 1)) as Record<string, unknown>
    const lines = [
      JSON.stringify({ receivedAt: 1_700_000_000_000, direction: 'in', message: inner }),
      JSON.stringify({ receivedAt: 1_700_000_000_020, data: media('inbound', 2) }),
    ].join('\n')
    const near = packets(parseCapture(text(lines), 'wrapped.jsonl').near)
    expect(near.packets.map((p) => p.arrivalMs)).toEqual([0, 20])
  })

  it('skips unreadable lines with a warning naming them, and reads the rest', () => {
    const lines = [
      media('inbound', 1),
      '{"event": "media", "media": {"track": "inbound", "payload": "AAA',
      'server listening on 8080',
      media('inbound', 2),
      '{"event":"media","media":{"track":"inbound","payload":"***not base64***"}}',
      media('inbound', 3),
    ].join('\n')
    const capture = parseCapture(text(lines), 'messy.log')
    expect(packets(capture.near).packets.length).toBe(3)
    const all = capture.warnings.join('\n')
    expect(all).toMatch(/messy\.log: 2 unreadable lines skipped \(line 2, 3\); line 2: /)
    expect(all).toMatch(/messy\.log: media without a valid base64 payload skipped \(line 5\)/)
  })

  it('uses the first stream and ignores messages of another streamSid', () => {
    const lines = [media('inbound', 1), media('inbound', 2), media('inbound', 1, { streamSid: 'MZ2' })].join('\n')
    const capture = parseCapture(text(lines), 'two.jsonl')
    expect(packets(capture.near).packets.length).toBe(2)
    expect(capture.warnings.join('\n')).toMatch(/1 messages of another stream/)
  })

  it('reports a log without media, or without the caller track, as an error naming the file', () => {
    const start = '{"event":"connected","protocol":"Call","version":"1.0.0"}\n{"event":"stop","streamSid":"MZ1"}'
    expect(() => parseCapture(text(start), 'empty.jsonl')).toThrow(
      /^empty\.jsonl: no media messages \(found 1 connected, 1 stop\)/,
    )
    expect(() => parseCapture(text(media('outbound', 1)), 'out.jsonl')).toThrow(/^out\.jsonl: no inbound media/)
  })
})

describe('relaxed JSON reader', () => {
  it('reads JSON and util.inspect output alike', () => {
    expect(parseRelaxed('{"a": [1, 2.5e3, -0x10, true, null]}').value).toEqual({ a: [1, 2500, -16, true, null] })
    expect(
      parseRelaxed("{ a: 'x\\'y', b: [Object], c: [Array], d: undefined, e: 12n, f: <Buffer 01 02>, }").value,
    ).toEqual({
      a: "x'y",
      b: null,
      c: null,
      d: null,
      e: 12,
      f: null,
    })
    expect(parseRelaxed('[ 1, 2, ... 98 more items ]').value).toEqual([1, 2])
    expect(parseRelaxed('[Object: null prototype] { a: 1 }').value).toEqual({ a: 1 })
    expect(parseRelaxed('<ref *1> { self: [Circular *1] }').value).toEqual({ self: null })
    expect(parseRelaxed('"\\u00e9\\u{1F600}\\x41"').value).toBe('é😀A')
  })

  it('ignores a __proto__ key instead of changing the prototype', () => {
    const value = parseRelaxed('{"__proto__": {"polluted": true}, "a": 1}').value as Record<string, unknown>
    expect(value['a']).toBe(1)
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
    expect(value['polluted']).toBeUndefined()
  })

  it('fails with the offset on bad input, and on nesting deep enough to overflow a stack, without throwing a RangeError', () => {
    expect(() => parseRelaxed('{ a: }')).toThrow(/expected a value/)
    expect(() => parseRelaxed('{ "a": "unterminated')).toThrow(/unterminated string/)
    expect(() => parseRelaxed('['.repeat(200_000))).toThrow(/nesting deeper than 100/)
    expect(() => parseRelaxed('{a:'.repeat(200_000))).toThrow(/nesting deeper than 100/)
  })
})

import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { g711DecodeFloat } from '../../../src/dsp/g711'
import { NetworkReceiver } from '../../../src/dsp/network-receiver'
import { loadCaptureSync, parseCapture, type Capture, type PacketTrack } from '../../../src/main/capture'
import { packetizeG711 } from '../../../src/main/capture/audio'
import { parseTsharkRtpStreams } from '../../helpers/pcap'
import { echoScene } from '../../helpers/scenes'
import { FIXTURES_DIR } from '../../helpers/signals'
import {
  LINK_TYPES,
  linkFrame,
  rtcpSenderReport,
  rtpPacket,
  sipInvite,
  udpIpPacket,
  writePcap,
  writePcapng,
  type CaptureRecord,
  type LinkLayer,
  type RtpFields,
  type UdpEndpoints,
} from './builders'

const CAPTURES = FIXTURES_DIR + 'captures/'
const facts = JSON.parse(readFileSync(CAPTURES + 'demo-call.json', 'utf8')) as {
  packetsPerTrack: number
  pcap: {
    caller: string
    bot: string
    nearSsrc: number
    farSsrc: number
    removedSeqs: number[]
    nearReceived: number
    nearDuplicates: number
    nearReordered: number
    farPackets: number
  }
}

function packets(track: Capture['near'] | null): PacketTrack {
  if (track === null || track.kind !== 'packets') throw new Error('expected a packet track')
  return track
}

const A: UdpEndpoints = { source: '192.0.2.1', destination: '192.0.2.2', sourcePort: 30000, destinationPort: 5004 }
const B: UdpEndpoints = { source: '192.0.2.2', destination: '192.0.2.1', sourcePort: 5004, destinationPort: 30000 }
const A6: UdpEndpoints = { source: '2001:db8::1', destination: '2001:db8::2', sourcePort: 30000, destinationPort: 5004 }

/** count packets of 20 ms from endpoints e, starting at startMs, one record each. */
function stream(
  e: UdpEndpoints,
  count: number,
  fields: Partial<RtpFields> = {},
  startMs = 0,
  link: LinkLayer = 'ethernet',
): CaptureRecord[] {
  const records: CaptureRecord[] = []
  for (let i = 0; i < count; i++) {
    const rtp = rtpPacket({ seq: 100 + i, rtpTimestamp: 8000 + 160 * i, ssrc: 0xabc, ...fields })
    records.push({ timeMs: startMs + 20 * i, frame: linkFrame(link, udpIpPacket(e, rtp)) })
  }
  return records
}

describe('pcap captures: the demo call', () => {
  const capture = loadCaptureSync(CAPTURES + 'demo-call.pcap')
  const near = packets(capture.near)
  const far = packets(capture.far)

  it('finds the two RTP streams (RTCP and SIP ignored) and picks the caller from the SIP INVITE as near', () => {
    expect(capture.format).toBe('pcap')
    expect(capture.streams.length).toBe(2)
    const [nearStream, farStream] = capture.streams
    expect(nearStream!.source).toBe(facts.pcap.caller)
    expect(nearStream!.destination).toBe(facts.pcap.bot)
    expect(nearStream!.ssrc).toBe(facts.pcap.nearSsrc)
    expect(nearStream!.role).toBe('near')
    expect(farStream!.source).toBe(facts.pcap.bot)
    expect(farStream!.ssrc).toBe(facts.pcap.farSsrc)
    expect(farStream!.role).toBe('far')
    expect(capture.warnings.join('\n')).toMatch(
      /near = 192\.0\.2\.10:40000 → 198\.51\.100\.20:20000 \(the caller's media/,
    )
  })

  it('counts the loss as exactly the packets removed, across the sequence number wrap', () => {
    const s = capture.streams[0]!
    expect(s.packets).toBe(facts.pcap.nearReceived)
    expect(s.sent).toBe(facts.packetsPerTrack)
    expect(s.lost).toBe(facts.pcap.removedSeqs.length)
    expect(s.duplicates).toBe(facts.pcap.nearDuplicates)
    expect(s.reordered).toBe(facts.pcap.nearReordered)
    const seqs = new Set(near.packets.map((p) => p.seq))
    for (const removed of facts.pcap.removedSeqs) expect(seqs.has(removed)).toBe(false)
    expect(capture.streams[1]!.lost).toBe(0)
    expect(far.packets.length).toBe(facts.pcap.farPackets)
  })

  it('keeps the capture times as arrivals: the caller stream is jittery, the bot stream regular', () => {
    expect(near.timing).toBe('arrival')
    expect(near.frameMs).toBe(20)
    expect(near.packets[0]!.arrivalMs).toBe(0)
    expect(capture.streams[0]!.meanJitterMs).toBeGreaterThan(2)
    expect(capture.streams[1]!.maxJitterMs).toBeLessThan(0.001)
    for (let i = 1; i < far.packets.length; i++)
      expect(far.packets[i]!.arrivalMs - far.packets[i - 1]!.arrivalMs).toBeCloseTo(20, 6)
    for (let i = 1; i < near.packets.length; i++)
      expect(near.packets[i]!.arrivalMs).toBeGreaterThanOrEqual(near.packets[i - 1]!.arrivalMs)
    expect(capture.durationMs).toBeGreaterThan(9980)
    expect(capture.durationMs).toBeLessThan(10_100)
  })

  it("carries the call's audio: near payloads are the mic's µ-law frames, far the bot's", () => {
    const scene = echoScene('rt250')
    const micFrames = packetizeG711(scene.mic.subarray(0, 160_000), 'ulaw')
    const farFrames = packetizeG711(scene.far.subarray(0, 160_000), 'ulaw')
    for (const p of near.packets) expect(p.payload).toEqual(micFrames[(p.seq - 65300 + 65536) % 65536])
    for (const p of far.packets) expect(p.payload).toEqual(farFrames[p.seq - 1000])
  })

  it("feeds NetworkReceiver as is: the jitter buffer sees the sender's 500 packets, the 491 received and the same jitter", () => {
    const receiver = new NetworkReceiver({ law: near.law, outputRateHz: 16000 })
    const out = new Float32Array(320)
    let next = 0
    for (let nowMs = 0; nowMs < capture.durationMs + 300; nowMs += near.frameMs) {
      for (; next < near.packets.length && near.packets[next]!.arrivalMs <= nowMs; next++) {
        const p = near.packets[next]!
        receiver.push(p.payload, p.seq, p.rtpTimestamp, p.arrivalMs, p.ssrc)
      }
      receiver.pull(nowMs, out)
    }
    const m = receiver.jitterBuffer.metrics
    expect(m.expected).toBe(facts.packetsPerTrack)
    expect(m.received).toBe(facts.pcap.nearReceived)
    expect(m.meanJitterMs).toBeCloseTo(capture.streams[0]!.meanJitterMs, 6)
  })

  it('reads the pcapng written by editcap (first 400 packets) with the same packets and times', () => {
    const ng = loadCaptureSync(CAPTURES + 'demo-call.pcapng')
    expect(ng.format).toBe('pcapng')
    const ngNear = packets(ng.near).packets
    expect(ngNear.length).toBeGreaterThan(150)
    ngNear.forEach((p, i) => {
      expect(p.seq).toBe(near.packets[i]!.seq)
      expect(p.arrivalMs).toBeCloseTo(near.packets[i]!.arrivalMs, 6)
    })
    expect(ng.startEpochMs).toBeCloseTo(capture.startEpochMs!, 3)
  })

  it('reads the pcaps written by text2pcap: UDP over IPv6/Ethernet and over raw IPv4 (pcapng)', () => {
    for (const name of ['text2pcap-ipv6.pcap', 'text2pcap-raw-ipv4.pcapng']) {
      const t = loadCaptureSync(CAPTURES + name)
      const s = t.streams[0]!
      expect(t.streams.length).toBe(1)
      expect(s.source).toBe(name.includes('ipv6') ? '[2001:db8::10]:40000' : '192.0.2.10:40000')
      expect(s.lost).toBe(1) // index 50 of the demo's removals falls in its first 2 s
      const tPackets = packets(t.near).packets
      tPackets.forEach((p, i) => {
        expect(p.seq).toBe(near.packets[i]!.seq)
        expect(p.arrivalMs).toBeCloseTo(near.packets[i]!.arrivalMs, 3)
        expect(p.payload).toEqual(near.packets[i]!.payload)
      })
    }
  })

  it.runIf(existsSync('/usr/bin/tshark'))('agrees with tshark on packets, loss and jitter of every stream', () => {
    const report = execFileSync(
      'tshark',
      ['-r', CAPTURES + 'text2pcap-ipv6.pcap', '-q', '-o', 'rtp.heuristic_rtp:TRUE', '-z', 'rtp,streams'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    )
    const [reference] = parseTsharkRtpStreams(report)
    const ours = loadCaptureSync(CAPTURES + 'text2pcap-ipv6.pcap').streams[0]!
    expect(ours.packets).toBe(reference!.packets)
    expect(ours.lost).toBe(reference!.lost)
    expect(Math.abs(ours.meanJitterMs - reference!.meanJitterMs)).toBeLessThanOrEqual(0.0006)
    expect(Math.abs(ours.maxJitterMs - reference!.maxJitterMs)).toBeLessThanOrEqual(0.0006)
  })

  it("matches the committed tshark analysis of the jitter buffer's trace (headers only: audio cut by the snap length)", () => {
    const trace = loadCaptureSync(FIXTURES_DIR + 'jitter-trace.pcap')
    const [reference] = parseTsharkRtpStreams(readFileSync(FIXTURES_DIR + 'jitter-trace.tshark.txt', 'utf8'))
    const s = trace.streams[0]!
    expect(s.packets).toBe(reference!.packets)
    expect(s.lost).toBe(reference!.lost)
    expect(Math.abs(s.meanJitterMs - reference!.meanJitterMs)).toBeLessThanOrEqual(0.0006)
    expect(Math.abs(s.maxJitterMs - reference!.maxJitterMs)).toBeLessThanOrEqual(0.0006)
    expect(trace.warnings.join('\n')).toMatch(/cut by the capture's snap length: their audio is silence/)
  })
})

describe('pcap captures: link layers, file variants, RTP details', () => {
  it.each(Object.keys(LINK_TYPES) as LinkLayer[])('reads RTP over %s, IPv4 and IPv6', (link) => {
    for (const endpoints of [A, A6]) {
      const bytes = writePcap(stream(endpoints, 10, {}, 0, link), { linkType: LINK_TYPES[link] })
      const capture = parseCapture(bytes, `${link}.pcap`)
      expect(capture.streams.length).toBe(1)
      expect(capture.streams[0]!.packets).toBe(10)
      expect(capture.streams[0]!.sourcePort).toBe(30000)
      expect(capture.streams[0]!.sourceAddress).toBe(endpoints.source)
    }
  })

  it('reads big-endian and nanosecond pcaps with the same arrival times', () => {
    const records = stream(A, 5).map((r, i) => ({ ...r, timeMs: r.timeMs + i * 0.123456 }))
    const expected = records.map((r) => r.timeMs)
    for (const options of [{ bigEndian: true }, { nanoseconds: true }, { bigEndian: true, nanoseconds: true }]) {
      const arrivals = packets(parseCapture(writePcap(records, options), 'x.pcap').near).packets.map((p) => p.arrivalMs)
      // Whole µs (or ns) in the file: within half a unit of each of the two times subtracted.
      const toleranceMs = options.nanoseconds ? 1e-6 : 1e-3
      arrivals.forEach((t, i) => expect(Math.abs(t - expected[i]!)).toBeLessThanOrEqual(toleranceMs))
    }
  })

  it('reads pcapng in both byte orders and timestamp resolutions (µs, ns, 2^-20 s), skipping unknown blocks', () => {
    const records = stream(A, 5).map((r, i) => ({ ...r, timeMs: r.timeMs + i * 0.5 }))
    const nameResolution = { type: 4, body: new Uint8Array(8) }
    for (const options of [{}, { bigEndian: true }, { tsresol: 9 }, { tsresol: 0x80 | 20, bigEndian: true }]) {
      const capture = parseCapture(writePcapng(records, { ...options, extraBlocks: [nameResolution] }), 'x.pcapng')
      const arrivals = packets(capture.near).packets.map((p) => p.arrivalMs)
      arrivals.forEach((t, i) => expect(Math.abs(t - records[i]!.timeMs)).toBeLessThanOrEqual(1e-3))
      expect(capture.startEpochMs).toBeCloseTo(Date.UTC(2024, 0, 1), 2)
    }
  })

  it('reads Simple Packet Blocks (no timestamps) and says their times are not real', () => {
    const capture = parseCapture(writePcapng(stream(A, 4), { simple: true }), 'spb.pcapng')
    expect(packets(capture.near).packets.length).toBe(4)
    expect(capture.warnings.join('\n')).toMatch(/4 Simple Packet Blocks carry no timestamp/)
  })

  it('finds the payload after CSRCs, a header extension and padding', () => {
    const payload = new Uint8Array(160).map((_, i) => i)
    const records = stream(A, 3, { csrcs: [1, 2], extensionWords: 2, padding: 4, payload })
    const near = packets(parseCapture(writePcap(records), 'x.pcap').near)
    expect(near.packets[0]!.payload).toEqual(payload)
  })

  it('keeps comfort noise and DTMF packets in the sequence, silent, without counting them as loss', () => {
    const records: CaptureRecord[] = []
    for (let i = 0; i < 20; i++) {
      const fields: RtpFields = { seq: i, rtpTimestamp: 160 * i, ssrc: 7 }
      if (i >= 5 && i < 8) Object.assign(fields, { payloadType: 101, payload: new Uint8Array([1, 0x8a, 0, 160]) })
      if (i >= 12 && i < 14) Object.assign(fields, { payloadType: 13, payload: new Uint8Array([40]) })
      records.push({ timeMs: 20 * i, frame: linkFrame('ethernet', udpIpPacket(A, rtpPacket(fields))) })
    }
    const capture = parseCapture(writePcap(records), 'dtmf.pcap')
    const s = capture.streams[0]!
    expect(s.telephoneEventPackets).toBe(3)
    expect(s.comfortNoisePackets).toBe(2)
    expect(s.audioPackets).toBe(15)
    expect(s.lost).toBe(0)
    expect(s.codec).toBe('PCMU')
    const near = packets(capture.near)
    expect(near.packets.length).toBe(20)
    expect(near.packets.filter((p) => p.content === 'telephone-event').length).toBe(3)
    expect(near.packets[6]!.payload.every((c) => c === 0xff)).toBe(true)
  })

  it('splits a flow into segments on an SSRC change and replays both in arrival order', () => {
    const records = [...stream(A, 10, { ssrc: 1 }), ...stream(A, 10, { ssrc: 2, seq: 0 }, 200)]
    // seq 0 for every packet of the second segment would be duplicates: number them.
    const second = stream(A, 10, { ssrc: 2 }, 200).map((r, i) => ({
      ...r,
      frame: linkFrame('ethernet', udpIpPacket(A, rtpPacket({ seq: 5000 + i, rtpTimestamp: 160 * i, ssrc: 2 }))),
    }))
    const capture = parseCapture(writePcap([...records.slice(0, 10), ...second]), 'ssrc.pcap')
    expect(capture.streams.map((s) => [s.ssrc, s.segment, s.packets, s.role])).toEqual([
      [1, 0, 10, 'near'],
      [2, 1, 10, 'near'],
    ])
    const near = packets(capture.near)
    expect(near.packets.map((p) => p.ssrc)).toEqual([...new Array(10).fill(1), ...new Array(10).fill(2)])
    expect(capture.warnings.join('\n')).toMatch(/changed SSRC 1 time\(s\): 2 segments/)
  })

  it('counts duplicates separately from loss, which is never negative', () => {
    const base = stream(A, 10)
    const capture = parseCapture(
      writePcap([...base, base[3]!, base[3]!, base[7]!].map((r, i) => ({ ...r, timeMs: 20 * i }))),
      'dup.pcap',
    )
    const s = capture.streams[0]!
    expect(s.duplicates).toBe(3)
    expect(s.lost).toBe(0)
    expect(s.sent).toBe(10)
  })

  it('without SIP, takes the first G.711 stream to start as the caller and the reverse flow as far', () => {
    const records = [...stream(B, 10, { ssrc: 2 }, 5), ...stream(A, 10, { ssrc: 1 }, 0)].sort(
      (a, b) => a.timeMs - b.timeMs,
    )
    const capture = parseCapture(writePcap(records), 'nosip.pcap')
    expect(capture.streams.find((s) => s.role === 'near')!.source).toBe('192.0.2.1:30000')
    expect(capture.streams.find((s) => s.role === 'far')!.source).toBe('192.0.2.2:5004')
    expect(capture.warnings.join('\n')).toMatch(/first G\.711 stream to start/)
  })

  it("prefers the SIP INVITE's media address even when the bot's stream starts first", () => {
    const invite = {
      timeMs: -100,
      frame: linkFrame(
        'ethernet',
        udpIpPacket(
          { ...A, sourcePort: 5060, destinationPort: 5060 },
          sipInvite(A.source, A.sourcePort, A.destination),
        ),
      ),
    }
    const records = [invite, ...stream(B, 10, { ssrc: 2 }, 0), ...stream(A, 10, { ssrc: 1 }, 5)].sort(
      (a, b) => a.timeMs - b.timeMs,
    )
    const capture = parseCapture(writePcap(records), 'sip.pcap')
    expect(capture.streams.find((s) => s.role === 'near')!.source).toBe('192.0.2.1:30000')
  })

  it('lets the user pick near and far by index, SSRC or source address, or no far end', () => {
    const records = [...stream(A, 10, { ssrc: 0x1111 }), ...stream(B, 10, { ssrc: 0x2222 }, 5)]
    const bytes = writePcap(records.sort((a, b) => a.timeMs - b.timeMs))
    const nearOf = (c: Capture): string => c.streams.find((s) => s.role === 'near')!.source
    expect(nearOf(parseCapture(bytes, 'x.pcap', { nearStream: 1 }))).toBe('192.0.2.2:5004')
    expect(nearOf(parseCapture(bytes, 'x.pcap', { nearStream: '0x2222' }))).toBe('192.0.2.2:5004')
    expect(nearOf(parseCapture(bytes, 'x.pcap', { nearStream: '192.0.2.2:5004' }))).toBe('192.0.2.2:5004')
    expect(parseCapture(bytes, 'x.pcap', { farStream: null }).far).toBeNull()
    expect(() => parseCapture(bytes, 'x.pcap', { nearStream: '0x9999' })).toThrow(
      /^x\.pcap: near stream '0x9999' not found \(streams: 0: /,
    )
    expect(() => parseCapture(bytes, 'x.pcap', { nearStream: 0, farStream: 0 })).toThrow(
      /near and far are the same stream/,
    )
  })

  it('transcodes PCMA packets inside a PCMU flow and reads a PCMA call as A-law', () => {
    const alaw = parseCapture(
      writePcap(stream(A, 10, { payloadType: 8, payload: new Uint8Array(160).fill(0xd5) })),
      'a.pcap',
    )
    expect(packets(alaw.near).law).toBe('alaw')
    expect(alaw.streams[0]!.codec).toBe('PCMA')
    const mixed = [...stream(A, 8), ...stream(A, 2, { payloadType: 8, payload: new Uint8Array(160).fill(0xd5) }, 160)]
    mixed.forEach((r, i) => {
      r.frame = linkFrame(
        'ethernet',
        udpIpPacket(
          A,
          rtpPacket({
            seq: i,
            rtpTimestamp: 160 * i,
            ssrc: 1,
            payloadType: i < 8 ? 0 : 8,
            payload: new Uint8Array(160).fill(i < 8 ? 0xff : 0xd5),
          }),
        ),
      )
    })
    const capture = parseCapture(writePcap(mixed), 'mixed.pcap')
    expect(packets(capture.near).law).toBe('ulaw')
    // A-law 0xd5 is +8/32768: transcoded to the µ-law code nearest to it.
    const decoded = new Float32Array(160)
    g711DecodeFloat('ulaw', packets(capture.near).packets[9]!.payload, decoded)
    expect(decoded.every((v) => Math.abs(v - 8 / 32768) < 2 / 32768)).toBe(true)
    expect(capture.warnings.join('\n')).toMatch(/2 packets .* switched G\.711 law/)
  })

  it('reads the frame duration from the payload length (10 and 30 ms packets)', () => {
    for (const bytes of [80, 240]) {
      const capture = parseCapture(writePcap(stream(A, 5, { payload: new Uint8Array(bytes).fill(0xff) })), 'p.pcap')
      expect(packets(capture.near).frameMs).toBe(bytes / 8)
    }
  })

  it('skips IP fragments (not reassembled) and non-RTP UDP with a warning, and RTCP silently', () => {
    const fragment = {
      timeMs: 50,
      frame: linkFrame(
        'ethernet',
        udpIpPacket(A, rtpPacket({ seq: 999, rtpTimestamp: 0, ssrc: 0xabc }), { fragment: true }),
      ),
    }
    const dns = {
      timeMs: 60,
      frame: linkFrame(
        'ethernet',
        udpIpPacket({ ...A, destinationPort: 53 }, new Uint8Array([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 119])),
      ),
    }
    const rtcp = {
      timeMs: 70,
      frame: linkFrame(
        'ethernet',
        udpIpPacket({ ...A, sourcePort: 30001, destinationPort: 5005 }, rtcpSenderReport(0xabc)),
      ),
    }
    const hopByHop = stream(A6, 3, { ssrc: 9 }).map((r) => r)
    hopByHop.forEach((r, i) => {
      r.frame = linkFrame(
        'ethernet',
        udpIpPacket(A6, rtpPacket({ seq: i, rtpTimestamp: 160 * i, ssrc: 9 }), { hopByHop: true }),
      )
    })
    const records = [...stream(A, 10), fragment, dns, rtcp, ...hopByHop].sort((a, b) => a.timeMs - b.timeMs)
    const capture = parseCapture(writePcap(records), 'mix.pcap')
    expect(capture.streams.map((s) => s.source)).toEqual(['192.0.2.1:30000', '[2001:db8::1]:30000'])
    expect(capture.streams[0]!.packets).toBe(10)
    expect(capture.warnings.join('\n')).toMatch(/1 IP fragments skipped \(fragments are not reassembled\)/)
  })

  it('reports files with no RTP, or no G.711, as errors naming the file and what was found', () => {
    const udpOnly = writePcap([{ timeMs: 0, frame: linkFrame('ethernet', udpIpPacket(A, new Uint8Array(40))) }])
    expect(() => parseCapture(udpOnly, 'u.pcap')).toThrow(/^u\.pcap: no RTP streams found \(1 packets, 1 UDP\)/)
    const g729 = writePcap(stream(A, 10, { payloadType: 18, payload: new Uint8Array(20) }))
    expect(() => parseCapture(g729, 'g729.pcap')).toThrow(
      /^g729\.pcap: no G\.711 audio: 1 RTP stream with payload type 18/,
    )
    const wrongLink = writePcap(stream(A, 3), { linkType: 105 })
    expect(() => parseCapture(wrongLink, 'wlan.pcap')).toThrow(/^wlan\.pcap: link type 105 is not supported/)
  })
})

describe('pcap files written to disk', () => {
  it('loads by content whatever the extension', () => {
    const dir = mkdtempSync(join(tmpdir(), 'capture-'))
    try {
      const path = join(dir, 'call.wav')
      writeFileSync(path, writePcap(stream(A, 5)))
      expect(loadCaptureSync(path).format).toBe('pcap')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

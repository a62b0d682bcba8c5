/**
 * Minimal libpcap writer for tests: RTP over UDP/IPv4/Ethernet, one record per arrival, with the arrival time as the
 * capture time (µs resolution). Enough for tshark's RTP stream analysis (`-z rtp,streams`), which computes the
 * RFC 3550 jitter from the capture times and the RTP timestamps.
 * Format: https://wiki.wireshark.org/Development/LibpcapFileFormat (magic 0xa1b2c3d4, link type 1 = Ethernet).
 */

export interface PcapRtpPacket {
  /** Capture (arrival) time, ms since epochMs. */
  arrivalMs: number
  seq: number
  rtpTimestamp: number
  ssrc: number
  /** RTP payload type (0 = PCMU, 8 kHz). */
  payloadType?: number
  marker?: boolean
  /** RTP payload bytes (default 160 bytes of µ-law silence, 0xff). */
  payload?: Uint8Array
}

export interface PcapOptions {
  /** Wall-clock time of arrivalMs = 0, ms since 1970 (default 2024-01-01T00:00:00Z). */
  epochMs?: number
  sourcePort?: number
  destinationPort?: number
  /** Bytes captured per packet (default 65535: all). 66 keeps the headers up to RTP's, as `tcpdump -s 66`. */
  snapLength?: number
}

const ETHERNET_BYTES = 14
const IPV4_BYTES = 20
const UDP_BYTES = 8
const RTP_BYTES = 12
const DEFAULT_PAYLOAD = new Uint8Array(160).fill(0xff)

/** Serialises the packets (in the order given, normally arrival order) as a pcap file. */
export function writeRtpPcap(packets: readonly PcapRtpPacket[], options: PcapOptions = {}): Uint8Array {
  const epochMs = options.epochMs ?? Date.UTC(2024, 0, 1)
  const sourcePort = options.sourcePort ?? 40000
  const destinationPort = options.destinationPort ?? 5004
  const snapLength = options.snapLength ?? 65535
  const frames = packets.map((p) => rtpFrame(p, sourcePort, destinationPort))
  let total = 24
  for (const frame of frames) total += 16 + Math.min(frame.length, snapLength)
  const bytes = new Uint8Array(total)
  const view = new DataView(bytes.buffer)
  // Global header (little endian): magic, version 2.4, thiszone 0, sigfigs 0, snaplen, link type 1 (Ethernet).
  view.setUint32(0, 0xa1b2c3d4, true)
  view.setUint16(4, 2, true)
  view.setUint16(6, 4, true)
  view.setInt32(8, 0, true)
  view.setUint32(12, 0, true)
  view.setUint32(16, snapLength, true)
  view.setUint32(20, 1, true)
  let offset = 24
  packets.forEach((p, index) => {
    const frame = frames[index]!
    const captured = Math.min(frame.length, snapLength)
    const totalUs = Math.round((epochMs + p.arrivalMs) * 1000)
    const seconds = Math.floor(totalUs / 1e6)
    view.setUint32(offset, seconds, true)
    view.setUint32(offset + 4, totalUs - seconds * 1e6, true)
    view.setUint32(offset + 8, captured, true)
    view.setUint32(offset + 12, frame.length, true)
    bytes.set(frame.subarray(0, captured), offset + 16)
    offset += 16 + captured
  })
  return bytes
}

/** One Ethernet frame: IPv4 192.0.2.1 → 192.0.2.2 (TEST-NET-1, RFC 5737), UDP, RTP v2. */
function rtpFrame(p: PcapRtpPacket, sourcePort: number, destinationPort: number): Uint8Array {
  const payload = p.payload ?? DEFAULT_PAYLOAD
  const frame = new Uint8Array(ETHERNET_BYTES + IPV4_BYTES + UDP_BYTES + RTP_BYTES + payload.length)
  const view = new DataView(frame.buffer)
  // Ethernet: destination, source MAC (locally administered), EtherType IPv4.
  frame.set([0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01], 0)
  view.setUint16(12, 0x0800)
  const ip = ETHERNET_BYTES
  view.setUint8(ip, 0x45)
  view.setUint8(ip + 1, 0xb8) // DSCP EF, as voice is marked
  view.setUint16(ip + 2, IPV4_BYTES + UDP_BYTES + RTP_BYTES + payload.length)
  view.setUint16(ip + 4, p.seq & 0xffff) // identification
  view.setUint16(ip + 6, 0x4000) // don't fragment
  view.setUint8(ip + 8, 64)
  view.setUint8(ip + 9, 17)
  frame.set([192, 0, 2, 1, 192, 0, 2, 2], ip + 12)
  view.setUint16(ip + 10, ipv4Checksum(frame, ip))
  const udp = ip + IPV4_BYTES
  view.setUint16(udp, sourcePort)
  view.setUint16(udp + 2, destinationPort)
  view.setUint16(udp + 4, UDP_BYTES + RTP_BYTES + payload.length)
  view.setUint16(udp + 6, 0) // no checksum (allowed over IPv4)
  const rtp = udp + UDP_BYTES
  view.setUint8(rtp, 0x80) // V=2, no padding, extension or CSRC
  view.setUint8(rtp + 1, ((p.marker ? 1 : 0) << 7) | ((p.payloadType ?? 0) & 0x7f))
  view.setUint16(rtp + 2, p.seq & 0xffff)
  view.setUint32(rtp + 4, p.rtpTimestamp >>> 0)
  view.setUint32(rtp + 8, p.ssrc >>> 0)
  frame.set(payload, rtp + RTP_BYTES)
  return frame
}

function ipv4Checksum(bytes: Uint8Array, start: number): number {
  let sum = 0
  for (let i = 0; i < IPV4_BYTES; i += 2) sum += (bytes[start + i]! << 8) | bytes[start + i + 1]!
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16)
  return ~sum & 0xffff
}

export interface TsharkRtpStream {
  ssrc: number
  payload: string
  packets: number
  lost: number
  minDeltaMs: number
  meanDeltaMs: number
  maxDeltaMs: number
  minJitterMs: number
  meanJitterMs: number
  maxJitterMs: number
  hasProblems: boolean
}

/**
 * Parses the table printed by `tshark -q -z rtp,streams` (Wireshark 3.6+): one row per stream with the columns
 * Start time, End time, Src IP addr, Port, Dest IP addr, Port, SSRC, Payload, Pkts, Lost (pct),
 * Min/Mean/Max Delta (ms), Min/Mean/Max Jitter (ms), Problems? ("X" when tshark flagged sequence errors).
 */
export function parseTsharkRtpStreams(text: string): TsharkRtpStream[] {
  const streams: TsharkRtpStream[] = []
  const row =
    /\s(0x[0-9a-fA-F]{8})\s+(\S+)\s+(\d+)\s+(-?\d+)\s+\((-?[\d.]+)%\)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s*(X?)\s*$/
  for (const line of text.split('\n')) {
    const m = row.exec(line)
    if (!m) continue
    streams.push({
      ssrc: parseInt(m[1]!, 16),
      payload: m[2]!,
      packets: Number(m[3]),
      lost: Number(m[4]),
      minDeltaMs: Number(m[6]),
      meanDeltaMs: Number(m[7]),
      maxDeltaMs: Number(m[8]),
      minJitterMs: Number(m[9]),
      meanJitterMs: Number(m[10]),
      maxJitterMs: Number(m[11]),
      hasProblems: m[12] === 'X',
    })
  }
  return streams
}

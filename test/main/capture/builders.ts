/**
 * Byte-level builders for capture tests and the demo fixtures (test/fixtures/make-captures.ts): RTP and RTCP packets,
 * UDP over IPv4/IPv6, link layers (Ethernet with VLAN tags, Linux cooked SLL/SLL2, raw IP, BSD loopback), and pcap /
 * pcapng writers (either byte order, µs or ns, Enhanced or Simple Packet Blocks).
 * Formats: https://wiki.wireshark.org/Development/LibpcapFileFormat, IETF draft-ietf-opsawg-pcapng,
 * https://www.tcpdump.org/linktypes.html. Addresses are documentation ranges (RFC 5737, RFC 3849).
 */

export interface RtpFields {
  seq: number
  rtpTimestamp: number
  ssrc: number
  payloadType?: number
  marker?: boolean
  payload?: Uint8Array
  /** CSRC identifiers (count in the first byte). */
  csrcs?: number[]
  /** A header extension of this many 32-bit words. */
  extensionWords?: number
  /** RTP padding bytes (last byte = count). */
  padding?: number
}

export function rtpPacket(f: RtpFields): Uint8Array {
  const payload = f.payload ?? new Uint8Array(160).fill(0xff)
  const csrcs = f.csrcs ?? []
  const extensionBytes = f.extensionWords === undefined ? 0 : 4 + 4 * f.extensionWords
  const padding = f.padding ?? 0
  const header = 12 + 4 * csrcs.length + extensionBytes
  const out = new Uint8Array(header + payload.length + padding)
  const view = new DataView(out.buffer)
  out[0] = 0x80 | (padding > 0 ? 0x20 : 0) | (extensionBytes > 0 ? 0x10 : 0) | csrcs.length
  out[1] = ((f.marker ? 1 : 0) << 7) | ((f.payloadType ?? 0) & 0x7f)
  view.setUint16(2, f.seq & 0xffff)
  view.setUint32(4, f.rtpTimestamp >>> 0)
  view.setUint32(8, f.ssrc >>> 0)
  csrcs.forEach((c, i) => view.setUint32(12 + 4 * i, c >>> 0))
  if (extensionBytes > 0) {
    const at = 12 + 4 * csrcs.length
    view.setUint16(at, 0xbede)
    view.setUint16(at + 2, f.extensionWords!)
  }
  out.set(payload, header)
  if (padding > 0) out[out.length - 1] = padding
  return out
}

/** An RTCP sender report (PT 200) with no report blocks. */
export function rtcpSenderReport(ssrc: number): Uint8Array {
  const out = new Uint8Array(28)
  const view = new DataView(out.buffer)
  out[0] = 0x80
  out[1] = 200
  view.setUint16(2, 6) // length in 32-bit words − 1
  view.setUint32(4, ssrc >>> 0)
  return out
}

export interface UdpEndpoints {
  source: string
  destination: string
  sourcePort: number
  destinationPort: number
}

function ipv4Bytes(address: string): number[] {
  return address.split('.').map(Number)
}

function ipv6Bytes(address: string): number[] {
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined]
  const headGroups = head ? head.split(':').filter((g) => g !== '') : []
  const tailGroups = tail ? tail.split(':').filter((g) => g !== '') : []
  const groups = [
    ...headGroups,
    ...new Array<string>(8 - headGroups.length - tailGroups.length).fill('0'),
    ...tailGroups,
  ]
  return groups.flatMap((g) => {
    const v = parseInt(g, 16)
    return [v >> 8, v & 0xff]
  })
}

function checksum16(bytes: Uint8Array, start: number, length: number): number {
  let sum = 0
  for (let i = 0; i < length; i += 2) sum += (bytes[start + i]! << 8) | (bytes[start + i + 1] ?? 0)
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16)
  return ~sum & 0xffff
}

export interface IpOptions {
  /** IPv4: mark as a fragment (more-fragments flag). */
  fragment?: boolean
  /** IPv6: insert a hop-by-hop options header before UDP. */
  hopByHop?: boolean
}

/** An IP packet (v4 or v6 by the address form) carrying UDP with the payload. */
export function udpIpPacket(e: UdpEndpoints, payload: Uint8Array, options: IpOptions = {}): Uint8Array {
  const udpLength = 8 + payload.length
  const udp = new Uint8Array(udpLength)
  const udpView = new DataView(udp.buffer)
  udpView.setUint16(0, e.sourcePort)
  udpView.setUint16(2, e.destinationPort)
  udpView.setUint16(4, udpLength)
  udp.set(payload, 8)
  if (e.source.includes(':')) {
    const extension = options.hopByHop ? 8 : 0
    const out = new Uint8Array(40 + extension + udpLength)
    const view = new DataView(out.buffer)
    out[0] = 0x60
    view.setUint16(4, extension + udpLength)
    out[6] = options.hopByHop ? 0 : 17
    out[7] = 64
    out.set(ipv6Bytes(e.source), 8)
    out.set(ipv6Bytes(e.destination), 24)
    if (options.hopByHop) {
      out[40] = 17 // next header
      out[41] = 0 // length in 8-byte units − 1
      out[42] = 1 // PadN option filling the rest
      out[43] = 4
    }
    out.set(udp, 40 + extension)
    return out
  }
  const out = new Uint8Array(20 + udpLength)
  const view = new DataView(out.buffer)
  out[0] = 0x45
  out[1] = 0xb8
  view.setUint16(2, 20 + udpLength)
  view.setUint16(6, options.fragment ? 0x2000 : 0x4000)
  out[8] = 64
  out[9] = 17
  out.set(ipv4Bytes(e.source), 12)
  out.set(ipv4Bytes(e.destination), 16)
  view.setUint16(10, checksum16(out, 0, 20))
  out.set(udp, 20)
  return out
}

export type LinkLayer = 'ethernet' | 'vlan' | 'qinq' | 'sll' | 'sll2' | 'raw' | 'null'

export const LINK_TYPES: Record<LinkLayer, number> = {
  ethernet: 1,
  vlan: 1,
  qinq: 1,
  sll: 113,
  sll2: 276,
  raw: 101,
  null: 0,
}

/** Wraps an IP packet in a link-layer header. */
export function linkFrame(link: LinkLayer, ip: Uint8Array): Uint8Array {
  const isV6 = ip[0]! >> 4 === 6
  const etherType = isV6 ? 0x86dd : 0x0800
  const mac = [0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01]
  let header: number[]
  switch (link) {
    case 'ethernet':
      header = [...mac, etherType >> 8, etherType & 0xff]
      break
    case 'vlan':
      header = [...mac, 0x81, 0x00, 0x00, 0x64, etherType >> 8, etherType & 0xff]
      break
    case 'qinq':
      header = [...mac, 0x88, 0xa8, 0x00, 0x0a, 0x81, 0x00, 0x00, 0x64, etherType >> 8, etherType & 0xff]
      break
    case 'sll':
      // packet type 0 (to us), ARPHRD_ETHER 1, address length 6, address (8 bytes), protocol
      header = [0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, etherType >> 8, etherType & 0xff]
      break
    case 'sll2':
      // protocol, reserved, interface index, ARPHRD 1, packet type, address length, address (8 bytes)
      header = [etherType >> 8, etherType & 0xff, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]
      break
    case 'raw':
      header = []
      break
    case 'null':
      header = isV6 ? [30, 0, 0, 0] : [2, 0, 0, 0] // AF_INET / AF_INET6 (macOS), host byte order (little endian)
      break
  }
  const out = new Uint8Array(header.length + ip.length)
  out.set(header)
  out.set(ip, header.length)
  return out
}

export interface CaptureRecord {
  /** Capture time, ms since epochMs. */
  timeMs: number
  frame: Uint8Array
}

export interface PcapWriteOptions {
  linkType?: number
  bigEndian?: boolean
  nanoseconds?: boolean
  snapLength?: number
  /** Wall clock of timeMs = 0 (default 2024-01-01T00:00:00Z). */
  epochMs?: number
}

/**
 * epochMs + timeMs as whole seconds and a fraction in 1/units, exact to the unit: the two are added as small numbers
 * (an epoch in ns would exceed 2^53).
 */
function splitTime(epochMs: number, timeMs: number, units: number): [number, number] {
  const epochSeconds = Math.floor(epochMs / 1000)
  const relativeMs = epochMs - epochSeconds * 1000 + timeMs
  let seconds = epochSeconds + Math.floor(relativeMs / 1000)
  let fraction = Math.round(((relativeMs - Math.floor(relativeMs / 1000) * 1000) / 1000) * units)
  if (fraction >= units) {
    seconds++
    fraction -= units
  }
  return [seconds, fraction]
}

export function writePcap(records: readonly CaptureRecord[], options: PcapWriteOptions = {}): Uint8Array {
  const little = !options.bigEndian
  const snap = options.snapLength ?? 65535
  const units = options.nanoseconds ? 1e9 : 1e6
  const epochMs = options.epochMs ?? Date.UTC(2024, 0, 1)
  let total = 24
  for (const r of records) total += 16 + Math.min(r.frame.length, snap)
  const out = new Uint8Array(total)
  const view = new DataView(out.buffer)
  view.setUint32(0, options.nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4, little)
  view.setUint16(4, 2, little)
  view.setUint16(6, 4, little)
  view.setUint32(16, snap, little)
  view.setUint32(20, options.linkType ?? 1, little)
  let at = 24
  for (const r of records) {
    const captured = Math.min(r.frame.length, snap)
    const [seconds, fraction] = splitTime(epochMs, r.timeMs, units)
    view.setUint32(at, seconds, little)
    view.setUint32(at + 4, fraction, little)
    view.setUint32(at + 8, captured, little)
    view.setUint32(at + 12, r.frame.length, little)
    out.set(r.frame.subarray(0, captured), at + 16)
    at += 16 + captured
  }
  return out
}

export interface PcapngWriteOptions {
  linkType?: number
  bigEndian?: boolean
  /** if_tsresol byte (default: none, i.e. µs). 9 = ns; 0x80 | n = 2^-n. */
  tsresol?: number
  /** Write Simple Packet Blocks (no timestamps) instead of Enhanced ones. */
  simple?: boolean
  epochMs?: number
  /** Extra blocks (e.g. a Name Resolution Block) inserted after the IDB, as raw bodies keyed by type. */
  extraBlocks?: { type: number; body: Uint8Array }[]
}

function pad4(n: number): number {
  return (n + 3) & ~3
}

export function writePcapng(records: readonly CaptureRecord[], options: PcapngWriteOptions = {}): Uint8Array {
  const little = !options.bigEndian
  const blocks: Uint8Array[] = []
  const block = (type: number, body: Uint8Array): void => {
    const length = 12 + pad4(body.length)
    const out = new Uint8Array(length)
    const view = new DataView(out.buffer)
    view.setUint32(0, type, little)
    view.setUint32(4, length, little)
    out.set(body, 8)
    view.setUint32(length - 4, length, little)
    blocks.push(out)
  }
  // Section Header: byte-order magic, version 1.0, section length −1.
  const shb = new Uint8Array(16)
  const shbView = new DataView(shb.buffer)
  shbView.setUint32(0, 0x1a2b3c4d, little)
  shbView.setUint16(4, 1, little)
  shbView.setUint16(6, 0, little)
  shbView.setInt32(8, -1, little)
  shbView.setInt32(12, -1, little)
  block(0x0a0d0d0a, shb)
  // Interface Description: link type, snap length, options (if_tsresol, end).
  const options8 = options.tsresol === undefined ? 0 : 8
  const idb = new Uint8Array(8 + options8 + (options8 ? 4 : 0))
  const idbView = new DataView(idb.buffer)
  idbView.setUint16(0, options.linkType ?? 1, little)
  idbView.setUint32(4, 65535, little)
  if (options.tsresol !== undefined) {
    idbView.setUint16(8, 9, little)
    idbView.setUint16(10, 1, little)
    idb[12] = options.tsresol
  }
  block(1, idb)
  for (const extra of options.extraBlocks ?? []) block(extra.type, extra.body)
  const epochMs = options.epochMs ?? Date.UTC(2024, 0, 1)
  const resolution = options.tsresol ?? 6
  const unitsPerSecond = resolution & 0x80 ? 2 ** (resolution & 0x7f) : 10 ** resolution
  for (const r of records) {
    if (options.simple) {
      const body = new Uint8Array(4 + r.frame.length)
      new DataView(body.buffer).setUint32(0, r.frame.length, little)
      body.set(r.frame, 4)
      block(3, body)
      continue
    }
    const body = new Uint8Array(20 + r.frame.length)
    const view = new DataView(body.buffer)
    const [seconds, fraction] = splitTime(epochMs, r.timeMs, unitsPerSecond)
    const ticks = BigInt(seconds) * BigInt(unitsPerSecond) + BigInt(fraction)
    view.setUint32(0, 0, little)
    view.setUint32(4, Number(ticks >> 32n), little)
    view.setUint32(8, Number(ticks & 0xffffffffn), little)
    view.setUint32(12, r.frame.length, little)
    view.setUint32(16, r.frame.length, little)
    body.set(r.frame, 20)
    block(6, body)
  }
  const total = blocks.reduce((n, b) => n + b.length, 0)
  const out = new Uint8Array(total)
  let at = 0
  for (const b of blocks) {
    out.set(b, at)
    at += b.length
  }
  return out
}

/** A SIP INVITE from the caller, with SDP offering PCMU and telephone-event at the caller's media address. */
export function sipInvite(callerAddress: string, callerMediaPort: number, calleeAddress: string): Uint8Array {
  const ipVersion = callerAddress.includes(':') ? 'IP6' : 'IP4'
  const sdp = [
    'v=0',
    `o=caller 1 1 IN ${ipVersion} ${callerAddress}`,
    's=call',
    `c=IN ${ipVersion} ${callerAddress}`,
    't=0 0',
    `m=audio ${callerMediaPort} RTP/AVP 0 101`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:101 telephone-event/8000',
    '',
  ].join('\r\n')
  const message = [
    `INVITE sip:bot@${calleeAddress} SIP/2.0`,
    `Via: SIP/2.0/UDP ${callerAddress}:5060;branch=z9hG4bK1`,
    'From: <sip:caller@example.com>;tag=1',
    `To: <sip:bot@${calleeAddress}>`,
    'Call-ID: 1@example.com',
    'CSeq: 1 INVITE',
    'Content-Type: application/sdp',
    `Content-Length: ${sdp.length}`,
    '',
    sdp,
  ].join('\r\n')
  return new TextEncoder().encode(message)
}

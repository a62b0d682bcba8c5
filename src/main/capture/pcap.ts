/**
 * pcap and pcapng captures of RTP over UDP: every RTP stream found, and the caller's (near) and the bot's (far) G.711
 * packets with their capture timestamps as arrival times, so the real jitter, loss and reordering reach the replay.
 *
 * Files (https://wiki.wireshark.org/Development/LibpcapFileFormat, IETF draft-ietf-opsawg-pcapng):
 * - pcap: both byte orders, µs (0xa1b2c3d4) and ns (0xa1b23c4d) timestamps;
 * - pcapng: sections (SHB, either byte order), interfaces (IDB, with if_tsresol and if_tsoffset), Enhanced, Simple and
 *   the obsolete Packet Blocks; other blocks skipped. A Simple Packet Block has no timestamp: it takes the previous
 *   packet's time (warned).
 * Link types: Ethernet (1) with stacked VLAN tags (802.1Q / 802.1ad), Linux cooked SLL (113) and SLL2 (276), raw IP
 * (101, 12, 14, 228, 229), BSD loopback (0, 108). IPv4 and IPv6 (hop-by-hop, routing, destination options and AH
 * extension headers skipped); IP fragments are not reassembled (counted and skipped: RTP packets are small and never
 * fragmented in practice). UDP only.
 * RTP (RFC 3550): version 2, header with CSRCs, extension and padding checked against the UDP length; second byte
 * 192–223 is RTCP (RFC 5761) and ignored, as are payload types 35–95 (unassigned). A stream is one 5-tuple and one
 * SSRC; a new SSRC on the same 5-tuple is a new segment of the same flow. Candidate streams with one packet, or whose
 * sequence numbers are far from contiguous, are dropped as non-RTP UDP. Payload type 0 (PCMU) and 8 (PCMA) are audio,
 * 13 is comfort noise (RFC 3389), a dynamic type (96–127) with 4-byte-multiple payloads is telephone-event (RFC 4733):
 * these stay in the track, silent (see types.ts).
 *
 * Near and far (unless picked with nearStream / farStream): the caller is known from a SIP INVITE in the capture (the
 * media address in its SDP, c= and m=audio, else the INVITE's source address); without one, the caller is the source
 * of the first G.711 stream to start (a capture usually starts before the call and the caller's side sends first, as
 * soon as its call is answered). Near = the caller's flow; far = the flow going the opposite way (source and
 * destination swapped), else the next G.711 flow. The choice is stated in a warning so a wrong guess is visible.
 * Damage: a record or block cut or sized past the end of the file ends the read there, with a warning naming the byte
 * offset; nothing is allocated from a size field before it is checked against the bytes present.
 */
import { g711DecodeFloat, g711EncodeFloat, ALAW_SILENCE, ULAW_SILENCE, type G711Law } from '../../dsp/g711'
import { sequenceStats } from './rtp-stats'
import {
  CaptureError,
  type Capture,
  type CapturePacket,
  type LoadCaptureOptions,
  type PacketContent,
  type PacketTrack,
  type StreamInfo,
  type StreamSelector,
} from './types'

/** Largest packet record believed (tcpdump's largest snap length is 256 KiB; a few tools use up to 16 MiB). */
const MAX_RECORD_BYTES = 16 * 1024 * 1024
const RTP_HEADER_BYTES = 12
const CLOCK_RATE_HZ = 8000

/** One captured frame: where its bytes are and when it was captured (seconds + fraction, exact). */
interface Frame {
  data: Uint8Array
  linkType: number
  seconds: number
  /** Fraction of a second, in units of 1 / unitsPerSecond. */
  fraction: number
  unitsPerSecond: number
  /** No timestamp of its own (pcapng Simple Packet Block): the previous frame's. */
  untimed: boolean
}

interface ReadResult {
  frames: Frame[]
  warnings: string[]
  format: 'pcap' | 'pcapng'
}

const PCAP_MAGIC_US = 0xa1b2c3d4
const PCAP_MAGIC_NS = 0xa1b23c4d
const PCAPNG_SHB = 0x0a0d0d0a

/** The format of a capture file from its first four bytes, or null. */
export function pcapFormat(bytes: Uint8Array): 'pcap' | 'pcapng' | null {
  if (bytes.length < 4) return null
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const magicLe = view.getUint32(0, true)
  const magicBe = view.getUint32(0, false)
  if (magicBe === PCAPNG_SHB) return 'pcapng'
  for (const m of [magicLe, magicBe]) if (m === PCAP_MAGIC_US || m === PCAP_MAGIC_NS) return 'pcap'
  return null
}

function readPcap(bytes: Uint8Array, file: string): ReadResult {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (bytes.length < 24) throw new CaptureError(file, `pcap header cut: ${bytes.length} of 24 bytes`)
  const magicLe = view.getUint32(0, true)
  const little = magicLe === PCAP_MAGIC_US || magicLe === PCAP_MAGIC_NS
  const magic = view.getUint32(0, little)
  const unitsPerSecond = magic === PCAP_MAGIC_NS ? 1e9 : 1e6
  const major = view.getUint16(4, little)
  if (major !== 2) throw new CaptureError(file, `pcap version ${major}.${view.getUint16(6, little)} is not 2.x`, 4)
  const snapLength = view.getUint32(16, little)
  // The link type is the low 16 bits (the upper bits may carry FCS flags).
  const linkType = view.getUint32(20, little) & 0xffff
  const maxRecord = Math.min(MAX_RECORD_BYTES, Math.max(snapLength, 262144))
  const frames: Frame[] = []
  const warnings: string[] = []
  let at = 24
  while (at < bytes.length) {
    if (at + 16 > bytes.length) {
      warnings.push(
        `${file}: truncated at byte ${at}: a packet record header is cut (${bytes.length - at} of 16 bytes)`,
      )
      break
    }
    const seconds = view.getUint32(at, little)
    const fraction = view.getUint32(at + 4, little)
    const captured = view.getUint32(at + 8, little)
    if (captured > maxRecord) {
      warnings.push(
        `${file}: damaged at byte ${at}: a packet record declares ${captured} bytes (more than ${maxRecord}); read up to there`,
      )
      break
    }
    if (at + 16 + captured > bytes.length) {
      warnings.push(
        `${file}: truncated at byte ${bytes.length}: the packet record at byte ${at} declares ${captured} bytes, ` +
          `${bytes.length - at - 16} are there; read up to the damage`,
      )
      break
    }
    frames.push({
      data: bytes.subarray(at + 16, at + 16 + captured),
      linkType,
      seconds,
      fraction: fraction < unitsPerSecond ? fraction : unitsPerSecond - 1,
      unitsPerSecond,
      untimed: false,
    })
    at += 16 + captured
  }
  return { frames, warnings, format: 'pcap' }
}

interface Interface {
  linkType: number
  snapLength: number
  /** Timestamp units per second (BigInt: a 2^-n resolution can exceed 2^53). */
  unitsPerSecond: bigint
  offsetSeconds: number
}

function readPcapng(bytes: Uint8Array, file: string): ReadResult {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const frames: Frame[] = []
  const warnings: string[] = []
  let interfaces: Interface[] = []
  let little = true
  let untimedCount = 0
  let at = 0
  let lastSeconds = 0
  let lastFraction = 0
  let lastUnits = 1e6
  while (at < bytes.length) {
    if (at + 12 > bytes.length) {
      warnings.push(`${file}: truncated at byte ${at}: a block header is cut (${bytes.length - at} of 12 bytes)`)
      break
    }
    let type = view.getUint32(at, little)
    if (view.getUint32(at, false) === PCAPNG_SHB) {
      type = PCAPNG_SHB
      const order = view.getUint32(at + 8, true)
      if (order === 0x1a2b3c4d) little = true
      else if (order === 0x4d3c2b1a) little = false
      else {
        if (at === 0) throw new CaptureError(file, 'pcapng section header has no valid byte-order magic', 8)
        warnings.push(
          `${file}: damaged at byte ${at}: a section header has no valid byte-order magic; read up to there`,
        )
        break
      }
    }
    const length = view.getUint32(at + 4, little)
    if (length < 12 || length % 4 !== 0) {
      if (at === 0) throw new CaptureError(file, `pcapng section header length ${length} is not valid`, 4)
      warnings.push(
        `${file}: damaged at byte ${at}: block length ${length} is not a multiple of 4 ≥ 12; read up to there`,
      )
      break
    }
    if (at + length > bytes.length) {
      if (at === 0) throw new CaptureError(file, `pcapng section header cut: ${bytes.length} of ${length} bytes`)
      warnings.push(
        `${file}: truncated at byte ${bytes.length}: the block at byte ${at} declares ${length} bytes, ` +
          `${bytes.length - at} are there; read up to the damage`,
      )
      break
    }
    if (view.getUint32(at + length - 4, little) !== length) {
      if (at === 0)
        throw new CaptureError(file, 'pcapng section header: trailing length does not match', at + length - 4)
      warnings.push(`${file}: damaged at byte ${at}: the block's trailing length does not match; read up to there`)
      break
    }
    const body = at + 8
    const bodyEnd = at + length - 4
    if (type === PCAPNG_SHB) {
      interfaces = []
    } else if (type === 1 && bodyEnd - body >= 8) {
      // Interface Description Block: link type, reserved, snap length, options.
      const iface: Interface = {
        linkType: view.getUint16(body, little),
        snapLength: view.getUint32(body + 4, little),
        unitsPerSecond: 1000000n,
        offsetSeconds: 0,
      }
      for (let o = body + 8; o + 4 <= bodyEnd;) {
        const code = view.getUint16(o, little)
        const optionLength = view.getUint16(o + 2, little)
        if (code === 0 || o + 4 + optionLength > bodyEnd) break
        if (code === 9 && optionLength >= 1) {
          const resolution = view.getUint8(o + 4)
          const exponent = resolution & 0x7f
          // Bit 7 set: 2^-n seconds; else 10^-n. Up to 2^-63 / 10^-18 (beyond is nonsense).
          if (resolution & 0x80) iface.unitsPerSecond = exponent <= 63 ? 1n << BigInt(exponent) : 1000000n
          else iface.unitsPerSecond = exponent <= 18 ? 10n ** BigInt(exponent) : 1000000n
        } else if (code === 14 && optionLength >= 8) {
          iface.offsetSeconds = Number(view.getBigInt64(o + 4, little))
        }
        o += 4 + ((optionLength + 3) & ~3)
      }
      interfaces.push(iface)
    } else if (type === 6 || type === 2) {
      // Enhanced Packet Block (interface u32) / obsolete Packet Block (interface u16, drops u16); then ts, lengths.
      if (bodyEnd - body < 20) {
        warnings.push(`${file}: damaged at byte ${at}: a packet block of ${length} bytes is too short; skipped`)
      } else {
        const interfaceId = type === 6 ? view.getUint32(body, little) : view.getUint16(body, little)
        const iface = interfaces[interfaceId]
        const captured = view.getUint32(body + 12, little)
        if (iface === undefined) {
          warnings.push(`${file}: packet block at byte ${at} names interface ${interfaceId}, which is not described`)
        } else if (body + 20 + captured > bodyEnd) {
          warnings.push(`${file}: damaged at byte ${at}: a packet's length ${captured} exceeds its block; skipped`)
        } else {
          const ticks = (BigInt(view.getUint32(body + 4, little)) << 32n) | BigInt(view.getUint32(body + 8, little))
          const units = iface.unitsPerSecond
          const seconds = Number(ticks / units) + iface.offsetSeconds
          // Fractions are kept in ns at most, so they stay exact Numbers.
          const fractionUnits = units > 1000000000n ? 1000000000n : units
          const fraction = Number(((ticks % units) * fractionUnits) / units)
          lastSeconds = seconds
          lastFraction = fraction
          lastUnits = Number(fractionUnits)
          frames.push({
            data: bytes.subarray(body + 20, body + 20 + captured),
            linkType: iface.linkType,
            seconds,
            fraction,
            unitsPerSecond: lastUnits,
            untimed: false,
          })
        }
      }
    } else if (type === 3) {
      // Simple Packet Block: original length, then data up to the snap length; interface 0; no timestamp.
      const iface = interfaces[0]
      if (iface === undefined || bodyEnd - body < 4) {
        warnings.push(`${file}: simple packet block at byte ${at} has no interface; skipped`)
      } else {
        const original = view.getUint32(body, little)
        const captured = Math.min(original, bodyEnd - body - 4, iface.snapLength > 0 ? iface.snapLength : original)
        untimedCount++
        frames.push({
          data: bytes.subarray(body + 4, body + 4 + captured),
          linkType: iface.linkType,
          seconds: lastSeconds,
          fraction: lastFraction,
          unitsPerSecond: lastUnits,
          untimed: true,
        })
      }
    }
    at += length
  }
  if (untimedCount > 0)
    warnings.push(
      `${file}: ${untimedCount} Simple Packet Blocks carry no timestamp: they take the previous packet's time ` +
        '(replay by media timestamp for such captures)',
    )
  return { frames, warnings, format: 'pcapng' }
}

/** A UDP datagram: addresses, ports, payload and whether the payload was cut by the snap length. */
interface Datagram {
  sourceAddress: string
  destinationAddress: string
  sourcePort: number
  destinationPort: number
  payload: Uint8Array
  /** UDP payload bytes on the wire (payload may hold fewer). */
  wireLength: number
}

interface DecodeCounts {
  unsupportedLinkTypes: Set<number>
  fragments: number
  notIp: number
  notUdp: number
  malformed: number
}

/** Offset of the IP header in a frame of the given link type, or -1. */
function ipOffset(data: Uint8Array, linkType: number): number {
  let protocol: number
  let at: number
  switch (linkType) {
    case 1: // Ethernet
      if (data.length < 14) return -1
      protocol = (data[12]! << 8) | data[13]!
      at = 14
      break
    case 113: // Linux cooked (SLL): protocol at 14
      if (data.length < 16) return -1
      protocol = (data[14]! << 8) | data[15]!
      at = 16
      break
    case 276: // SLL2: protocol at 0
      if (data.length < 20) return -1
      protocol = (data[0]! << 8) | data[1]!
      at = 20
      break
    case 101:
    case 12:
    case 14:
    case 228:
    case 229:
      return 0
    case 0:
    case 108: // BSD loopback: a 4-byte address family; the IP version nibble tells
      return data.length > 4 ? 4 : -1
    default:
      return -2
  }
  // VLAN tags (802.1Q 0x8100, 802.1ad 0x88a8, old QinQ 0x9100), stacked.
  while (protocol === 0x8100 || protocol === 0x88a8 || protocol === 0x9100) {
    if (data.length < at + 4) return -1
    protocol = (data[at + 2]! << 8) | data[at + 3]!
    at += 4
  }
  return protocol === 0x0800 || protocol === 0x86dd ? at : -1
}

function ipv4String(data: Uint8Array, at: number): string {
  return `${data[at]}.${data[at + 1]}.${data[at + 2]}.${data[at + 3]}`
}

function ipv6String(data: Uint8Array, at: number): string {
  const groups: string[] = []
  for (let i = 0; i < 16; i += 2) groups.push(((data[at + i]! << 8) | data[at + i + 1]!).toString(16))
  // Compress the longest run of zero groups (RFC 5952).
  let bestStart = -1
  let bestLength = 1
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === '0') j++
    if (j - i > bestLength) {
      bestStart = i
      bestLength = j - i
    }
    i = j
  }
  if (bestStart < 0) return groups.join(':')
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLength).join(':')}`
}

function decodeUdp(frame: Frame, counts: DecodeCounts): Datagram | null {
  const data = frame.data
  const ip = ipOffset(data, frame.linkType)
  if (ip === -2) {
    counts.unsupportedLinkTypes.add(frame.linkType)
    return null
  }
  if (ip < 0 || ip >= data.length) {
    counts.notIp++
    return null
  }
  const version = data[ip]! >> 4
  let udp: number
  let ipEnd: number
  let sourceAddress: string
  let destinationAddress: string
  if (version === 4) {
    const headerBytes = (data[ip]! & 0x0f) * 4
    if (headerBytes < 20 || data.length < ip + headerBytes) {
      counts.malformed++
      return null
    }
    const totalLength = (data[ip + 2]! << 8) | data[ip + 3]!
    const flagsOffset = (data[ip + 6]! << 8) | data[ip + 7]!
    if ((flagsOffset & 0x3fff) !== 0) {
      counts.fragments++ // more-fragments flag or a fragment offset
      return null
    }
    if (data[ip + 9] !== 17) {
      counts.notUdp++
      return null
    }
    sourceAddress = ipv4String(data, ip + 12)
    destinationAddress = ipv4String(data, ip + 16)
    udp = ip + headerBytes
    ipEnd = totalLength >= headerBytes ? ip + totalLength : data.length // TSO captures may show 0
  } else if (version === 6) {
    if (data.length < ip + 40) {
      counts.malformed++
      return null
    }
    let next = data[ip + 6]!
    udp = ip + 40
    ipEnd = ip + 40 + ((data[ip + 4]! << 8) | data[ip + 5]!)
    for (let hops = 0; next !== 17 && hops < 8; hops++) {
      if (next === 44) {
        counts.fragments++
        return null
      }
      if (next !== 0 && next !== 43 && next !== 60 && next !== 51) break
      if (data.length < udp + 2) break
      const extensionBytes = next === 51 ? (data[udp + 1]! + 2) * 4 : (data[udp + 1]! + 1) * 8
      next = data[udp]!
      udp += extensionBytes
    }
    if (next !== 17) {
      counts.notUdp++
      return null
    }
    sourceAddress = ipv6String(data, ip + 8)
    destinationAddress = ipv6String(data, ip + 24)
  } else {
    counts.notIp++
    return null
  }
  if (data.length < udp + 8) {
    counts.malformed++
    return null
  }
  const udpLength = (data[udp + 4]! << 8) | data[udp + 5]!
  // UDP length 0 happens with jumbograms and some offload captures: take the IP length then.
  const wireEnd = udpLength >= 8 ? udp + udpLength : Math.max(ipEnd, udp + 8)
  const end = Math.min(wireEnd, data.length)
  return {
    sourceAddress,
    destinationAddress,
    sourcePort: (data[udp]! << 8) | data[udp + 1]!,
    destinationPort: (data[udp + 2]! << 8) | data[udp + 3]!,
    payload: data.subarray(udp + 8, Math.max(udp + 8, end)),
    wireLength: Math.max(0, wireEnd - udp - 8),
  }
}

/** An RTP packet as found, before streams are assembled. */
interface RtpPacket {
  seq: number
  rtpTimestamp: number
  ssrc: number
  marker: boolean
  payloadType: number
  payload: Uint8Array
  /** The payload was cut by the snap length. */
  isCut: boolean
  seconds: number
  fraction: number
  unitsPerSecond: number
}

function parseRtp(d: Datagram, frame: Frame): RtpPacket | 'rtcp' | null {
  const b = d.payload
  if (d.wireLength < RTP_HEADER_BYTES || b.length < RTP_HEADER_BYTES) return null
  if (b[0]! >> 6 !== 2) return null
  if (b[1]! >= 192 && b[1]! <= 223) return 'rtcp' // RTCP packet types 192–223 (RFC 5761)
  const payloadType = b[1]! & 0x7f
  if (payloadType > 34 && payloadType < 96) return null
  let header = RTP_HEADER_BYTES + (b[0]! & 0x0f) * 4
  if ((b[0]! & 0x10) !== 0) {
    if (b.length < header + 4) return null
    header += 4 + ((b[header + 2]! << 8) | b[header + 3]!) * 4
  }
  if (header > d.wireLength) return null
  let end = d.wireLength
  if ((b[0]! & 0x20) !== 0 && b.length === d.wireLength) {
    const padding = b[b.length - 1]!
    if (padding === 0 || header + padding > d.wireLength) return null
    end -= padding
  }
  const isCut = b.length < end
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength)
  return {
    seq: view.getUint16(2),
    rtpTimestamp: view.getUint32(4),
    ssrc: view.getUint32(8),
    marker: (b[1]! & 0x80) !== 0,
    payloadType,
    payload: b.subarray(Math.min(header, b.length), Math.min(end, b.length)),
    isCut,
    seconds: frame.seconds,
    fraction: frame.fraction,
    unitsPerSecond: frame.unitsPerSecond,
  }
}

function classify(payloadType: number, payloadLength: number): PacketContent {
  if (payloadType === 0 || payloadType === 8) return 'audio'
  if (payloadType === 13) return 'comfort-noise'
  if (payloadType >= 96 && payloadLength > 0 && payloadLength % 4 === 0 && payloadLength <= 64) return 'telephone-event'
  return 'unsupported'
}

interface StreamBuild {
  flowKey: string
  datagram: Datagram
  ssrc: number
  segment: number
  packets: RtpPacket[]
  arrivalMs: number[]
}

/** The caller's media address from a SIP INVITE (its SDP's c= and m=audio, else the packet's source). */
function sipCaller(d: Datagram): { address: string; port: number | null } | null {
  const b = d.payload
  if (b.length < 8 || b[0] !== 0x49 /* I */) return null
  const text = new TextDecoder('latin1').decode(b.subarray(0, Math.min(b.length, 8192)))
  if (!text.startsWith('INVITE ')) return null
  const connection = /\r?\nc=IN IP[46] ([0-9a-fA-F.:]+)/.exec(text)
  const media = /\r?\nm=audio (\d+) /.exec(text)
  if (connection) return { address: connection[1]!.toLowerCase(), port: media ? Number(media[1]) : null }
  return { address: d.sourceAddress, port: null }
}

function endpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`
}

/** Reads a pcap or pcapng file as a Capture. */
export function pcapCapture(bytes: Uint8Array, file: string, options: LoadCaptureOptions = {}): Capture {
  const kind = pcapFormat(bytes)
  if (kind === null) throw new CaptureError(file, 'not a pcap or pcapng file (unknown magic number)')
  const read = kind === 'pcap' ? readPcap(bytes, file) : readPcapng(bytes, file)
  const warnings = [...read.warnings]
  const counts: DecodeCounts = { unsupportedLinkTypes: new Set(), fragments: 0, notIp: 0, notUdp: 0, malformed: 0 }
  const builds = new Map<string, StreamBuild>()
  const order: StreamBuild[] = []
  const segmentsPerFlow = new Map<string, number>()
  let udpCount = 0
  let rtcpCount = 0
  let caller: { address: string; port: number | null } | null = null
  for (const frame of read.frames) {
    const datagram = decodeUdp(frame, counts)
    if (datagram === null) continue
    udpCount++
    if (
      caller === null &&
      (datagram.destinationPort === 5060 || datagram.sourcePort === 5060 || datagram.payload[0] === 0x49)
    )
      caller = sipCaller(datagram)
    const rtp = parseRtp(datagram, frame)
    if (rtp === null) continue
    if (rtp === 'rtcp') {
      rtcpCount++
      continue
    }
    const flowKey = `${datagram.sourceAddress}|${datagram.sourcePort}|${datagram.destinationAddress}|${datagram.destinationPort}`
    const key = `${flowKey}|${rtp.ssrc}`
    let build = builds.get(key)
    if (build === undefined) {
      const segment = segmentsPerFlow.get(flowKey) ?? 0
      segmentsPerFlow.set(flowKey, segment + 1)
      build = { flowKey, datagram, ssrc: rtp.ssrc, segment, packets: [], arrivalMs: [] }
      builds.set(key, build)
      order.push(build)
    }
    build.packets.push(rtp)
  }
  if (read.frames.length === 0) {
    const damage = read.warnings[0]?.slice(file.length + 2)
    throw new CaptureError(
      file,
      damage === undefined ? `no packets in the ${kind} file` : `no packet could be read: ${damage}`,
    )
  }
  if (counts.unsupportedLinkTypes.size > 0) {
    const types = [...counts.unsupportedLinkTypes].join(', ')
    if (udpCount === 0)
      throw new CaptureError(
        file,
        `link type ${types} is not supported (supported: Ethernet 1, Linux cooked SLL 113 / SLL2 276, raw IP 101/12/14/228/229, loopback 0/108)`,
      )
    warnings.push(`${file}: packets of unsupported link type ${types} skipped`)
  }
  if (counts.fragments > 0)
    warnings.push(`${file}: ${counts.fragments} IP fragments skipped (fragments are not reassembled)`)

  // Keep streams that look like RTP: ≥ 2 packets with nearly contiguous sequence numbers.
  const kept: StreamBuild[] = []
  for (const build of order) {
    if (build.packets.length < 2) continue
    const stats = sequenceStats(
      build.packets.map((p) => ({ seq: p.seq, rtpTimestamp: p.rtpTimestamp, arrivalMs: 0, isAudio: false })),
    )
    if (stats.sent > 2 * build.packets.length + 10) continue
    kept.push(build)
  }
  if (kept.length === 0)
    throw new CaptureError(
      file,
      `no RTP streams found (${read.frames.length} packets, ${udpCount} UDP${rtcpCount > 0 ? `, ${rtcpCount} RTCP` : ''})`,
    )

  // Arrival times relative to the earliest RTP packet.
  let baseSeconds = Infinity
  let baseFraction = 0
  let baseUnits = 1e6
  for (const build of kept)
    for (const p of build.packets)
      if (p.seconds + p.fraction / p.unitsPerSecond < baseSeconds + baseFraction / baseUnits) {
        baseSeconds = p.seconds
        baseFraction = p.fraction
        baseUnits = p.unitsPerSecond
      }
  const relativeMs = (p: RtpPacket): number =>
    (p.seconds - baseSeconds) * 1000 + (p.fraction / p.unitsPerSecond - baseFraction / baseUnits) * 1000

  const streams: StreamInfo[] = kept.map((build, index) => {
    const payloadTypes: Record<number, number> = {}
    let audio = 0
    let comfortNoise = 0
    let telephoneEvent = 0
    let pcmu = 0
    let pcma = 0
    const sequenced = build.packets.map((p) => {
      payloadTypes[p.payloadType] = (payloadTypes[p.payloadType] ?? 0) + 1
      const content = classify(p.payloadType, p.payload.length)
      if (content === 'audio') {
        audio++
        if (p.payloadType === 0) pcmu++
        else pcma++
      } else if (content === 'comfort-noise') comfortNoise++
      else if (content === 'telephone-event') telephoneEvent++
      const arrivalMs = relativeMs(p)
      build.arrivalMs.push(arrivalMs)
      return { seq: p.seq, rtpTimestamp: p.rtpTimestamp, arrivalMs, isAudio: content === 'audio' }
    })
    const stats = sequenceStats(sequenced, CLOCK_RATE_HZ)
    let payloadType = pcmu >= pcma && pcmu > 0 ? 0 : pcma > 0 ? 8 : -1
    if (payloadType < 0) {
      let most = 0
      for (const [pt, count] of Object.entries(payloadTypes))
        if (count > most) {
          most = count
          payloadType = Number(pt)
        }
    }
    const d = build.datagram
    return {
      index,
      sourceAddress: d.sourceAddress,
      sourcePort: d.sourcePort,
      destinationAddress: d.destinationAddress,
      destinationPort: d.destinationPort,
      source: endpoint(d.sourceAddress, d.sourcePort),
      destination: endpoint(d.destinationAddress, d.destinationPort),
      ssrc: build.ssrc,
      segment: build.segment,
      payloadType,
      codec: payloadType === 0 && audio > 0 ? 'PCMU' : payloadType === 8 && audio > 0 ? 'PCMA' : 'other',
      payloadTypes,
      packets: stats.packets,
      audioPackets: audio,
      comfortNoisePackets: comfortNoise,
      telephoneEventPackets: telephoneEvent,
      sent: stats.sent,
      lost: stats.lost,
      duplicates: stats.duplicates,
      reordered: stats.reordered,
      firstMs: build.arrivalMs.reduce((m, t) => Math.min(m, t), Infinity),
      lastMs: build.arrivalMs.reduce((m, t) => Math.max(m, t), -Infinity),
      meanJitterMs: stats.meanJitterMs,
      maxJitterMs: stats.maxJitterMs,
      role: null,
    }
  })

  const audioStreams = streams.filter((s) => s.codec !== 'other')
  if (audioStreams.length === 0) {
    const types = [...new Set(streams.map((s) => s.payloadType))].join(', ')
    throw new CaptureError(
      file,
      `no G.711 audio: ${streams.length} RTP stream${streams.length > 1 ? 's' : ''} with payload type ${types} (PCMU 0 and PCMA 8 are supported)`,
    )
  }

  // Near and far flows.
  const flowOf = (stream: StreamInfo): string => kept[stream.index]!.flowKey
  let nearStream: StreamInfo
  let reason: string
  if (options.nearStream !== undefined) {
    nearStream = selectStream(streams, options.nearStream, file, 'near')
    reason = 'as picked'
  } else {
    const byStart = [...audioStreams].sort((a, b) => a.firstMs - b.firstMs)
    const fromCaller =
      caller === null
        ? undefined
        : (byStart.find(
            (s) =>
              s.sourceAddress.toLowerCase() === caller.address &&
              (caller.port === null || s.sourcePort === caller.port),
          ) ?? byStart.find((s) => s.sourceAddress.toLowerCase() === caller.address))
    if (fromCaller !== undefined) {
      nearStream = fromCaller
      reason = "the caller's media address in the SIP INVITE"
    } else {
      nearStream = byStart[0]!
      reason = 'the first G.711 stream to start is taken as sent by the caller'
    }
  }
  const nearFlow = flowOf(nearStream)
  let farStream: StreamInfo | null = null
  if (options.farStream !== undefined) {
    farStream = options.farStream === null ? null : selectStream(streams, options.farStream, file, 'far')
  } else {
    const others = audioStreams.filter((s) => flowOf(s) !== nearFlow).sort((a, b) => a.firstMs - b.firstMs)
    farStream =
      others.find(
        (s) =>
          s.sourceAddress === nearStream.destinationAddress &&
          s.sourcePort === nearStream.destinationPort &&
          s.destinationAddress === nearStream.sourceAddress,
      ) ??
      others.find(
        (s) => s.sourceAddress === nearStream.destinationAddress && s.destinationAddress === nearStream.sourceAddress,
      ) ??
      others[0] ??
      null
  }
  if (farStream !== null && flowOf(farStream) === nearFlow)
    throw new CaptureError(file, `near and far are the same stream (${nearStream.source} → ${nearStream.destination})`)
  const farFlow = farStream === null ? null : flowOf(farStream)
  for (const s of streams) s.role = flowOf(s) === nearFlow ? 'near' : flowOf(s) === farFlow ? 'far' : null

  const near = buildTrack(kept, streams, nearFlow, file, warnings)
  if (near.packets.length === 0) throw new CaptureError(file, `the near stream ${nearStream.source} has no packets`)
  const far = farFlow === null ? null : buildTrack(kept, streams, farFlow, file, warnings)
  warnings.push(
    `${file}: near = ${nearStream.source} → ${nearStream.destination} (${reason}); far = ${
      farStream === null ? 'none' : `${farStream.source} → ${farStream.destination}`
    }`,
  )

  const firstArrival = near.packets.reduce((m, p) => Math.min(m, p.arrivalMs), Infinity)
  const lastArrival = near.packets.reduce((m, p) => Math.max(m, p.arrivalMs), -Infinity)
  const durationMs = lastArrival - firstArrival + near.frameMs
  const startEpochMs = baseSeconds * 1000 + (baseFraction / baseUnits) * 1000
  const nearInfo = streams.filter((s) => s.role === 'near')
  const lost = nearInfo.reduce((sum, s) => sum + s.lost, 0)
  const description =
    `${kind}, ${streams.length} RTP stream${streams.length > 1 ? 's' : ''} (${read.frames.length} packets), ` +
    `near ${nearStream.source} ${near.law === 'ulaw' ? 'PCMU' : 'PCMA'} ${near.packets.length} packets, ${lost} lost` +
    (far === null ? ', no far end' : `, far ${farStream!.source} ${far.packets.length} packets`) +
    `, ${(durationMs / 1000).toFixed(2)} s`
  return {
    file,
    format: kind,
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

function selectStream(streams: StreamInfo[], selector: StreamSelector, file: string, role: string): StreamInfo {
  let found: StreamInfo | undefined
  if (typeof selector === 'number') found = streams[selector]
  else {
    const text = selector.trim().toLowerCase()
    if (/^\d+$/.test(text)) found = streams[Number(text)]
    else if (/^0x[0-9a-f]{1,8}$/.test(text)) found = streams.find((s) => s.ssrc === parseInt(text, 16))
    else if (/^ssrc:\d+$/.test(text)) found = streams.find((s) => s.ssrc === Number(text.slice(5)))
    else found = streams.find((s) => s.source.toLowerCase() === text)
  }
  if (found === undefined) {
    const list = streams
      .map((s) => `${s.index}: ${s.source} → ${s.destination} 0x${hex8(s.ssrc)} ${s.codec}`)
      .join('; ')
    throw new CaptureError(file, `${role} stream '${String(selector)}' not found (streams: ${list})`)
  }
  if (found.codec === 'other')
    throw new CaptureError(file, `${role} stream ${found.source} carries payload type ${found.payloadType}, not G.711`)
  return found
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0')
}

/** All packets of one flow (every SSRC segment), in arrival order, as a G.711 packet track. */
function buildTrack(
  kept: StreamBuild[],
  streams: StreamInfo[],
  flowKey: string,
  file: string,
  warnings: string[],
): PacketTrack {
  const members = kept.map((b, i) => ({ build: b, info: streams[i]! })).filter((m) => m.build.flowKey === flowKey)
  let pcmu = 0
  let pcma = 0
  const lengths = new Map<number, number>()
  for (const m of members) {
    for (const p of m.build.packets) {
      if (p.payloadType === 0) pcmu++
      else if (p.payloadType === 8) pcma++
      else continue
      if (!p.isCut) lengths.set(p.payload.length, (lengths.get(p.payload.length) ?? 0) + 1)
    }
  }
  const law: G711Law = pcmu >= pcma ? 'ulaw' : 'alaw'
  // The usual payload length sets the frame duration (ptime); headers-only captures default to 20 ms.
  let frameBytes = 160
  let most = 0
  for (const [length, count] of lengths)
    if (count > most && length > 0) {
      most = count
      frameBytes = length
    }
  const frameMs = frameBytes / 8
  const silence = new Uint8Array(frameBytes).fill(law === 'ulaw' ? ULAW_SILENCE : ALAW_SILENCE)
  const entries: { packet: CapturePacket; order: number }[] = []
  let cut = 0
  let transcoded = 0
  let order = 0
  const scratch = new Float32Array(0x10000)
  for (const m of members) {
    m.build.packets.forEach((p, i) => {
      const content = classify(p.payloadType, p.payload.length)
      let payload: Uint8Array = silence
      if (content === 'audio') {
        if (p.isCut) cut++
        else if ((p.payloadType === 0) === (law === 'ulaw')) payload = p.payload.slice()
        else {
          // The other G.711 law inside the flow (a codec switch): transcode.
          const n = g711DecodeFloat(p.payloadType === 0 ? 'ulaw' : 'alaw', p.payload, scratch)
          payload = new Uint8Array(n)
          g711EncodeFloat(law, scratch, payload, n)
          transcoded++
        }
      }
      entries.push({
        order: order++,
        packet: {
          seq: p.seq,
          rtpTimestamp: p.rtpTimestamp,
          arrivalMs: m.build.arrivalMs[i]!,
          payload,
          ssrc: p.ssrc,
          marker: p.marker,
          content,
          payloadType: p.payloadType,
        },
      })
    })
  }
  // Arrival order across segments (stable: capture order for equal times).
  entries.sort((a, b) => a.packet.arrivalMs - b.packet.arrivalMs || a.order - b.order)
  const first = members[0]!.info
  if (cut > 0)
    warnings.push(
      `${file}: ${cut} packets of ${first.source} were cut by the capture's snap length: their audio is silence ` +
        '(timing and loss are still exact)',
    )
  if (transcoded > 0) warnings.push(`${file}: ${transcoded} packets of ${first.source} switched G.711 law: transcoded`)
  const segments = members.length
  if (segments > 1) warnings.push(`${file}: ${first.source} changed SSRC ${segments - 1} time(s): ${segments} segments`)
  return { kind: 'packets', law, packets: entries.map((e) => e.packet), timing: 'arrival', frameMs }
}

/**
 * The common result of every capture reader (WAV, Twilio Media Streams log, pcap, pcapng), shaped for a replay engine
 * that feeds the pipeline:
 * - a 'pcm' track is audio at 16 kHz, Float32 in [-1, 1], ready for the pipeline's 16 kHz side (no network stage);
 * - a 'packets' track is the G.711 packets as they reached the capture point, in arrival order, each with its RTP
 *   sequence number, RTP timestamp and arrival time: what NetworkReceiver.push(payload, seq, rtpTimestamp, arrivalMs,
 *   ssrc) takes, so the capture's real jitter, loss, duplicates and reordering reach the jitter buffer.
 * Plain data only (typed arrays, numbers, strings): a Capture can be posted to a worker or structured-cloned.
 */
import type { NetworkParams, NetworkProfileName, SimulationStats } from '../../dsp/network-simulator'

export type CaptureFormat = 'wav' | 'twilio' | 'pcap' | 'pcapng'

/** 16 kHz audio, already decoded and resampled. */
export interface PcmTrack {
  kind: 'pcm'
  sampleRateHz: 16000
  samples: Float32Array
}

/**
 * What a packet carries:
 * - 'audio': G.711 in the track's law;
 * - 'comfort-noise' (RTP payload type 13, RFC 3389) and 'telephone-event' (DTMF, RFC 4733): recognised and not played.
 *   They share the stream's sequence numbers, so they stay in the track (with a silent payload of one frame) and a
 *   replay that pushes every packet sees no false gap; filter on `content` to skip them instead;
 * - 'unsupported': another codec's payload type inside a G.711 flow (also a silent frame).
 * A packet whose audio was cut by the capture's snap length keeps content 'audio' with a silent payload (warned).
 */
export type PacketContent = 'audio' | 'comfort-noise' | 'telephone-event' | 'unsupported'

export interface CapturePacket {
  /** RTP sequence number, 16 bit (wraps). */
  seq: number
  /** RTP timestamp, 32 bit (wraps), in 8 kHz samples. */
  rtpTimestamp: number
  /** Arrival time at the capture point, ms since the capture's first packet (Capture.startEpochMs). */
  arrivalMs: number
  /** G.711 codes in the track's law; a silent frame for non-audio packets. */
  payload: Uint8Array
  /** Synchronisation source; a change starts a new stream segment (the jitter buffer resyncs on it). */
  ssrc: number
  /** RTP marker bit (start of a talk spurt). */
  marker: boolean
  content: PacketContent
  /** RTP payload type as captured (0 = PCMU, 8 = PCMA, 13 = CN, dynamic for telephone-event); -1 when not RTP. */
  payloadType: number
}

/**
 * G.711 packets in arrival order. timing 'arrival': arrivalMs is the real capture / receive time (pcap, Twilio lines
 * with a receive time); 'media-timestamp': no receive time was recorded, so arrivalMs is the media clock (no jitter).
 */
export interface PacketTrack {
  kind: 'packets'
  law: 'ulaw' | 'alaw'
  packets: CapturePacket[]
  timing: 'arrival' | 'media-timestamp'
  /** Audio per packet, ms (the usual payload length / 8): 20 for Twilio; 10, 20, 30 or 40 in RTP captures. */
  frameMs: number
}

export type CaptureTrack = PcmTrack | PacketTrack

/** One RTP stream of a pcap/pcapng: one 5-tuple and one SSRC (an SSRC change on the same 5-tuple is a new segment). */
export interface StreamInfo {
  /** Position in Capture.streams (in order of first packet), the handle to pick it as near or far. */
  index: number
  sourceAddress: string
  sourcePort: number
  destinationAddress: string
  destinationPort: number
  /** 'ip:port' (IPv6 as '[addr]:port'). */
  source: string
  destination: string
  ssrc: number
  /** Nth SSRC seen on this 5-tuple (0 for the first): SSRC changes split a flow into segments. */
  segment: number
  /** Payload type of most audio packets (0 or 8), else the most frequent one. */
  payloadType: number
  codec: 'PCMU' | 'PCMA' | 'other'
  /** Packets per payload type. */
  payloadTypes: Record<number, number>
  /** Received packets, duplicates included. */
  packets: number
  audioPackets: number
  comfortNoisePackets: number
  telephoneEventPackets: number
  /** Packets the sender sent over the received span: highest − lowest extended sequence number + 1. */
  sent: number
  /** sent − unique received, never negative. */
  lost: number
  /** Copies of a sequence number already received. */
  duplicates: number
  /** Packets that arrived after one with a higher sequence number (not counting duplicates). */
  reordered: number
  /** First and last arrival, ms since the capture's first packet. */
  firstMs: number
  lastMs: number
  /** RFC 3550 interarrival jitter J, mean over the packets and maximum, ms (as Wireshark's RTP stream analysis). */
  meanJitterMs: number
  maxJitterMs: number
  /** Which track this stream's flow was chosen for. */
  role: 'near' | 'far' | null
}

/** A capture replayed through the network simulator (impairCapture). */
export interface CaptureImpairment {
  profile: NetworkProfileName | null
  params: NetworkParams
  seed: number
  /** The near track's simulation (sent, lost, delivered, duplicated, reordered…). */
  stats: SimulationStats
}

export interface Capture {
  /** The path (or name) given to the loader. */
  file: string
  format: CaptureFormat
  /** One line for humans: codec, rate, channels, streams. */
  description: string
  /** The caller's side: the pipeline's input (mic). */
  near: CaptureTrack
  /** The bot's side: the AEC reference; null when the capture has none. */
  far: CaptureTrack | null
  /** Length of the near track, ms (packets: last arrival − first arrival + one frame). */
  durationMs: number
  /** Wall-clock time of arrivalMs = 0, ms since 1970, when the capture records one. */
  startEpochMs: number | null
  /** Everything skipped, repaired or guessed; each names the file (and the line or byte offset where one applies). */
  warnings: string[]
  /** pcap/pcapng: every RTP stream found; otherwise empty. */
  streams: StreamInfo[]
  /** Set by impairCapture. */
  impairment: CaptureImpairment | null
}

/**
 * Picks a pcap stream: its index in Capture.streams, its SSRC ('0x1234abcd' or a number ≥ 0 with `ssrc:` prefix,
 * e.g. 'ssrc:305441741'), or its source address 'ip:port'. The whole flow (5-tuple) of that stream is taken, all SSRC
 * segments in order.
 */
export type StreamSelector = number | string

export interface LoadCaptureOptions {
  /** A separate far-end WAV (for a WAV capture; ignored otherwise, with a warning). */
  farPath?: string
  /** WAV channel map: which channel (0-based) is near and which is far (null: none). Default near 0, far 1. */
  channels?: { near: number; far: number | null }
  /** pcap: the stream to use as near (default: the stream sent by the caller, see pcap.ts). */
  nearStream?: StreamSelector
  /** pcap: the stream to use as far (default: the audio stream going the opposite way). */
  farStream?: StreamSelector | null
  /** Largest file read, bytes (default 1 GiB). */
  maxBytes?: number
}

export class CaptureError extends Error {
  readonly file: string
  /** Byte offset of the problem, when there is one. */
  readonly offset: number | null

  constructor(file: string, problem: string, offset: number | null = null) {
    super(`${file}: ${problem}`)
    this.name = 'CaptureError'
    this.file = file
    this.offset = offset
  }
}

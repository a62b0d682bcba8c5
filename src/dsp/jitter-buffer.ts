/**
 * JitterBuffer: adaptive playout buffer for decoded 8 kHz RTP frames (before resampling). Packets go in as they
 * arrive (`push`), in any order; the caller's 20 ms clock calls `playout` once per frame and gets the next frame in
 * sequence order, or an outcome telling it to conceal or to output silence.
 *
 * Storage: a preallocated ring of `capacity` slots (a power of two ≥ 2·maxDelayMs + 8 frames: 32 at the defaults,
 * as no packet arrives further ahead of the playout pointer than its depth; see CAPACITY_MARGIN_FRAMES), indexed by
 * seq mod capacity. push copies the payload into its slot (padded/truncated to one frame, sanitised; as
 * Float32, or as 16-bit PCM with `sampleFormat: 'int16'`, which holds decoded G.711 exactly in half the memory; a
 * Float32 payload goes in and out of 16 bits without a per-sample branch, two samples per 32-bit word on
 * little-endian hosts); nothing is allocated in push or playout. A SEEN_WINDOW-bit "seen" map indexed by seq mod SEEN_WINDOW (cleared half
 * a window behind the playout pointer) recognises duplicates up to SEEN_WINDOW / 2 packets (41 s at 20 ms) behind or
 * ahead, across the 16-bit wrap; an older copy is booked late instead (it is never played either way).
 *
 * Playout model (timestamp-driven playout, RFC 3550 §6.4.1 receiver model, as WebRTC NetEq):
 * - The sender's clock maps to the local clock through the fastest packet of a sliding window,
 *   baseMs = min(arrivalMs − tsMs); a frame played at nowMs has depthMs = nowMs − tsMs − baseMs: how long the
 *   fastest packet would have waited. METRICS.md's "depth" is the same quantity.
 * - Each tick plays the frame at the pointer (nextSeq) once depthMs ≥ targetMs, so frames settle on the smallest
 *   point of the caller's 20 ms grid at or above the target. A target that rises above the depth is met by
 *   'inserted' frames (the caller conceals, the pointer holds). A frame absent at its turn is 'missing': if later
 *   packets are buffered it is lost or late and the pointer moves on; if the buffer is empty (an underrun, more
 *   likely a delay spike than a loss) the pointer holds, up to maxDelayMs, so a spike's packets still play. If it
 *   was a loss after all, the packet after the gap arrives on time, the held pointer is then too deep and skips the
 *   absent frames (next point): a lost burst that empties the buffer still takes one concealed frame per lost
 *   packet, and its remaining frames can be interpolated towards that packet (peekNext; test/dsp/plc-receiver.test.ts).
 * - Too deep by a frame or more: absent frames are skipped at once (no cost); otherwise one present frame is
 *   dropped per tick, a quiet one (< −50 dBFS) if possible, after SHRINK_PATIENCE_TICKS (2+ frames too deep) or
 *   SHRINK_SLOW_TICKS (1–2 frames: a hysteresis band, so a target hovering at a grid step does not trade drops
 *   for insertions). Dropped packets count as late. Every packet is played at most once and in order, and each
 *   tick outputs exactly one frame.
 * - 'idle' before the first packet's playout time, and once the buffer is empty and nothing has arrived for
 *   quietMs (max(500, 2·maxDelayMs)): the stream has gone quiet; the next packet starts playout afresh.
 *
 * Adaptive target (mode 'adaptive'), two parts:
 * - Jitter: the DELAY_QUANTILE (99th percentile) of the relative delays (arrivalMs − tsMs) − baseMs over the last
 *   DELAY_WINDOW_PACKETS (1000 = 20 s, about NetEq's histogram time constant) non-spike packets, kept exactly
 *   sorted (O(window) per packet, no allocation): the delay-quantile playout of Ramjee et al. (INFOCOM 1994) and
 *   Moon et al. (1998), as in NetEq's DelayManager.
 * - Spikes: a packet more than SPIKE_MARGIN_MS above the jitter quantile belongs to a spike (packets within
 *   SPIKE_GAP_MS are one spike: a FIFO burst). Spikes are remembered for 60 s; the spike level is the smallest
 *   depth at which the remembered spikes, leaving out the costliest, would have cost at most SPIKE_BUDGET_PACKETS
 *   (8) late frames. An isolated spike is therefore absorbed (held, then shrunk back) rather than inflating the
 *   delay for a minute; recurring spikes raise it, like NetEq's DelayPeakDetector, but sized by a late budget.
 * The target follows max(jitter quantile, spike level) up at once and down by at most TARGET_DECAY_MS_PER_S
 * (10 ms/s, half a frame per second), clamped to [minDelayMs, maxDelayMs]. The configured targetDelayMs holds
 * until WARMUP_PACKETS (1 s) have arrived. Mode 'fixed' plays at targetDelayMs above the fastest packet.
 * Tuned on 60 s simulated traces (test/dsp/jitter-buffer.test.ts, minDelayMs 0) against METRICS.md's hindsight-
 * optimal depth: late loss ≤ 1 % and mean depth ≤ max(1.3 × optimal, optimal + 20 ms) on every test trace; over
 * 14 seeds × 6 profiles × 3 grid phases it met both on 244 of 252 runs (the rest: traces whose two largest
 * spikes come late, which no causal rule foresees).
 *
 * Early packets beyond the ring (a burst after a delay spike longer than quietMs, which idled the buffer, arrives up to
 * the spike's length ahead; differs from a 64-slot ring only for spikes over ~600 ms at the defaults): the pointer
 * slides on to make room, dropping (late) the oldest packets held, as the shrink would have dropped them over the
 * next ticks at a much larger depth.
 *
 * Resynchronisation: a packet whose seq is ≥ the stream's reach (reachFor: 64 at the defaults) ahead of the pointer
 * or whose timestamp disagrees with its seq by more than RESYNC_FRAMES frames (a seq jump, a timestamp jump, a sender restart), or whose SSRC changed,
 * starts a new stream instead of concealing thousands of frames. Without an SSRC change, the jump must be
 * confirmed by a second packet that agrees with it (one stray packet cannot flush the buffer); the first one is
 * held meanwhile. On resync the old stream's buffered packets are flushed (counted) and its late stragglers are
 * recognised (they agree with its last seq/timestamp) and dropped as late. The target delay carries over.
 *
 * Metrics: RFC 3550 §6.4.1 / A.8 interarrival jitter J in arrival order (D = (Rᵢ − Rᵢ₋₁) − (Sᵢ − Sᵢ₋₁),
 * J += (|D| − J)/16, ms, duplicates excluded) with its mean over packets (Wireshark's "Mean Jitter") and max;
 * network loss rate 1 − received/expected (RFC 3550 A.3, duplicates excluded); late, duplicate, out-of-order,
 * concealed (missing + inserted), dropped, skipped, flushed counts; target and current depth; adjustments; resyncs.
 * Wireshark's jitter equals this one on in-order traces; with reordering it differs (it measures a reordered packet
 * against the last in-order one and counts duplicates).
 *
 * Limits: no time-scale modification (growing and shrinking are whole frames, as concealment and drops; the
 * caller's PLC smooths them); clock drift is tracked only through the sliding minimum; DTX timestamp gaps larger
 * than RESYNC_FRAMES restart the stream (harmless: the buffer is empty after silence); a stream's end is concealed
 * for up to quietMs before 'idle'.
 */
import { float32ToInt16, INT16_SCALE, int16ToFloat32, INT16_UNIT, LITTLE_ENDIAN } from './int16'
import { sanitize, seqDiff, timestampDiff } from './units'

export type JitterBufferMode = 'adaptive' | 'fixed'

export interface JitterBufferConfig {
  sampleRateHz: number
  /** Duration of one packet / frame, ms. */
  frameMs: number
  /** Lower bound of the adaptive target, ms (JITTER_BUFFER_MIN_MS). */
  minDelayMs: number
  /** Fixed-mode delay and adaptive starting point, ms (JITTER_BUFFER_TARGET_MS). */
  targetDelayMs: number
  /** Upper bound of the adaptive target, ms (JITTER_BUFFER_MAX_MS). */
  maxDelayMs: number
  mode: JitterBufferMode
  /**
   * Storage of the slots: 'float32' (default, exact) or 'int16' (16-bit PCM, half the memory: lossless for G.711
   * payloads, whose decoded values are 16-bit steps; others are rounded to the nearest 1/32768).
   */
  sampleFormat: JitterBufferSampleFormat
}

export type JitterBufferSampleFormat = 'float32' | 'int16'

/**
 * 'ok': `out` holds the next frame in order. 'missing': the next frame is absent at its playout time (lost or
 * late); the caller conceals. 'inserted': the buffer is growing its delay; the caller conceals (stretches).
 * 'idle': no stream yet, waiting for the first playout time, or the stream has gone quiet; the caller outputs
 * silence. `out` is zeroed for every outcome but 'ok'.
 */
export type PlayoutOutcome = 'ok' | 'missing' | 'inserted' | 'idle'

/**
 * 'stored': buffered for playout. 'late': its playout time has passed (or a straggler of a previous stream).
 * 'duplicate': already received. 'pending': a possible new stream, held until a second packet confirms it.
 * 'resync': started a new stream. 'invalid': non-finite seq, timestamp or arrival time.
 */
export type PushOutcome = 'stored' | 'late' | 'duplicate' | 'pending' | 'resync' | 'invalid'

export interface JitterBufferMetrics {
  /** RFC 3550 interarrival jitter J, ms (current value). */
  jitterMs: number
  /** Mean of J over the packets after each stream's first (Wireshark's Mean Jitter), ms. */
  meanJitterMs: number
  /** Largest J seen, ms. */
  maxJitterMs: number
  /** Network loss: 1 − received / expected (duplicates excluded; late packets count as received). */
  lossRate: number
  /** Late packets (including shrink drops and stragglers) / expected. */
  lateRate: number
  /** Packets expected from the sequence numbers (highest − first + 1, summed over streams). */
  expected: number
  /** Distinct packets received (late ones included). */
  received: number
  /** Packets that came after their playout time, were dropped to shrink the buffer, or straggled after a resync. */
  late: number
  duplicate: number
  /** Packets that arrived after a packet with a higher sequence number. */
  outOfOrder: number
  /** Frames the caller had to conceal: missing + inserted. */
  concealed: number
  missing: number
  inserted: number
  /** Packets dropped to shrink the buffer (also counted in late). */
  dropped: number
  /** Absent frames skipped to shrink the buffer (never concealed; late if they come). */
  skipped: number
  /** 'missing' frames with an empty buffer: the pointer held (the delay grew by a frame). */
  underruns: number
  /** Buffered packets discarded by a resync. */
  flushed: number
  /** Invalid packets and unconfirmed stream-jump candidates that were replaced. */
  discarded: number
  played: number
  /** Current target depth, ms. */
  targetDelayMs: number
  /** Depth of the frame just output: nowMs − its send time on the local clock − the fastest packet's delay, ms. */
  bufferDelayMs: number
  /**
   * How far this tick moved the playout timeline against the caller's clock, ms: one frame period minus the media
   * time the pointer covered since the last tick's frame. +frameMs for a frame inserted or held (the delay grows),
   * −frameMs per frame dropped or skipped (it shrinks), 0 for a frame played or concealed in turn; 0 on the first
   * frame of a stream and after idle. An echo canceller downstream sees its echo path move by exactly this.
   */
  playoutShiftMs: number
  /** Mean of (playout time − arrival time) over the packets played, ms (METRICS.md "mean buffer delay"). */
  meanBufferDelayMs: number
  bufferedPackets: number
  /** Frames inserted (grow) plus frames skipped (shrink). */
  adjustments: number
  resyncs: number
  nonFiniteSamples: number
}

export const JITTER_BUFFER_DEFAULTS: Readonly<JitterBufferConfig> = {
  sampleRateHz: 8000,
  frameMs: 20,
  minDelayMs: 40,
  targetDelayMs: 80,
  maxDelayMs: 200,
  mode: 'adaptive',
  sampleFormat: 'float32',
}

/** Quantile of the (non-spike) relative delays that sets the jitter target (late loss ≈ 1 − quantile). */
const DELAY_QUANTILE = 0.99
/** Sliding window of the delay statistics: 1000 packets = 20 s of 20 ms frames. */
const DELAY_WINDOW_PACKETS = 1000
/** Seqs the duplicate map covers (a power of two dividing 65536): ± 2048 packets around the pointer, 512 bytes. */
const SEEN_WINDOW = 4096
/** Packets before the measured quantile replaces the configured starting target (1 s). */
const WARMUP_PACKETS = 50
/** Slow decay of the target: 10 ms/s = half a frame per second. */
const TARGET_DECAY_MS_PER_S = 10
/** Seq/timestamp disagreement, in frames, beyond which a packet belongs to another stream (1 s). */
const RESYNC_FRAMES = 50
/** A new-stream candidate is confirmed by a packet within this many seqs of it. */
const CONFIRM_SEQ_SPAN = 16
/** A packet delayed more than SPIKE_MARGIN_MS beyond the jitter target is part of a delay spike. */
const SPIKE_MARGIN_MS = 40
/** Spike packets arriving within SPIKE_GAP_MS of the previous one belong to the same spike (a FIFO burst). */
const SPIKE_GAP_MS = 200
/** A "spike" longer than this many packets is a lasting delay shift: its packets join the jitter statistics. */
const SPIKE_RUN_MAX_PACKETS = 50
/** Spikes are remembered for 60 s ... */
const SPIKE_MEMORY_MS = 60_000
/** ... and the buffer accepts losing this many packets to them (0.27 % of 60 s, besides the costliest spike). */
const SPIKE_BUDGET_PACKETS = 8
/** Spike events remembered at most. */
const SPIKE_EVENTS = 32
/** Ticks the buffer may stay two or more frames too deep waiting for a quiet frame to drop (100 ms). */
const SHRINK_PATIENCE_TICKS = 5
/** Ticks the buffer must stay between one and two frames too deep before it drops a loud frame (2 s): a
 * hysteresis band, so a target hovering around a grid step does not trade drops for insertions. */
const SHRINK_SLOW_TICKS = 100
/** Mean square below which a frame is quiet enough to drop unnoticed: 1e-5 ≈ −50 dBFS. */
const QUIET_POWER = 1e-5
/**
 * Ring slots (capacityFor): a packet arrives at most depth / frame frames ahead of the playout pointer (its own depth
 * is ≥ 0: the base is the window's fastest packet, itself included; reordering and duplicates are bounded the same
 * way), and the pointer's depth stays within maxDelayMs + 2 frames (the underrun hold stops at maxDelayMs; deeper, the
 * shrink skips or drops). The ring covers 2·maxDelayMs, so the base may also drop by up to maxDelayMs at once (a
 * stream that starts inside a delay spike), plus this margin, rounded up to a power of two: 32 slots at the defaults.
 * A packet further ahead but within reach (reachFor) moves the pointer on (slide); beyond reach it is a jump.
 */
const CAPACITY_MARGIN_FRAMES = 8
const CAPACITY_MIN = 16

const MODES: readonly JitterBufferMode[] = ['adaptive', 'fixed']

export class JitterBuffer {
  readonly metrics: JitterBufferMetrics = {
    jitterMs: 0,
    meanJitterMs: 0,
    maxJitterMs: 0,
    lossRate: 0,
    lateRate: 0,
    expected: 0,
    received: 0,
    late: 0,
    duplicate: 0,
    outOfOrder: 0,
    concealed: 0,
    missing: 0,
    inserted: 0,
    dropped: 0,
    skipped: 0,
    underruns: 0,
    flushed: 0,
    discarded: 0,
    played: 0,
    targetDelayMs: 0,
    bufferDelayMs: 0,
    playoutShiftMs: 0,
    meanBufferDelayMs: 0,
    bufferedPackets: 0,
    adjustments: 0,
    resyncs: 0,
    nonFiniteSamples: 0,
  }
  /** Sequence number of the packet output by the last 'ok' playout (−1 before any). */
  lastPlayedSeq = -1
  /** RTP timestamp of the packet output by the last 'ok' playout. */
  lastPlayedTimestamp = 0
  /** Arrival time of the packet output by the last 'ok' playout, ms. */
  lastPlayedArrivalMs = 0
  lastOutcome: PlayoutOutcome = 'idle'

  private config: JitterBufferConfig
  private frameSamples = 0
  private capacity = 0
  private mask = 0
  /** Seqs ahead of the pointer (with a timestamp that agrees) still taken for the same stream; beyond: a jump. */
  private reachFrames = 0
  private quietMs = 0
  /** Slot payloads, capacity × frameSamples. */
  private slotSamples = new Float32Array(0)
  /** The slots as 16-bit PCM when sampleFormat is 'int16' (slotSamples is then empty). */
  private slotSamples16 = new Int16Array(0)
  /** slotSamples16's memory as pairs of samples, one 32-bit word each (little-endian hosts; empty otherwise). */
  private slotPairs16 = new Int32Array(0)
  private isInt16 = false
  /** Seq held by each slot. */
  private slotSeq = new Int32Array(0)
  /** Timestamp of each slot relative to the stream anchor, samples. */
  private slotTimestamp = new Float64Array(0)
  private slotArrivalMs = new Float64Array(0)
  /** 1 while a slot holds a packet waiting to be played. */
  private slotFull = new Uint8Array(0)
  /** Seqs received in the current stream, one bit per seq mod SEEN_WINDOW (cleared half a window behind the pointer). */
  private readonly seen = new Uint32Array(SEEN_WINDOW >>> 5)
  /** New-stream candidate held until confirmed. */
  private pendingSamples = new Float32Array(0)
  private hasPending = false
  private pendingSeq = 0
  private pendingTimestamp = 0
  private pendingArrivalMs = 0
  private pendingSsrc = -1

  // Current stream.
  private hasStream = false
  private streamSsrc = -1
  /** RTP timestamp that maps to 0 (the stream's first packet). */
  private anchorTimestamp = 0
  private isPlaying = false
  private hasPlayedInStream = false
  /** Playout pointer: the next seq to output, and its timestamp relative to the anchor (samples). */
  private nextSeq = 0
  private nextTimestamp = 0
  private buffered = 0
  private highestSeq = 0
  private highestExtended = 0
  private firstExtended = 0
  private expectedBefore = 0
  private lastArrivalMs = 0
  private overDeepTicks = 0
  private lastTickMs = Number.NaN
  /** Media time of the frame output by the last non-idle playout of this stream, ms (NaN: none yet). */
  private lastOutputMediaMs = Number.NaN

  // Previous stream, to recognise its stragglers after a resync.
  private hasPrevious = false
  private previousSeq = 0
  private previousTimestamp = 0
  private previousSsrc = -1

  // RFC 3550 jitter.
  private hasTransit = false
  private lastTransitMs = 0
  private jitterCount = 0

  // Delay statistics: the window's relative delays kept sorted, in Float32 as offsets from delayAnchorMs (the window's
  // first delay; absolute relative delays reach ~5e8 ms, where Float32 would keep only 32 ms, while offsets within
  // hours of drift keep < 0.001 ms), each with its arrival slot (delayHead when it came) so that the oldest is found
  // without a second, arrival-order copy of the values: 5.9 KiB instead of 16.
  private readonly delaySorted = new Float32Array(DELAY_WINDOW_PACKETS)
  private readonly delaySlot = new Uint16Array(DELAY_WINDOW_PACKETS)
  private delayAnchorMs = 0
  private delayCount = 0
  private delayHead = 0
  private packetsSinceStart = 0
  private isWarm = false
  /** Fastest relative delay in the window, ms (the local time of the sender's clock zero). */
  private baseMs = 0
  /** Quantile of (relative delay − baseMs) over the window, ms. */
  private measuredTargetMs = 0
  private targetMs = 0
  /** Quantile follower: takes measuredTargetMs when it rises, decays by TARGET_DECAY_MS_PER_S otherwise, ms. */
  private followerMs = 0
  /** Delay spikes: arrival time and peak relative delay of each (ring of SPIKE_EVENTS). */
  private readonly spikeTimeMs = new Float64Array(SPIKE_EVENTS)
  private readonly spikePeakMs = new Float64Array(SPIKE_EVENTS)
  private spikeCount = 0
  private spikeHead = 0
  private lastSpikeArrivalMs = Number.NEGATIVE_INFINITY
  private spikeRunPackets = 0
  /** Smallest depth at which the remembered spikes would cost at most SPIKE_BUDGET_PACKETS late packets, ms. */
  private spikeLevelMs = 0
  private playedDelaySumMs = 0

  constructor(config: Partial<JitterBufferConfig> = {}) {
    this.config = { ...JITTER_BUFFER_DEFAULTS }
    this.configure(config)
  }

  get currentConfig(): Readonly<JitterBufferConfig> {
    return this.config
  }

  /**
   * Validates and applies a partial config. Changing sampleRateHz, frameMs or the slot capacity implied by
   * maxDelayMs reallocates and resets (cold path); the delay bounds and mode take effect at the next tick.
   */
  configure(patch: Partial<JitterBufferConfig>): void {
    const next: JitterBufferConfig = { ...this.config }
    for (const key of Object.keys(patch) as (keyof JitterBufferConfig)[]) {
      const value = patch[key]
      if (value !== undefined) (next as unknown as Record<string, unknown>)[key] = value
    }
    validateConfig(next)
    const frameSamples = Math.round((next.sampleRateHz * next.frameMs) / 1000)
    const capacity = capacityFor(next)
    const isInt16 = next.sampleFormat === 'int16'
    const resize = frameSamples !== this.frameSamples || capacity !== this.capacity || isInt16 !== this.isInt16
    this.config = next
    this.quietMs = Math.max(500, 2 * next.maxDelayMs)
    this.reachFrames = reachFor(next)
    if (resize) {
      this.frameSamples = frameSamples
      this.capacity = capacity
      this.mask = capacity - 1
      this.isInt16 = isInt16
      this.slotSamples = new Float32Array(isInt16 ? 0 : capacity * frameSamples)
      this.slotSamples16 = new Int16Array(isInt16 ? capacity * frameSamples : 0)
      this.slotPairs16 = LITTLE_ENDIAN
        ? new Int32Array(this.slotSamples16.buffer, 0, this.slotSamples16.length >> 1)
        : new Int32Array(0)
      this.slotSeq = new Int32Array(capacity)
      this.slotTimestamp = new Float64Array(capacity)
      this.slotArrivalMs = new Float64Array(capacity)
      this.slotFull = new Uint8Array(capacity)
      this.pendingSamples = new Float32Array(frameSamples)
      this.reset()
    } else {
      // Before warm-up the configured target is the adaptive starting point; after, adaptation carries on.
      if (!this.isWarm) this.followerMs = next.targetDelayMs
      this.targetMs = this.clampTarget(next.mode === 'fixed' ? next.targetDelayMs : this.followerMs)
      this.metrics.targetDelayMs = this.targetMs
    }
  }

  /** Forgets every packet, the stream and the statistics; keeps the buffers and the config. */
  reset(): void {
    this.slotFull.fill(0)
    this.slotSeq.fill(-1)
    this.seen.fill(0)
    this.hasPending = false
    this.hasStream = false
    this.isPlaying = false
    this.hasPlayedInStream = false
    this.buffered = 0
    this.expectedBefore = 0
    this.hasPrevious = false
    this.hasTransit = false
    this.jitterCount = 0
    this.delayCount = 0
    this.delayHead = 0
    this.packetsSinceStart = 0
    this.isWarm = false
    this.baseMs = 0
    this.measuredTargetMs = 0
    this.targetMs = this.clampTarget(this.config.targetDelayMs)
    this.followerMs = this.targetMs
    this.spikeCount = 0
    this.spikeHead = 0
    this.spikeRunPackets = 0
    this.lastSpikeArrivalMs = Number.NEGATIVE_INFINITY
    this.spikeLevelMs = 0
    this.overDeepTicks = 0
    this.lastTickMs = Number.NaN
    this.lastOutputMediaMs = Number.NaN
    this.playedDelaySumMs = 0
    this.lastPlayedSeq = -1
    this.lastPlayedTimestamp = 0
    this.lastPlayedArrivalMs = 0
    this.lastOutcome = 'idle'
    const m = this.metrics
    m.jitterMs = m.meanJitterMs = m.maxJitterMs = m.lossRate = m.lateRate = 0
    m.expected = m.received = m.late = m.duplicate = m.outOfOrder = 0
    m.concealed = m.missing = m.inserted = m.dropped = m.skipped = m.underruns = m.flushed = m.discarded = m.played = 0
    m.bufferDelayMs = m.meanBufferDelayMs = m.bufferedPackets = m.adjustments = m.resyncs = m.nonFiniteSamples = 0
    m.playoutShiftMs = 0
    m.targetDelayMs = this.targetMs
  }

  /**
   * Takes one received packet: its decoded samples (any length: padded or truncated to one frame), 16-bit seq,
   * 32-bit RTP timestamp, arrival time on the caller's clock (ms) and, when known, its SSRC (a change restarts
   * the stream at once). Allocates nothing; never throws.
   */
  push(payload: ArrayLike<number>, seq: number, rtpTimestamp: number, arrivalMs: number, ssrc = -1): PushOutcome {
    if (!Number.isFinite(seq) || !Number.isFinite(rtpTimestamp) || !Number.isFinite(arrivalMs)) {
      this.metrics.discarded++
      return 'invalid'
    }
    seq &= 0xffff
    rtpTimestamp >>>= 0
    ssrc = Number.isFinite(ssrc) ? ssrc >>> 0 : -1
    if (!this.hasStream) {
      this.startStream(seq, rtpTimestamp, ssrc)
      return this.accept(payload, seq, rtpTimestamp, arrivalMs)
    }
    if (ssrc >= 0 && this.streamSsrc < 0) this.streamSsrc = ssrc
    if (ssrc >= 0 && ssrc !== this.streamSsrc) {
      if (this.hasPrevious && ssrc === this.previousSsrc) return this.straggler()
      this.resync(seq, rtpTimestamp, ssrc)
      this.accept(payload, seq, rtpTimestamp, arrivalMs)
      return 'resync'
    }
    const n = this.frameSamples
    const ahead = seqDiff(this.nextSeq, seq)
    const offset = timestampDiff(this.anchorTimestamp, rtpTimestamp) - this.nextTimestamp - ahead * n
    if (Math.abs(offset) <= RESYNC_FRAMES * n) {
      // Same stream.
      if (this.isSeen(seq)) {
        this.metrics.duplicate++
        return 'duplicate'
      }
      // Within the ring (or behind the pointer: accept() books it late), or a jump while nothing is buffered.
      if (ahead < this.capacity || (!this.isPlaying && this.buffered === 0))
        return this.accept(payload, seq, rtpTimestamp, arrivalMs)
      // Beyond the ring but within reach (a burst after a long spike): the pointer moves on to make room.
      if (ahead < this.reachFrames) {
        this.slide(seq)
        return this.accept(payload, seq, rtpTimestamp, arrivalMs)
      }
    }
    // Another stream (or a jump too far for the ring).
    if (this.hasPrevious && this.agreesWith(this.previousSeq, this.previousTimestamp, seq, rtpTimestamp))
      return this.straggler()
    if (!this.isPlaying && this.buffered === 0) {
      // Nothing is playing: no confirmation needed.
      this.resync(seq, rtpTimestamp, ssrc)
      this.accept(payload, seq, rtpTimestamp, arrivalMs)
      return 'resync'
    }
    if (this.hasPending && this.agreesWith(this.pendingSeq, this.pendingTimestamp, seq, rtpTimestamp)) {
      if (seq === this.pendingSeq) {
        this.metrics.duplicate++
        return 'duplicate'
      }
      if (Math.abs(seqDiff(this.pendingSeq, seq)) <= CONFIRM_SEQ_SPAN) {
        this.resync(this.pendingSeq, this.pendingTimestamp, this.pendingSsrc)
        this.hasPending = false
        this.accept(this.pendingSamples, this.pendingSeq, this.pendingTimestamp, this.pendingArrivalMs)
        this.accept(payload, seq, rtpTimestamp, arrivalMs)
        return 'resync'
      }
    }
    if (this.hasPending) this.metrics.discarded++
    this.hasPending = true
    this.pendingSeq = seq
    this.pendingTimestamp = rtpTimestamp
    this.pendingArrivalMs = arrivalMs
    this.pendingSsrc = ssrc
    this.copyPayload(payload, this.pendingSamples, 0)
    return 'pending'
  }

  /**
   * Called once per frame period by the caller's clock (nowMs, ms). Fills `out` (one frame) and says what it holds.
   * Exactly one frame per call; allocates nothing; never throws.
   */
  playout(nowMs: number, out: Float32Array): PlayoutOutcome {
    if (!Number.isFinite(nowMs)) return this.idle(out)
    this.updateTarget(nowMs)
    if (!this.hasStream || this.buffered === 0) {
      if (!this.isPlaying) return this.idle(out)
      if (nowMs - this.lastArrivalMs > this.quietMs) {
        // The stream has gone quiet: stop concealing; the next packet restarts playout.
        this.isPlaying = false
        this.overDeepTicks = 0
        return this.idle(out)
      }
    }
    const frameMs = this.config.frameMs
    let depthMs = nowMs - (this.nextTimestamp * 1000) / this.config.sampleRateHz - this.baseMs
    if (!this.isPlaying) {
      // Waiting for the first packet's playout time.
      if (depthMs < this.targetMs) return this.idle(out)
      this.isPlaying = true
    } else if (depthMs < this.targetMs) {
      // Grow: hold the pointer one frame.
      this.metrics.inserted++
      this.metrics.concealed++
      this.metrics.adjustments++
      this.metrics.bufferDelayMs = depthMs
      this.markOutput()
      return this.conceal(out, 'inserted')
    }
    // Shrink when a frame or more too deep: skip absent frames (lost or late anyway) while packets wait behind
    // them, else drop one present frame per tick, a quiet one if one comes within SHRINK_PATIENCE_TICKS.
    if (depthMs - this.targetMs >= frameMs) {
      if (!this.isPresent(this.nextSeq) && this.buffered > 0) {
        while (depthMs - this.targetMs >= frameMs && !this.isPresent(this.nextSeq)) {
          this.advance()
          this.metrics.skipped++
          this.metrics.adjustments++
          depthMs -= frameMs
        }
        this.overDeepTicks = 0
      } else if (
        this.isPresent(this.nextSeq) &&
        (this.isQuiet(this.nextSeq & this.mask) ||
          this.overDeepTicks >= (depthMs - this.targetMs >= 2 * frameMs ? SHRINK_PATIENCE_TICKS : SHRINK_SLOW_TICKS))
      ) {
        this.slotFull[this.nextSeq & this.mask] = 0
        this.buffered--
        this.metrics.dropped++
        this.metrics.late++
        this.advance()
        this.metrics.adjustments++
        this.overDeepTicks = 0
        depthMs -= frameMs
      } else {
        this.overDeepTicks++
      }
    } else {
      this.overDeepTicks = 0
    }
    this.metrics.bufferDelayMs = depthMs
    this.markOutput()
    if (this.isPresent(this.nextSeq)) {
      const slot = this.nextSeq & this.mask
      const n = this.frameSamples
      const base = slot * n
      const length = out.length < n ? out.length : n
      this.readSlot(base, out, length)
      for (let i = length; i < out.length; i++) out[i] = 0
      this.slotFull[slot] = 0
      this.buffered--
      this.lastPlayedSeq = this.nextSeq
      this.lastPlayedTimestamp = (this.anchorTimestamp + this.slotTimestamp[slot]!) >>> 0
      this.lastPlayedArrivalMs = this.slotArrivalMs[slot]!
      this.hasPlayedInStream = true
      this.metrics.played++
      this.playedDelaySumMs += nowMs - this.lastPlayedArrivalMs
      this.metrics.meanBufferDelayMs = this.playedDelaySumMs / this.metrics.played
      this.advance()
      this.metrics.bufferedPackets = this.buffered
      this.lastOutcome = 'ok'
      return 'ok'
    }
    this.metrics.missing++
    this.metrics.concealed++
    if (this.buffered === 0 && depthMs < this.config.maxDelayMs) {
      // Underrun: nothing behind it either, so it is more likely delayed (a spike) than lost. Hold the pointer:
      // the delay grows by a frame and the packet still plays if it comes; if later packets come first, the
      // shrink above skips the absent ones.
      this.metrics.underruns++
      return this.conceal(out, 'missing')
    }
    this.advance()
    return this.conceal(out, 'missing')
  }

  /**
   * Lookahead for the PLC, after a 'missing' playout: the first packet buffered at or after the playout pointer,
   * within maxFrames frames. Copies it into `out` and returns how many absent frames come before it (0: it plays
   * next), or −1 when none is buffered. Changes nothing; allocates nothing; O(frames scanned).
   */
  peekNext(out: Float32Array, maxFrames = this.capacity): number {
    if (!this.isPlaying || this.buffered === 0) return -1
    const frames = maxFrames < this.capacity ? maxFrames : this.capacity
    for (let k = 0; k < frames; k++) {
      const seq = (this.nextSeq + k) & 0xffff
      if (!this.isPresent(seq)) continue
      const n = this.frameSamples
      const base = (seq & this.mask) * n
      const length = out.length < n ? out.length : n
      this.readSlot(base, out, length)
      return k
    }
    return -1
  }

  // ---- internals -------------------------------------------------------------------------------------------

  private idle(out: Float32Array): PlayoutOutcome {
    out.fill(0)
    this.metrics.bufferDelayMs = 0
    this.metrics.playoutShiftMs = 0
    this.lastOutputMediaMs = Number.NaN
    this.metrics.bufferedPackets = this.buffered
    this.lastOutcome = 'idle'
    return 'idle'
  }

  private conceal(out: Float32Array, outcome: PlayoutOutcome): PlayoutOutcome {
    out.fill(0)
    this.metrics.bufferedPackets = this.buffered
    this.lastOutcome = outcome
    return outcome
  }

  /**
   * The pointer's frame is output this tick (played, concealed or held): the playout timeline moved by one frame
   * period minus the media time covered since the last output (playoutShiftMs). A jump beyond the largest delay is
   * not a buffer adjustment (a timestamp jump the resync rules let through): the timeline starts afresh.
   */
  private markOutput(): void {
    const mediaMs = (this.nextTimestamp * 1000) / this.config.sampleRateHz
    const last = this.lastOutputMediaMs
    const shift = last === last ? this.config.frameMs - (mediaMs - last) : 0 // (last === last: not NaN)
    this.metrics.playoutShiftMs = shift >= -this.config.maxDelayMs && shift <= this.config.maxDelayMs ? shift : 0
    this.lastOutputMediaMs = mediaMs
  }

  /** Moves the pointer one frame on; forgets the seq half a cycle away so it can be received again. */
  private advance(): void {
    this.clearSeen((this.nextSeq + SEEN_WINDOW / 2) & 0xffff)
    this.nextSeq = (this.nextSeq + 1) & 0xffff
    this.nextTimestamp += this.frameSamples
    const slot = this.nextSeq & this.mask
    if (this.slotFull[slot] === 1 && this.slotSeq[slot] === this.nextSeq) this.nextTimestamp = this.slotTimestamp[slot]!
  }

  /** Books a packet of the current stream: statistics, then stores it or counts it late. */
  private accept(payload: ArrayLike<number>, seq: number, rtpTimestamp: number, arrivalMs: number): PushOutcome {
    const m = this.metrics
    const timestamp = timestampDiff(this.anchorTimestamp, rtpTimestamp)
    const tsMs = (timestamp * 1000) / this.config.sampleRateHz
    this.markSeen(seq)
    m.received++
    const highestStep = seqDiff(this.highestSeq, seq)
    if (highestStep > 0) {
      this.highestSeq = seq
      this.highestExtended += highestStep
    } else if (highestStep < 0) {
      m.outOfOrder++
      if (this.highestExtended + highestStep < this.firstExtended)
        this.firstExtended = this.highestExtended + highestStep
    }
    m.expected = this.expectedBefore + this.highestExtended - this.firstExtended + 1
    m.lossRate = m.expected > m.received ? 1 - m.received / m.expected : 0
    this.lastArrivalMs = arrivalMs
    // RFC 3550 A.8: transit = R − S; D = transit − previous transit; J += (|D| − J)/16.
    const transitMs = arrivalMs - tsMs
    if (this.hasTransit) {
      const d = transitMs - this.lastTransitMs
      m.jitterMs += ((d < 0 ? -d : d) - m.jitterMs) / 16
      this.jitterCount++
      m.meanJitterMs += (m.jitterMs - m.meanJitterMs) / this.jitterCount
      if (m.jitterMs > m.maxJitterMs) m.maxJitterMs = m.jitterMs
    }
    this.hasTransit = true
    this.lastTransitMs = transitMs
    this.addDelay(transitMs, arrivalMs)

    const ahead = seqDiff(this.nextSeq, seq)
    const isLate = this.isPlaying
      ? ahead < 0 || ahead >= this.capacity
      : (this.hasPlayedInStream && seqDiff(this.lastPlayedSeq, seq) <= 0) ||
        (this.buffered > 0 && (ahead >= this.capacity || seqDiff(seq, this.highestSeq) >= this.capacity))
    if (isLate) {
      m.late++
      m.lateRate = m.late / m.expected
      return 'late'
    }
    // Not playing yet: the pointer starts at the earliest packet held.
    if (!this.isPlaying && (this.buffered === 0 || ahead < 0)) this.movePointer(seq, timestamp)
    const slot = seq & this.mask
    if (this.isInt16) this.copyPayload16(payload, slot * this.frameSamples)
    else this.copyPayload(payload, this.slotSamples, slot * this.frameSamples)
    this.slotSeq[slot] = seq
    this.slotTimestamp[slot] = timestamp
    this.slotArrivalMs[slot] = arrivalMs
    if (this.slotFull[slot] === 0) this.buffered++
    this.slotFull[slot] = 1
    if (seq === this.nextSeq) this.nextTimestamp = timestamp
    m.bufferedPackets = this.buffered
    m.lateRate = m.late / m.expected
    return 'stored'
  }

  /**
   * Moves the pointer on until seq fits in the ring (seq is ahead by capacity or more, but within reach): the packets
   * it passes are dropped (late), the absent frames skipped, as the shrink would have done one tick at a time. The
   * pointer stays at least capacity − 1 frames (≥ 2·maxDelayMs) deep, so playout starts or goes on at once.
   */
  private slide(seq: number): void {
    const m = this.metrics
    while (seqDiff(this.nextSeq, seq) >= this.capacity) {
      if (this.isPresent(this.nextSeq)) {
        this.slotFull[this.nextSeq & this.mask] = 0
        this.buffered--
        m.dropped++
        m.late++
      } else m.skipped++
      m.adjustments++
      this.advance()
    }
    this.overDeepTicks = 0
  }

  /** Points the (not yet playing) pointer at seq, clearing the seen map over any forward jump. */
  private movePointer(seq: number, timestamp: number): void {
    const step = seqDiff(this.nextSeq, seq)
    if (step > 0) {
      if (step >= SEEN_WINDOW / 2) this.clearSeenExcept(seq)
      else for (let i = 0; i < step; i++) this.clearSeen((this.nextSeq + i + SEEN_WINDOW / 2) & 0xffff)
    }
    this.nextSeq = seq
    this.nextTimestamp = timestamp
  }

  private clearSeenExcept(seq: number): void {
    this.seen.fill(0)
    this.markSeen(seq)
  }

  private straggler(): PushOutcome {
    this.metrics.late++
    this.metrics.lateRate = this.metrics.expected > 0 ? this.metrics.late / this.metrics.expected : 0
    return 'late'
  }

  /** True when (seq, ts) continues the stream whose packet was (refSeq, refTs): ts agrees with seq, seq is near. */
  private agreesWith(refSeq: number, refTimestamp: number, seq: number, rtpTimestamp: number): boolean {
    const n = this.frameSamples
    const steps = seqDiff(refSeq, seq)
    if (Math.abs(steps) > RESYNC_FRAMES) return false
    return Math.abs(timestampDiff(refTimestamp, rtpTimestamp) - steps * n) <= RESYNC_FRAMES * n
  }

  private startStream(seq: number, rtpTimestamp: number, ssrc: number): void {
    this.hasStream = true
    this.streamSsrc = ssrc
    this.anchorTimestamp = rtpTimestamp
    this.nextSeq = seq
    this.nextTimestamp = 0
    this.highestSeq = seq
    this.highestExtended = 0
    this.firstExtended = 0
    this.isPlaying = false
    this.hasPlayedInStream = false
    this.hasTransit = false
    this.delayCount = 0
    this.delayHead = 0
    this.packetsSinceStart = 0
    this.overDeepTicks = 0
    this.lastOutputMediaMs = Number.NaN
    this.seen.fill(0)
  }

  /** Ends the current stream (flushing its packets) and starts a new one at (seq, ts). */
  private resync(seq: number, rtpTimestamp: number, ssrc: number): void {
    const m = this.metrics
    m.resyncs++
    m.flushed += this.buffered
    this.hasPending = false // the confirming caller has read it; any other resync supersedes it
    this.slotFull.fill(0)
    this.buffered = 0
    this.hasPrevious = true
    this.previousSeq = this.highestSeq
    this.previousTimestamp = this.timestampOfSeq(this.highestSeq)
    this.previousSsrc = this.streamSsrc
    this.expectedBefore += this.highestExtended - this.firstExtended + 1
    this.startStream(seq, rtpTimestamp, ssrc)
  }

  /** RTP timestamp of a seq of the current stream, extrapolated from the pointer's. */
  private timestampOfSeq(seq: number): number {
    const steps = seqDiff(this.nextSeq, seq)
    return (this.anchorTimestamp + this.nextTimestamp + steps * this.frameSamples) >>> 0
  }

  private copyPayload(payload: ArrayLike<number>, target: Float32Array, start: number): void {
    const n = this.frameSamples
    const length = payload.length < n ? payload.length : n
    for (let i = 0; i < length; i++) target[start + i] = payload[i]!
    for (let i = length; i < n; i++) target[start + i] = 0
    this.metrics.nonFiniteSamples += sanitize(target, start, start + n)
  }

  /** As copyPayload into the 16-bit slots: sanitised, then rounded to the nearest 1/32768 (at most 32767). */
  private copyPayload16(payload: ArrayLike<number>, start: number): void {
    const n = this.frameSamples
    const target = this.slotSamples16
    const length = payload.length < n ? payload.length : n
    if (payload instanceof Float32Array && float32ToInt16(target, this.slotPairs16, start, payload, 0, length)) {
      for (let i = length; i < n; i++) target[start + i] = 0
      return
    }
    let bad = 0
    for (let i = 0; i < length; i++) {
      let v = payload[i]!
      if (!(v >= -1 && v <= 1)) {
        if (v !== v || v === Infinity || v === -Infinity) {
          v = 0
          bad++
        } else v = v > 1 ? 1 : -1
      }
      const q = Math.round(v * INT16_SCALE)
      target[start + i] = q > 32767 ? 32767 : q
    }
    for (let i = length; i < n; i++) target[start + i] = 0
    this.metrics.nonFiniteSamples += bad
  }

  /** out[0, length) = the slot's samples from base. */
  private readSlot(base: number, out: Float32Array, length: number): void {
    if (this.isInt16) {
      int16ToFloat32(out, 0, this.slotSamples16, this.slotPairs16, base, length)
    } else {
      const samples = this.slotSamples
      for (let i = 0; i < length; i++) out[i] = samples[base + i]!
    }
  }

  private isSeen(seq: number): boolean {
    const bit = seq & (SEEN_WINDOW - 1)
    return (this.seen[bit >>> 5]! & (1 << (bit & 31))) !== 0
  }

  private markSeen(seq: number): void {
    const bit = seq & (SEEN_WINDOW - 1)
    this.seen[bit >>> 5]! |= 1 << (bit & 31)
  }

  private clearSeen(seq: number): void {
    const bit = seq & (SEEN_WINDOW - 1)
    this.seen[bit >>> 5]! &= ~(1 << (bit & 31))
  }

  private isPresent(seq: number): boolean {
    const slot = seq & this.mask
    return this.slotFull[slot] === 1 && this.slotSeq[slot] === seq
  }

  private isQuiet(slot: number): boolean {
    const n = this.frameSamples
    const base = slot * n
    let sum = 0
    if (this.isInt16) {
      const samples = this.slotSamples16
      for (let i = 0; i < n; i++) {
        const v = samples[base + i]! * INT16_UNIT
        sum += v * v
      }
    } else {
      const samples = this.slotSamples
      for (let i = 0; i < n; i++) {
        const v = samples[base + i]!
        sum += v * v
      }
    }
    return sum < QUIET_POWER * n
  }

  /**
   * Books a relative delay (arrival − send on the sender's clock, ms): a spike packet goes to the spike memory,
   * any other to the jitter window (sorted, O(window)); updates the base and the jitter quantile.
   */
  private addDelay(relativeMs: number, arrivalMs: number): void {
    this.packetsSinceStart++
    if (this.delayCount >= WARMUP_PACKETS && relativeMs - this.baseMs > this.measuredTargetMs + SPIKE_MARGIN_MS) {
      if (arrivalMs - this.lastSpikeArrivalMs > SPIKE_GAP_MS || this.spikeCount === 0) {
        // A new spike.
        this.spikeRunPackets = 0
        this.spikeHead = this.spikeHead + 1 === SPIKE_EVENTS ? 0 : this.spikeHead + 1
        this.spikeTimeMs[this.spikeHead] = arrivalMs
        this.spikePeakMs[this.spikeHead] = relativeMs
        if (this.spikeCount < SPIKE_EVENTS) this.spikeCount++
      } else if (relativeMs > this.spikePeakMs[this.spikeHead]!) {
        this.spikePeakMs[this.spikeHead] = relativeMs
      }
      this.lastSpikeArrivalMs = arrivalMs
      this.spikeRunPackets++
      if (this.spikeRunPackets <= SPIKE_RUN_MAX_PACKETS) return
    }
    const sorted = this.delaySorted
    const slots = this.delaySlot
    const slot = this.delayHead
    let count = this.delayCount
    if (count === 0) this.delayAnchorMs = relativeMs
    const offsetMs = Math.fround(relativeMs - this.delayAnchorMs)
    if (count === DELAY_WINDOW_PACKETS) {
      // Remove the oldest value: the one that came in this arrival slot (the full window holds every slot once).
      let i = 0
      while (i < count - 1 && slots[i] !== slot) i++
      sorted.copyWithin(i, i + 1, count)
      slots.copyWithin(i, i + 1, count)
      count--
    }
    this.delayHead = slot + 1 === DELAY_WINDOW_PACKETS ? 0 : slot + 1
    let i = lowerBound(sorted, count, offsetMs)
    sorted.copyWithin(i + 1, i, count)
    slots.copyWithin(i + 1, i, count)
    sorted[i] = offsetMs
    slots[i] = slot
    count++
    this.delayCount = count
    this.baseMs = this.delayAnchorMs + sorted[0]!
    i = Math.ceil(DELAY_QUANTILE * count) - 1
    this.measuredTargetMs = sorted[i < 0 ? 0 : i]! - sorted[0]!
  }

  /**
   * Spike level: the smallest depth ≥ the jitter target at which the spikes of the last SPIKE_MEMORY_MS would
   * have cost at most SPIKE_BUDGET_PACKETS late frames (a spike of peak H costs ⌈(H − depth)/frame⌉), so an
   * isolated spike is absorbed (concealed) while recurring ones make the buffer grow. Bisection on 1 ms.
   */
  private updateSpikeLevel(nowMs: number): void {
    let low = this.measuredTargetMs
    let high = low
    let live = 0
    for (let k = 0, e = this.spikeHead; k < this.spikeCount; k++, e = e === 0 ? SPIKE_EVENTS - 1 : e - 1) {
      if (nowMs - this.spikeTimeMs[e]! > SPIKE_MEMORY_MS) break
      live++
      const peak = this.spikePeakMs[e]! - this.baseMs
      if (peak > high) high = peak
    }
    this.spikeCount = live // older events have expired
    if (this.spikeCost(low) <= SPIKE_BUDGET_PACKETS) {
      this.spikeLevelMs = low
      return
    }
    while (high - low > 1) {
      const mid = 0.5 * (low + high)
      if (this.spikeCost(mid) <= SPIKE_BUDGET_PACKETS) high = mid
      else low = mid
    }
    this.spikeLevelMs = high
  }

  /**
   * Late frames the remembered spikes would have cost at a depth of depthMs, leaving out the costliest one: a
   * single spike, however high, is absorbed; only recurring spikes make the buffer grow.
   */
  private spikeCost(depthMs: number): number {
    const frameMs = this.config.frameMs
    let cost = 0
    let largest = 0
    for (let k = 0, e = this.spikeHead; k < this.spikeCount; k++, e = e === 0 ? SPIKE_EVENTS - 1 : e - 1) {
      const excess = this.spikePeakMs[e]! - this.baseMs - depthMs
      if (excess > 0) {
        const frames = Math.ceil(excess / frameMs)
        cost += frames
        if (frames > largest) largest = frames
      }
    }
    return cost - largest
  }

  /** Adaptive target: jumps up to max(jitter quantile, spike level), decays slowly; fixed: the configured delay. */
  private updateTarget(nowMs: number): void {
    const c = this.config
    const elapsedMs = nowMs - this.lastTickMs
    this.lastTickMs = nowMs
    if (c.mode === 'fixed') {
      this.targetMs = this.clampTarget(c.targetDelayMs)
      this.metrics.targetDelayMs = this.targetMs
      return
    }
    this.updateSpikeLevel(nowMs)
    const measured = this.spikeLevelMs > this.measuredTargetMs ? this.spikeLevelMs : this.measuredTargetMs
    let follower = this.followerMs
    if (!this.isWarm) {
      if (measured > follower) follower = measured
      if (this.packetsSinceStart >= WARMUP_PACKETS) {
        this.isWarm = true
        follower = measured
      }
    } else {
      if (elapsedMs > 0 && elapsedMs < 1000) follower -= (TARGET_DECAY_MS_PER_S * elapsedMs) / 1000
      if (measured > follower) follower = measured
    }
    this.followerMs = follower
    this.targetMs = this.clampTarget(follower)
    this.metrics.targetDelayMs = this.targetMs
  }

  private clampTarget(ms: number): number {
    const c = this.config
    return ms < c.minDelayMs ? c.minDelayMs : ms > c.maxDelayMs ? c.maxDelayMs : ms
  }
}

/** First index in sorted[0, count) whose value is ≥ value. */
function lowerBound(sorted: Float32Array, count: number, value: number): number {
  let low = 0
  let high = count
  while (low < high) {
    const mid = (low + high) >>> 1
    if (sorted[mid]! < value) low = mid + 1
    else high = mid
  }
  return low
}

function capacityFor(config: JitterBufferConfig): number {
  const frames = 2 * Math.ceil(config.maxDelayMs / config.frameMs) + CAPACITY_MARGIN_FRAMES
  let capacity = CAPACITY_MIN
  while (capacity < frames) capacity *= 2
  return capacity
}

/**
 * Reach of a stream: a packet whose timestamp agrees with its seq, up to this many seqs ahead of the pointer, belongs
 * to the current stream (further: a jump, resynchronised once confirmed). 2·maxDelayMs + 32 frames, at least 64 (the
 * ring's former size): a burst after a delay spike longer than quietMs arrives up to the spike's length ahead.
 */
function reachFor(config: JitterBufferConfig): number {
  const frames = 2 * Math.ceil(config.maxDelayMs / config.frameMs) + 32
  let reach = 64
  while (reach < frames) reach *= 2
  return reach
}

/** Throws a RangeError naming the first field out of range. */
export function validateConfig(c: JitterBufferConfig): void {
  if (!(c.sampleRateHz >= 8000 && c.sampleRateHz <= 48000))
    throw new RangeError(`sampleRateHz: ${c.sampleRateHz} is outside 8000–48000`)
  if (!(c.frameMs >= 5 && c.frameMs <= 120)) throw new RangeError(`frameMs: ${c.frameMs} is outside 5–120`)
  if (!Number.isInteger((c.sampleRateHz * c.frameMs) / 1000))
    throw new RangeError(`frameMs: ${c.frameMs} is not a whole number of samples at ${c.sampleRateHz} Hz`)
  if (!(c.minDelayMs >= 0 && c.minDelayMs <= 1000))
    throw new RangeError(`minDelayMs: ${c.minDelayMs} is outside 0–1000`)
  if (!(c.maxDelayMs >= c.minDelayMs && c.maxDelayMs <= 1000))
    throw new RangeError(`maxDelayMs: ${c.maxDelayMs} is outside ${c.minDelayMs}–1000 (minDelayMs–1000)`)
  if (!(c.targetDelayMs >= c.minDelayMs && c.targetDelayMs <= c.maxDelayMs))
    throw new RangeError(
      `targetDelayMs: ${c.targetDelayMs} is outside ${c.minDelayMs}–${c.maxDelayMs} (minDelayMs–maxDelayMs)`,
    )
  if (!MODES.includes(c.mode)) throw new RangeError(`mode: '${String(c.mode)}' is not one of adaptive, fixed`)
  if (c.sampleFormat !== 'float32' && c.sampleFormat !== 'int16')
    throw new RangeError(`sampleFormat: '${String(c.sampleFormat)}' is not one of float32, int16`)
}

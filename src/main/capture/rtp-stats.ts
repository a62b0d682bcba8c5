/**
 * Sequence and timing statistics of one RTP stream (one SSRC) from its packets in arrival order:
 * - sequence numbers are extended over 16-bit wraps relative to the highest seen (RFC 3550 A.1);
 * - sent = highest − lowest extended sequence number + 1; lost = sent − unique received, never negative;
 *   duplicates = received − unique; reordered = arrivals below the highest sequence number seen, not duplicates;
 * - RFC 3550 §6.4.1 interarrival jitter J in arrival order over the audio packets (duplicates skipped), mean over the
 *   packets after the first and maximum, ms: the figures of Wireshark's RTP stream analysis on in-order traces.
 */
import { seqDiff } from '../../dsp/units'

export interface SequencedPacket {
  seq: number
  rtpTimestamp: number
  arrivalMs: number
  /** Only these enter the jitter (telephone-event packets repeat one timestamp). */
  isAudio: boolean
}

export interface SequenceStats {
  packets: number
  sent: number
  lost: number
  duplicates: number
  reordered: number
  meanJitterMs: number
  maxJitterMs: number
}

export function sequenceStats(packets: readonly SequencedPacket[], clockRateHz = 8000): SequenceStats {
  const seen = new Set<number>()
  let highestSeq = 0
  let highestExtended = 0
  let lowestExtended = 0
  let duplicates = 0
  let reordered = 0
  let jitterMs = 0
  let jitterSum = 0
  let jitterCount = 0
  let maxJitterMs = 0
  let hasTransit = false
  let lastTransitMs = 0
  for (let i = 0; i < packets.length; i++) {
    const p = packets[i]!
    let extended: number
    if (i === 0) {
      highestSeq = p.seq
      extended = highestExtended = lowestExtended = p.seq
    } else {
      const step = seqDiff(highestSeq, p.seq)
      extended = highestExtended + step
      if (step > 0) {
        highestSeq = p.seq
        highestExtended = extended
      }
      if (extended < lowestExtended) lowestExtended = extended
    }
    if (seen.has(extended)) {
      duplicates++
      continue
    }
    seen.add(extended)
    if (extended < highestExtended) reordered++
    if (!p.isAudio) continue
    // transit = R − S in ms; the timestamp is taken as a signed 32-bit offset so wraps cancel in D.
    const transitMs = p.arrivalMs - ((p.rtpTimestamp | 0) * 1000) / clockRateHz
    if (hasTransit) {
      let d = transitMs - lastTransitMs
      // A 32-bit timestamp wrap between the two packets shows as a jump of 2³² samples: fold it back.
      const wrapMs = (4294967296 * 1000) / clockRateHz
      if (d > wrapMs / 2) d -= wrapMs
      else if (d < -wrapMs / 2) d += wrapMs
      jitterMs += ((d < 0 ? -d : d) - jitterMs) / 16
      jitterSum += jitterMs
      jitterCount++
      if (jitterMs > maxJitterMs) maxJitterMs = jitterMs
    }
    hasTransit = true
    lastTransitMs = transitMs
  }
  const sent = packets.length > 0 ? highestExtended - lowestExtended + 1 : 0
  return {
    packets: packets.length,
    sent,
    lost: Math.max(0, sent - seen.size),
    duplicates,
    reordered,
    meanJitterMs: jitterCount > 0 ? jitterSum / jitterCount : 0,
    maxJitterMs,
  }
}

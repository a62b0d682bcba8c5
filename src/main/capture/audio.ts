/**
 * Whole-signal helpers for the capture readers (cold path, allocates its results): sample-rate conversion with the
 * project's Resampler with its group delay removed (output[n] lines up with input at n·inputRate/outputRate and has
 * round(length·outputRate/inputRate) samples), and G.711 packetisation of a 16 kHz signal as 20 ms 8 kHz frames.
 */
import { g711EncodeFloat, type G711Law } from '../../dsp/g711'
import { Resampler } from '../../dsp/resampler'
import { FRAME_SAMPLES_8K, SAMPLE_RATE_8K } from '../../dsp/units'

/** Input samples per Resampler call. */
const CHUNK_SAMPLES = 16384

/** x (at inputRateHz) at outputRateHz, delay-compensated; returns x itself when the rates are equal. */
export function resampleSignal(x: Float32Array, inputRateHz: number, outputRateHz: number): Float32Array {
  if (inputRateHz === outputRateHz) return x
  const resampler = new Resampler({ inputRateHz, outputRateHz })
  const outLength = Math.round((x.length * outputRateHz) / inputRateHz)
  const out = new Float32Array(outLength)
  // The filter delays its output by delaySamples (output-rate samples, may be fractional): drop that many, then feed
  // zeros until the tail is out.
  let skip = Math.round(resampler.delaySamples)
  const scratch = new Float32Array(resampler.maxOutputLength(CHUNK_SAMPLES))
  const zeros = new Float32Array(CHUNK_SAMPLES)
  let written = 0
  let consumed = 0
  while (written < outLength) {
    let produced: number
    if (consumed < x.length) {
      const count = Math.min(CHUNK_SAMPLES, x.length - consumed)
      produced = resampler.process(x.subarray(consumed, consumed + count), scratch, count)
      consumed += count
    } else {
      produced = resampler.process(zeros, scratch, CHUNK_SAMPLES)
    }
    let start = 0
    if (skip > 0) {
      start = Math.min(skip, produced)
      skip -= start
    }
    const take = Math.min(produced - start, outLength - written)
    if (take > 0) out.set(scratch.subarray(start, start + take), written)
    written += Math.max(take, 0)
  }
  return out
}

/**
 * A 16 kHz signal as consecutive 20 ms G.711 frames at 8 kHz (160 codes each; the last frame zero-padded with
 * silence): the payloads a sender would put in RTP packets.
 */
export function packetizeG711(samples16k: Float32Array, law: G711Law): Uint8Array[] {
  const narrow = resampleSignal(samples16k, 16000, SAMPLE_RATE_8K)
  const frames: Uint8Array[] = []
  const padded = new Float32Array(FRAME_SAMPLES_8K)
  for (let start = 0; start < narrow.length; start += FRAME_SAMPLES_8K) {
    const payload = new Uint8Array(FRAME_SAMPLES_8K)
    const end = Math.min(start + FRAME_SAMPLES_8K, narrow.length)
    padded.fill(0)
    padded.set(narrow.subarray(start, end))
    g711EncodeFloat(law, padded, payload)
    frames.push(payload)
  }
  return frames
}

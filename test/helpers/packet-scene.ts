/**
 * The double-talk scene as a phone call delivers it: the mic (echo + near talker + noise) at 8 kHz µ-law in 20 ms RTP
 * packets over a simulated network, through the whole pipeline (jitter buffer, PLC, 8→16 kHz, echo canceller with its
 * suppressor, noise reducer), the far end as the reference. Figures per METRICS.md, on the frames as delivered:
 * - ERLE over the far single-talk frames (the mic as it entered the canceller against the output);
 * - the near talker's SDR over the double-talk and near-only frames, against the near talker alone passed through the
 *   same codec path (16 → 8 kHz, µ-law, 8 → 16 kHz) and placed where the jitter buffer played each frame (frames
 *   next to a concealment or a playout move are left out).
 * The adaptive buffer's moves reach the canceller (Pipeline → EchoCanceller.shiftEchoPath); the fixed buffer is the
 * reference without moves. These rows measure how the suppressor trades residual echo against the near talker on a
 * packet call (the scenes have no network).
 */
import { g711DecodeFloat, g711EncodeFloat } from '../../src/dsp/g711'
import type { JitterBufferMode } from '../../src/dsp/jitter-buffer'
import { Pipeline } from '../../src/dsp/pipeline'
import { Resampler } from '../../src/dsp/resampler'
import { erleDb, sdrDb } from './metrics'
import { echoScene } from './scenes'
import { simulatedTrace } from './traces'

const FRAME = 320
const FRAME_8K = 160

/** x (16 kHz) through 16 → 8 kHz, µ-law and 8 → 16 kHz, as a packet call carries it (the resamplers' delays kept). */
function codecPath(x: Float32Array): { x8k: Float32Array; codes: Uint8Array; back: Float32Array } {
  const frames = Math.floor(x.length / FRAME)
  const x8k = new Float32Array(frames * FRAME_8K)
  new Resampler({ inputRateHz: 16000, outputRateHz: 8000 }).process(x, x8k, frames * FRAME)
  const codes = new Uint8Array(x8k.length)
  g711EncodeFloat('ulaw', x8k, codes)
  const decoded = new Float32Array(x8k.length)
  g711DecodeFloat('ulaw', codes, decoded)
  const back = new Float32Array(frames * FRAME)
  new Resampler({ inputRateHz: 8000, outputRateHz: 16000 }).process(decoded, back, x8k.length)
  return { x8k, codes, back }
}

export interface PacketCallFigures {
  usPerFrame: number
  realtimeFactor: number
  erleDb: number
  doubleTalkSdrDb: number
  nearOnlySdrDb: number
  codecSdrDb: number
  playoutMoves: number
}

export function doubleTalkOverPackets(mode: JitterBufferMode, seed: number): PacketCallFigures {
  const scene = echoScene('doubleTalk')
  const frames = Math.floor(scene.mic.length / FRAME)
  const mic = codecPath(scene.mic.subarray(0, frames * FRAME))
  const nearRef = codecPath(scene.near.subarray(0, frames * FRAME)).back
  const trace = simulatedTrace('wifi', seed, frames)
  const pipeline = new Pipeline({ jitterBufferMode: mode })
  const jb = pipeline.networkReceiver.jitterBuffer
  const ticks = frames + 20
  const out = new Float32Array(ticks * FRAME)
  const micIn = new Float32Array(ticks * FRAME)
  const delivered = new Float32Array(ticks * FRAME) // the near talker where each frame was played
  const mediaFrame = new Int32Array(ticks).fill(-1) // media frame played at each tick (−1: concealed or idle)
  const moved = new Uint8Array(ticks)
  // The receiver's own delay (PLC + 8 → 16 kHz) lies between a played 8 kHz frame and its 16 kHz samples; nearRef
  // already holds one 8 → 16 kHz delay.
  const receiverLag =
    Math.round((pipeline.networkReceiver.metrics.algorithmicDelayMs * 16000) / 1000) -
    Math.round((new Resampler({ inputRateHz: 8000, outputRateHz: 16000 }).delayMs * 16000) / 1000)
  const payload = new Uint8Array(FRAME_8K)
  let next = 0
  let lastOffset: number | null = null
  const t0 = performance.now()
  for (let f = 0; f < ticks; f++) {
    const nowMs = f * 20
    while (next < trace.seqs.length && trace.arrivalMs[next]! <= nowMs) {
      const index = trace.indices[next]!
      payload.set(mic.codes.subarray(index * FRAME_8K, (index + 1) * FRAME_8K))
      pipeline.pushPacket(payload, trace.seqs[next]!, trace.timestamps[next]!, trace.arrivalMs[next]!)
      next++
    }
    if (f < frames) pipeline.pushFarPcm(scene.far.subarray(f * FRAME, (f + 1) * FRAME))
    const outcome = pipeline.tick(nowMs, out.subarray(f * FRAME, (f + 1) * FRAME))
    micIn.set(pipeline.nearInput.subarray(0, FRAME), f * FRAME)
    if (outcome === 'ok') {
      const media = Math.round((jb.lastPlayedTimestamp - trace.timestamps[0]!) / FRAME_8K)
      mediaFrame[f] = media
      // A playout move: the tick's offset from its media frame differs from the last played frame's.
      moved[f] = lastOffset !== null && f - media !== lastOffset ? 1 : 0
      lastOffset = f - media
      const from = media * FRAME - receiverLag
      for (let i = 0; i < FRAME; i++) delivered[f * FRAME + i] = from + i >= 0 ? nearRef[from + i]! : 0
    }
  }
  const usPerFrame = ((performance.now() - t0) * 1000) / ticks
  // Ticks whose played frame and both neighbours are in turn (no concealment, no move), mapped to the scene's sets.
  const clean = (f: number) =>
    f > 0 && f + 1 < ticks && mediaFrame[f]! >= 0 && mediaFrame[f - 1]! >= 0 && !moved[f] && !moved[f + 1]
  const pick = (set: readonly number[]) => {
    const wanted = new Set(set)
    const ticksOf: number[] = []
    for (let f = 0; f < ticks; f++) if (clean(f) && wanted.has(mediaFrame[f]!)) ticksOf.push(f)
    return ticksOf
  }
  const lag = pipeline.echoCanceller.delaySamples + pipeline.noiseReducer.delaySamples
  const moves = moved.reduce((sum, m) => sum + m, 0)
  return {
    usPerFrame,
    realtimeFactor: 20000 / usPerFrame,
    erleDb: erleDb(micIn, out, pick(scene.farSingleTalkFrames), 2, lag),
    doubleTalkSdrDb: sdrDb(delivered, out, pick(scene.doubleTalkFrames), lag),
    nearOnlySdrDb: sdrDb(delivered, out, pick(scene.nearOnlyFrames), lag),
    // The codec path alone bounds the SDR: the mic as delivered against the near talker, over the near-only frames.
    codecSdrDb: sdrDb(delivered, micIn, pick(scene.nearOnlyFrames), 0),
    playoutMoves: moves,
  }
}

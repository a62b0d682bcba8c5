/**
 * Scene evaluations shared by the quality tests and the benchmark (which runs the same figures for the speexdsp peer):
 * the figures for an output y of an echo or noise scene, computed with METRICS.md's metrics.
 */
import { activeFrames, alignmentLag, convergenceTimeS, erleDb, lsdDb, sdrDb, snrDb } from './metrics'
import type { EchoScene, NoiseScene } from './scenes'

const FRAME = 320

export interface NoiseFigures {
  snrImprovementDb: number
  sdrImprovementDb: number
  lsdDb: number
}

/** SNR and SDR over every whole frame of the delayed output, LSD over the clean speech-active frames. */
export function evaluateNoise(scene: NoiseScene, y: Float32Array, lag: number): NoiseFigures {
  const { clean, noisy } = scene
  const frameCount = Math.floor((clean.length - lag) / FRAME)
  const frames = Array.from({ length: frameCount }, (_, f) => f)
  const active = activeFrames(clean).filter((f) => f < frameCount)
  return {
    snrImprovementDb: snrDb(clean, y, lag) - snrDb(clean, noisy),
    sdrImprovementDb: sdrDb(clean, y, frames, lag) - sdrDb(clean, noisy, frames),
    lsdDb: lsdDb(clean, y.subarray(lag), active),
  }
}

export interface EchoFigures {
  /** ERLE over far single-talk frames after 2 s. */
  erleDb: number
  /** First time ERLE over the last 0.5 s reaches 20 dB, s (from the start, or from the path change). */
  convergence20dbS: number
  /** Double-talk scenes: the near talker's SDR over the overlap and on near-only frames. */
  doubleTalkSdrDb?: number
  nearOnlySdrDb?: number
}

export function evaluateEcho(scene: EchoScene, out: Float32Array, lag: number): EchoFigures {
  const fromS = scene.pathChangeAtS ?? 0
  const figures: EchoFigures = {
    erleDb: erleDb(scene.mic, out, scene.farSingleTalkFrames, 2, lag),
    convergence20dbS: convergenceTimeS(scene.mic, out, scene.farSingleTalkFrames, 20, fromS, lag) - fromS,
  }
  if (scene.doubleTalkFrames.length > 0) {
    figures.doubleTalkSdrDb = sdrDb(scene.near, out, scene.doubleTalkFrames, lag)
    figures.nearOnlySdrDb = sdrDb(scene.near, out, scene.nearOnlyFrames, lag)
  }
  return figures
}

/** Lag of y against s found by cross-correlation over a window of speech (METRICS.md alignment), ±640 samples. */
export function findLag(s: Float32Array, y: Float32Array, fromS = 2, seconds = 4): number {
  const start = Math.min(fromS * 16000, Math.max(0, s.length - seconds * 16000))
  const end = Math.min(s.length, start + seconds * 16000)
  return alignmentLag(s.subarray(start, end), y.subarray(start, end), 640)
}

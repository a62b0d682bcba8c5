/**
 * Shared by the PLC tests (test/dsp/plc.test.ts on the PLC alone, test/dsp/plc-receiver.test.ts through
 * NetworkReceiver): the loss masks of issue 2 (5 % random, 3 % bursty Gilbert–Elliott with mean bursts of 2.5
 * packets, 8 seeds each) and its measure, the LSD of the concealed frames on the 20 ms packet grid (METRICS.md,
 * lsdDb with 160-sample frames and a 256-point FFT at 8 kHz).
 */
import { Random } from '../../src/dsp/random'
import { lsdDb } from './signals'

/** 20 ms at 8 kHz. */
export const PLC_FRAME = 160
export const PLC_SEEDS = [1, 2, 3, 4, 5, 6, 7, 8]

/** Loss masks, one flag per frame (true = lost). */
export function randomLoss(frames: number, probability: number, seed: number): boolean[] {
  const random = new Random(seed)
  return Array.from({ length: frames }, () => random.next() < probability)
}

/**
 * Gilbert–Elliott two-state channel: every frame is lost in the bad state, none in the good one. The bad state lasts
 * meanBurst frames on average (leave probability 1/meanBurst); the good→bad probability sets the mean loss rate.
 */
export function gilbertElliottLoss(frames: number, lossRate: number, meanBurst: number, seed: number): boolean[] {
  const random = new Random(seed)
  const leaveBad = 1 / meanBurst
  const enterBad = (lossRate * leaveBad) / (1 - lossRate)
  let isBad = false
  return Array.from({ length: frames }, () => (isBad = isBad ? random.next() >= leaveBad : random.next() < enterBad))
}

/** The issue's masks for a signal of `frames` frames: 5 % random (seeds 1–8), 3 % bursty (seeds 101–108). */
export function issueMasks(frames: number): { random: boolean[][]; bursty: boolean[][] } {
  return {
    random: PLC_SEEDS.map((seed) => randomLoss(frames, 0.05, seed)),
    bursty: PLC_SEEDS.map((seed) => gilbertElliottLoss(frames, 0.03, 2.5, 100 + seed)),
  }
}

/** Sum and count of per-frame LSDs, so runs can be pooled (every concealed frame weighs the same). */
export interface LsdSum {
  sum: number
  count: number
}

/**
 * The issue's measure over the listed frames (indices on the 20 ms grid of both signals, y aligned to x): LSD
 * (METRICS.md) with 160-sample Hann frames and a 256-point FFT.
 */
export function frameLsd(x: Float32Array, y: Float32Array, frames: readonly number[]): LsdSum {
  if (frames.length === 0) return { sum: 0, count: 0 }
  return { sum: lsdDb(x, y, frames, PLC_FRAME, 256) * frames.length, count: frames.length }
}

/** The concealed frames of a mask: the lost frames on the 20 ms packet grid. */
export function lostFrames(mask: readonly boolean[], frames: number): number[] {
  const lost: number[] = []
  for (let f = 0; f < frames; f++) if (mask[f]) lost.push(f)
  return lost
}

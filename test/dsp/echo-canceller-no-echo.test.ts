/**
 * The headset case: the far end talks but none of it reaches the microphone (no echo at all). Nothing is there to
 * cancel, so the canceller must leave the near talker alone (a suppressor that treats every unexplained error as
 * residual echo eats the user's voice) and must not claim an ERLE.
 */
import { describe, expect, it } from 'vitest'
import { EchoCanceller } from '../../src/dsp/echo-canceller'
import { sdrDb } from '../helpers/metrics'
import { echoScene } from '../helpers/scenes'

const FRAME = 320

function runWithoutEcho(postFilter: boolean) {
  const scene = echoScene('doubleTalk')
  const mic = new Float32Array(scene.mic.length)
  for (let i = 0; i < mic.length; i++) mic[i] = scene.near[i]! + scene.noise[i]!
  const aec = new EchoCanceller({ postFilter })
  const out = new Float32Array(mic.length)
  const frame = new Float32Array(FRAME)
  for (let at = 0; at + FRAME <= mic.length; at += FRAME) {
    aec.process(mic.subarray(at, at + FRAME), scene.far.subarray(at, at + FRAME), frame)
    out.set(frame, at)
  }
  return { scene, aec, out, lag: aec.delaySamples }
}

describe('EchoCanceller: far end talking, no echo in the mic', () => {
  it('keeps the near talker (SDR >= 25 dB while both talk and on near-only frames, like a silent far end)', () => {
    const { scene, out, lag } = runWithoutEcho(true)
    const overlap = sdrDb(scene.near, out, scene.doubleTalkFrames, lag)
    const nearOnly = sdrDb(scene.near, out, scene.nearOnlyFrames, lag)
    console.log(
      `no echo: near talker SDR ${overlap.toFixed(1)} dB while the far end talks, ${nearOnly.toFixed(1)} dB alone`,
    )
    expect(overlap).toBeGreaterThanOrEqual(25)
    expect(nearOnly).toBeGreaterThanOrEqual(25)
  })

  it('does not report echo it did not remove (ERLE under 3 dB)', () => {
    const { aec } = runWithoutEcho(true)
    console.log(`no echo: reported ERLE ${aec.metrics.erleDb.toFixed(1)} dB, state ${aec.metrics.state}`)
    expect(aec.metrics.erleDb).toBeLessThan(3)
    expect(aec.metrics.state).not.toBe('diverged')
  })
})

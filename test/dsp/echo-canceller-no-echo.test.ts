/**
 * The headset case: the far end talks but none of it reaches the microphone (no echo at all). Nothing is there to
 * cancel, so the canceller must leave the near talker alone (a suppressor that treats every unexplained error as
 * residual echo eats the user's voice) and must not claim an ERLE.
 */
import { describe, expect, it } from 'vitest'
import { EchoCanceller } from '../../src/dsp/echo-canceller'
import { activeFrames, convergenceTimeS, erleDb, sdrDb } from '../helpers/metrics'
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

describe('EchoCanceller: an echo path that comes and goes', () => {
  it('cancels an echo that appears after 6 s without one (the headset unplugged): >= 20 dB within 1.5 s', () => {
    const scene = echoScene('rt250')
    const startS = 6
    const start = startS * 16000
    const mic = new Float32Array(scene.mic.length)
    for (let i = 0; i < mic.length; i++) mic[i] = (i >= start ? scene.echo[i]! : 0) + scene.noise[i]!
    const aec = new EchoCanceller()
    const out = new Float32Array(mic.length)
    const frame = new Float32Array(FRAME)
    let pathBefore = ''
    for (let at = 0; at + FRAME <= mic.length; at += FRAME) {
      aec.process(mic.subarray(at, at + FRAME), scene.far.subarray(at, at + FRAME), frame)
      out.set(frame, at)
      if (at + FRAME === start) pathBefore = aec.metrics.echoPath
    }
    const lag = aec.delaySamples
    const frames = scene.farSingleTalkFrames.filter((f) => f * FRAME >= start)
    const convergenceS = convergenceTimeS(mic, out, frames, 20, startS, lag) - startS
    const erle = erleDb(mic, out, frames, startS + 2, lag)
    console.log(
      `echo after ${startS} s without: path '${pathBefore}' before, 20 dB within ${convergenceS.toFixed(2)} s, ` +
        `ERLE ${erle.toFixed(1)} dB after, reported ${aec.metrics.erleDb.toFixed(1)} dB, path '${aec.metrics.echoPath}'`,
    )
    expect(pathBefore).toBe('none')
    expect(convergenceS).toBeLessThanOrEqual(1.5)
    expect(erle).toBeGreaterThanOrEqual(28) // a fresh canceller on this scene: 31.3 dB after 8 s
    expect(aec.metrics.echoPath).toBe('found')
    expect(aec.metrics.erleDb).toBeGreaterThanOrEqual(20)
  })

  it('keeps a near talker who talks from the start, before the echo path is decided (SDR >= 25 dB)', () => {
    // The doubleTalk scene's near talker moved to t = 0: both talk while the canceller is still searching.
    const scene = echoScene('doubleTalk')
    const shift = 8 * 16000
    const seconds = 10
    const length = seconds * 16000
    const near = scene.near.subarray(shift, shift + length)
    const mic = new Float32Array(length)
    for (let i = 0; i < length; i++) mic[i] = near[i]! + scene.noise[i]!
    const aec = new EchoCanceller()
    const out = new Float32Array(length)
    const frame = new Float32Array(FRAME)
    for (let at = 0; at + FRAME <= length; at += FRAME) {
      aec.process(mic.subarray(at, at + FRAME), scene.far.subarray(at, at + FRAME), frame)
      out.set(frame, at)
    }
    const lag = aec.delaySamples
    const firstS = activeFrames(near).filter((f) => f < 2.5 * 50 && (f + 1) * FRAME + lag <= length)
    const all = activeFrames(near).filter((f) => (f + 1) * FRAME + lag <= length)
    const early = sdrDb(near, out, firstS, lag)
    const whole = sdrDb(near, out, all, lag)
    console.log(
      `no echo, near talker from the start: SDR ${early.toFixed(1)} dB over the first 2.5 s, ${whole.toFixed(1)} dB ` +
        `over ${seconds} s; path '${aec.metrics.echoPath}'`,
    )
    expect(early).toBeGreaterThanOrEqual(25)
    expect(whole).toBeGreaterThanOrEqual(25)
    expect(aec.metrics.echoPath).toBe('none')
  })
})

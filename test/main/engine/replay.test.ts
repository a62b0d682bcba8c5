import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { loadCapture } from '../../../src/main/capture'
import { Replay } from '../../../src/main/engine/replay'
import { alignmentLag, hasNonFinite } from '../../helpers/signals'

const CAPTURES = fileURLToPath(new URL('../../fixtures/captures/', import.meta.url))

async function replayAll(file: string) {
  const capture = await loadCapture(CAPTURES + file)
  const replay = new Replay(capture)
  const out = new Float32Array(replay.frameSamples)
  const processed = new Float32Array(replay.totalFrames * replay.frameSamples)
  const nearIn = new Float32Array(processed.length)
  const farIn = new Float32Array(processed.length)
  let frames = 0
  while (replay.step(out)) {
    nearIn.set(replay.pipeline.nearInput, frames * replay.frameSamples)
    farIn.set(replay.pipeline.farInput, frames * replay.frameSamples)
    processed.set(out, frames++ * replay.frameSamples)
  }
  return { capture, replay, processed, frames, nearIn, farIn }
}

describe('Replay of captures through the pipeline', () => {
  it('replays the demo WAV (mic left, bot right): finds the 40 ms echo delay and cancels the echo', async () => {
    const { replay, processed, frames } = await replayAll('demo-call.wav')
    expect(frames).toBe(replay.totalFrames)
    expect(replay.totalFrames).toBeGreaterThanOrEqual(500) // 10 s of 20 ms frames, plus the drain
    expect(hasNonFinite(processed)).toBe(false)
    const echo = replay.pipeline.echoCanceller.metrics
    expect(Math.abs(echo.bulkDelayMs - 40)).toBeLessThan(2)
    const s = replay.stats
    const erle = 10 * Math.log10(s.echoMicEnergy / s.echoOutEnergy)
    expect(s.echoFrames).toBeGreaterThan(100)
    expect(erle).toBeGreaterThan(15)
    expect(replay.pipeline.metrics.latency.jitterBufferMs).toBe(0) // a WAV bypasses the jitter buffer
    // Each processed frame is taken out of the input frame buffer, as the speech recogniser does: no overrun.
    const input = replay.pipeline.inputBufferMetrics
    expect(input.overruns).toBe(0)
    expect(input.framesRead).toBe(frames)
  })

  it('replays the demo pcap with its real arrival times: the 9 removed packets are concealed, none played twice', async () => {
    const { replay, processed, nearIn, farIn } = await replayAll('demo-call.pcap')
    expect(hasNonFinite(processed)).toBe(false)
    const jb = replay.pipeline.networkReceiver.jitterBuffer.metrics
    const network = replay.pipeline.networkReceiver.metrics
    expect(jb.received).toBe(491)
    expect(network.framesPlayed).toBeLessThanOrEqual(491)
    expect(network.framesPlayed).toBeGreaterThan(480)
    expect(network.framesConcealed).toBeGreaterThanOrEqual(9)
    expect(replay.stats.bufferDelayFrames).toBeGreaterThan(400)
    // The canceller sees the acoustic 40 ms shifted by the tracks' network timing: its estimate must agree with a
    // brute-force cross-correlation of the far and near frames it was actually given.
    const lag = alignmentLag(farIn.subarray(32000, 112000), nearIn.subarray(32000, 112000), 3000)
    expect(Math.abs(replay.pipeline.echoCanceller.metrics.bulkDelayMs - lag / 16)).toBeLessThan(2)
  })

  it('replays the demo Twilio log with its receive times on both tracks', async () => {
    const { replay, processed } = await replayAll('demo-call.twilio.jsonl')
    expect(hasNonFinite(processed)).toBe(false)
    expect(replay.pipeline.networkReceiver.jitterBuffer.metrics.received).toBe(500)
    expect(replay.stats.echoFrames).toBeGreaterThan(100)
    expect(replay.stats.maxBufferDelayMs).toBeGreaterThan(0)
  })
})

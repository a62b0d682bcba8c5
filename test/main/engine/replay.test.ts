import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { loadCapture } from '../../../src/main/capture'
import { Replay } from '../../../src/main/engine/replay'
import { hasNonFinite } from '../../helpers/signals'

const CAPTURES = fileURLToPath(new URL('../../fixtures/captures/', import.meta.url))

async function replayAll(file: string) {
  const capture = await loadCapture(CAPTURES + file)
  const replay = new Replay(capture)
  const out = new Float32Array(replay.frameSamples)
  const processed = new Float32Array(replay.totalFrames * replay.frameSamples)
  let frames = 0
  while (replay.step(out)) processed.set(out, frames++ * replay.frameSamples)
  return { capture, replay, processed, frames }
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
  })

  it('replays the demo pcap with its real arrival times: the 9 removed packets are concealed, none played twice', async () => {
    const { replay, processed } = await replayAll('demo-call.pcap')
    expect(hasNonFinite(processed)).toBe(false)
    const jb = replay.pipeline.networkReceiver.jitterBuffer.metrics
    const network = replay.pipeline.networkReceiver.metrics
    expect(jb.received).toBe(491)
    expect(network.framesPlayed).toBeLessThanOrEqual(491)
    expect(network.framesPlayed).toBeGreaterThan(480)
    expect(network.framesConcealed).toBeGreaterThanOrEqual(9)
    expect(replay.stats.bufferDelayFrames).toBeGreaterThan(400)
    // The canceller sees the acoustic 40 ms plus the near stream's network and jitter-buffer delay.
    const delayMs = replay.pipeline.echoCanceller.metrics.bulkDelayMs
    expect(delayMs).toBeGreaterThan(38)
    expect(delayMs).toBeLessThan(40 + replay.stats.maxBufferDelayMs + 20)
  })

  it('replays the demo Twilio log with its receive times on both tracks', async () => {
    const { replay, processed } = await replayAll('demo-call.twilio.jsonl')
    expect(hasNonFinite(processed)).toBe(false)
    expect(replay.pipeline.networkReceiver.jitterBuffer.metrics.received).toBe(500)
    expect(replay.stats.echoFrames).toBeGreaterThan(100)
    expect(replay.stats.maxBufferDelayMs).toBeGreaterThan(0)
  })
})

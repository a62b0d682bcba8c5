import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { encodeWav } from '../../../src/main/analyze'
import { SessionHost } from '../../../src/main/engine/session-host'
import { loadCaptureSync } from '../../../src/main/capture'
import { Replay } from '../../../src/main/engine/replay'
import {
  CONTRACT_VERSION,
  ECHO_PATH_STATES,
  ECHO_STATES,
  type FrameMetricName,
  type TapBatch,
} from '../../../src/shared/contract'
import { readWavFixture } from '../../helpers/signals'

const hosts: SessionHost[] = []
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((host) => host.close()))
})

/** A headset call: the bot talks (right channel) but none of it reaches the caller's mic (left): no echo at all. */
function headsetCallWav(): string {
  const near = readWavFixture('near-talker-16k.wav').samples
  const far = readWavFixture('far-talker-16k.wav').samples
  const length = Math.min(near.length, far.length)
  const dir = mkdtempSync(join(tmpdir(), 'echo-path-'))
  const path = join(dir, 'headset-call.wav')
  writeFileSync(path, encodeWav([near.subarray(0, length), far.subarray(0, length)], 16000))
  return path
}

/** Opens `path` in a fresh browser-mode session, applies `settings`, replays it at full speed; every tap batch. */
async function replayToEnd(path: string, settings: Record<string, unknown> = {}): Promise<TapBatch[]> {
  const host = new SessionHost({ mode: 'browser' })
  hosts.push(host)
  expect((await host.call('hello', { contractVersion: CONTRACT_VERSION })).ok).toBe(true)
  expect((await host.call('openCapture', { source: { kind: 'path', path } })).ok).toBe(true)
  if (Object.keys(settings).length > 0) expect((await host.call('configure', settings)).ok).toBe(true)
  const batches: TapBatch[] = []
  const ended = new Promise<void>((resolve) =>
    host.on('tap', (batch) => {
      batches.push(batch)
      if (batch.events.some((e) => e.kind === 'ended')) resolve()
    }),
  )
  await host.call('setSpeed', { speed: 'max' })
  await host.call('play')
  await ended
  return batches
}

describe('the tap reports whether there is an echo path', () => {
  it('a headset call (far end talking, no echo): echoPath becomes none and the near end passes untouched', async () => {
    // Noise reduction off: what is left to compare is the echo canceller's own effect on the near talker.
    const batches = await replayToEnd(headsetCallWav(), { noiseReductionEnabled: false })
    const paths = batches.flatMap((b) => Array.from(b.metrics.echoPath))
    const none = ECHO_PATH_STATES.indexOf('none')
    const firstNone = paths.indexOf(none)
    console.log(`headset call: echo path 'none' from frame ${firstNone} of ${paths.length}`)
    expect(firstNone).toBeGreaterThan(0)
    expect(paths[paths.length - 1]).toBe(none)
    // From a second after the decision on, the processed near end keeps the mic's energy within 0.5 dB.
    let micEnergy = 0
    let outEnergy = 0
    let frame = 0
    for (const b of batches)
      for (let f = 0; f < b.frameCount; f++, frame++) {
        if (frame < firstNone + 50) continue
        for (let i = f * b.frameSamples; i < (f + 1) * b.frameSamples; i++) {
          micEnergy += b.near[i]! ** 2
          outEnergy += b.processed[i]! ** 2
        }
      }
    expect(micEnergy).toBeGreaterThan(0)
    expect(Math.abs(10 * Math.log10(outEnergy / micEnergy))).toBeLessThan(0.5)
  })
})

describe("the tap carries the echo canceller's figures", () => {
  it('on the demo call: ERLE spread, linear filter, ERL, state, delay confidence and drift, as the pipeline has them', async () => {
    const path = 'test/fixtures/captures/demo-call.pcap'
    const batches = await replayToEnd(path)
    const column = (name: FrameMetricName) => batches.flatMap((b) => Array.from(b.metrics[name]))
    const found = column('echoPath').map((p) => p === ECHO_PATH_STATES.indexOf('found'))
    const [min, median, max] = [column('erleMinDb'), column('erleMedianDb'), column('erleMaxDb')]
    const linear = column('linearErleDb')
    const states = column('echoState')
    const confidence = column('echoDelayConfidence')
    const last = found.length - 1
    console.log(
      `demo call, last frame: ERLE median ${median[last]} (${min[last]}–${max[last]}), linear ${linear[last]!.toFixed(2)}, ` +
        `ERL ${column('erlDb')[last]!.toFixed(2)}, state ${ECHO_STATES[states[last]!]}, confidence ${confidence[last]!.toFixed(3)}`,
    )
    expect(found[last]).toBe(true)
    for (let f = 0; f <= last; f++) {
      expect(Number.isInteger(states[f]) && states[f]! >= 0 && states[f]! < ECHO_STATES.length).toBe(true)
      expect(confidence[f]).toBeGreaterThanOrEqual(0)
      expect(confidence[f]).toBeLessThanOrEqual(1)
      if (found[f]) {
        expect(min[f]).toBeLessThanOrEqual(median[f]!)
        expect(median[f]).toBeLessThanOrEqual(max[f]!)
      }
    }
    expect(states).toContain(ECHO_STATES.indexOf('converged'))
    // The suppressor takes most of the demo's echo: the per-frame median is well above the linear filter's share.
    expect(median[last]).toBeGreaterThan(linear[last]! + 10)
    expect(linear[last]).toBeGreaterThan(3)
    expect(Math.abs(column('echoDriftPpm')[last]!)).toBeLessThan(20)

    // The same capture through a Replay in this thread ends on the same figures (Float32 columns).
    const replay = new Replay(loadCaptureSync(path))
    const frame = new Float32Array(replay.frameSamples)
    while (replay.step(frame));
    const m = replay.pipeline.echoCanceller.metrics
    expect(median[last]).toBe(Math.fround(m.erleMedianDb))
    expect(linear[last]).toBe(Math.fround(m.linearErleDb))
    expect(column('erlDb')[last]).toBe(Math.fround(m.erlDb))
    expect(ECHO_STATES[states[last]!]).toBe(m.state)
  })
})

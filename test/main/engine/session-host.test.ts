import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { loadCapture } from '../../../src/main/capture'
import { Replay } from '../../../src/main/engine/replay'
import { SessionHost } from '../../../src/main/engine/session-host'
import { DEFAULT_SETTINGS, type PipelineSettings } from '../../../src/shared/config'
import { CONTRACT_VERSION, FRAME_METRICS, type TapBatch } from '../../../src/shared/contract'
import { hasNonFinite } from '../../helpers/signals'

const DEMO = fileURLToPath(new URL('../../../resources/demo/demo-call.pcap', import.meta.url))
const FIXTURES = fileURLToPath(new URL('../../fixtures/captures/', import.meta.url))

const hosts: SessionHost[] = []
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((host) => host.close()))
})

async function openHost(): Promise<SessionHost> {
  const host = new SessionHost({ mode: 'browser' })
  hosts.push(host)
  const hello = await host.call('hello', { contractVersion: CONTRACT_VERSION })
  expect(hello.ok).toBe(true)
  return host
}

/** Collects tap batches; `until` resolves when a batch satisfies the predicate. */
function collect(host: SessionHost) {
  const batches: TapBatch[] = []
  const waiters: { test: (b: TapBatch) => boolean; resolve: (b: TapBatch) => void }[] = []
  host.on('tap', (batch) => {
    batches.push(batch)
    for (const w of waiters.splice(0)) {
      if (w.test(batch)) w.resolve(batch)
      else waiters.push(w)
    }
  })
  return {
    batches,
    until: (test: (b: TapBatch) => boolean) => new Promise<TapBatch>((resolve) => waiters.push({ test, resolve })),
    ended: () =>
      new Promise<TapBatch>((resolve) =>
        waiters.push({ test: (b) => b.events.some((e) => e.kind === 'ended'), resolve }),
      ),
  }
}

/** The tap's frames joined in order (checks that batches are contiguous). */
function join(batches: TapBatch[]) {
  const frameSamples = batches[0]!.frameSamples
  let next = batches[0]!.fromFrame
  const frames = batches.reduce((n, b) => n + b.frameCount, 0)
  const processed = new Float32Array(frames * frameSamples)
  const attenuation = new Float32Array(frames)
  let offset = 0
  for (const b of batches) {
    expect(b.fromFrame).toBe(next)
    next += b.frameCount
    processed.set(b.processed, offset * frameSamples)
    attenuation.set(b.metrics.noiseAttenuationDb, offset)
    offset += b.frameCount
  }
  return { frames, processed, attenuation, first: batches[0]!.fromFrame }
}

/** The same capture replayed in this thread, with configure patches at given frames: the reference output. */
async function reference(patches: Map<number, Partial<PipelineSettings>> = new Map(), frames = Infinity) {
  const replay = new Replay(await loadCapture(DEMO), DEFAULT_SETTINGS)
  const out = new Float32Array(replay.frameSamples)
  const processed: number[] = []
  const attenuation: number[] = []
  while (replay.position < frames) {
    const patch = patches.get(replay.position)
    if (patch) replay.pipeline.configure(patch)
    if (!replay.step(out)) break
    processed.push(...out)
    attenuation.push(replay.pipeline.noiseReducer.metrics.attenuationDb)
  }
  return { processed: Float32Array.from(processed), attenuation: Float32Array.from(attenuation), replay }
}

describe('SessionHost (a real worker thread)', () => {
  it('replays the demo as fast as possible: contiguous batches whose frames add up to the replay, equal to an in-process replay', async () => {
    const host = await openHost()
    const tap = collect(host)
    const opened = await host.call('openCapture', { source: { kind: 'demo' } })
    expect(opened.ok && opened.value.capture?.name).toBe('demo-call.pcap')
    const total = opened.ok ? opened.value.transport.totalFrames : 0
    expect(total).toBeGreaterThanOrEqual(500)
    await host.call('setSpeed', { speed: 'max' })
    const ended = tap.ended()
    expect((await host.call('play')).ok).toBe(true)
    await ended
    const { frames, processed, first } = join(tap.batches)
    expect(first).toBe(0)
    expect(frames).toBe(total)
    tap.batches.forEach((b, i) => {
      expect(b.sequence).toBe(i)
      expect(b.near.length).toBe(b.frameCount * b.frameSamples)
      expect(b.far.length).toBe(b.frameCount * b.frameSamples)
      for (const name of FRAME_METRICS) expect(b.metrics[name].length).toBe(b.frameCount)
    })
    expect(hasNonFinite(processed)).toBe(false)
    const ref = await reference()
    expect(processed).toEqual(ref.processed)
    // The capture's 9 removed packets show up as loss events; the echo canceller converges.
    const lost = tap.batches.flatMap((b) => b.events).filter((e) => e.kind === 'packet-lost')
    expect(lost.reduce((n, e) => n + e.count, 0)).toBeGreaterThanOrEqual(9)
    const last = tap.batches.at(-1)!
    expect(last.metrics.erleDb.at(-1)!).toBeGreaterThan(10)
    const state = await host.call('getState')
    expect(state.ok && state.value.transport).toMatchObject({ playing: false, ended: true, positionFrame: total })
  })

  it('applies configure at the frame boundary it names: noise strength 0.2 then 0.9 changes the attenuation from that frame on', async () => {
    const host = await openHost()
    const tap = collect(host)
    await host.call('openCapture', { source: { kind: 'demo' } })
    // In real time: at 'max' the 10 s demo replays in ~0.3 s, and the second configure could land after its end.
    await host.call('setSpeed', { speed: 'realtime' })
    const ended = tap.ended()
    await host.call('play')
    await tap.until((b) => b.fromFrame + b.frameCount > 100)
    const low = await host.call('configure', { noiseReductionStrength: 0.2 })
    expect(low.ok).toBe(true)
    const f1 = low.ok ? low.value.effectiveFrame : -1
    expect(low.ok && low.value.changed).toEqual([{ key: 'noiseReductionStrength', from: 0.8, to: 0.2 }])
    await tap.until((b) => b.fromFrame + b.frameCount > f1 + 120)
    const high = await host.call('configure', { noiseReductionStrength: 0.9 })
    const f2 = high.ok ? high.value.effectiveFrame : -1
    expect(f2).toBeGreaterThan(f1 + 100)
    await ended
    const applied = tap.batches.flatMap((b) => b.events).filter((e) => e.kind === 'config-applied')
    expect(applied).toEqual([
      { frame: f1, kind: 'config-applied', count: 1, detail: 'noiseReductionStrength' },
      { frame: f2, kind: 'config-applied', count: 1, detail: 'noiseReductionStrength' },
    ])
    const got = join(tap.batches)
    // Exactly the output of a replay configured at those frames...
    const both = await reference(
      new Map([
        [f1, { noiseReductionStrength: 0.2 }],
        [f2, { noiseReductionStrength: 0.9 }],
      ]),
    )
    expect(got.processed).toEqual(both.processed)
    // ...and not one frame earlier: up to f2 − 1 it is the replay that stayed at 0.2; from f2 on it differs as soon as
    // the strength matters (a frame the reducer leaves untouched at any strength, e.g. speech, reads the same).
    const lowOnly = await reference(new Map([[f1, { noiseReductionStrength: 0.2 }]]), f2 + 50)
    expect(got.attenuation.subarray(0, f2)).toEqual(lowOnly.attenuation.subarray(0, f2))
    let firstDifference = f2
    while (firstDifference < f2 + 50 && got.attenuation[firstDifference] === lowOnly.attenuation[firstDifference])
      firstDifference++
    expect(firstDifference).toBeLessThan(f2 + 50)
    const mean = (a: Float32Array) => a.reduce((s, x) => s + x, 0) / a.length
    const atLow = mean(got.attenuation.subarray(f1 + 20, f1 + 100))
    const atHigh = mean(got.attenuation.subarray(f2 + 20, Math.min(f2 + 100, 490)))
    expect(atHigh).toBeGreaterThan(atLow + 3)
  })

  it('rejects an out-of-range value with a message naming the key, and the session keeps running', async () => {
    const host = await openHost()
    const tap = collect(host)
    await host.call('openCapture', { source: { kind: 'demo' } })
    await host.call('setSpeed', { speed: 'max' })
    const ended = tap.ended()
    await host.call('play')
    await tap.until((b) => b.fromFrame > 50)
    const range = await host.call('configure', { noiseReductionStrength: 1.5 })
    expect(range).toMatchObject({ ok: false, error: { code: 'invalid-settings' } })
    expect(!range.ok && range.error.message).toMatch(
      /noiseReductionStrength \(NOISE_REDUCTION_STRENGTH\): 1\.5 is outside 0–1/,
    )
    const cross = await host.call('configure', { jitterBufferTargetMs: 300 })
    expect(!cross.ok && cross.error.message).toMatch(/jitterBufferTargetMs.*300 is outside 40–200/)
    const unknown = await host.dispatch('configure', { jitterTarget: 80 })
    expect(!unknown.ok && unknown.error.message).toMatch(/jitterTarget: not a setting/)
    const state = await host.call('getState')
    expect(state.ok && state.value.settings).toEqual(DEFAULT_SETTINGS)
    await ended
    const { frames } = join(tap.batches)
    expect(frames).toBe(state.ok ? state.value.transport.totalFrames : 0)
  })

  it('a corrupt capture gives an error naming the file and the problem; the open capture stays and plays', async () => {
    const host = await openHost()
    await host.call('openCapture', { source: { kind: 'demo' } })
    const wav = new Uint8Array(readFileSync(FIXTURES + 'demo-call.wav'))
    const corrupt = wav.slice(0, 40)
    corrupt[20] = 0x55 // format tag 0x5555: no such WAV encoding
    const bad = await host.call('openCapture', { source: { kind: 'bytes', name: 'broken.wav', bytes: corrupt } })
    expect(bad).toMatchObject({ ok: false, error: { code: 'capture' } })
    expect(!bad.ok && bad.error.message).toMatch(/^broken\.wav: /)
    const missing = await host.call('openCapture', { source: { kind: 'path', path: '/nonexistent/call.pcap' } })
    expect(!missing.ok && missing.error.message).toMatch(/\/nonexistent\/call\.pcap: cannot be read: ENOENT/)
    const state = await host.call('getState')
    expect(state.ok && state.value.capture?.name).toBe('demo-call.pcap')
    const tap = collect(host)
    await host.call('play')
    const batch = await tap.until((b) => b.frameCount > 0)
    expect(batch.fromFrame).toBe(0)
    await host.call('pause')
  })

  it('seeks to the frame asked (fast-forwarding the pipeline) and streams from there', async () => {
    const host = await openHost()
    await host.call('openCapture', { source: { kind: 'demo' } })
    const seek = await host.call('seek', { positionMs: 4000 })
    expect(seek.ok && seek.value.positionFrame).toBe(200)
    const tap = collect(host)
    await host.call('setSpeed', { speed: 'max' })
    await host.call('play')
    await tap.until((b) => b.fromFrame + b.frameCount >= 260)
    await host.call('pause')
    const got = join(tap.batches)
    expect(got.first).toBe(200)
    const ref = await reference(new Map(), 260)
    expect(got.processed.subarray(0, 60 * 320)).toEqual(ref.processed.subarray(200 * 320, 260 * 320))
    // Back to the start: a rebuilt replay.
    const back = await host.call('seek', { positionMs: 0 })
    expect(back.ok && back.value.positionFrame).toBe(0)
  })

  it('loops: at the end the replay starts again from frame 0', async () => {
    const host = await openHost()
    const tap = collect(host)
    await host.call('openCapture', { source: { kind: 'demo' } })
    await host.call('setLoop', { enabled: true })
    await host.call('setSpeed', { speed: 'max' })
    await host.call('play')
    await tap.until((b) => b.events.some((e) => e.kind === 'looped'))
    const restarted = await tap.until((b) => b.frameCount > 0)
    expect(restarted.fromFrame).toBe(0)
    await host.call('pause')
  })

  it('picks the near and far streams of a pcap, and replays a what-if network profile', async () => {
    const host = await openHost()
    await host.call('openCapture', { source: { kind: 'demo' } })
    const swapped = await host.call('selectStreams', {
      nearStream: '198.51.100.20:20000',
      farStream: '192.0.2.10:40000',
    })
    expect(swapped.ok).toBe(true)
    const roles = swapped.ok ? swapped.value.capture!.streams.map((s) => [s.source, s.role]) : []
    expect(roles).toContainEqual(['198.51.100.20:20000', 'near'])
    expect(roles).toContainEqual(['192.0.2.10:40000', 'far'])
    await host.call('selectStreams', { nearStream: '192.0.2.10:40000', farStream: '198.51.100.20:20000' })
    const impaired = await host.call('setImpairment', { profile: 'lossy', seed: 3 })
    expect(impaired.ok && impaired.value.capture!.impairment).toEqual({ profile: 'lossy', seed: 3 })
    expect(impaired.ok && impaired.value.capture!.description).toMatch(/impaired \(lossy, seed 3\)/)
    const tap = collect(host)
    await host.call('setSpeed', { speed: 'max' })
    const ended = tap.ended()
    await host.call('play')
    await ended
    const lost = tap.batches.flatMap((b) => b.events).filter((e) => e.kind === 'packet-lost')
    expect(lost.reduce((n, e) => n + e.count, 0)).toBeGreaterThan(20) // the capture's own 9, and the profile's
    const restored = await host.call('setImpairment', { profile: null })
    expect(restored.ok && restored.value.capture!.impairment).toBeNull()
    expect(await host.call('setImpairment', { profile: 'lunar' as 'good' })).toMatchObject({
      ok: false,
      error: { code: 'invalid-request' },
    })
  })

  it('a new frame duration (the one cold setting) rebuilds the replay at the same position in time', async () => {
    const host = await openHost()
    await host.call('openCapture', { source: { kind: 'demo', format: 'wav' } })
    await host.call('seek', { positionMs: 2000 })
    const changed = await host.call('configure', { audioChunkDurationMs: 10 })
    expect(changed.ok && changed.value.effectiveFrame).toBe(200) // 2 s of 10 ms frames
    const tap = collect(host)
    await host.call('play')
    const batch = await tap.until((b) => b.frameCount > 0)
    await host.call('pause')
    expect(batch).toMatchObject({ fromFrame: 200, frameSamples: 160, frameMs: 10 })
  })

  it('refuses unknown commands, invalid requests and another contract version with the reason', async () => {
    const host = new SessionHost({ mode: 'browser' })
    hosts.push(host)
    const version = await host.call('hello', { contractVersion: CONTRACT_VERSION + 1 })
    expect(version).toMatchObject({ ok: false, error: { code: 'version-mismatch' } })
    expect(await host.dispatch('launchMissiles', {})).toMatchObject({ ok: false, error: { code: 'unknown-command' } })
    const seek = await host.dispatch('seek', { positionMs: -5 })
    expect(seek).toMatchObject({ ok: false, error: { code: 'invalid-request' } })
    expect(!seek.ok && seek.error.message).toMatch(/positionMs/)
    const extra = await host.dispatch('setLoop', { enabled: true, also: 1 })
    expect(!extra.ok && extra.error.message).toMatch(/also/)
    expect(await host.call('play')).toMatchObject({ ok: false, error: { code: 'no-capture' } })
    expect(await host.call('pickCapture')).toMatchObject({ ok: false, error: { code: 'unsupported' } })
  })

  it('exports the settings as .env with the session key metrics in the header', async () => {
    const host = await openHost()
    const tap = collect(host)
    await host.call('openCapture', { source: { kind: 'demo' } })
    await host.call('configure', { noiseReductionStrength: 0.5 })
    await host.call('setSpeed', { speed: 'max' })
    const ended = tap.ended()
    await host.call('play')
    await ended
    const exported = await host.call('exportEnv', { includeWorkbench: true })
    expect(exported.ok).toBe(true)
    const text = exported.ok ? exported.value.text : ''
    expect(exported.ok && exported.value.suggestedName).toBe('demo-call.env')
    expect(text).toMatch(/^# Capture: demo-call\.pcap$/m)
    expect(text).toMatch(/^# {3}ERLE \(dB, far single talk\): \d+/m)
    expect(text).toMatch(/^# {3}packet loss \(%\): 1\.8$/m)
    expect(text).toMatch(/^NOISE_REDUCTION_STRENGTH=0\.5$/m)
    expect(text).toMatch(/^WORKBENCH_PLC_METHOD=pitch$/m)
    const imported = await host.call('importEnv', { text: text.replace('=0.5', '=0.3'), name: 'tuned.env' })
    expect(imported.ok && imported.value.changed).toEqual([{ key: 'noiseReductionStrength', from: 0.5, to: 0.3 }])
  })

  it('closing the host ends its worker thread', async () => {
    const before = SessionHost.liveWorkers
    const host = new SessionHost({ mode: 'browser' })
    expect(SessionHost.liveWorkers).toBe(before + 1)
    await host.call('openCapture', { source: { kind: 'demo' } })
    await host.call('play')
    await host.close()
    expect(SessionHost.liveWorkers).toBe(before)
    expect(await host.call('getState')).toMatchObject({ ok: false })
  })
})

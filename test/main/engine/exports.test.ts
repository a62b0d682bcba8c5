import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { WaveFile } from 'wavefile'
import { loadCapture } from '../../../src/main/capture'
import type { MetricsReport } from '../../../src/main/engine/exports'
import { Replay } from '../../../src/main/engine/replay'
import { SessionHost, type NativeDialogs } from '../../../src/main/engine/session-host'
import { DEFAULT_SETTINGS } from '../../../src/shared/config'
import { CONTRACT_VERSION, type FileReply, type TapBatch } from '../../../src/shared/contract'
import { energy, hasNonFinite } from '../../helpers/signals'

const DEMO = fileURLToPath(new URL('../../../resources/demo/demo-call.pcap', import.meta.url))
const MONO_TONE = fileURLToPath(new URL('../../fixtures/captures/tone-8k-ulaw.wav', import.meta.url))
const SAMPLE_RATE = 16000

const hosts: SessionHost[] = []
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((host) => host.close()))
})
/** Where the fake save dialog says it wrote (it writes nothing). */
const saveDir = join(tmpdir(), 'workbench-exports')

async function openHost(native?: NativeDialogs): Promise<SessionHost> {
  const host = new SessionHost({ mode: native ? 'desktop' : 'browser', ...(native ? { native } : {}) })
  hosts.push(host)
  expect((await host.call('hello', { contractVersion: CONTRACT_VERSION })).ok).toBe(true)
  return host
}

function collect(host: SessionHost) {
  const batches: TapBatch[] = []
  const waiters: { test: (b: TapBatch) => boolean; resolve: () => void }[] = []
  host.on('tap', (batch) => {
    batches.push(batch)
    for (const w of waiters.splice(0)) (w.test(batch) ? w.resolve : () => waiters.push(w))()
  })
  const until = (test: (b: TapBatch) => boolean) => new Promise<void>((resolve) => waiters.push({ test, resolve }))
  return {
    batches,
    until,
    /** Resolves once the tap has reached frame `frame`. */
    reached: (frame: number) => until((b) => b.fromFrame + b.frameCount >= frame),
    ended: () => until((b) => b.events.some((e) => e.kind === 'ended')),
  }
}

/** Plays the demo at max speed until about `frames` frames have been processed, then pauses. */
async function playDemoFor(host: SessionHost, frames: number, format: 'pcap' | 'wav' = 'pcap') {
  const tap = collect(host)
  expect((await host.call('openCapture', { source: { kind: 'demo', format } })).ok).toBe(true)
  await host.call('setSpeed', { speed: 'max' })
  const reached = tap.reached(frames)
  await host.call('play')
  await reached
  await host.call('pause')
  return tap
}

function unwrap<T>(result: { ok: true; value: T } | { ok: false; error: { code: string; message: string } }): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`)
  return result.value
}

function readWav(file: FileReply): { channels: Float64Array[]; rate: number } {
  const wav = new WaveFile(file.bytes)
  const fmt = wav.fmt as { sampleRate: number; numChannels: number }
  const samples = wav.getSamples(false, Float64Array) as unknown as Float64Array | Float64Array[]
  const channels = fmt.numChannels === 1 ? [samples as Float64Array] : (samples as Float64Array[])
  return { channels: channels.map((c) => c.map((x) => x / 32768)), rate: fmt.sampleRate }
}

/** Energy of x over the 20 ms frames where the reference's power is above −40 dBFS. */
function energyWhereActive(x: Float64Array, reference: Float64Array): number {
  const n = SAMPLE_RATE / 50
  let sum = 0
  for (let start = 0; start + n <= x.length; start += n) {
    if (energy(reference.subarray(start, start + n)) / n < 1e-4) continue
    sum += energy(x.subarray(start, start + n))
  }
  return sum
}

describe('.env preview and import (real worker)', () => {
  const text = [
    '# the service as deployed',
    'NOISE_REDUCTION_STRENGTH=0.7',
    'this line is not NAME=value',
    'JITTER_BUFFER_TARGET_MS=900',
    'ECHO_FILTER_LENGTH=2048',
    'OTHER_SERVICE_SETTING=x',
  ].join('\n')

  it('previewEnv names each bad line, diffs exactly the changed keys, and changes nothing in the session', async () => {
    const host = await openHost()
    await host.call('openCapture', { source: { kind: 'demo' } })
    unwrap(await host.call('configure', { noiseReductionStrength: 0.5 }))
    const before = unwrap(await host.call('getState')).settings
    const preview = unwrap(await host.call('previewEnv', { text, name: 'service.env' }))
    const errors = preview.issues.filter((i) => i.severity === 'error')
    expect(errors.map((i) => i.line)).toEqual([3, 4])
    expect(errors[0]!.message).toMatch(/^service\.env:3: .*not NAME=value/)
    expect(errors[1]).toMatchObject({ name: 'JITTER_BUFFER_TARGET_MS' })
    expect(errors[1]!.message).toMatch(/^service\.env:4: .*900/)
    expect(preview.issues.filter((i) => i.severity === 'warning')).toEqual([
      expect.objectContaining({ line: 6, name: 'OTHER_SERVICE_SETTING' }),
    ])
    // The file's settings: its good lines over the defaults (the bad target ignored).
    expect(preview.settings).toEqual({ ...DEFAULT_SETTINGS, noiseReductionStrength: 0.7, echoFilterLengthTaps: 2048 })
    expect(preview.diff).toEqual([
      { key: 'noiseReductionStrength', from: 0.5, to: 0.7 },
      { key: 'echoFilterLengthTaps', from: 1024, to: 2048 },
    ])
    expect(unwrap(await host.call('getState')).settings).toEqual(before)
  })

  it('importEnv refuses a text with a bad line, naming the file and line, and keeps the settings', async () => {
    const host = await openHost()
    await host.call('openCapture', { source: { kind: 'demo' } })
    const before = unwrap(await host.call('getState')).settings
    const imported = await host.call('importEnv', { text, name: 'tuned.env' })
    expect(imported).toMatchObject({ ok: false, error: { code: 'invalid-settings' } })
    // Every bad line at once: the unreadable line and the target outside the file's min–max.
    expect(!imported.ok && imported.error.message).toMatch(/tuned\.env:3: cannot read "this line is not NAME=value"/)
    expect(!imported.ok && imported.error.message).toMatch(/tuned\.env:4: .*JITTER_BUFFER_TARGET_MS.*900/)
    expect(unwrap(await host.call('getState')).settings).toEqual(before)
  })
})

describe('echo path (real worker)', () => {
  // The demo WAV: its 40 ms echo path is found within a second. (On the demo pcap the delay estimate first locks on
  // 63.7 ms for ~4 s, and the filter's peak follows the estimate's move to 23.7 ms only some seconds later.)
  it('gives the converged filter after a few seconds of the demo: its peak lies at the reported echo delay', async () => {
    const host = await openHost()
    const tap = await playDemoFor(host, 250, 'wav')
    const path = unwrap(await host.call('getEchoPath'))
    expect(path).toMatchObject({ sampleRateHz: SAMPLE_RATE, engine: 'mdf', filterLength: 1024, active: true })
    expect(path.taps).toBeInstanceOf(Float32Array)
    expect(path.taps.length).toBe(path.effectiveLength)
    expect(path.effectiveLength).toBeGreaterThanOrEqual(path.filterLength)
    expect(hasNonFinite(path.taps)).toBe(false)
    let peak = 0
    for (let i = 1; i < path.taps.length; i++) if (Math.abs(path.taps[i]!) > Math.abs(path.taps[peak]!)) peak = i
    expect(Math.abs(path.taps[peak]!)).toBeGreaterThan(0.05)
    const last = tap.batches.at(-1)!
    const tapDelayMs = last.metrics.echoDelayMs[last.frameCount - 1]!
    expect(path.bulkDelayMs).toBeCloseTo(tapDelayMs, 3)
    const peakMs = path.windowStartMs + (peak * 1000) / SAMPLE_RATE
    expect(Math.abs(peakMs - tapDelayMs)).toBeLessThan(3)
    expect(path.windowStartMs).toBeGreaterThan(0) // the window has moved to the bulk delay
    expect(path.delayConfidence).toBeGreaterThan(0)
    expect(['converging', 'converged']).toContain(path.state)

    unwrap(await host.call('configure', { echoCancellationEnabled: false }))
    const off = unwrap(await host.call('getEchoPath'))
    expect(off.active).toBe(false)
    expect(off.taps.length).toBe(off.effectiveLength)
    expect(off.taps.every((x) => x === 0)).toBe(true)
    expect(Number.isNaN(off.bulkDelayMs)).toBe(true)
  })
})

describe('audio and report export (real worker)', () => {
  it('renders the whole capture as WAVs without disturbing the replay: durations, channels, echo removed', async () => {
    const host = await openHost()
    const tap = await playDemoFor(host, 100)
    const paused = unwrap(await host.call('getState')).transport
    const capture = unwrap(await host.call('getState')).capture!
    const frameSamples = (SAMPLE_RATE * paused.frameMs) / 1000

    const all = unwrap(await host.call('exportAudio', { track: 'all' }))
    expect(all).toMatchObject({ suggestedName: 'demo-call.all.wav', mimeType: 'audio/wav' })
    const { channels, rate } = readWav(all)
    expect(rate).toBe(SAMPLE_RATE)
    expect(channels.length).toBe(3)
    const [near, far, processed] = channels as [Float64Array, Float64Array, Float64Array]
    const expectedSamples = (capture.durationMs * SAMPLE_RATE) / 1000
    expect(Math.abs(near.length - expectedSamples)).toBeLessThanOrEqual(frameSamples)
    // Where the far end talks, the near end holds its echo and the processed output has lost most of it.
    const nearEcho = energyWhereActive(near, far)
    const processedEcho = energyWhereActive(processed, far)
    expect(nearEcho).toBeGreaterThan(0)
    expect(10 * Math.log10(nearEcho / processedEcho)).toBeGreaterThan(15)

    for (const track of ['processed', 'near', 'far'] as const) {
      const file = unwrap(await host.call('exportAudio', { track }))
      expect(file.suggestedName).toBe(`demo-call.${track}.wav`)
      const mono = readWav(file)
      expect(mono.channels.length).toBe(1)
      // Each single track is the same render as its channel of 'all' (16-bit both).
      const channel = channels[['near', 'far', 'processed'].indexOf(track)]!
      expect(mono.channels[0]).toEqual(channel)
    }

    // The replay did not move and goes on with the stream an undisturbed replay gives.
    expect(unwrap(await host.call('getState')).transport.positionFrame).toBe(paused.positionFrame)
    const ended = tap.ended()
    await host.call('play')
    await ended
    const replay = new Replay(await loadCapture(DEMO), DEFAULT_SETTINGS)
    const out = new Float32Array(replay.frameSamples)
    let frame = 0
    for (const batch of tap.batches) {
      expect(batch.fromFrame).toBe(frame)
      for (let k = 0; k < batch.frameCount; k++, frame++) {
        replay.step(out)
        const got = batch.processed.subarray(k * frameSamples, (k + 1) * frameSamples)
        if (!got.every((x, i) => x === out[i])) throw new Error(`frame ${frame} differs from an undisturbed replay`)
      }
    }
    expect(frame).toBe(paused.totalFrames)
  })

  it('exports the metrics report as JSON: the CLI report, the live figures, the settings and the capture', async () => {
    const host = await openHost()
    await playDemoFor(host, 200)
    unwrap(await host.call('configure', { noiseReductionStrength: 0.6 }))
    const file = unwrap(await host.call('exportReport'))
    expect(file).toMatchObject({ suggestedName: 'demo-call.report.json', mimeType: 'application/json' })
    const json = JSON.parse(new TextDecoder().decode(file.bytes)) as MetricsReport
    expect(json.generatedBy).toBe('VoIP Audio Workbench')
    expect(json.capture).toMatchObject({ name: 'demo-call.pcap', format: 'pcap' })
    expect(json.settings).toMatchObject({ noiseReductionStrength: 0.6 })
    const report = json.report
    expect(report.durationS).toBeCloseTo(10, 0)
    expect(report.echo.erleDb).toBeGreaterThan(15)
    expect(report.echo.delayMs).toBeGreaterThan(10)
    expect(report.network?.lost).toBe(9)
    expect(Object.keys(report.latency)).toEqual(
      expect.arrayContaining(['totalMs', 'jitterBufferMs', 'echoMs', 'noiseMs', 'maxMs']),
    )
    const session = json.session
    expect(session.positionMs).toBeGreaterThanOrEqual(200 * 20)
    expect(session.keyMetrics['frames analysed']).toBeGreaterThanOrEqual(200)
    expect(session.latency.meanMs).toBeGreaterThan(0)
    expect(session.latency.maxMs).toBeGreaterThanOrEqual(session.latency.meanMs!)
    expect(session.latency.budgetMs).toBe(DEFAULT_SETTINGS.maxAudioLatencyMs)
    expect(['healthy', 'degraded', 'unhealthy']).toContain(session.health.status)

    // Rendered with the settings of the moment: no noise reduction, no attenuation.
    unwrap(await host.call('configure', { noiseReductionStrength: 0 }))
    const again = JSON.parse(new TextDecoder().decode(unwrap(await host.call('exportReport')).bytes)) as MetricsReport
    expect(again.settings.noiseReductionStrength).toBe(0)
    expect(report.noise.attenuationDb).toBeGreaterThan(1)
    expect(again.report.noise.attenuationDb).toBeLessThan(0.1)
  })

  it('refuses bad requests with the field named: unknown track, no far end, no capture', async () => {
    const host = await openHost()
    expect(await host.call('exportAudio', { track: 'processed' })).toMatchObject({
      ok: false,
      error: { code: 'no-capture' },
    })
    expect(await host.call('exportReport')).toMatchObject({ ok: false, error: { code: 'no-capture' } })
    expect(await host.call('getEchoPath')).toMatchObject({ ok: false, error: { code: 'no-capture' } })
    const unknown = await host.dispatch('exportAudio', { track: 'mono' })
    expect(unknown).toMatchObject({ ok: false, error: { code: 'invalid-request' } })
    expect(!unknown.ok && unknown.error.message).toMatch(/exportAudio: track/)
    const extra = await host.dispatch('exportReport', { format: 'csv' })
    expect(!extra.ok && extra.error.message).toMatch(/format/)
    unwrap(await host.call('openCapture', { source: { kind: 'path', path: MONO_TONE } }))
    const far = await host.call('exportAudio', { track: 'far' })
    expect(far).toMatchObject({ ok: false, error: { code: 'invalid-request' } })
    expect(!far.ok && far.error.message).toMatch(/track: 'far'.*no far-end track/)
    const path = unwrap(await host.call('getEchoPath'))
    expect(path.active).toBe(false)
    // The session is fine afterwards.
    expect(readWav(unwrap(await host.call('exportAudio', { track: 'all' }))).channels.length).toBe(3)
  })

  it('saveAudio and saveReport export, then hand the file to the native save dialog; browser mode has none', async () => {
    const saved: { name: string; kind: string; bytes: Uint8Array }[] = []
    const native: NativeDialogs = {
      pickCapture: () => Promise.resolve(null),
      saveEnv: () => Promise.resolve(null),
      saveFile: (file, kind) => {
        saved.push({ name: file.suggestedName, kind, bytes: file.bytes })
        return Promise.resolve(join(saveDir, file.suggestedName))
      },
    }
    const host = await openHost(native)
    await host.call('openCapture', { source: { kind: 'demo', format: 'wav' } })
    expect(unwrap(await host.call('saveAudio', { track: 'processed' }))).toEqual({
      path: join(saveDir, 'demo-call.processed.wav'),
    })
    expect(unwrap(await host.call('saveReport'))).toEqual({ path: join(saveDir, 'demo-call.report.json') })
    expect(saved.map((s) => [s.name, s.kind])).toEqual([
      ['demo-call.processed.wav', 'audio'],
      ['demo-call.report.json', 'report'],
    ])
    expect(readWav({ bytes: saved[0]!.bytes, suggestedName: '', mimeType: '' }).channels[0]!.length).toBe(160000)
    expect(JSON.parse(new TextDecoder().decode(saved[1]!.bytes))).toHaveProperty('report.echo')
    const bad = await host.dispatch('saveAudio', { track: 7 })
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid-request' } })

    const browser = await openHost()
    expect(await browser.call('saveAudio', { track: 'processed' })).toMatchObject({
      ok: false,
      error: { code: 'unsupported' },
    })
    expect(await browser.call('saveReport')).toMatchObject({ ok: false, error: { code: 'unsupported' } })
  })
})

import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startBridge, WS_PATH, type Bridge } from '../../../src/main/bridge'
import { readWav } from '../../../src/main/capture'
import { resampleSignal } from '../../../src/main/capture/audio'
import type { LivePushReply, LiveStartReply, RecordingInfo, SessionState } from '../../../src/shared/contract'
import { readWavFixture, whiteNoise } from '../../helpers/signals'
import { Client } from '../ws-client'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const run = promisify(execFile)

/** The noisy-room microphone fixture at 48 kHz, as a device would give it. */
const noisy48k = (() => {
  const { samples, sampleRateHz } = readWavFixture('live-noisy-speech-16k.wav')
  return resampleSignal(samples, sampleRateHz, 48000)
})()

let bridge: Bridge
let recordings: string
const clients: Client[] = []

beforeAll(async () => {
  recordings = mkdtempSync(join(tmpdir(), 'live-test-'))
  bridge = await startBridge({ staticDir: null, host: { recordingsDir: recordings } })
})
afterAll(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await bridge.close()
  rmSync(recordings, { recursive: true, force: true })
})

async function connect(): Promise<Client> {
  const client = new Client(`ws://127.0.0.1:${bridge.port}${WS_PATH}?token=${bridge.token}`)
  clients.push(client)
  await client.hello()
  return client
}

async function value<T>(promise: Promise<unknown>): Promise<T> {
  const result = (await promise) as { ok: boolean; value?: T; error?: { message: string } }
  if (!result.ok) throw new Error(result.error!.message)
  return result.value as T
}

/** Blocks of `samples` of `blockSamples` each (the last partial block dropped). */
function blocks(samples: Float32Array, blockSamples: number, count = Math.floor(samples.length / blockSamples)) {
  return Array.from({ length: count }, (_, k) => samples.slice(k * blockSamples, (k + 1) * blockSamples))
}

/** Pushes blocks with sequence numbers (all in flight at once, in order), returns the last reply. */
async function push(client: Client, near: Float32Array[], far: Float32Array[] | null, sequences?: number[]) {
  const replies = await Promise.all(
    near.map((block, k) =>
      value<LivePushReply>(
        client.request('pushLive', {
          sequence: sequences?.[k] ?? k,
          near: block,
          far: far?.[k] ?? new Float32Array(0),
        }),
      ),
    ),
  )
  return replies[replies.length - 1]!
}

function tapFrames(client: Client, fromBatch: number) {
  const batches = client.batches.slice(fromBatch)
  const frames = batches.reduce((n, b) => n + b.frameCount, 0)
  const attenuation = batches.flatMap((b) => Array.from(b.metrics.noiseAttenuationDb))
  return { batches, frames, attenuation }
}

describe('live mode over a real WebSocket and worker', () => {
  it('turns 48 kHz blocks into 16 kHz frames that add up to the pushed duration, and attenuates the noise', async () => {
    const client = await connect()
    const started = await value<LiveStartReply & SessionState>(
      client.request('startLive', { inputRateHz: 48000, outputRateHz: 48000, far: 'none' }),
    )
    expect(started.farAudio).toBeNull()
    expect(started.inputFrameSamples).toBe(960)
    expect(started.live).toMatchObject({ inputRateHz: 48000, frames: 0, missingBlocks: 0 })
    const firstBatch = client.batches.length
    const near = blocks(noisy48k, 960, 250) // 5 s
    const reply = await push(client, near, null)
    // 48 kHz → 16 kHz is an exact 3:1: every 960-sample block is one 320-sample frame.
    expect(reply).toEqual({ frames: 250, missingBlocks: 0 })
    const stopped = await value<{ recording: RecordingInfo | null } & SessionState>(client.request('stopLive'))
    expect(stopped.recording).toBeNull()
    expect(stopped.live).toBeNull()
    await client.until(() => tapFrames(client, firstBatch).frames >= 250)
    const tap = tapFrames(client, firstBatch)
    expect(tap.frames).toBe(250)
    expect(tap.batches.every((b) => b.sampleRateHz === 16000 && b.frameSamples === 320)).toBe(true)
    // Contiguous frames 0…249.
    let next = 0
    for (const b of tap.batches.filter((b) => b.frameCount > 0)) {
      expect(b.fromFrame).toBe(next)
      next += b.frameCount
    }
    // The microphone reached the tap: the near PCM of the last second is the fixture's level, not silence.
    const lastNear = tap.batches.at(-1)!.near
    expect(Math.max(...Array.from(lastNear, Math.abs))).toBeGreaterThan(0.005)
    // Noise attenuation over the second half (the noise floor is learnt by then).
    const half = tap.attenuation.slice(125)
    const meanDb = half.reduce((a, b) => a + b, 0) / half.length
    expect(meanDb).toBeGreaterThan(3)
  })

  it('conserves frames at 44.1 kHz (882-sample blocks) within one frame', async () => {
    const client = await connect()
    await value(client.request('startLive', { inputRateHz: 44100, outputRateHz: 44100, far: 'none' }))
    const noisy = resampleSignal(noisy48k, 48000, 44100)
    const reply = await push(client, blocks(noisy, 882, 250), null)
    // 250 blocks of 20 ms = 250 frames, less at most one still in the resampler's rounding.
    expect(reply.frames).toBeGreaterThanOrEqual(249)
    expect(reply.frames).toBeLessThanOrEqual(250)
    await value(client.request('stopLive'))
  })

  it('counts missing sequence numbers, fills them with silence of their duration, and drops repeats', async () => {
    const client = await connect()
    await value(client.request('startLive', { inputRateHz: 48000, outputRateHz: 48000, far: 'none' }))
    const near = blocks(noisy48k, 960, 20)
    // 0…9, then 13…19 (10, 11, 12 lost), then a late repeat of 15.
    const sequences = [...Array.from({ length: 10 }, (_, k) => k), ...Array.from({ length: 7 }, (_, k) => 13 + k), 15]
    const reply = await push(client, near.slice(0, sequences.length), null, sequences)
    expect(reply.missingBlocks).toBe(3)
    // 17 blocks pushed + 3 blocks of silence = 20 frames; the repeat adds nothing.
    expect(reply.frames).toBe(20)
    const state = await value<SessionState>(client.request('getState'))
    expect(state.live).toMatchObject({ frames: 20, missingBlocks: 3, dropouts: 0 })
    await value(client.request('stopLive', { reason: 'test over' }))
  })

  it('applies settings to the live pipeline at the next frame, a new frame duration included', async () => {
    const client = await connect()
    await value(client.request('startLive', { inputRateHz: 48000, outputRateHz: 48000, far: 'none' }))
    // Steady noise (−40 dBFS): the noise reducer's attenuation is its strength's doing alone.
    const near = blocks(whiteNoise(300 * 960, 0.01, 7), 960)
    const startBatch = client.batches.length
    await push(client, near.slice(0, 150), null)
    const firstBatch = client.batches.length
    // Strength 0: the noise reducer passes the signal through from the frame the reply names.
    const reply = await value<{ effectiveFrame: number }>(client.request('configure', { noiseReductionStrength: 0 }))
    expect(reply.effectiveFrame).toBe(150)
    await push(
      client,
      near.slice(150, 200),
      null,
      near.slice(150, 200).map((_, k) => 150 + k),
    )
    // A cold change: 10 ms frames from now on; the pushed audio still adds up.
    await value(client.request('configure', { audioChunkDurationMs: 10 }))
    const last = await push(
      client,
      near.slice(200),
      null,
      near.slice(200).map((_, k) => 200 + k),
    )
    expect(last.frames).toBe(200 + 100 * 2)
    await value(client.request('stopLive'))
    await client.until(() => tapFrames(client, firstBatch).frames >= 250)
    const after = tapFrames(client, firstBatch)
    const strengthZero = after.batches.filter((b) => b.fromFrame >= 150 && b.frameMs === 20)
    expect(strengthZero.length).toBeGreaterThan(0)
    // Strength 0: the attenuation falls from the frame the reply named (the reducer's gain glides, no click) to 0.
    const zero = strengthZero.flatMap((b) => Array.from(b.metrics.noiseAttenuationDb))
    // The 50 frames before the change, by frame index (batches arrive asynchronously: the ones holding frames < 150
    // may still have been in flight when the push returned).
    const before = client.batches
      .slice(startBatch)
      .filter((b) => b.frameMs === 20)
      .flatMap((b) => Array.from(b.metrics.noiseAttenuationDb, (db, k) => ({ frame: b.fromFrame + k, db })))
      .filter(({ frame }) => frame >= 100 && frame < 150)
      .map(({ db }) => db)
    const mean = (x: number[]) => x.reduce((a, b) => a + b, 0) / x.length
    expect(mean(before)).toBeGreaterThan(6)
    expect(zero[0]).toBeLessThan(before.at(-1)! - 1)
    expect(zero.slice(-15).every((db) => Math.abs(db) < 0.1)).toBe(true)
    expect(after.batches.some((b) => b.events.some((e) => e.kind === 'config-applied'))).toBe(true)
    const tenMs = after.batches.filter((b) => b.frameMs === 10)
    expect(tenMs.reduce((n, b) => n + b.frameCount, 0)).toBe(200)
    expect(tenMs.every((b) => b.frameSamples === 160)).toBe(true)
  })

  it('refuses live commands out of order, with the reason, and the session keeps working', async () => {
    const client = await connect()
    const block = { sequence: 0, near: new Float32Array(960), far: new Float32Array(0) }
    expect(await client.request('pushLive', block)).toMatchObject({ ok: false, error: { message: /not on/ } })
    expect(await client.request('stopLive')).toMatchObject({ ok: false, error: { message: /not on/ } })
    expect(await client.request('startRecording')).toMatchObject({ ok: false, error: { message: /not on/ } })
    expect(await client.request('exportRecording')).toMatchObject({ ok: false, error: { message: /nothing/ } })
    expect(
      await client.request('startLive', { inputRateHz: 48000, outputRateHz: 48000, far: 'capture' }),
    ).toMatchObject({ ok: false, error: { message: /no capture is open/ } })
    expect(await client.request('startLive', { inputRateHz: 4000, outputRateHz: 48000, far: 'none' })).toMatchObject({
      ok: false,
      error: { code: 'invalid-request', message: /inputRateHz/ },
    })
    const demo = await value<SessionState>(client.request('openCapture', { source: { kind: 'demo' } }))
    // The far end of the demo pcap (G.711 packets), as the renderer will play it at 48 kHz.
    const withFar = await value<LiveStartReply>(
      client.request('startLive', { inputRateHz: 48000, outputRateHz: 48000, far: 'capture' }),
    )
    expect(withFar.farDescription).toContain('demo-call.pcap')
    expect(Math.abs(withFar.farAudio!.length / 48 - demo.capture!.durationMs)).toBeLessThan(200)
    expect(await client.request('play')).toMatchObject({ ok: false, error: { message: /live mode is on/ } })
    expect(await client.request('startLive', { inputRateHz: 48000, outputRateHz: 48000, far: 'none' })).toMatchObject({
      ok: false,
      error: { message: /already on/ },
    })
    expect(await push(client, blocks(noisy48k, 960, 5), null)).toEqual({ frames: 5, missingBlocks: 0 })
    await value(client.request('stopLive'))
    // Back to replay mode: the demo plays again.
    expect(await client.request('play')).toMatchObject({ ok: true })
    await value(client.request('pause'))
  })

  it('records near and far as a capture that replays with the same samples, in replay mode and in the CLI', async () => {
    const client = await connect()
    const started = await value<LiveStartReply & SessionState>(
      client.request('startLive', {
        inputRateHz: 48000,
        outputRateHz: 48000,
        far: 'bot',
        record: true,
        inputDevice: 'Test microphone',
        outputDevice: 'Test speaker',
      }),
    )
    expect(started.recording).toBe(true)
    expect(started.live?.recording).toEqual({ startedAtFrame: 0, durationMs: 0 })
    const bot = started.farAudio!
    expect(bot.length).toBeGreaterThan(48000 * 10)
    // The room: the microphone hears the noisy talker plus the bot's voice 40 ms later at −12 dB.
    const count = 300
    const mic = new Float32Array(count * 960)
    for (let i = 0; i < mic.length; i++) mic[i] = noisy48k[i]! + (i >= 1920 ? 0.25 * bot[i - 1920]! : 0)
    await push(client, blocks(mic, 960, count), blocks(bot, 960, count))
    const stopped = await value<{ recording: RecordingInfo }>(client.request('stopLive', { reason: 'test over' }))
    const info = stopped.recording
    expect(info.frames).toBe(count)
    expect(info.durationMs).toBe(count * 20)
    expect(info.directory).toBe(recordings)

    // The files: a stereo 16 kHz capture (near, far), the processed near end, the sidecar.
    const captureWav = readWav(readFileSync(join(recordings, info.files.capture)), info.files.capture)
    expect(captureWav).toMatchObject({ sampleRateHz: 16000, channelCount: 2, frameCount: count * 320 })
    const processedWav = readWav(readFileSync(join(recordings, info.files.processed)), info.files.processed)
    expect(processedWav).toMatchObject({ sampleRateHz: 16000, channelCount: 1, frameCount: count * 320 })
    const sidecar = JSON.parse(readFileSync(join(recordings, info.files.sidecar), 'utf8'))
    expect(sidecar).toMatchObject({
      stopReason: 'test over',
      devices: { input: 'Test microphone', output: 'Test speaker', inputRateHz: 48000, outputRateHz: 48000 },
      far: { source: 'bot' },
      audio: { samples: count * 320, sampleRateHz: 16000 },
      live: { startedAtFrame: 0, missingBlocks: 0, dropouts: 0 },
    })
    expect(sidecar.timeline.length).toBe(6)
    expect(sidecar.settings.noiseReductionStrength).toBe(started.settings.noiseReductionStrength)

    // Replay mode: the recording opens as a WAV capture and replays to the same processed samples.
    const opened = await value<SessionState>(
      client.request('openCapture', { source: { kind: 'path', path: join(recordings, info.files.capture) } }),
    )
    expect(opened.capture).toMatchObject({ format: 'wav', near: 'pcm', far: 'pcm', durationMs: count * 20 })
    const firstBatch = client.batches.length
    await value(client.request('setSpeed', { speed: 'max' }))
    await value(client.request('play'))
    await client.until(() => client.batches.slice(firstBatch).some((b) => b.events.some((e) => e.kind === 'ended')))
    const replayed = client.batches.slice(firstBatch).filter((b) => b.frameCount > 0)
    const processed = new Float32Array(replayed.reduce((n, b) => n + b.processed.length, 0))
    let offset = 0
    for (const b of replayed) {
      processed.set(b.processed, offset)
      offset += b.processed.length
    }
    // The replay runs the recording's frames and a short drain: the same count within one frame… (2 drain frames)
    expect(Math.abs(opened.transport.totalFrames - count)).toBeLessThanOrEqual(2)
    // …and the frames the live session processed come out identical.
    const live = processedWav.channel(0)
    let differing = 0
    for (let i = 0; i < live.length; i++) if (processed[i] !== live[i]) differing++
    expect(differing).toBe(0)

    // The CLI: the same duration, and a processed WAV of the same number of samples.
    const out = mkdtempSync(join(tmpdir(), 'live-cli-'))
    try {
      const { stdout } = await run(
        process.execPath,
        [join(ROOT, 'bin/voip-workbench.mjs'), 'analyze', join(recordings, info.files.capture), '--json', '--out', out],
        { cwd: ROOT, maxBuffer: 64 << 20 },
      )
      const report = JSON.parse(stdout) as { captures: { durationS: number; output: string }[] }
      expect(report.captures[0]!.durationS * 16000).toBe(count * 320)
      const cliProcessed = readWav(readFileSync(report.captures[0]!.output), 'cli output')
      expect(Math.abs(cliProcessed.frameCount - count * 320)).toBeLessThanOrEqual(320)
    } finally {
      rmSync(out, { recursive: true, force: true })
    }

    // The download: the three files' bytes.
    const exported = await value<{ files: { suggestedName: string; bytes: Uint8Array }[] }>(
      client.request('exportRecording'),
    )
    expect(exported.files.map((f) => f.suggestedName)).toEqual([
      info.files.capture,
      info.files.processed,
      info.files.sidecar,
    ])
    expect(exported.files[0]!.bytes.byteLength).toBe(58 + count * 320 * 8)
  })

  it('writes the recording as it goes, and keeps it when the session ends without stopLive', async () => {
    const client = await connect()
    await value(client.request('startLive', { inputRateHz: 48000, outputRateHz: 48000, far: 'none' }))
    const before = new Set(readdirSync(recordings))
    await value(client.request('startRecording'))
    expect(await client.request('startRecording')).toMatchObject({ ok: false, error: { message: /already/ } })
    await push(client, blocks(noisy48k, 960, 100), null)
    const name = readdirSync(recordings).find((f) => !before.has(f) && f.endsWith('.processed.wav'))!
    const capture = join(recordings, name.replace('.processed.wav', '.wav'))
    // 2 s pushed: at least 1.5 s is on disk already, in a valid WAV.
    const partial = readWav(readFileSync(capture), 'partial')
    expect(partial.warnings).toEqual([])
    expect(partial.frameCount).toBeGreaterThanOrEqual(1.5 * 16000)
    // The browser goes away mid-recording: the session closes and the recording is finished.
    await client.close()
    clients.splice(clients.indexOf(client), 1)
    const sidecar = capture.replace(/\.wav$/, '.json')
    await expect
      .poll(() => existsSync(sidecar) && JSON.parse(readFileSync(sidecar, 'utf8')).stopReason, { timeout: 10_000 })
      .toBe('the session was closed')
    expect(readWav(readFileSync(capture), 'final').frameCount).toBe(100 * 320)
  })
})

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WaveFile } from 'wavefile'
import { startBridge, WS_PATH, type Bridge } from '../../src/main/bridge'
import type { EchoPathReply, FileReply, PreviewEnvReply, TransportState } from '../../src/shared/contract'
import { hasNonFinite } from '../helpers/signals'
import { Client } from './ws-client'

let bridge: Bridge
beforeAll(async () => {
  bridge = await startBridge({ staticDir: null })
})
afterAll(async () => {
  await bridge.close()
})

function value<T>(result: { ok: boolean; value?: unknown; error?: { message: string } }): T {
  if (!result.ok) throw new Error(result.error?.message)
  return result.value as T
}

describe('exports over the browser-mode WebSocket', () => {
  it('echo path taps and exported WAV bytes arrive as typed arrays; the .env preview as JSON', async () => {
    const client = new Client(`ws://127.0.0.1:${bridge.port}${WS_PATH}?token=${bridge.token}`)
    await client.hello()
    await client.request('openCapture', { source: { kind: 'demo', format: 'wav' } })
    await client.request('setSpeed', { speed: 'max' })
    await client.request('play')
    await client.until(() => client.batches.some((b) => b.fromFrame + b.frameCount >= 150))
    const paused = value<TransportState>(await client.request('pause'))

    const path = value<EchoPathReply>(await client.request('getEchoPath'))
    expect(path.taps).toBeInstanceOf(Float32Array)
    expect(path.taps.length).toBe(path.effectiveLength)
    expect(hasNonFinite(path.taps)).toBe(false)
    expect(path.taps.some((x) => x !== 0)).toBe(true)
    expect(path.active).toBe(true)

    const file = value<FileReply>(await client.request('exportAudio', { track: 'all' }))
    expect(file.bytes).toBeInstanceOf(Uint8Array)
    expect(file.suggestedName).toBe('demo-call.all.wav')
    const wav = new WaveFile(file.bytes)
    expect(wav.fmt).toMatchObject({ numChannels: 3, sampleRate: 16000, bitsPerSample: 16 })
    expect((wav.getSamples(false) as unknown as ArrayLike<number>[])[0]!.length).toBe(160000)

    const report = value<FileReply>(await client.request('exportReport'))
    expect(report.bytes).toBeInstanceOf(Uint8Array)
    expect(JSON.parse(new TextDecoder().decode(report.bytes))).toHaveProperty('report.latency.totalMs')

    const preview = value<PreviewEnvReply>(
      await client.request('previewEnv', { text: 'NOISE_REDUCTION_STRENGTH=2\nECHO_FILTER_LENGTH=512\n' }),
    )
    expect(preview.issues).toEqual([
      expect.objectContaining({ line: 1, name: 'NOISE_REDUCTION_STRENGTH', severity: 'error' }),
    ])
    expect(preview.issues[0]!.message).toMatch(/^preview\.env:1: /)
    expect(preview.diff).toEqual([{ key: 'echoFilterLengthTaps', from: 1024, to: 512 }])

    const bad = await client.request('exportAudio', { track: 'stereo' })
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid-request' } })
    expect(!bad.ok && bad.error.message).toMatch(/track/)
    expect(await client.request('saveReport')).toMatchObject({ ok: false, error: { code: 'unsupported' } })
    // None of it moved the replay.
    expect(value<{ transport: TransportState }>(await client.request('getState')).transport.positionFrame).toBe(
      paused.positionFrame,
    )
    await client.close()
  })
})

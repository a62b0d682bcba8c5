import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { startBridge, WS_PATH, type Bridge } from '../../src/main/bridge'
import { MAX_TEXT_MESSAGE_BYTES } from '../../src/shared/contract'
import { Client } from './ws-client'

const FIXTURES = fileURLToPath(new URL('../fixtures/captures/', import.meta.url))

let bridge: Bridge
beforeAll(async () => {
  bridge = await startBridge({ staticDir: null })
})
afterAll(async () => {
  await bridge.close()
})

function wsUrl(token: string | null = bridge.token, path = WS_PATH): string {
  return `ws://127.0.0.1:${bridge.port}${path}${token === null ? '' : `?token=${token}`}`
}

/** Resolves with the HTTP status of a refused upgrade, or 101 when the connection opened. */
function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers })
    ws.on('open', () => {
      ws.close()
      resolve(101)
    })
    ws.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0))
    ws.on('error', () => undefined)
  })
}

describe('browser-mode bridge (a real WebSocket)', () => {
  it('refuses a connection without the token, with a wrong token, from another origin or host name', async () => {
    expect(await upgradeStatus(wsUrl(null))).toBe(401)
    expect(await upgradeStatus(wsUrl('0'.repeat(64)))).toBe(401)
    expect(await upgradeStatus(wsUrl(bridge.token.slice(1)))).toBe(401)
    expect(await upgradeStatus(wsUrl(bridge.token, '/other'))).toBe(404)
    expect(await upgradeStatus(wsUrl(), { Origin: 'https://evil.example' })).toBe(403)
    expect(await upgradeStatus(wsUrl(), { Host: `rebound.example:${bridge.port}` })).toBe(403)
    expect(await upgradeStatus(wsUrl(), { Origin: `http://127.0.0.1:${bridge.port}` })).toBe(101)
  })

  it('answers malformed, unknown and oversized messages with an error, and they change nothing', async () => {
    const client = new Client(wsUrl())
    await client.opened()
    expect(await client.request('getState')).toMatchObject({ ok: false, error: { code: 'not-connected' } })
    expect(await client.request('hello', { contractVersion: 1 })).toMatchObject({
      ok: false,
      error: { code: 'version-mismatch' },
    })
    await client.hello()
    expect(await client.request('openCapture', { source: { kind: 'demo' } })).toMatchObject({ ok: true })
    const before = await client.request('getState')
    expect((await client.raw('{"kind": "request", "id": 1007, ')).result).toMatchObject({
      error: { code: 'malformed' },
    })
    expect(await client.raw(JSON.stringify({ kind: 'request', id: 1008 }))).toMatchObject({
      id: 1008,
      result: { error: { code: 'malformed' } },
    })
    expect((await client.raw(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]))).result).toMatchObject({
      error: { code: 'malformed' },
    })
    const unknown = await client.request('deleteEverything', {})
    expect(unknown).toMatchObject({ ok: false, error: { code: 'unknown-command' } })
    const oversized = await client.raw(
      JSON.stringify({
        kind: 'request',
        id: 9,
        command: 'configure',
        request: { x: 'a'.repeat(MAX_TEXT_MESSAGE_BYTES) },
      }),
    )
    expect(oversized.result).toMatchObject({ error: { code: 'too-large' } })
    const invalid = await client.request('configure', { noiseReductionStrength: '0.9' })
    expect(invalid).toMatchObject({ ok: false, error: { code: 'invalid-settings' } })
    expect(!invalid.ok && invalid.error.message).toMatch(/noiseReductionStrength/)
    expect(await client.request('seek', { positionMs: 'soon' })).toMatchObject({
      ok: false,
      error: { code: 'invalid-request' },
    })
    expect(await client.request('getState')).toEqual(before)
    await client.close()
  })

  it('streams tap batches as binary frames whose sample counts add up to the replayed duration', async () => {
    const client = new Client(wsUrl())
    await client.hello()
    const opened = await client.request('openCapture', { source: { kind: 'demo' } })
    const total = opened.ok ? (opened.value as { transport: { totalFrames: number } }).transport.totalFrames : 0
    await client.request('setSpeed', { speed: 'max' })
    await client.request('play')
    await client.until(() => client.batches.some((b) => b.events.some((e) => e.kind === 'ended')))
    const taps = client.batches.filter((b) => b.frameCount > 0)
    expect(client.binaryTaps).toBe(client.batches.length)
    const samples = taps.reduce((n, b) => n + b.processed.length, 0)
    expect(samples).toBe(total * 320)
    expect(samples / 16000).toBeCloseTo((total * 20) / 1000, 6)
    let next = 0
    for (const b of taps) {
      expect(b.fromFrame).toBe(next)
      next += b.frameCount
    }
    await client.close()
  })

  it('opens a capture uploaded as bytes in a binary request, and reports a corrupt one by name', async () => {
    const client = new Client(wsUrl())
    await client.hello()
    const wav = new Uint8Array(readFileSync(FIXTURES + 'demo-call.wav'))
    const opened = await client.request('openCapture', { source: { kind: 'bytes', name: 'call.wav', bytes: wav } })
    expect(opened).toMatchObject({ ok: true, value: { capture: { name: 'call.wav', format: 'wav', near: 'pcm' } } })
    const bad = await client.request('openCapture', {
      source: { kind: 'bytes', name: 'noise.wav', bytes: new Uint8Array(1000).fill(7) },
    })
    expect(bad).toMatchObject({ ok: false, error: { code: 'capture' } })
    expect(!bad.ok && bad.error.message).toMatch(/^noise\.wav: unknown format/)
    expect(await client.request('getState')).toMatchObject({ ok: true, value: { capture: { name: 'call.wav' } } })
    await client.close()
  })

  it('a burst of 200 configure calls in one second drops no audio and the session stays healthy', async () => {
    const client = new Client(wsUrl())
    await client.hello()
    await client.request('openCapture', { source: { kind: 'demo' } })
    await client.request('play')
    const frames: number[] = []
    const start = performance.now()
    for (let i = 0; i < 200; i++) {
      const reply = await client.request('configure', {
        noiseReductionStrength: (i % 10) / 10,
        echoSuppressorStrength: 1 - (i % 5) / 10,
      })
      expect(reply.ok).toBe(true)
      frames.push((reply as { value: { effectiveFrame: number } }).value.effectiveFrame)
      const due = start + (i + 1) * 5
      const wait = due - performance.now()
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    }
    const paused = await client.request('pause')
    const position = (paused as { value: { positionFrame: number } }).value.positionFrame
    await client.until(() => client.batches.reduce((n, b) => n + b.frameCount, 0) >= position)
    const taps = client.batches.filter((b) => b.frameCount > 0)
    let next = 0
    for (const b of taps) {
      expect(b.fromFrame).toBe(next) // no frame skipped
      next += b.frameCount
      expect(b.processed.every(Number.isFinite)).toBe(true)
    }
    expect(next).toBe(position)
    expect(position).toBeGreaterThan(30) // it kept playing in real time through the burst (~1 s)
    expect(frames.every((f, i) => i === 0 || f >= frames[i - 1]!)).toBe(true)
    const applied = taps.flatMap((b) => b.events).filter((e) => e.kind === 'config-applied')
    expect(applied.length).toBeGreaterThan(10)
    expect(applied.length).toBeLessThanOrEqual(position) // at most one application per frame
    const state = await client.request('getState')
    expect(state).toMatchObject({ ok: true, value: { settings: { noiseReductionStrength: 0.9 } } })
    expect(taps.at(-1)!.health.reasons.join()).not.toMatch(/not finite/)
    await client.close()
  })
})

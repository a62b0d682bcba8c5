/**
 * Live-mode figures for `npm run bench` (live.bench.ts runs this in a child process, because it is asynchronous): a
 * browser-mode bridge and a WebSocket client in this process, a real worker, as the renderer drives live mode.
 * The client plays a renderer: every 20 ms (on the wall clock) it completes a 48 kHz block of a noisy room (the
 * live fixture plus the bot's voice as an echo, 40 ms later at −12 dB) and the far-end block it "played", stamps it
 * (capturedAtMs, the epoch clock the engine shares) and sends pushLive at once. The engine measures each block's
 * added latency: from that stamp until the pipeline has processed it, plus the algorithmic delay still ahead of its
 * last sample (resampler, echo canceller, noise reducer, the 16 kHz queue); LiveState gives p50/p99 over the blocks
 * after the first second (target p99 < 40 ms).
 * Also: frames conserved (processed = pushed), the noise attenuation, and the pipeline's processing time per frame.
 * Prints one JSON object.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import WebSocket from 'ws'
import { startBridge, WS_PATH } from '../../src/main/bridge'
import { resampleSignal } from '../../src/main/capture/audio'
import {
  CONTRACT_VERSION,
  decodeWire,
  encodeWire,
  type LiveStartReply,
  type Result,
  type SessionState,
  type TapBatch,
} from '../../src/shared/contract'
import { readWavFixture } from '../helpers/signals'

const SECONDS = Number(process.env['LIVE_BENCH_S'] ?? 15)
const RATE = 48000
const BLOCK = 960

const recordings = mkdtempSync(join(tmpdir(), 'live-bench-'))
const bridge = await startBridge({ staticDir: null, host: { recordingsDir: recordings } })
const ws = new WebSocket(`ws://127.0.0.1:${bridge.port}${WS_PATH}?token=${bridge.token}`)
await new Promise((resolve) => ws.once('open', resolve))
const replies = new Map<number, (result: Result<unknown>) => void>()
let tapFrames = 0
let attenuationSumDb = 0
let stageUsSum = 0
ws.on('message', (data: Buffer, isBinary: boolean) => {
  const message = decodeWire(isBinary ? new Uint8Array(data) : data.toString('utf8')) as {
    kind: string
    id?: number
    result?: Result<unknown>
    event?: string
    payload?: unknown
  }
  if (message.kind === 'reply' && message.id !== undefined) {
    replies.get(message.id)?.(message.result!)
    replies.delete(message.id)
  }
  if (message.kind === 'event' && message.event === 'tap') {
    const batch = message.payload as TapBatch
    for (let i = 0; i < batch.frameCount; i++) {
      tapFrames++
      attenuationSumDb += batch.metrics.noiseAttenuationDb[i]!
      stageUsSum +=
        batch.metrics.networkUs[i]! + batch.metrics.echoUs[i]! + batch.metrics.noiseUs[i]! + batch.metrics.framingUs[i]!
    }
  }
})
let nextId = 1
function request(command: string, body?: unknown): Promise<Result<unknown>> {
  const id = nextId++
  return new Promise((resolve) => {
    replies.set(id, resolve)
    ws.send(encodeWire({ kind: 'request', id, command, request: body }))
  })
}
async function value<T>(command: string, body?: unknown): Promise<T> {
  const result = await request(command, body)
  if (!result.ok) throw new Error(`${command}: ${result.error.message}`)
  return result.value as T
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

await value('hello', { contractVersion: CONTRACT_VERSION })
const started = await value<LiveStartReply>('startLive', { inputRateHz: RATE, outputRateHz: RATE, far: 'bot' })
const bot = started.farAudio!
const fixture = readWavFixture('live-noisy-speech-16k.wav')
const noisy = resampleSignal(fixture.samples, fixture.sampleRateHz, RATE)
const blocks = Math.round((SECONDS * 1000) / 20)
const echoDelay = (40 * RATE) / 1000

// Real time: block k is complete at t0 + (k + 1)·20 ms.
const t0 = performance.now()
const pending: Promise<Result<unknown>>[] = []
for (let k = 0; k < blocks; k++) {
  const due = t0 + (k + 1) * 20
  const wait = due - performance.now()
  if (wait > 1) await sleep(wait - 1)
  while (performance.now() < due) {
    // spin the last millisecond: setTimeout's granularity would add its own jitter to every block
  }
  const near = new Float32Array(BLOCK)
  const far = new Float32Array(BLOCK)
  for (let i = 0; i < BLOCK; i++) {
    const n = k * BLOCK + i
    far[i] = bot[n % bot.length]!
    near[i] = noisy[n % noisy.length]! + (n >= echoDelay ? 0.25 * bot[(n - echoDelay) % bot.length]! : 0)
  }
  pending.push(
    request('pushLive', { sequence: k, near, far, capturedAtMs: performance.timeOrigin + performance.now() }),
  )
}
await Promise.all(pending)
const state = await value<SessionState>('getState')
const live = state.live!
await value('stopLive', { reason: 'bench over' })
await sleep(100)
ws.close()
await bridge.close()
rmSync(recordings, { recursive: true, force: true })

const usPerFrame = stageUsSum / Math.max(1, tapFrames)
console.log(
  JSON.stringify({
    usPerFrame,
    realtimeFactor: 20000 / usPerFrame,
    latencyP50Ms: live.latencyMs.p50,
    latencyP99Ms: live.latencyMs.p99,
    framesPushed: blocks,
    framesProcessed: live.frames,
    tapFrames,
    missingBlocks: live.missingBlocks,
    noiseAttenuationDb: attenuationSumDb / Math.max(1, tapFrames),
    loadAverage1m: loadavg()[0]!,
  }),
)

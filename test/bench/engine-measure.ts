/**
 * Engine figures for `npm run bench` (engine.bench.ts runs this in a child process, because the harness is
 * synchronous and these are not): a browser-mode bridge and a WebSocket client in this process, a real worker.
 * - configure round trip (the slider-to-applied latency): request → reply, and request → its 'config-applied'
 *   event in the tap, under a live 1× replay (target: round trip p99 < 25 ms);
 * - main-thread event-loop lag while streaming at 1× and at 'max' (target p99 < 10 ms);
 * - tap throughput at 'max': frames and bytes per second delivered to the client.
 * Prints one JSON object.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'
import WebSocket from 'ws'
import { startBridge, WS_PATH } from '../../src/main/bridge'
import { CONTRACT_VERSION, decodeWire, encodeWire, type Result, type TapBatch } from '../../src/shared/contract'

const bridge = await startBridge({ staticDir: null })
const ws = new WebSocket(`ws://127.0.0.1:${bridge.port}${WS_PATH}?token=${bridge.token}`)
await new Promise((resolve) => ws.once('open', resolve))
const replies = new Map<number, (result: Result<unknown>) => void>()
const appliedWaiters: ((time: number) => void)[] = []
let frames = 0
let bytes = 0
ws.on('message', (data: Buffer, isBinary: boolean) => {
  bytes += data.byteLength
  const message = decodeWire(isBinary ? new Uint8Array(data) : data.toString('utf8')) as {
    kind: string
    id?: number
    result?: Result<unknown>
    event?: string
    payload?: unknown
  }
  if (message.kind === 'reply' && message.id !== undefined) replies.get(message.id)?.(message.result!)
  if (message.kind === 'event' && message.event === 'tap') {
    const batch = message.payload as TapBatch
    frames += batch.frameCount
    if (batch.events.some((e) => e.kind === 'config-applied')) {
      const now = performance.now()
      for (const waiter of appliedWaiters.splice(0)) waiter(now)
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
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN
}

await request('hello', { contractVersion: CONTRACT_VERSION })
await request('openCapture', { source: { kind: 'demo' } })
await request('setLoop', { enabled: true })
await request('play')
await sleep(500)

// 1× replay: configure round trips and event-loop lag.
const lag = monitorEventLoopDelay({ resolution: 1 })
lag.enable()
const roundTrips: number[] = []
const applied: number[] = []
for (let i = 0; i < 100; i++) {
  const t0 = performance.now()
  const seen = new Promise<number>((resolve) => appliedWaiters.push(resolve))
  const result = await request('configure', { noiseReductionStrength: i % 2 === 0 ? 0.5 : 0.8 })
  roundTrips.push(performance.now() - t0)
  if (result.ok) applied.push((await seen) - t0)
  await sleep(20)
}
lag.disable()
const realtimeLagP99 = lag.percentile(99) / 1e6

// 'max': throughput and lag.
await request('setSpeed', { speed: 'max' })
const maxLag = monitorEventLoopDelay({ resolution: 1 })
await sleep(300)
frames = 0
bytes = 0
maxLag.enable()
const t0 = performance.now()
await sleep(3000)
const elapsedS = (performance.now() - t0) / 1000
maxLag.disable()
const framesPerS = frames / elapsedS
await request('pause')
ws.close()
await bridge.close()

console.log(
  JSON.stringify({
    usPerFrame: 1e6 / framesPerS,
    realtimeFactor: (framesPerS * 20) / 1000,
    configureP50Ms: percentile(roundTrips, 50),
    configureP99Ms: percentile(roundTrips, 99),
    appliedInTapP99Ms: percentile(applied, 99),
    loopLagP99Ms: realtimeLagP99,
    loopLagMaxSpeedP99Ms: maxLag.percentile(99) / 1e6,
    tapMBps: bytes / elapsedS / 1e6,
  }),
)

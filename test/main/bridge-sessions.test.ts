import { rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { build } from 'vite'
import { startBridge, WS_PATH, type Bridge } from '../../src/main/bridge'
import { SessionHost } from '../../src/main/engine/session-host'
import { Client } from './ws-client'

// The engine's worker bundled once (as out/main/worker.js is), so that 50 sessions start quickly. The folder is in
// node_modules so that the bundle's package imports resolve.
const OUT_DIR = fileURLToPath(new URL('../../node_modules/.cache/workbench-test-worker/', import.meta.url))
const WORKER = fileURLToPath(new URL('../../src/main/engine/worker.ts', import.meta.url))

let bridge: Bridge
beforeAll(async () => {
  await build({
    configFile: false,
    logLevel: 'silent',
    build: {
      ssr: WORKER,
      outDir: OUT_DIR,
      emptyOutDir: true,
      minify: false,
      rollupOptions: { output: { format: 'es', entryFileNames: 'worker.mjs' } },
    },
  })
  bridge = await startBridge({ staticDir: null, host: { workerFile: OUT_DIR + 'worker.mjs' } })
})
afterAll(async () => {
  await bridge.close()
  rmSync(OUT_DIR, { recursive: true, force: true })
})

describe('browser-mode sessions', () => {
  it('closing the client mid-stream frees its worker: no leak after 50 open/close cycles', async () => {
    const before = SessionHost.liveWorkers
    const url = `ws://127.0.0.1:${bridge.port}${WS_PATH}?token=${bridge.token}`
    for (let round = 0; round < 25; round++) {
      await Promise.all(
        Array.from({ length: 2 }, async () => {
          const client = new Client(url)
          await client.hello()
          await client.request('setSpeed', { speed: 'max' })
          await client.request('openCapture', { source: { kind: 'demo' }, play: true })
          await client.until(() => client.batches.some((b) => b.frameCount > 0))
          client.ws.terminate()
        }),
      )
    }
    const deadline = Date.now() + 10_000
    while ((bridge.sessionCount > 0 || SessionHost.liveWorkers > before) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20))
    expect(bridge.sessionCount).toBe(0)
    expect(SessionHost.liveWorkers).toBe(before)
  })
})

/**
 * Browser mode's entry (`npm run web`, and `npm start` where Electron is missing): starts the bridge on 127.0.0.1,
 * serves the built renderer (out/renderer) and prints the URL to open, with its token, as the one line of stdout.
 *
 *   node out/main/web.js [--port N] [--capture PATH | --no-demo]
 *
 * Each browser tab gets its own session, which opens the demo capture (or --capture) when it connects.
 */
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import type { CaptureSource } from '../shared/contract'
import { startBridge, type Bridge } from './bridge'

export interface WebOptions {
  port?: number
  capture?: string | null
  demo?: boolean
  staticDir?: string
}

/** The built renderer: out/renderer beside out/main. */
export function rendererDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', 'renderer')
}

export async function startWeb(options: WebOptions = {}): Promise<Bridge> {
  const staticDir = options.staticDir ?? rendererDir()
  if (!existsSync(join(staticDir, 'index.html')))
    throw new Error(`the renderer is not built (${staticDir}/index.html is missing): run npm run build`)
  const initialCapture: CaptureSource | null = options.capture
    ? { kind: 'path', path: resolve(options.capture) }
    : options.demo === false
      ? null
      : { kind: 'demo' }
  return startBridge({ port: options.port ?? 0, staticDir, initialCapture })
}

export async function main(argv = process.argv.slice(2)): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      capture: { type: 'string' },
      'no-demo': { type: 'boolean' },
    },
    allowPositionals: false,
  })
  const port = values.port !== undefined ? Number(values.port) : 0
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port ${values.port}: not a port number`)
  const bridge = await startWeb({ port, capture: values.capture ?? null, demo: values['no-demo'] !== true })
  console.log(bridge.url)
  const stop = (): void => {
    void bridge.close().then(() => process.exit(0))
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(`web: ${(error as Error).message}`)
    process.exit(1)
  })
}

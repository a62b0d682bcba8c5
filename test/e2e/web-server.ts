import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'

export interface WebServer {
  /** http://127.0.0.1:<port>/?token=<token>, as `npm run web` prints it. */
  url: string
  stop(): void
}

/**
 * `npm run web` as a user runs it: it builds (into WORKBENCH_OUT_DIR when set, so parallel runs do not share out/),
 * starts the engine, and prints the URL with its token on stdout. No demo is opened by the server: the page opens it.
 */
export async function startWebServer(): Promise<WebServer> {
  const server: ChildProcess = spawn(process.execPath, ['scripts/web.mjs', '--no-demo'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: server.stdout! })
    lines.on('line', (line) => {
      if (/^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64}$/.test(line)) resolve(line)
    })
    server.once('exit', (code) => reject(new Error(`npm run web exited with ${code} before printing its URL`)))
  })
  return { url, stop: () => void server.kill('SIGTERM') }
}

/**
 * Browser mode: the same engine behind a WebSocket server (ws) on 127.0.0.1, and the built renderer over HTTP.
 *
 * - Bound to 127.0.0.1 only. Every WebSocket connection must present the per-run random token (`?token=`), its Host
 *   header must name the loopback address and port (no DNS rebinding), and a browser's Origin must be this server.
 * - One session (one SessionHost, one worker thread) per connection; closing the connection closes the session.
 * - The contract is the IPC one (src/shared/contract.ts): `{ kind: 'request', id, command, request }` in,
 *   `{ kind: 'reply', id, result }` and `{ kind: 'event', event, payload }` out; messages holding typed arrays
 *   (tap batches, uploaded captures) are binary frames (encodeWire), never JSON numbers.
 * - Malformed, unknown and oversized messages get an error reply (id null when it could not be read) and change
 *   nothing; a connection's first command must be `hello` with the contract version.
 * Plain Node, no Electron.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join, normalize, sep } from 'node:path'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type RawData, type WebSocket } from 'ws'
import {
  EVENT_NAMES,
  MAX_BINARY_MESSAGE_BYTES,
  MAX_TEXT_MESSAGE_BYTES,
  WireError,
  clientMessage,
  decodeWire,
  encodeWire,
  fail,
  isCommandName,
  type CaptureSource,
  type ErrorCode,
  type Result,
  type ServerMessage,
} from '../shared/contract'
import { SessionHost, type SessionHostOptions } from './engine/session-host'

export interface BridgeOptions {
  /** TCP port (0: any free port). */
  port?: number
  /** The built renderer (out/renderer); null serves no pages (tests). */
  staticDir?: string | null
  /** Fixed token (tests); default 32 random bytes, hex. */
  token?: string
  /** Opened in each new session after its hello (e.g. the demo). */
  initialCapture?: CaptureSource | null
  host?: Omit<SessionHostOptions, 'mode'>
}

export interface Bridge {
  /** `http://127.0.0.1:<port>/?token=<token>`: what the user opens. */
  readonly url: string
  readonly port: number
  readonly token: string
  /** Open connections (each with its session). */
  readonly sessionCount: number
  close(): Promise<void>
}

/** Path of the WebSocket endpoint. */
export const WS_PATH = '/ws'
const LOOPBACK = '127.0.0.1'
/** ws closes connections over this (1009); smaller but oversized messages get a 'too-large' reply. */
const WS_MAX_PAYLOAD = MAX_BINARY_MESSAGE_BYTES + 1024 * 1024

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
}

function contentSecurityPolicy(port: number): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `connect-src 'self' ws://${LOOPBACK}:${port}`,
    "img-src 'self' data: blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ')
}

function sameToken(given: string | null, token: string): boolean {
  if (given === null) return false
  const a = Buffer.from(given)
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
}

export async function startBridge(options: BridgeOptions = {}): Promise<Bridge> {
  const token = options.token ?? randomBytes(32).toString('hex')
  const staticDir = options.staticDir ?? null
  const sessions = new Set<SessionHost>()
  let port = 0

  const server: Server = createServer((request, response) => {
    void serveStatic(request, response, staticDir, port)
  })
  const wss = new WebSocketServer({ noServer: true, maxPayload: WS_MAX_PAYLOAD })

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refuse = (status: number, text: string): void => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
    }
    const url = new URL(request.url ?? '/', `http://${LOOPBACK}`)
    const hostHeader = request.headers.host ?? ''
    const allowedHosts = [`${LOOPBACK}:${port}`, `localhost:${port}`]
    if (url.pathname !== WS_PATH) return refuse(404, 'Not Found')
    if (!allowedHosts.includes(hostHeader)) return refuse(403, 'Forbidden')
    const origin = request.headers.origin
    if (origin !== undefined && !allowedHosts.some((h) => origin === `http://${h}`)) return refuse(403, 'Forbidden')
    if (!sameToken(url.searchParams.get('token'), token)) return refuse(401, 'Unauthorized')
    wss.handleUpgrade(request, socket, head, (ws) => connect(ws))
  })

  function connect(ws: WebSocket): void {
    const host = new SessionHost({ ...options.host, mode: 'browser' })
    sessions.add(host)
    let helloDone = false
    const unsubscribe: (() => void)[] = []

    const send = (message: ServerMessage): Promise<void> =>
      new Promise((resolve) => {
        if (ws.readyState !== ws.OPEN) return resolve()
        const data = encodeWire(message)
        ws.send(data, { binary: typeof data !== 'string' }, () => resolve())
      })
    const reply = (id: number | null, result: Result<unknown>): void => void send({ kind: 'reply', id, result })
    const refuse = (id: number | null, code: ErrorCode, message: string): void => reply(id, fail(code, message))

    const subscribe = (): void => {
      for (const event of EVENT_NAMES)
        unsubscribe.push(host.on(event, (payload) => send({ kind: 'event', event, payload } as ServerMessage)))
    }

    ws.on('message', (data: RawData, isBinary: boolean) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer)
      const limit = isBinary ? MAX_BINARY_MESSAGE_BYTES : MAX_TEXT_MESSAGE_BYTES
      if (bytes.byteLength > limit)
        return refuse(null, 'too-large', `message of ${bytes.byteLength} bytes is over the ${limit}-byte limit`)
      let decoded: unknown
      try {
        decoded = decodeWire(
          isBinary ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes.toString('utf8'),
        )
      } catch (error) {
        return refuse(null, 'malformed', error instanceof WireError ? error.message : 'unreadable message')
      }
      const parsed = clientMessage.safeParse(decoded)
      if (!parsed.success) {
        const id = (decoded as { id?: unknown } | null)?.id
        return refuse(
          typeof id === 'number' && Number.isInteger(id) && id >= 0 ? id : null,
          'malformed',
          'not a request: expected { kind: "request", id, command, request }',
        )
      }
      const { id, command, request } = parsed.data
      if (!isCommandName(command)) return refuse(id, 'unknown-command', `unknown command ${JSON.stringify(command)}`)
      if (!helloDone && command !== 'hello')
        return refuse(id, 'not-connected', `${command}: say hello (with the contract version) first`)
      void host.dispatch(command, request).then(async (result) => {
        if (command === 'hello' && result.ok && !helloDone) {
          helloDone = true
          subscribe()
          // The initial capture is open before the hello reply, so the client's first getState sees it.
          if (options.initialCapture) {
            const opened = await host.call('openCapture', { source: options.initialCapture })
            if (!opened.ok) void send({ kind: 'event', event: 'event', payload: { kind: 'error', ...opened.error } })
          }
        }
        reply(id, result)
      })
    })

    ws.on('close', () => {
      for (const off of unsubscribe) off()
      sessions.delete(host)
      void host.close()
    })
    ws.on('error', () => ws.terminate())
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, LOOPBACK, () => resolve())
  })
  port = (server.address() as AddressInfo).port

  return {
    url: `http://${LOOPBACK}:${port}/?token=${token}`,
    port,
    token,
    get sessionCount() {
      return sessions.size
    },
    async close() {
      for (const client of wss.clients) client.terminate()
      await Promise.all([...sessions].map((host) => host.close()))
      sessions.clear()
      wss.close()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

async function serveStatic(
  request: IncomingMessage,
  response: ServerResponse,
  staticDir: string | null,
  port: number,
): Promise<void> {
  const headers = {
    'Content-Security-Policy': contentSecurityPolicy(port),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
  }
  const host = request.headers.host ?? ''
  if (host !== `${LOOPBACK}:${port}` && host !== `localhost:${port}`) {
    response.writeHead(403, headers).end()
    return
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { ...headers, Allow: 'GET, HEAD' }).end()
    return
  }
  if (staticDir === null) {
    response.writeHead(404, headers).end()
    return
  }
  let pathname: string
  try {
    pathname = decodeURIComponent(new URL(request.url ?? '/', `http://${LOOPBACK}`).pathname)
  } catch {
    response.writeHead(400, headers).end()
    return
  }
  const relative = normalize(pathname === '/' ? '/index.html' : pathname)
  const file = join(staticDir, relative)
  if (!file.startsWith(staticDir + sep) || relative.includes('\0')) {
    response.writeHead(404, headers).end()
    return
  }
  try {
    const info = await stat(file)
    if (!info.isFile()) throw new Error('not a file')
    response.writeHead(200, {
      ...headers,
      'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Length': info.size,
    })
    if (request.method === 'HEAD') response.end()
    else createReadStream(file).pipe(response)
  } catch {
    response.writeHead(404, headers).end()
  }
}

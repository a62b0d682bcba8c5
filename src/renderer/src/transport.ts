/**
 * The renderer's one client interface to the engine (EngineApi), whichever transport carries it: the preload's
 * `window.api` in the desktop app (IPC + MessagePort), else a WebSocket to the browser-mode server on 127.0.0.1
 * (the token comes from the page URL). The React code never knows which one it has.
 */
import {
  COMMAND_NAMES,
  CONTRACT_VERSION,
  checkTapBatch,
  decodeWire,
  encodeWire,
  fail,
  serverMessage,
  type CommandName,
  type EngineApi,
  type EngineEvents,
  type EventName,
  type HelloReply,
  type Result,
} from '../../shared/contract'

declare global {
  interface Window {
    api?: EngineApi
  }
}

export interface Connection {
  api: EngineApi
  hello: HelloReply
  transport: 'ipc' | 'websocket'
  /** Called once if the connection drops (WebSocket only; IPC lives as long as the page). */
  onClose(listener: (reason: string) => void): void
}

type Listener = (payload: unknown) => void

/** EngineApi over the browser mode's WebSocket (see src/main/bridge.ts). */
class WebSocketClient {
  readonly api: EngineApi
  private readonly pending = new Map<number, (result: Result<unknown>) => void>()
  private readonly listeners: Record<EventName, Set<Listener>> = { tap: new Set(), state: new Set(), event: new Set() }
  private readonly closeListeners: ((reason: string) => void)[] = []
  private nextId = 1
  private closedReason: string | null = null

  constructor(private readonly socket: WebSocket) {
    socket.binaryType = 'arraybuffer'
    socket.addEventListener('message', (event: MessageEvent<string | ArrayBuffer>) => this.receive(event.data))
    socket.addEventListener('close', (event) => {
      this.closedReason = event.reason || `the engine closed the connection (code ${event.code})`
      for (const resolve of this.pending.values()) resolve(fail('internal', this.closedReason))
      this.pending.clear()
      for (const listener of this.closeListeners.splice(0)) listener(this.closedReason)
    })
    const api: Record<string, unknown> = {}
    for (const name of COMMAND_NAMES) api[name] = (request?: unknown) => this.request(name, request)
    api['on'] = <E extends EventName>(event: E, listener: (payload: EngineEvents[E]) => void) => {
      const set = this.listeners[event]
      set.add(listener as Listener)
      return () => set.delete(listener as Listener)
    }
    this.api = api as EngineApi
  }

  onClose(listener: (reason: string) => void): void {
    if (this.closedReason !== null) listener(this.closedReason)
    else this.closeListeners.push(listener)
  }

  private request(command: CommandName, request: unknown): Promise<Result<unknown>> {
    if (this.closedReason !== null) return Promise.resolve(fail('internal', this.closedReason))
    const id = this.nextId++
    return new Promise((resolve) => {
      this.pending.set(id, resolve)
      this.socket.send(encodeWire({ kind: 'request', id, command, request }))
    })
  }

  private receive(data: string | ArrayBuffer): void {
    let message
    try {
      const parsed = serverMessage.safeParse(decodeWire(typeof data === 'string' ? data : new Uint8Array(data)))
      if (!parsed.success) return
      message = parsed.data
    } catch {
      return // not a message of the contract: ignored
    }
    if (message.kind === 'reply') {
      if (message.id === null) {
        // A message the engine could not read (it has no id to answer): show its error.
        if (!message.result.ok) this.emit('event', { kind: 'error', ...message.result.error })
        return
      }
      const resolve = this.pending.get(message.id)
      this.pending.delete(message.id)
      resolve?.(message.result as Result<unknown>)
      return
    }
    const payload = message.event === 'tap' ? checkTapBatch(message.payload) : message.payload
    if (payload !== null) this.emit(message.event, payload)
  }

  private emit(event: EventName, payload: unknown): void {
    for (const listener of this.listeners[event]) listener(payload)
  }
}

function openSocket(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url)
    socket.addEventListener('open', () => resolve(socket), { once: true })
    socket.addEventListener(
      'error',
      () => reject(new Error(`cannot connect to the engine at ${url.replace(/token=[^&]*/, 'token=…')}`)),
      {
        once: true,
      },
    )
  })
}

/** Connects with the transport this page has and says hello (the contract version is checked there). */
export async function connect(): Promise<Connection> {
  let api: EngineApi
  let transport: Connection['transport']
  let onClose: Connection['onClose'] = () => undefined
  if (window.api !== undefined) {
    api = window.api
    transport = 'ipc'
  } else {
    const token = new URLSearchParams(window.location.search).get('token')
    if (token === null) throw new Error('this page needs the URL printed by npm run web (with its ?token=…)')
    const url = `ws://${window.location.host}/ws?token=${encodeURIComponent(token)}`
    const client = new WebSocketClient(await openSocket(url))
    api = client.api
    transport = 'websocket'
    onClose = (listener) => client.onClose(listener)
  }
  const hello = await api.hello({ contractVersion: CONTRACT_VERSION, client: 'renderer' })
  if (!hello.ok) throw new Error(hello.error.message)
  return { api, hello: hello.value, transport, onClose }
}

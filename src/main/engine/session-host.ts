/**
 * SessionHost: the main-thread side of one replay session. It starts the session's worker thread (worker.ts), checks
 * every command's request against the contract (the renderer is untrusted), forwards it, and fans the worker's
 * streams (tap, state, event) out to subscribers. Plain Node, no Electron: used by the Electron shell (IPC) and the
 * browser-mode bridge (WebSocket) alike.
 *
 * Pacing: a tap batch is acknowledged to the worker once every subscriber has taken it (a subscriber may return a
 * promise, e.g. a WebSocket send), which bounds what 'max' speed keeps in flight. If the worker dies, pending
 * commands fail with 'engine-restarted', subscribers get an event, and a fresh worker takes over (at most
 * MAX_RESTARTS times).
 */
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import {
  APP_NAME,
  CONTRACT_VERSION,
  fail,
  isCommandName,
  ok,
  parseRequest,
  type CommandName,
  type EngineEvents,
  type EventName,
  type FileReply,
  type HelloReply,
  type Replies,
  type Requests,
  type Result,
} from '../../shared/contract'
import type { HostMessage, WorkerCommand, WorkerData, WorkerMessage } from './protocol'

/** Native dialogs, provided by the Electron shell. */
export interface NativeDialogs {
  /** The capture file chosen, or null when cancelled. */
  pickCapture(): Promise<string | null>
  /** Writes the text where the user chooses; the path, or null when cancelled. */
  saveEnv(text: string, suggestedName: string): Promise<string | null>
  /** Writes an exported file (processed audio, metrics report) where the user chooses; the path, or null. */
  saveFile(file: FileReply, kind: 'audio' | 'report'): Promise<string | null>
}

export interface SessionHostOptions {
  mode: 'desktop' | 'browser'
  /** Folder of the bundled demo captures (default: resources/demo found above this file). */
  demoDir?: string
  native?: NativeDialogs
  versions?: Record<string, string>
  /** The worker's module (default: out/main/worker.js when built, else the TypeScript source through tsx). */
  workerFile?: string
  /** Where live recordings are written (desktop: the app's data folder; default <tmpdir>/workbench-recordings). */
  recordingsDir?: string
}

type Listener<E extends EventName> = (payload: EngineEvents[E]) => void | Promise<void>
type Pending = { resolve: (result: Result<unknown>) => void; command: CommandName }

const MAX_RESTARTS = 3

/** resources/demo, looked for in this file's folder and above (source tree and built out/main alike). */
export function findDemoDir(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'resources', 'demo')
    if (existsSync(join(candidate, 'demo-call.pcap'))) return candidate
    if (dirname(dir) === dir) return resolve('resources', 'demo')
  }
}

/** The worker's entry: out/main/worker.js next to the built bundle, or the TypeScript source through tsx. */
function workerEntry(): { file: string; entry?: string } {
  const here = fileURLToPath(import.meta.url)
  const dir = dirname(here)
  if (here.endsWith('.ts'))
    return { file: join(dir, 'ts-worker.mjs'), entry: pathToFileURL(join(dir, 'worker.ts')).href }
  return { file: join(dir, 'worker.js') }
}

export class SessionHost {
  private static live = 0
  /** Worker threads started by any SessionHost and not yet exited (a leak check for tests). */
  static get liveWorkers(): number {
    return SessionHost.live
  }

  private worker!: Worker
  private readonly pending = new Map<number, Pending>()
  private readonly listeners: { [E in EventName]: Set<Listener<E>> } = {
    tap: new Set(),
    state: new Set(),
    event: new Set(),
  }
  private nextId = 1
  private restarts = 0
  private closing = false
  private exitResolve: (() => void) | null = null
  private readonly demoDir: string

  constructor(private readonly options: SessionHostOptions) {
    this.demoDir = options.demoDir ?? findDemoDir()
    this.spawn()
  }

  get isClosed(): boolean {
    return this.closing
  }

  /** Runs a command from an untrusted caller: unknown commands and invalid requests are refused with the reason. */
  dispatch(command: unknown, request: unknown): Promise<Result<unknown>> {
    if (!isCommandName(command))
      return Promise.resolve(fail('unknown-command', `unknown command ${JSON.stringify(command)}`))
    return this.run(command, request)
  }

  /** The typed form of dispatch. */
  call<C extends CommandName>(
    command: C,
    ...request: undefined extends Requests[C] ? [Requests[C]?] : [Requests[C]]
  ): Promise<Result<Replies[C]>> {
    return this.run(command, request[0]) as Promise<Result<Replies[C]>>
  }

  on<E extends EventName>(event: E, listener: Listener<E>): () => void {
    const set = this.listeners[event] as Set<Listener<E>>
    set.add(listener)
    return () => set.delete(listener)
  }

  /** Stops the worker; pending commands fail. Resolves when the thread has exited. */
  async close(): Promise<void> {
    if (this.closing) return
    this.closing = true
    for (const set of Object.values(this.listeners)) set.clear()
    this.failPending('internal', 'the session was closed')
    const exited = new Promise<void>((resolve) => (this.exitResolve = resolve))
    this.post({ kind: 'close' })
    const timer = setTimeout(() => void this.worker.terminate(), 1000)
    await exited
    clearTimeout(timer)
  }

  private async run(command: CommandName, request: unknown): Promise<Result<unknown>> {
    if (this.closing) return fail('internal', `${command}: the session is closed`)
    const parsed = parseRequest(command, request)
    if (!parsed.ok) return parsed
    switch (command) {
      case 'hello':
        return this.hello(parsed.value as { contractVersion: number })
      case 'pickCapture': {
        const native = this.options.native
        if (native === undefined) return this.unsupported(command)
        const path = await native.pickCapture()
        if (path === null) return ok(null)
        return this.request('openCapture', { source: { kind: 'path', path } })
      }
      case 'saveEnv': {
        const native = this.options.native
        if (native === undefined) return this.unsupported(command)
        const exported = await this.request('exportEnv', parsed.value)
        if (!exported.ok) return exported
        const { text, suggestedName } = exported.value as Replies['exportEnv']
        return ok({ path: await native.saveEnv(text, suggestedName) })
      }
      case 'saveAudio':
      case 'saveReport': {
        const native = this.options.native
        if (native === undefined) return this.unsupported(command)
        const audio = command === 'saveAudio'
        const exported = await this.request(audio ? 'exportAudio' : 'exportReport', parsed.value)
        if (!exported.ok) return exported
        return ok({ path: await native.saveFile(exported.value as FileReply, audio ? 'audio' : 'report') })
      }
      default:
        return this.request(command, parsed.value)
    }
  }

  private hello(request: { contractVersion: number }): Result<HelloReply> {
    if (request.contractVersion !== CONTRACT_VERSION)
      return fail(
        'version-mismatch',
        `hello: the client speaks contract version ${request.contractVersion}, the engine ${CONTRACT_VERSION}: reload the page or update the app`,
      )
    return ok({
      appName: APP_NAME,
      contractVersion: CONTRACT_VERSION,
      mode: this.options.mode,
      capabilities: { nativeDialogs: this.options.native !== undefined, openPath: true },
      versions: { node: process.versions.node, ...this.options.versions },
    })
  }

  private unsupported(command: CommandName): Result<never> {
    return fail('unsupported', `${command}: native dialogs exist only in the desktop app (use the file picker)`)
  }

  private request(command: WorkerCommand, request: unknown): Promise<Result<unknown>> {
    const id = this.nextId++
    return new Promise((resolve) => {
      this.pending.set(id, { resolve, command })
      this.post({ kind: 'request', id, command, request })
    })
  }

  private post(message: HostMessage): void {
    this.worker.postMessage(message)
  }

  private spawn(): void {
    const { file, entry } = this.options.workerFile !== undefined ? { file: this.options.workerFile } : workerEntry()
    const data: WorkerData = {
      demoDir: this.demoDir,
      ...(entry !== undefined ? { entry } : {}),
      ...(this.options.recordingsDir !== undefined ? { recordingsDir: this.options.recordingsDir } : {}),
    }
    const worker = new Worker(file, { workerData: data })
    SessionHost.live++
    this.worker = worker
    worker.on('message', (message: WorkerMessage) => this.receive(message))
    worker.on('error', (error) => {
      if (!this.closing)
        this.emit('event', { kind: 'error', code: 'internal', message: `engine worker failed: ${error.message}` })
    })
    worker.on('exit', (code) => {
      SessionHost.live--
      if (this.worker !== worker) return
      if (this.closing) {
        this.exitResolve?.()
        return
      }
      this.failPending('engine-restarted', `the engine's worker stopped (exit code ${code}); it was restarted`)
      if (this.restarts++ < MAX_RESTARTS) {
        this.emit('event', {
          kind: 'engine-restarted',
          message: `the engine's worker stopped (exit code ${code}) and was restarted: open the capture again`,
        })
        this.spawn()
      } else {
        this.closing = true
        this.emit('event', {
          kind: 'error',
          code: 'internal',
          message: `the engine's worker keeps stopping (exit code ${code}): restart the app`,
        })
      }
    })
  }

  private receive(message: WorkerMessage): void {
    switch (message.kind) {
      case 'ready':
        return
      case 'reply': {
        const pending = this.pending.get(message.id)
        this.pending.delete(message.id)
        pending?.resolve(message.result)
        return
      }
      case 'tap':
        void this.deliverTap(message.batch)
        return
      case 'state':
        this.emit('state', message.state)
        return
      case 'event':
        this.emit('event', message.event)
        return
    }
  }

  private async deliverTap(batch: EngineEvents['tap']): Promise<void> {
    const waits: Promise<void>[] = []
    for (const listener of this.listeners.tap) {
      try {
        const result = listener(batch)
        if (result instanceof Promise) waits.push(result.catch(() => undefined))
      } catch {
        // A subscriber's failure is its own; the stream goes on.
      }
    }
    if (waits.length > 0) await Promise.all(waits)
    if (!this.closing) this.post({ kind: 'ack' })
  }

  private emit<E extends EventName>(event: E, payload: EngineEvents[E]): void {
    for (const listener of this.listeners[event] as Set<Listener<E>>) {
      try {
        void listener(payload)
      } catch {
        // Same as above.
      }
    }
  }

  private failPending(code: 'internal' | 'engine-restarted', message: string): void {
    for (const [id, pending] of this.pending) {
      this.pending.delete(id)
      pending.resolve(fail(code, `${pending.command}: ${message}`))
    }
  }
}

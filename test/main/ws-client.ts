/** A minimal browser-mode client for tests: requests by id, replies, tap batches (binary frames) and events. */
import { expect } from 'vitest'
import WebSocket from 'ws'
import {
  CONTRACT_VERSION,
  checkTapBatch,
  decodeWire,
  encodeWire,
  type Result,
  type TapBatch,
} from '../../src/shared/contract'

interface Reply {
  kind: 'reply'
  id: number | null
  result: Result<unknown>
}

export class Client {
  readonly ws: WebSocket
  readonly replies: Reply[] = []
  readonly batches: TapBatch[] = []
  binaryTaps = 0
  private nextId = 1
  private waiters: { test: () => boolean; resolve: () => void }[] = []

  constructor(url: string) {
    this.ws = new WebSocket(url)
    this.ws.on('message', (data: Buffer, isBinary: boolean) => {
      const message = decodeWire(isBinary ? new Uint8Array(data) : data.toString('utf8')) as {
        kind: string
        event?: string
        payload?: unknown
      }
      if (message.kind === 'reply') this.replies.push(message as Reply)
      if (message.kind === 'event' && message.event === 'tap') {
        if (isBinary) this.binaryTaps++
        const batch = checkTapBatch(message.payload)
        expect(batch).not.toBeNull()
        this.batches.push(batch!)
      }
      for (const w of this.waiters.splice(0)) (w.test() ? w.resolve : () => this.waiters.push(w))()
    })
  }

  opened(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN) return Promise.resolve()
    return new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve())
      this.ws.once('error', reject)
    })
  }

  until(test: () => boolean): Promise<void> {
    if (test()) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push({ test, resolve }))
  }

  /** Sends raw data and waits for the next reply. */
  async raw(data: string | Uint8Array): Promise<Reply> {
    const count = this.replies.length
    this.ws.send(data)
    await this.until(() => this.replies.length > count)
    return this.replies[count]!
  }

  async request(command: string, request?: unknown): Promise<Result<unknown>> {
    const id = this.nextId++
    this.ws.send(encodeWire({ kind: 'request', id, command, request }))
    await this.until(() => this.replies.some((r) => r.id === id))
    return this.replies.find((r) => r.id === id)!.result
  }

  async hello(): Promise<void> {
    await this.opened()
    expect(await this.request('hello', { contractVersion: CONTRACT_VERSION })).toMatchObject({ ok: true })
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve())
      this.ws.close()
    })
  }
}

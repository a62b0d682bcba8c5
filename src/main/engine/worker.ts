/**
 * The engine's worker thread (worker_threads entry): hosts one Session, so that the pipeline never runs on the main
 * event loop. Speaks the host's internal protocol (protocol.ts): requests in, replies, tap batches (buffers
 * transferred), state and events out; an 'ack' per tap batch paces the 'max' speed.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { fail } from '../../shared/contract'
import type { HostMessage, WorkerData, WorkerMessage } from './protocol'
import { Session } from './session'

const port = parentPort
if (port === null) throw new Error('src/main/engine/worker.ts runs only as a worker thread')

const post = (message: WorkerMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer)

const session = new Session(
  {
    tap: (batch, transfer) => post({ kind: 'tap', batch }, transfer),
    state: (state) => post({ kind: 'state', state }),
    event: (event) => post({ kind: 'event', event }),
  },
  {
    demoDir: (workerData as WorkerData).demoDir,
    ...((workerData as WorkerData).recordingsDir !== undefined
      ? { recordingsDir: (workerData as WorkerData).recordingsDir }
      : {}),
  },
)

port.on('message', (message: HostMessage) => {
  if (message.kind === 'ack') {
    session.ack()
    return
  }
  if (message.kind === 'close') {
    session.close()
    port.close()
    return
  }
  session
    .handle(message.command, message.request as never)
    .catch((error: unknown) => fail('internal', `${message.command}: ${(error as Error).message}`))
    .then((result) => post({ kind: 'reply', id: message.id, result }))
})

post({ kind: 'ready' })

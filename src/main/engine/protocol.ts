/** The engine's internal messages between SessionHost (main thread) and its worker (not part of the UI contract). */
import type { EngineEvent, ParsedRequests, Result, SessionState, TapBatch } from '../../shared/contract'

export type WorkerCommand = Exclude<
  keyof ParsedRequests,
  'hello' | 'pickCapture' | 'saveEnv' | 'saveAudio' | 'saveReport'
>

export type HostMessage =
  { kind: 'request'; id: number; command: WorkerCommand; request: unknown } | { kind: 'ack' } | { kind: 'close' }

export type WorkerMessage =
  | { kind: 'ready' }
  | { kind: 'reply'; id: number; result: Result<unknown> }
  | { kind: 'tap'; batch: TapBatch }
  | { kind: 'state'; state: SessionState }
  | { kind: 'event'; event: EngineEvent }

export interface WorkerData {
  demoDir: string
  /** Where live recordings are written (the session's default when absent). */
  recordingsDir?: string
  /** Source runs only: the TypeScript worker module the loader imports (ts-worker.mjs). */
  entry?: string
}

/**
 * The renderer's low-rate state, in one zustand store: the connection, the session (capture, transport, settings,
 * health, live mode), a 10 Hz snapshot of the latest frame's metrics, the error banner and the theme. High-rate data
 * never comes here: tap batches go to the live rings (live/rings.ts) and to the tap listeners registered with
 * `addTapListener` (metric rings, the A/B player), which panels draw from on the frame loop.
 *
 * `startConnection()` is called once by the App: it connects (IPC or WebSocket, transport.ts), subscribes to the
 * streams, opens the demo when the session has none, and publishes the snapshot at most every 100 ms.
 */
import { create } from 'zustand'
import type {
  EngineApi,
  FrameMetricName,
  HelloReply,
  Result,
  SessionHealth,
  SessionState,
  TapBatch,
} from '../../shared/contract'
import { liveRings } from './live/rings'
import { connect, type Connection } from './transport'

export interface Snapshot {
  /** The engine frame the values are from. */
  frame: number
  values: Partial<Record<FrameMetricName, number>>
  health: SessionHealth
  /** Packets lost / late since the capture started (a loop restarts the counts). */
  lostPackets: number
  latePackets: number
  /** Settings changes applied by the engine. */
  configApplied: number
}

export type ConnectionStatus =
  | { status: 'connecting' }
  | { status: 'connected'; connection: Connection }
  | { status: 'failed' | 'closed'; message: string }

export type Theme = 'light' | 'dark'

export interface WorkbenchState {
  connection: ConnectionStatus
  api: EngineApi | null
  hello: HelloReply | null
  session: SessionState | null
  snapshot: Snapshot | null
  /** The error banner's message (null: hidden). */
  error: string | null
  /** A short confirmation (e.g. "Exported tuned.env"), cleared after a few seconds. */
  notice: string | null
  theme: Theme
  setError(message: string | null): void
  setNotice(message: string | null): void
  setTheme(theme: Theme): void
  /** Awaits a command; a failure goes to the banner and gives null. */
  run<T>(call: Promise<Result<T>>): Promise<T | null>
}

const THEME_KEY = 'voip-workbench.theme'
const NOTICE_MS = 4000
const SNAPSHOT_INTERVAL_MS = 100

function initialTheme(): Theme {
  try {
    const saved = globalThis.localStorage?.getItem(THEME_KEY)
    if (saved === 'light' || saved === 'dark') return saved
  } catch {
    // storage unavailable (privacy mode): the default
  }
  return globalThis.matchMedia?.('(prefers-color-scheme: light)').matches ? 'light' : 'dark'
}

let noticeTimer: ReturnType<typeof setTimeout> | null = null

export const useWorkbench = create<WorkbenchState>()((set) => ({
  connection: { status: 'connecting' },
  api: null,
  hello: null,
  session: null,
  snapshot: null,
  error: null,
  notice: null,
  theme: initialTheme(),
  setError: (error) => set({ error }),
  setNotice: (notice) => {
    if (noticeTimer !== null) clearTimeout(noticeTimer)
    noticeTimer = notice === null ? null : setTimeout(() => set({ notice: null }), NOTICE_MS)
    set({ notice })
  },
  setTheme: (theme) => {
    try {
      globalThis.localStorage?.setItem(THEME_KEY, theme)
    } catch {
      // not kept across reloads: fine
    }
    set({ theme })
  },
  run: async (call) => {
    const result = await call
    if (!result.ok) {
      set({ error: result.error.message })
      return null
    }
    return result.value
  },
}))

// ---------------------------------------------------------------------------------------------------------------
// Tap listeners: the high-rate path (outside React)

export type TapListener = (batch: TapBatch) => void
const tapListeners = new Set<TapListener>()

/** Registers a consumer of every tap batch (called before the snapshot is taken); returns the remover. */
export function addTapListener(listener: TapListener): () => void {
  tapListeners.add(listener)
  return () => tapListeners.delete(listener)
}

let latest: Snapshot | null = null

/** Folds a batch into the running snapshot (the latest frame's metrics, packet counts). Exported for tests. */
export function foldBatch(previous: Snapshot | null, batch: TapBatch): Snapshot {
  const last = batch.frameCount - 1
  const values: Snapshot['values'] = { ...previous?.values }
  if (last >= 0)
    for (const name of Object.keys(batch.metrics) as FrameMetricName[]) values[name] = batch.metrics[name][last]
  let lost = previous?.lostPackets ?? 0
  let late = previous?.latePackets ?? 0
  let applied = previous?.configApplied ?? 0
  for (const event of batch.events) {
    if (event.kind === 'packet-lost') lost += event.count
    else if (event.kind === 'packet-late') late += event.count
    else if (event.kind === 'config-applied') applied += event.count
    else if (event.kind === 'looped') lost = late = 0
  }
  return {
    frame: last >= 0 ? batch.fromFrame + last : (previous?.frame ?? 0),
    values,
    health: batch.health,
    lostPackets: lost,
    latePackets: late,
    configApplied: applied,
  }
}

function onTap(batch: TapBatch): void {
  liveRings.pushBatch(batch)
  for (const listener of tapListeners) {
    try {
      listener(batch)
    } catch (error) {
      console.error('tap listener failed', error)
    }
  }
  for (const event of batch.events)
    if (event.kind === 'error') useWorkbench.getState().setError(event.detail ?? 'the replay stopped on an error')
  latest = foldBatch(latest, batch)
}

/** Connects to the engine and wires the streams into the store; returns the teardown. */
export function startConnection(): () => void {
  let cancelled = false
  const unsubscribe: (() => void)[] = []
  const set = useWorkbench.setState
  connect()
    .then(async (connection) => {
      if (cancelled) return
      const { api } = connection
      unsubscribe.push(api.on('state', (session) => set({ session })))
      unsubscribe.push(api.on('tap', onTap))
      unsubscribe.push(
        api.on('event', (event) => {
          if (event.kind === 'error' || event.kind === 'engine-restarted') set({ error: event.message })
        }),
      )
      connection.onClose((message) => set({ connection: { status: 'closed', message }, api: null }))
      set({ connection: { status: 'connected', connection }, api, hello: connection.hello })
      const state = await api.getState()
      if (!state.ok) return set({ error: state.error.message })
      set({ session: state.value })
      if (state.value.capture === null) {
        const opened = await api.openCapture({ source: { kind: 'demo' } })
        if (!opened.ok) set({ error: opened.error.message })
      }
    })
    .catch((reason: unknown) => {
      if (!cancelled) set({ connection: { status: 'failed', message: (reason as Error).message } })
    })
  let published: Snapshot | null = null
  const timer = setInterval(() => {
    if (latest !== published) {
      published = latest
      set({ snapshot: latest })
    }
  }, SNAPSHOT_INTERVAL_MS)
  return () => {
    cancelled = true
    clearInterval(timer)
    for (const off of unsubscribe) off()
  }
}

/**
 * Exposes the contract to the sandboxed renderer through contextBridge: one method per command (ipcRenderer.invoke
 * on its channel) and `on` for the streams, which arrive over the MessagePort main sends after each hello. Nothing
 * else: no ipcRenderer, no generic send. Built as CommonJS (a sandboxed preload cannot be an ES module).
 */
import { contextBridge, ipcRenderer } from 'electron'
import { Channel, type EngineApi, type EngineEvents, type EventName } from '../shared/contract'

type Listener = (payload: unknown) => void
const listeners: Record<EventName, Set<Listener>> = { tap: new Set(), state: new Set(), event: new Set() }
let port: MessagePort | null = null

ipcRenderer.on(Channel.port, (event) => {
  port?.close()
  port = event.ports[0] ?? null
  if (port === null) return
  port.onmessage = (message: MessageEvent<{ event: EventName; payload: unknown }>) => {
    const set = listeners[message.data.event]
    if (set) for (const listener of set) listener(message.data.payload)
  }
  port.start()
})

const api = {
  hello: (request) => ipcRenderer.invoke(Channel.hello, request),
  openCapture: (request) => ipcRenderer.invoke(Channel.openCapture, request),
  selectStreams: (request) => ipcRenderer.invoke(Channel.selectStreams, request),
  setImpairment: (request) => ipcRenderer.invoke(Channel.setImpairment, request),
  play: (request) => ipcRenderer.invoke(Channel.play, request),
  pause: (request) => ipcRenderer.invoke(Channel.pause, request),
  seek: (request) => ipcRenderer.invoke(Channel.seek, request),
  setSpeed: (request) => ipcRenderer.invoke(Channel.setSpeed, request),
  setLoop: (request) => ipcRenderer.invoke(Channel.setLoop, request),
  configure: (request) => ipcRenderer.invoke(Channel.configure, request),
  importEnv: (request) => ipcRenderer.invoke(Channel.importEnv, request),
  exportEnv: (request) => ipcRenderer.invoke(Channel.exportEnv, request),
  getState: (request) => ipcRenderer.invoke(Channel.getState, request),
  pickCapture: (request) => ipcRenderer.invoke(Channel.pickCapture, request),
  saveEnv: (request) => ipcRenderer.invoke(Channel.saveEnv, request),
  previewEnv: (request) => ipcRenderer.invoke(Channel.previewEnv, request),
  getEchoPath: (request) => ipcRenderer.invoke(Channel.getEchoPath, request),
  exportAudio: (request) => ipcRenderer.invoke(Channel.exportAudio, request),
  exportReport: (request) => ipcRenderer.invoke(Channel.exportReport, request),
  saveAudio: (request) => ipcRenderer.invoke(Channel.saveAudio, request),
  saveReport: (request) => ipcRenderer.invoke(Channel.saveReport, request),
  startLive: (request) => ipcRenderer.invoke(Channel.startLive, request),
  pushLive: (request) => ipcRenderer.invoke(Channel.pushLive, request),
  stopLive: (request) => ipcRenderer.invoke(Channel.stopLive, request),
  startRecording: (request) => ipcRenderer.invoke(Channel.startRecording, request),
  stopRecording: (request) => ipcRenderer.invoke(Channel.stopRecording, request),
  exportRecording: (request) => ipcRenderer.invoke(Channel.exportRecording, request),
  on<E extends EventName>(event: E, listener: (payload: EngineEvents[E]) => void): () => void {
    const set = listeners[event]
    if (set === undefined) throw new RangeError(`on: unknown stream ${String(event)}`)
    set.add(listener as Listener)
    return () => set.delete(listener as Listener)
  },
} satisfies EngineApi

contextBridge.exposeInMainWorld('api', api)

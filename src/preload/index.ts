/** Exposes the contract to the sandboxed renderer through contextBridge, one method per entry and nothing else. */
import { contextBridge, ipcRenderer } from 'electron'
import { Channel, type EngineApi } from '../shared/contract'

const api = {
  getInfo: () => ipcRenderer.invoke(Channel.getInfo),
} satisfies EngineApi

contextBridge.exposeInMainWorld('api', api)

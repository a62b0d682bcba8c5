/**
 * The typed contract between the main process (engine) and the renderer.
 * Both sides import this file; nothing here may import from Node, Electron or the DOM.
 */
export const APP_NAME = 'VoIP Audio Workbench'

/** Bumped whenever a command or event changes shape; checked when the renderer connects. */
export const CONTRACT_VERSION = 1

export const Channel = {
  getInfo: 'workbench:get-info',
} as const

export interface AppInfo {
  appName: string
  contractVersion: number
  versions: Record<string, string>
}

export interface EngineApi {
  getInfo(): Promise<AppInfo>
}

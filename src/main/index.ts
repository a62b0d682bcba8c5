/**
 * Electron shell: creates the window and wires IPC. The only module that imports 'electron';
 * the engine itself lives in src/main/engine and runs in plain Node.
 */
import { join } from 'node:path'
import { app, BrowserWindow, ipcMain, session } from 'electron'
import { APP_NAME, CONTRACT_VERSION, Channel, type AppInfo } from '../shared/contract'

function createWindow(): void {
  const window = new BrowserWindow({
    width: 1280,
    height: 800,
    title: APP_NAME,
    webPreferences: {
      preload: join(__dirname, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
    },
  })
  window.webContents.setWindowOpenHandler(() => ({ action: 'deny' }))
  window.webContents.on('will-navigate', (event) => event.preventDefault())
  if (process.env['ELECTRON_RENDERER_URL']) void window.loadURL(process.env['ELECTRON_RENDERER_URL'])
  else void window.loadFile(join(__dirname, '../renderer/index.html'))
}

void app.whenReady().then(() => {
  session.defaultSession.setPermissionRequestHandler((_contents, permission, callback) =>
    callback(permission === 'media'),
  )
  ipcMain.handle(Channel.getInfo, (): AppInfo => ({
    appName: APP_NAME,
    contractVersion: CONTRACT_VERSION,
    versions: { electron: process.versions.electron ?? '', node: process.versions.node },
  }))
  createWindow()
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow()
  })
})

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit()
})

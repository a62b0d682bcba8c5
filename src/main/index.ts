/**
 * Electron shell: the window, the IPC wiring, native dialogs, the menu, and the window's remembered bounds. The only
 * module that imports 'electron'; the engine (src/main/engine) is plain Node and runs in a worker thread.
 *
 * Security (Electron's checklist): contextIsolation, sandbox (the preload is CommonJS), no Node integration, a
 * Content-Security-Policy (index.html's meta tag, and a response header for anything served), navigation and new
 * windows denied (http(s) links open in the system browser), only microphone access granted, IPC accepted only from
 * the app's own page. Commands go over ipcMain.handle (one channel per command, each request checked against the
 * contract by SessionHost); the streams (tap, state, event) over a MessagePort handed to the page at each hello.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import {
  BrowserWindow,
  Menu,
  MessageChannelMain,
  app,
  dialog,
  ipcMain,
  screen,
  session,
  shell,
  type IpcMainInvokeEvent,
  type MenuItemConstructorOptions,
  type MessagePortMain,
  type Rectangle,
} from 'electron'
import { APP_NAME, COMMAND_NAMES, CONTRACT_VERSION, Channel, EVENT_NAMES } from '../shared/contract'
import { SessionHost, findDemoDir } from './engine/session-host'

const CAPTURE_FILTERS = [
  { name: 'Captures', extensions: ['wav', 'pcap', 'pcapng', 'cap', 'jsonl', 'json', 'log', 'txt'] },
  { name: 'All files', extensions: ['*'] },
]

let window: BrowserWindow | null = null
let host: SessionHost | null = null
let port: MessagePortMain | null = null
let streamUnsubscribe: (() => void)[] = []

// ---------------------------------------------------------------------------------------------------------------
// Window state

interface WindowState {
  bounds: Rectangle
  maximized: boolean
}

const statePath = (): string => join(app.getPath('userData'), 'window-state.json')

function loadWindowState(): WindowState | null {
  try {
    const state = JSON.parse(readFileSync(statePath(), 'utf8')) as WindowState
    const { x, y, width, height } = state.bounds
    if (![x, y, width, height].every(Number.isFinite) || width < 400 || height < 300) return null
    // Only where a display still shows it.
    const area = screen.getDisplayMatching(state.bounds).workArea
    const visible = x < area.x + area.width && x + width > area.x && y < area.y + area.height && y + height > area.y
    return visible ? state : null
  } catch {
    return null
  }
}

function saveWindowState(win: BrowserWindow): void {
  try {
    const state: WindowState = { bounds: win.getNormalBounds(), maximized: win.isMaximized() }
    writeFileSync(statePath(), JSON.stringify(state))
  } catch {
    // Not worth failing the close for.
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Page trust

function appUrl(): string {
  return process.env['ELECTRON_RENDERER_URL'] ?? pathToFileURL(join(__dirname, '../renderer/index.html')).href
}

/** IPC is accepted from the app's own top frame only. */
function trusted(event: IpcMainInvokeEvent): boolean {
  const frame = event.senderFrame
  if (frame === null || window === null || event.sender !== window.webContents || frame.parent !== null) return false
  try {
    const url = new URL(frame.url)
    const base = new URL(appUrl())
    // The packaged page is one file; the dev server (electron-vite dev) is one origin.
    return base.protocol === 'file:'
      ? url.protocol === 'file:' && url.pathname === base.pathname
      : url.origin === base.origin
  } catch {
    return false
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Engine wiring

function startHost(): SessionHost {
  const demoDir = app.isPackaged ? join(process.resourcesPath, 'demo') : findDemoDir(__dirname)
  return new SessionHost({
    mode: 'desktop',
    demoDir,
    // Live-mode recordings (near/far stereo WAV, processed WAV, JSON sidecar).
    recordingsDir: join(app.getPath('userData'), 'recordings'),
    versions: { electron: process.versions.electron ?? '', chrome: process.versions.chrome ?? '' },
    native: {
      pickCapture: async () => {
        const options = { title: 'Open a capture', properties: ['openFile' as const], filters: CAPTURE_FILTERS }
        const result = window ? await dialog.showOpenDialog(window, options) : await dialog.showOpenDialog(options)
        return result.canceled ? null : (result.filePaths[0] ?? null)
      },
      saveEnv: async (text, suggestedName) => {
        const options = {
          title: 'Export settings as .env',
          defaultPath: join(app.getPath('documents'), suggestedName),
          filters: [{ name: '.env files', extensions: ['env'] }],
        }
        const result = window ? await dialog.showSaveDialog(window, options) : await dialog.showSaveDialog(options)
        if (result.canceled || !result.filePath) return null
        await writeFile(result.filePath, text, 'utf8')
        return result.filePath
      },
      saveFile: async (file, kind) => {
        const options = {
          title: kind === 'audio' ? 'Export processed audio' : 'Export metrics report',
          defaultPath: join(app.getPath('documents'), file.suggestedName),
          filters:
            kind === 'audio'
              ? [{ name: 'WAV audio', extensions: ['wav'] }]
              : [{ name: 'JSON report', extensions: ['json'] }],
        }
        const result = window ? await dialog.showSaveDialog(window, options) : await dialog.showSaveDialog(options)
        if (result.canceled || !result.filePath) return null
        await writeFile(result.filePath, file.bytes)
        return result.filePath
      },
    },
  })
}

/** A new MessagePort for the page's streams (after each hello: a reload gets a fresh one). */
function connectStreams(): void {
  if (host === null || window === null) return
  for (const off of streamUnsubscribe) off()
  port?.close()
  const { port1, port2 } = new MessageChannelMain()
  port = port1
  const current = port1
  streamUnsubscribe = EVENT_NAMES.map((event) =>
    host!.on(event, (payload) => {
      current.postMessage({ event, payload })
    }),
  )
  port1.start()
  window.webContents.postMessage(Channel.port, null, [port2])
}

function registerIpc(): void {
  for (const command of COMMAND_NAMES) {
    ipcMain.handle(Channel[command], async (event, request: unknown) => {
      if (!trusted(event)) return { ok: false, error: { code: 'internal', message: 'untrusted sender' } }
      if (host === null) host = startHost()
      const result = await host.dispatch(command, request)
      if (command === 'hello' && result.ok) connectStreams()
      return result
    })
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Window and menu

function createWindow(): void {
  const saved = loadWindowState()
  const win = new BrowserWindow({
    ...(saved ? saved.bounds : { width: 1280, height: 800 }),
    title: APP_NAME,
    show: false,
    webPreferences: {
      preload: join(__dirname, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      disableBlinkFeatures: 'Auxclick',
      spellcheck: false,
    },
  })
  window = win
  if (saved?.maximized) win.maximize()
  win.once('ready-to-show', () => win.show())
  win.on('close', () => saveWindowState(win))
  win.on('closed', () => {
    window = null
    for (const off of streamUnsubscribe) off()
    streamUnsubscribe = []
    port?.close()
    port = null
    void host?.close()
    host = null
  })
  if (process.env['ELECTRON_RENDERER_URL']) void win.loadURL(process.env['ELECTRON_RENDERER_URL'])
  else void win.loadFile(join(__dirname, '../renderer/index.html'))
}

function buildMenu(): void {
  const run = (command: Parameters<SessionHost['dispatch']>[0], request?: unknown): void => {
    if (host === null) host = startHost()
    void host.dispatch(command, request).then((result) => {
      if (!result.ok && result.error.code !== 'cancelled' && window)
        void dialog.showMessageBox(window, { type: 'error', message: result.error.message })
    })
  }
  const template: MenuItemConstructorOptions[] = [
    ...(process.platform === 'darwin' ? [{ role: 'appMenu' as const }] : []),
    {
      label: 'File',
      submenu: [
        { label: 'Open Capture…', accelerator: 'CmdOrCtrl+O', click: () => run('pickCapture') },
        { label: 'Open Demo Call', click: () => run('openCapture', { source: { kind: 'demo' } }) },
        { type: 'separator' },
        { label: 'Export Settings as .env…', accelerator: 'CmdOrCtrl+S', click: () => run('saveEnv') },
        { label: 'Export Processed Audio…', click: () => run('saveAudio', { track: 'processed' }) },
        { label: 'Export Metrics Report…', click: () => run('saveReport') },
        { type: 'separator' },
        process.platform === 'darwin' ? { role: 'close' } : { role: 'quit' },
      ],
    },
    {
      label: 'Playback',
      submenu: [
        { label: 'Play', click: () => run('play') },
        { label: 'Pause', click: () => run('pause') },
        { label: 'Back to Start', click: () => run('seek', { positionMs: 0 }) },
        { type: 'separator' },
        { label: 'Real Time', click: () => run('setSpeed', { speed: 'realtime' }) },
        { label: 'As Fast as Possible', click: () => run('setSpeed', { speed: 'max' }) },
      ],
    },
    {
      label: 'View',
      submenu: [
        { role: 'reload' },
        ...(app.isPackaged ? [] : [{ role: 'toggleDevTools' as const }]),
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
      ],
    },
    {
      role: 'help',
      submenu: [
        {
          label: `About ${APP_NAME}`,
          click: () =>
            void dialog.showMessageBox({
              message: APP_NAME,
              detail: `Contract ${CONTRACT_VERSION} · Electron ${process.versions.electron ?? ''}`,
            }),
        },
      ],
    },
  ]
  Menu.setApplicationMenu(Menu.buildFromTemplate(template))
}

// ---------------------------------------------------------------------------------------------------------------
// App

app.on('web-contents-created', (_event, contents) => {
  contents.setWindowOpenHandler(({ url }) => {
    if (/^https?:\/\//.test(url)) void shell.openExternal(url)
    return { action: 'deny' }
  })
  contents.on('will-navigate', (event) => event.preventDefault())
  contents.on('will-redirect', (event) => event.preventDefault())
  contents.on('will-attach-webview', (event) => event.preventDefault())
})

void app.whenReady().then(() => {
  const ses = session.defaultSession
  // Only the microphone (the live source) and the choice of speaker (live mode's output picker, setSinkId), and only
  // for the app's own page.
  ses.setPermissionRequestHandler((contents, permission, callback, details) => {
    const mediaTypes = 'mediaTypes' in details ? (details.mediaTypes ?? []) : []
    const audioOnly = permission === 'media' && mediaTypes.every((type) => type === 'audio')
    callback((audioOnly || permission === 'speaker-selection') && contents === window?.webContents)
  })
  ses.setPermissionCheckHandler((_contents, permission, _origin, details) => {
    return permission === 'media' && (details.mediaType === 'audio' || details.mediaType === undefined)
  })
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: {
        ...details.responseHeaders,
        'Content-Security-Policy': [
          "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        ],
      },
    })
  })
  registerIpc()
  buildMenu()
  host = startHost()
  createWindow()
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow()
  })
})

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit()
})

// `npm start`: builds the workbench and opens the desktop app on the demo capture. Where the Electron binary is
// missing (it could not be downloaded at install time), it says so in one line and starts browser mode instead,
// printing the URL to open.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

const build = spawnSync('npx', ['electron-vite', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] })
if (build.status !== 0) {
  console.error('npm start: the build failed (see above)')
  process.exit(build.status ?? 1)
}

function electronBinary() {
  try {
    const path = require('electron') // the npm package resolves to the binary's path, or throws when it is missing
    return typeof path === 'string' && existsSync(path) ? path : null
  } catch {
    return null
  }
}

const binary = electronBinary()
if (binary) {
  const child = spawn(binary, ['.'], { stdio: 'inherit' })
  child.on('exit', (code) => process.exit(code ?? 0))
} else {
  console.log('npm start: the Electron binary is not installed here, so the workbench opens in browser mode instead:')
  const { main } = await import('../out/main/web.js')
  await main(process.argv.slice(2))
}

// `npm run web`: builds the workbench (electron-vite: main with the engine's worker, preload, renderer), then starts
// browser mode: the engine behind a WebSocket on 127.0.0.1 and the renderer over HTTP. Its one line of stdout is the
// URL to open, with the per-run token: http://127.0.0.1:<port>/?token=<token>
//
//   npm run web [-- --port N] [-- --capture PATH | --no-demo] [-- --no-build]
//
// WORKBENCH_OUT_DIR=/abs/dir builds into and serves from that directory instead of out/ (parallel test runs).
import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

const args = process.argv.slice(2)
const skipBuild = args.includes('--no-build')
const outDir = process.env['WORKBENCH_OUT_DIR'] ? resolve(process.env['WORKBENCH_OUT_DIR']) : null
if (!skipBuild) {
  const build = spawnSync('npx', ['electron-vite', 'build', ...(outDir ? ['--outDir', outDir] : [])], {
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  if (build.status !== 0) {
    console.error('npm run web: the build failed (see above)')
    process.exit(build.status ?? 1)
  }
}
const { main } = await import(outDir ? pathToFileURL(resolve(outDir, 'main', 'web.js')).href : '../out/main/web.js')
await main(args.filter((arg) => arg !== '--no-build')).catch((error) => {
  console.error(`npm run web: ${error.message}`)
  process.exit(1)
})

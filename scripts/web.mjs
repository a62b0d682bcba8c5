// `npm run web`: builds the workbench (electron-vite: main with the engine's worker, preload, renderer), then starts
// browser mode: the engine behind a WebSocket on 127.0.0.1 and the renderer over HTTP. Its one line of stdout is the
// URL to open, with the per-run token: http://127.0.0.1:<port>/?token=<token>
//
//   npm run web [-- --port N] [-- --capture PATH | --no-demo] [-- --no-build]
import { spawnSync } from 'node:child_process'

const args = process.argv.slice(2)
const skipBuild = args.includes('--no-build')
if (!skipBuild) {
  const build = spawnSync('npx', ['electron-vite', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] })
  if (build.status !== 0) {
    console.error('npm run web: the build failed (see above)')
    process.exit(build.status ?? 1)
  }
}
const { main } = await import('../out/main/web.js')
await main(args.filter((arg) => arg !== '--no-build')).catch((error) => {
  console.error(`npm run web: ${error.message}`)
  process.exit(1)
})

// Before the end-to-end tests: they drive Debian's Chromium (/usr/bin/chromium, or $CHROMIUM_PATH). Where neither
// exists (a developer machine without the apt package), install Playwright's own Chromium once, so `npm test` works
// anywhere with network access.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const systemChromium = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium'
if (!existsSync(systemChromium)) {
  console.log(
    `ensure-browser: ${systemChromium} not found; installing Playwright's Chromium (npx playwright install chromium)`,
  )
  const result = spawnSync('npx', ['playwright', 'install', 'chromium'], { stdio: 'inherit' })
  if (result.status !== 0) {
    console.error(
      'ensure-browser: could not install a browser. On Debian: apt-get install chromium (or set CHROMIUM_PATH)',
    )
    process.exit(result.status ?? 1)
  }
}

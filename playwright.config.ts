import { existsSync } from 'node:fs'
import { defineConfig } from '@playwright/test'

// Debian's Chromium where it is installed (these machines, CI), else Playwright's own (scripts/ensure-browser.mjs).
const systemChromium = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium'

// Browser-mode end-to-end tests: Debian's Chromium (apt package `chromium`) against the real engine over WebSocket.
// The JSON report feeds the closing "N passed, N failed" line of .ci/run (scripts/test-summary.mjs).
export default defineConfig({
  testDir: 'test/e2e',
  timeout: 120_000,
  workers: 1,
  retries: 0,
  reporter: [['list'], ['json', { outputFile: '.playwright-results.json' }]],
  use: {
    browserName: 'chromium',
    headless: true,
    launchOptions: {
      executablePath: existsSync(systemChromium) ? systemChromium : undefined,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
})

import { defineConfig } from '@playwright/test'

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
      executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
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

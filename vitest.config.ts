import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/e2e/**', 'node_modules/**'],
    testTimeout: 60_000,
    pool: 'forks',
    setupFiles: ['test/helpers/fast-check-setup.ts'],
    // The JSON report feeds the closing "N passed, N failed" line of .ci/run.
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-results.json' },
  },
})

// Prints "N passed, N failed" from the JSON reports the test runners wrote (vitest now, Playwright later).
import { existsSync, readFileSync } from 'node:fs'

let passed = 0
let failed = 0
let skipped = 0
let found = false
if (existsSync('.vitest-results.json')) {
  const report = JSON.parse(readFileSync('.vitest-results.json', 'utf8'))
  passed += report.numPassedTests ?? 0
  failed += report.numFailedTests ?? 0
  // A test file that failed to load has no test results of its own: count it as one failure.
  for (const file of report.testResults ?? []) if (file.status === 'failed' && !file.assertionResults?.length) failed++
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0)
  found = true
}
if (existsSync('.playwright-results.json')) {
  const report = JSON.parse(readFileSync('.playwright-results.json', 'utf8'))
  passed += report.stats?.expected ?? 0
  failed += (report.stats?.unexpected ?? 0) + (report.stats?.flaky ?? 0)
  skipped += report.stats?.skipped ?? 0
  found = true
}
if (!found) failed += 1 // no runner got as far as writing a report: count the run as failed
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)

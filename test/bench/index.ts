/**
 * `npm run bench`: runs every test/bench/*.bench.ts and prints µs per 20 ms frame and the real-time factor.
 * `npm run -s bench -- --json` prints only one JSON object keyed by the benches' stable names.
 * `npm run bench -- resampler` runs only the benches whose name starts with "resampler".
 */
import { readdirSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { measure, type Bench, type BenchFigures } from './harness'

const args = process.argv.slice(2)
const asJson = args.includes('--json')
const filters = args.filter((a) => !a.startsWith('--'))

const dir = fileURLToPath(new URL('.', import.meta.url))
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .sort()
const benches: Bench[] = []
for (const file of files) {
  const module = (await import(pathToFileURL(dir + file).href)) as { benches: Bench[] }
  benches.push(...module.benches)
}

const results: Record<string, BenchFigures> = {}
for (const bench of benches) {
  if (filters.length > 0 && !filters.some((f) => bench.name.startsWith(f))) continue
  const figures = measure(bench)
  if (!figures) continue
  results[bench.name] = figures
  if (!asJson) {
    const extra = Object.entries(figures)
      .filter(([k]) => k !== 'usPerFrame' && k !== 'realtimeFactor')
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')
    console.log(
      `${bench.name.padEnd(28)} ${figures.usPerFrame.toFixed(2).padStart(9)} µs/frame  ${figures.realtimeFactor
        .toFixed(0)
        .padStart(8)}× real time  ${bench.description}${extra ? '  ' + extra : ''}`,
    )
  }
}
if (asJson) console.log(JSON.stringify(results))

import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { findDemoDir } from '../../../src/main/engine/session-host'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? sources(path) : /\.(ts|tsx|mjs|js)$/.test(name) ? [path] : []
  })
}

/** Module specifiers of static imports, dynamic imports and requires. */
function imports(text: string): string[] {
  const found: string[] = []
  for (const match of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"]([^'"]+)['"]/g))
    found.push(match[1]!)
  return found
}

describe('module boundaries', () => {
  it('nothing under src/main/engine, src/dsp, src/shared or the browser-mode server imports electron', () => {
    const files = [
      ...sources(join(ROOT, 'src/main/engine')),
      ...sources(join(ROOT, 'src/dsp')),
      ...sources(join(ROOT, 'src/shared')),
      join(ROOT, 'src/main/bridge.ts'),
      join(ROOT, 'src/main/web.ts'),
    ]
    expect(files.length).toBeGreaterThan(20)
    const offenders = files.filter((file) =>
      imports(readFileSync(file, 'utf8')).some((m) => m === 'electron' || m.startsWith('electron/')),
    )
    expect(offenders).toEqual([])
  })

  it('only src/main/index.ts and src/preload import electron', () => {
    const offenders = sources(join(ROOT, 'src'))
      .filter((file) => imports(readFileSync(file, 'utf8')).includes('electron'))
      .map((file) => file.slice(ROOT.length))
    expect(offenders.sort()).toEqual(['src/main/index.ts', 'src/preload/index.ts'])
  })

  it('the bundled demo captures (resources/demo) are the test fixtures, byte for byte', () => {
    const demoDir = findDemoDir()
    expect(demoDir).toBe(join(ROOT, 'resources/demo'))
    for (const name of ['demo-call.pcap', 'demo-call.wav'])
      expect(readFileSync(join(demoDir, name)).equals(readFileSync(join(ROOT, 'test/fixtures/captures', name)))).toBe(
        true,
      )
  })
})

/**
 * Builds and runs the speexdsp peer (speexdsp-peer.c) where the system has a C compiler and Debian's
 * libspeexdsp-dev; returns null where it does not, so the benchmark prints the workbench's figures alone.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const SOURCE = fileURLToPath(new URL('./speexdsp-peer.c', import.meta.url))

export interface PeerRun {
  frames: number
  usPerFrame: number
}

let built: string | null | undefined

/** Compiles the peer once per process; null (with the reason on stderr) when it cannot be built here. */
export function speexPeerBinary(): string | null {
  if (built !== undefined) return built
  if (!existsSync('/usr/include/speex/speex_echo.h')) {
    console.error(
      'speexdsp peer: libspeexdsp-dev is not installed (apt-get install libspeexdsp-dev); peer figures skipped',
    )
    return (built = null)
  }
  const binary = join(mkdtempSync(join(tmpdir(), 'speexdsp-peer-')), 'speexdsp-peer')
  const result = spawnSync('cc', ['-O2', '-o', binary, SOURCE, '-lspeexdsp', '-lm'], { encoding: 'utf8' })
  if (result.status !== 0) {
    console.error(`speexdsp peer: build failed: ${result.stderr || result.error?.message}`)
    return (built = null)
  }
  return (built = binary)
}

export interface PeerOptions {
  micWav: string
  /** null: preprocessor only (noise scenes). */
  farWav: string | null
  outWav: string
  frameSamples: number
  filterTaps: number
  preprocess: boolean
  noiseSuppressDb?: number
}

export function runSpeexPeer(binary: string, options: PeerOptions): PeerRun {
  const args = [
    options.micWav,
    options.farWav ?? '-',
    options.outWav,
    String(options.frameSamples),
    String(options.filterTaps),
    options.preprocess ? '1' : '0',
    String(options.noiseSuppressDb ?? -15),
  ]
  return JSON.parse(execFileSync(binary, args, { encoding: 'utf8' })) as PeerRun
}

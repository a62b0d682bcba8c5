import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { echoScene } from '../helpers/scenes'
import { writeWav16 } from '../helpers/wav'
import { benches as echoBenches } from './echo-canceller.bench'
import { measure, type Bench } from './harness'
import { runSpeexPeer, speexPeerBinary } from './peer/speexdsp'

/** Interleaved rounds: each runs speexdsp once and the workbench's chain row once. */
const ROUNDS = 10

const sorted = (values: number[]): number[] => [...values].sort((a, b) => a - b)

/**
 * The speed target, AEC (1024 taps) + suppressor + NR against speexdsp's echo canceller (1024) +
 * preprocessor on the same scene, measured so one run's luck does not decide it: ROUNDS rounds alternate a speexdsp
 * pass (peer.speexdsp.echo.rt250: a separate process, one cold pass, timed per frame; on a shared machine it reads
 * 80–130 µs) and the workbench's aec.mdf.1024.nr row (steady state, best of its runs), and the figures are the best
 * and the median of each. ratioBest = workbench best / speexdsp best (≤ 1: no slower).
 */
const versus: Bench = {
  name: 'versus.speexdsp.echo.rt250',
  description: `AEC 1024 + suppressor + NR vs speexdsp echo 1024 + preprocessor on rt250, ${ROUNDS} interleaved rounds`,
  frameMs: 20,
  figures() {
    const binary = speexPeerBinary()
    const chain = echoBenches.find((bench) => bench.name === 'aec.mdf.1024.nr')
    if (!binary || !chain) return null
    const scene = echoScene('rt250')
    const dir = mkdtempSync(join(tmpdir(), 'voip-versus-'))
    const micWav = join(dir, 'mic.wav')
    const farWav = join(dir, 'far.wav')
    writeWav16(micWav, scene.mic)
    writeWav16(farWav, scene.far)
    const peer: number[] = []
    const workbench: number[] = []
    for (let round = 0; round < ROUNDS; round++) {
      const run = runSpeexPeer(binary, {
        micWav,
        farWav,
        outWav: join(dir, 'out.wav'),
        frameSamples: 320,
        filterTaps: 1024,
        preprocess: true,
        noiseSuppressDb: -15,
      })
      peer.push(run.usPerFrame)
      workbench.push(measure(chain)!.usPerFrame)
    }
    const p = sorted(peer)
    const w = sorted(workbench)
    const median = (values: number[]): number => values[values.length >> 1]!
    return {
      usPerFrame: w[0]!,
      realtimeFactor: 20000 / w[0]!,
      speexdspBestUs: p[0]!,
      workbenchMedianUs: median(w),
      speexdspMedianUs: median(p),
      ratioBest: w[0]! / p[0]!,
    }
  },
}

export const benches: Bench[] = [versus]

/**
 * Quality beside speed: the scenes through the workbench's echo canceller → noise reducer (default settings:
 * suppressor on, strength 0.8; no codec, no jitter buffer) and through speexdsp 1.2 (echo canceller with the same
 * frame and filter length + preprocessor) in the same run, with METRICS.md's figures for both.
 * The peer needs a C compiler and Debian's libspeexdsp-dev; without them only the workbench's rows are printed.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Pipeline, type PipelineConfig } from '../../src/dsp/pipeline'
import { evaluateEcho, evaluateNoise, findLag, type EchoFigures, type NoiseFigures } from '../helpers/evaluate'
import {
  echoScene,
  noiseScene,
  NOISE_KINDS,
  NOISE_SNRS_DB,
  type EchoSceneName,
  type NoiseScene,
} from '../helpers/scenes'
import { decodeWav, writeWav16 } from '../helpers/wav'
import type { Bench, BenchFigures } from './harness'
import { runSpeexPeer, speexPeerBinary } from './peer/speexdsp'
import { readFileSync } from 'node:fs'

const FRAME = 320
const workDir = mkdtempSync(join(tmpdir(), 'voip-quality-'))

/** Runs near (+ far) through the pipeline; returns the output, its delay and the time per frame. */
function runWorkbench(near: Float32Array, far: Float32Array | null, config: Partial<PipelineConfig>) {
  const pipeline = new Pipeline(config)
  const frames = Math.floor(near.length / FRAME)
  const out = new Float32Array(frames * FRAME)
  const t0 = performance.now()
  for (let f = 0; f < frames; f++) {
    pipeline.pushNearPcm(near.subarray(f * FRAME, (f + 1) * FRAME))
    if (far) pipeline.pushFarPcm(far.subarray(f * FRAME, (f + 1) * FRAME))
    pipeline.tick(f * 20, out.subarray(f * FRAME, (f + 1) * FRAME))
  }
  const usPerFrame = ((performance.now() - t0) * 1000) / frames
  const c = pipeline.currentConfig
  const lag =
    (c.echoCancellationEnabled ? pipeline.echoCanceller.delaySamples : 0) +
    (c.noiseReductionEnabled ? pipeline.noiseReducer.delaySamples : 0)
  return { out, lag, usPerFrame, pipeline }
}

function runPeer(name: string, mic: Float32Array, far: Float32Array | null, taps: number, noiseSuppressDb: number) {
  const binary = speexPeerBinary()
  if (!binary) return null
  const micWav = join(workDir, `${name}-mic.wav`)
  const farWav = far ? join(workDir, `${name}-far.wav`) : null
  const outWav = join(workDir, `${name}-out.wav`)
  writeWav16(micWav, mic)
  if (far && farWav) writeWav16(farWav, far)
  const run = runSpeexPeer(binary, {
    micWav,
    farWav,
    outWav,
    frameSamples: FRAME,
    filterTaps: taps,
    preprocess: true,
    noiseSuppressDb,
  })
  return { out: decodeWav(readFileSync(outWav), outWav).samples, usPerFrame: run.usPerFrame }
}

function echoFigures(figures: EchoFigures, usPerFrame: number): BenchFigures {
  const result: BenchFigures = { usPerFrame, realtimeFactor: 20000 / usPerFrame, erleDb: figures.erleDb }
  result.convergence20dbS = Number.isFinite(figures.convergence20dbS) ? figures.convergence20dbS : -1
  if (figures.doubleTalkSdrDb !== undefined) result.doubleTalkSdrDb = figures.doubleTalkSdrDb
  if (figures.nearOnlySdrDb !== undefined) result.nearOnlySdrDb = figures.nearOnlySdrDb
  return result
}

const ECHO_CASES: { scene: EchoSceneName; taps: number }[] = [
  { scene: 'rt250', taps: 1024 },
  { scene: 'longTail', taps: 1024 },
  { scene: 'longTail', taps: 4096 },
  { scene: 'doubleTalk', taps: 1024 },
  { scene: 'pathChange', taps: 1024 },
]

const echoBenches: Bench[] = ECHO_CASES.flatMap(({ scene, taps }) => {
  const key = taps === 1024 ? scene : `${scene}.${taps}`
  return [
    {
      name: `quality.echo.${key}`,
      description: `workbench AEC (${taps} taps) → NR on the ${scene} scene`,
      frameMs: 20,
      figures() {
        const s = echoScene(scene)
        const { out, lag, usPerFrame, pipeline } = runWorkbench(s.mic, s.far, { echoFilterLengthTaps: taps })
        const figures = echoFigures(evaluateEcho(s, out, lag), usPerFrame)
        figures.bulkDelayErrorMs = Math.abs(pipeline.echoCanceller.metrics.bulkDelayMs - s.bulkDelaySamples / 16)
        return figures
      },
    },
    {
      name: `peer.speexdsp.echo.${key}`,
      description: `speexdsp echo (${taps} taps) + preprocessor on the ${scene} scene`,
      frameMs: 20,
      figures() {
        const s = echoScene(scene)
        const peer = runPeer(`echo-${key}`, s.mic, s.far, taps, -15)
        if (!peer) return null
        // METRICS.md: the output's lag by cross-correlation (the preprocessor delays by one frame): against the near
        // talker where there is one, else against the mic in the first seconds, before the canceller converges.
        const nearAt = s.nearOnlyFrames.length > 0 ? (s.nearOnlyFrames[20] ?? s.nearOnlyFrames[0]!) * FRAME : -1
        const lag = nearAt >= 0 ? findLag(s.near, peer.out, nearAt / 16000, 1) : findLag(s.mic, peer.out, 0.2, 1.5)
        const figures = echoFigures(evaluateEcho(s, peer.out, lag), peer.usPerFrame)
        figures.lagSamples = lag
        return figures
      },
    },
  ]
})

const driftBench: Bench = {
  name: 'quality.echo.drift100ppm',
  description: 'workbench AEC: clock drift of 100 ppm over 60 s, as reported',
  frameMs: 20,
  figures() {
    const s = echoScene('drift100ppm')
    const { usPerFrame, pipeline } = runWorkbench(s.mic, s.far, {})
    return { usPerFrame, realtimeFactor: 20000 / usPerFrame, driftPpm: pipeline.echoCanceller.metrics.driftPpm }
  },
}

function noiseSummary(results: { scene: NoiseScene; figures: NoiseFigures }[], usPerFrame: number): BenchFigures {
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length
  return {
    usPerFrame,
    realtimeFactor: 20000 / usPerFrame,
    snrImprovementDb: mean(results.map((r) => r.figures.snrImprovementDb)),
    sdrImprovementDb: mean(results.map((r) => r.figures.sdrImprovementDb)),
    lsdDb: mean(results.map((r) => r.figures.lsdDb)),
    babbleSnrImprovementDb: mean(
      results.filter((r) => r.scene.kind === 'babble').map((r) => r.figures.snrImprovementDb),
    ),
  }
}

const NOISE_SCENES = () => NOISE_KINDS.flatMap((kind) => NOISE_SNRS_DB.map((snr) => noiseScene(kind, snr)))

const noiseBenches: Bench[] = [
  {
    name: 'quality.noise',
    description: 'workbench NR (strength 0.8) over the 12 noise scenes (means)',
    frameMs: 20,
    figures() {
      let totalUs = 0
      const results = NOISE_SCENES().map((scene) => {
        const { out, lag, usPerFrame } = runWorkbench(scene.noisy, null, { echoCancellationEnabled: false })
        totalUs += usPerFrame
        return { scene, figures: evaluateNoise(scene, out, lag) }
      })
      return noiseSummary(results, totalUs / results.length)
    },
  },
  {
    name: 'peer.speexdsp.noise',
    description: 'speexdsp preprocessor (−30 dB) over the 12 noise scenes (means)',
    frameMs: 20,
    figures() {
      let totalUs = 0
      const results: { scene: NoiseScene; figures: NoiseFigures }[] = []
      for (const scene of NOISE_SCENES()) {
        const peer = runPeer(`noise-${scene.name}`, scene.noisy, null, 1024, -30)
        if (!peer) return null
        totalUs += peer.usPerFrame
        results.push({ scene, figures: evaluateNoise(scene, peer.out, findLag(scene.clean, peer.out)) })
      }
      return noiseSummary(results, totalUs / results.length)
    },
  },
]

export const benches: Bench[] = [...echoBenches, driftBench, ...noiseBenches]

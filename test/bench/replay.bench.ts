import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { analyzeLoaded, encodeWav } from '../../src/main/analyze'
import { loadCaptureSync } from '../../src/main/capture'
import { WaveFile } from '../../src/main/capture/wavefile'
import { DEFAULT_SETTINGS } from '../../src/shared/config'
import { echoScene } from '../helpers/scenes'
import type { Bench } from './harness'

/**
 * End-to-end replay of a 60 s call as the CLI does it: read and decode the capture (a stereo 16-bit WAV: mic left,
 * bot right), run the full pipeline as fast as possible, write the processed WAV.
 */
export const benches: Bench[] = [
  {
    name: 'replay.60s',
    description: '60 s stereo WAV call: decode → full pipeline → write processed WAV',
    frameMs: 20,
    setup() {
      const scene = echoScene('drift100ppm') // 60 s
      const interleaved = new Int16Array(scene.mic.length * 2)
      for (let i = 0; i < scene.mic.length; i++) {
        interleaved[2 * i] = Math.round(Math.max(-1, Math.min(1, scene.mic[i]!)) * 32767)
        interleaved[2 * i + 1] = Math.round(Math.max(-1, Math.min(1, scene.far[i]!)) * 32767)
      }
      const wav = new WaveFile()
      wav.fromScratch(2, 16000, '16', interleaved)
      const dir = mkdtempSync(join(tmpdir(), 'replay-bench-'))
      const input = join(dir, 'call-60s.wav')
      writeFileSync(input, wav.toBuffer())
      const frames = Math.round((scene.mic.length / 16000) * 50)
      return {
        frames,
        run() {
          const capture = loadCaptureSync(input)
          const { processed } = analyzeLoaded(capture, { settings: DEFAULT_SETTINGS })
          writeFileSync(join(dir, 'call-60s.processed.wav'), encodeWav([processed], 16000)) // as the CLI writes it
        },
      }
    },
  },
]

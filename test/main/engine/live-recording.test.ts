import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { readWav } from '../../../src/main/capture'
import { FloatWavWriter, LiveRecorder, type RecordingContext } from '../../../src/main/engine/live-recording'
import { DEFAULT_SETTINGS } from '../../../src/shared/config'
import { whiteNoise } from '../../helpers/signals'

const dirs: string[] = []
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'live-recording-'))
  dirs.push(dir)
  return dir
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** Seeded noise within full scale (the WAV reader clamps beyond ±1). */
function noise(length: number, amplitude: number, seed: number): Float32Array {
  return whiteNoise(length, amplitude, seed).map((v) => Math.max(-1, Math.min(1, v)))
}

const context: RecordingContext = {
  settings: { ...DEFAULT_SETTINGS },
  devices: { input: 'mic', output: 'speaker', inputRateHz: 48000, outputRateHz: 48000 },
  far: { source: 'bot', description: 'bundled bot voice' },
  frameMs: 20,
  startedAtFrame: 7,
}

describe('FloatWavWriter', () => {
  it('is a valid WAV of everything flushed after every flush, with the samples exact', () => {
    const path = join(tempDir(), 'x.wav')
    const writer = new FloatWavWriter(path, 2, 16000, 1000)
    const left = noise(2500, 0.3, 1)
    const right = noise(2500, 0.3, 2)
    writer.append([left.subarray(0, 1200), right.subarray(0, 1200)], 1200) // the 1000-frame buffer flushed once
    const partial = readWav(readFileSync(path), 'partial')
    expect(partial.warnings).toEqual([])
    expect(partial.frameCount).toBe(1000)
    writer.append([left.subarray(1200), right.subarray(1200)], 1300)
    writer.close()
    const wav = readWav(readFileSync(path), 'final')
    expect(wav).toMatchObject({ sampleRateHz: 16000, channelCount: 2, frameCount: 2500, codec: 'float32' })
    expect(wav.channel(0)).toEqual(left)
    expect(wav.channel(1)).toEqual(right)
  })
})

describe('LiveRecorder', () => {
  it('writes near/far, processed and a sidecar, and never overwrites an earlier recording', () => {
    const dir = tempDir()
    const at = new Date('2026-01-02T03:04:05Z')
    const first = new LiveRecorder(dir, context, at)
    const second = new LiveRecorder(dir, context, at)
    expect(first.files.capture).toBe('live-2026-01-02T03-04-05.wav')
    expect(second.files.capture).toBe('live-2026-01-02T03-04-05-2.wav')
    const near = noise(320, 0.1, 3)
    const far = noise(320, 0.1, 4)
    const processed = noise(320, 0.05, 5)
    for (let k = 0; k < 60; k++) first.addFrame(near, far, processed, 320)
    first.noteConfig(30, [{ key: 'noiseReductionStrength', from: 0.8, to: 0.2 }])
    first.addTimeline({
      tMs: 1000,
      erleDb: 10,
      echoDelayMs: 40,
      noiseAttenuationDb: 6,
      inputLevelDb: -30,
      farLevelDb: -25,
      outputLevelDb: -40,
      latencyMeanMs: 22,
      latencyMaxMs: 30,
      missingBlocks: 0,
      dropouts: 0,
    })
    const info = first.finish('done', { missingBlocks: 1, dropouts: 2, latencyMs: { p50: 21, p99: 30 } })
    expect(info).toEqual({ directory: dir, files: first.files, durationMs: 1200, frames: 60 })
    // finish is idempotent.
    expect(first.finish('again', null)).toBe(info)
    const capture = readWav(readFileSync(join(dir, info.files.capture)), 'capture')
    expect(capture.frameCount).toBe(60 * 320)
    expect(capture.channel(0).subarray(320, 640)).toEqual(near)
    expect(capture.channel(1).subarray(320, 640)).toEqual(far)
    expect(
      readWav(readFileSync(join(dir, info.files.processed)), 'processed')
        .channel(0)
        .subarray(0, 320),
    ).toEqual(processed)
    const sidecar = JSON.parse(readFileSync(join(dir, info.files.sidecar), 'utf8'))
    expect(sidecar).toMatchObject({
      format: 'voip-workbench-live-recording',
      stopReason: 'done',
      audio: { samples: 60 * 320, durationMs: 1200, captureChannels: { near: 0, far: 1 } },
      configChanges: [{ frame: 30, changes: [{ key: 'noiseReductionStrength', to: 0.2 }] }],
      live: { startedAtFrame: 7, missingBlocks: 1, dropouts: 2, latencyMs: { p50: 21, p99: 30 } },
      devices: context.devices,
      timeline: [{ tMs: 1000, erleDb: 10 }],
    })
    // A recording stopped before any frame: its files exist, the capture holds no audio (the reader says so).
    second.finish('empty', null)
    expect(() => readWav(readFileSync(join(dir, second.files.capture)), 'empty')).toThrow(/no audio/)
  })
})

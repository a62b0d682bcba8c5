/**
 * wavefile, loaded so it works both under vitest (ESM build, named export) and plain Node / tsx (UMD build, whose
 * named exports arrive under `default`), plus a fast reader for the project's 16-bit PCM fixtures.
 */
import { writeFileSync } from 'node:fs'
import { WaveFile } from '../../src/main/capture/wavefile'

export { WaveFile }

/** Parses a WAV with wavefile and returns mono Float32 samples in [-1, 1]; 16-bit PCM is read without conversion. */
export function decodeWav(bytes: Uint8Array, name = 'WAV'): { samples: Float32Array; sampleRateHz: number } {
  const wav = new WaveFile(bytes)
  const fmt = wav.fmt as { sampleRate: number; numChannels: number; bitsPerSample: number; audioFormat: number }
  if (fmt.numChannels !== 1) throw new Error(`${name}: expected mono, got ${fmt.numChannels} channels`)
  if (fmt.audioFormat === 1 && fmt.bitsPerSample === 16) {
    const raw = (wav.data as { samples: Uint8Array }).samples
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength)
    const samples = new Float32Array(raw.byteLength >> 1)
    for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(2 * i, true) / 32768
    return { samples, sampleRateHz: fmt.sampleRate }
  }
  wav.toBitDepth('32f')
  const samples = Float32Array.from(wav.getSamples(false, Float64Array) as unknown as Float64Array)
  return { samples, sampleRateHz: fmt.sampleRate }
}

/** Writes mono Float32 samples as a 16-bit PCM WAV (rounded, clamped), e.g. for the speexdsp peer. */
export function writeWav16(path: string, samples: Float32Array, sampleRateHz = 16000): void {
  const pcm = new Int16Array(samples.length)
  for (let i = 0; i < samples.length; i++) pcm[i] = Math.max(-32768, Math.min(32767, Math.round(samples[i]! * 32768)))
  const wav = new WaveFile()
  wav.fromScratch(1, sampleRateHz, '16', pcm)
  writeFileSync(path, wav.toBuffer())
}

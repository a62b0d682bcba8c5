import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { encodeWav } from '../../src/main/analyze'
import { WaveFile } from '../../src/main/capture/wavefile'

/** wavefile's own writer: the reference encodeWav must match byte for byte. */
function referenceWav(channels: Float32Array[], rate: number): Uint8Array {
  const pcm = channels.map((samples) =>
    Int16Array.from(samples, (x) => {
      const v = Math.round(x * 32768)
      return v > 32767 ? 32767 : v < -32768 ? -32768 : v
    }),
  )
  const wav = new WaveFile()
  wav.fromScratch(channels.length, rate, '16', channels.length === 1 ? pcm[0]! : pcm)
  return wav.toBuffer()
}

describe('encodeWav', () => {
  it('writes exactly the bytes wavefile writes, for mono and stereo, any length and rate, clamping out-of-range samples', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 }),
        fc.integer({ min: 0, max: 400 }),
        fc.constantFrom(8000, 16000, 44100, 48000),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (channelCount, frames, rate, seed) => {
          let state = seed
          const channels = Array.from({ length: channelCount }, () =>
            Float32Array.from({ length: frames }, () => {
              state = (state * 1103515245 + 12345) % 2 ** 31
              return (state / 2 ** 31) * 2.4 - 1.2 // beyond full scale both ways
            }),
          )
          expect(encodeWav(channels, rate)).toEqual(referenceWav(channels, rate))
        },
      ),
      { numRuns: 60 },
    )
  })

  it('reads back through wavefile with the samples, rate and channel count it was given', () => {
    const left = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i / 10) * 0.5)
    const right = Float32Array.from({ length: 1000 }, (_, i) => Math.cos(i / 7) * 0.25)
    const wav = new WaveFile(encodeWav([left, right], 16000))
    const fmt = wav.fmt as { numChannels: number; sampleRate: number; bitsPerSample: number }
    expect([fmt.numChannels, fmt.sampleRate, fmt.bitsPerSample]).toEqual([2, 16000, 16])
    const [l, r] = wav.getSamples(false, Float64Array) as unknown as Float64Array[]
    for (let i = 0; i < 1000; i++) {
      expect(Math.abs(l![i]! / 32768 - left[i]!)).toBeLessThanOrEqual(1 / 32768)
      expect(Math.abs(r![i]! / 32768 - right[i]!)).toBeLessThanOrEqual(1 / 32768)
    }
  })

  it('writes three channels as WAVE_FORMAT_EXTENSIBLE, read back by wavefile', () => {
    const channels = [0.5, -0.25, 0.125].map((level) =>
      Float32Array.from({ length: 320 }, (_, i) => level * Math.sin(i / 5)),
    )
    const bytes = encodeWav(channels, 16000)
    const view = new DataView(bytes.buffer)
    expect(view.getUint16(20, true)).toBe(0xfffe)
    const wav = new WaveFile(bytes)
    const fmt = wav.fmt as { numChannels: number; sampleRate: number; dwChannelMask: number }
    expect([fmt.numChannels, fmt.sampleRate, fmt.dwChannelMask]).toEqual([3, 16000, 7])
    const back = wav.getSamples(false, Float64Array) as unknown as Float64Array[]
    back.forEach((samples, c) =>
      samples.forEach((x, i) => expect(Math.abs(x / 32768 - channels[c]![i]!)).toBeLessThanOrEqual(1 / 32768)),
    )
  })

  it('refuses channels of different lengths, naming the channel', () => {
    expect(() => encodeWav([new Float32Array(10), new Float32Array(9)])).toThrow(/channel 1 has 9 samples, not 10/)
  })
})

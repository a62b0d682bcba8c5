import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { CaptureError, loadCaptureSync, parseCapture, type Capture, type PcmTrack } from '../../../src/main/capture'
import { echoScene } from '../../helpers/scenes'
import { FIXTURES_DIR, toneLevelDb } from '../../helpers/signals'

const CAPTURES = FIXTURES_DIR + 'captures/'
/** A 1 kHz sine at amplitude 0.5 (sox `vol 0.5`): −6.02 dB re amplitude 1. */
const TONE_DB = 20 * Math.log10(0.5)

function pcm(track: Capture['near'] | null): Float32Array {
  if (track === null || track.kind !== 'pcm') throw new Error('expected a pcm track')
  return (track as PcmTrack).samples
}

/** RMS of a − b over [start, end), relative to RMS of b, dB. */
function differenceDb(a: Float32Array, b: Float32Array, start = 0, end = Math.min(a.length, b.length)): number {
  let error = 0
  let power = 0
  for (let i = start; i < end; i++) {
    error += (a[i]! - b[i]!) ** 2
    power += b[i]! ** 2
  }
  return 10 * Math.log10(error / power)
}

/** A WAV header + data written by hand (little endian unless bigEndian: RIFX). */
function wavBytes(opts: {
  format: number
  channels: number
  rateHz: number
  bits: number
  data: Uint8Array
  bigEndian?: boolean
  dataSizeField?: number
}): Uint8Array {
  const out = new Uint8Array(44 + opts.data.length)
  const view = new DataView(out.buffer)
  const little = !opts.bigEndian
  out.set(new TextEncoder().encode(opts.bigEndian ? 'RIFX' : 'RIFF'), 0)
  view.setUint32(4, 36 + opts.data.length, little)
  out.set(new TextEncoder().encode('WAVEfmt '), 8)
  view.setUint32(16, 16, little)
  view.setUint16(20, opts.format, little)
  view.setUint16(22, opts.channels, little)
  view.setUint32(24, opts.rateHz, little)
  view.setUint32(28, (opts.rateHz * opts.channels * opts.bits) / 8, little)
  view.setUint16(32, (opts.channels * opts.bits) / 8, little)
  view.setUint16(34, opts.bits, little)
  out.set(new TextEncoder().encode('data'), 36)
  view.setUint32(40, opts.dataSizeField ?? opts.data.length, little)
  out.set(opts.data, 44)
  return out
}

describe('WAV captures', () => {
  it('reads the demo call as near = left (the mic) and far = right (the bot), 10 s at 16 kHz, with no warning', () => {
    const capture = loadCaptureSync(CAPTURES + 'demo-call.wav')
    const scene = echoScene('rt250')
    expect(capture.format).toBe('wav')
    expect(capture.durationMs).toBe(10_000)
    expect(capture.warnings).toEqual([])
    const near = pcm(capture.near)
    const far = pcm(capture.far)
    expect(near.length).toBe(160_000)
    // 16-bit quantisation only: the difference is ~80 dB below the signal.
    expect(differenceDb(near, scene.mic.subarray(0, near.length))).toBeLessThan(-60)
    expect(differenceDb(far, scene.far.subarray(0, far.length))).toBeLessThan(-60)
  })

  it('warns that the far end is probably the other channel when the channels are swapped, and not once mapped', () => {
    const swapped = loadCaptureSync(CAPTURES + 'demo-swapped-ulaw.wav')
    expect(swapped.durationMs).toBe(6000)
    const warning = swapped.warnings.find((w) => w.includes('channel map'))
    expect(warning).toMatch(/demo-swapped-ulaw\.wav: channel map: .*other channel/)
    // The echo delay it reports is the scene's 40 ms bulk delay.
    expect(Number(/(\d+\.\d) ms later/.exec(warning!)![1])).toBeCloseTo(40, 0)
    const mapped = loadCaptureSync(CAPTURES + 'demo-swapped-ulaw.wav', { channels: { near: 1, far: 0 } })
    expect(mapped.warnings).toEqual([])
    // Mapped right, the near end is the mic again (narrowband µ-law now): it follows the scene's mic.
    const scene = echoScene('rt250')
    expect(differenceDb(pcm(mapped.near), scene.mic, 1600, 96_000)).toBeLessThan(-10)
  })

  it.each([
    ['tone-8k-ulaw.wav', 8000, 1000, 0.1],
    ['tone-8k-alaw.wav', 8000, 1000, 0.1],
    ['tone-16k-float.wav', 16000, 1000, 0.01],
    ['tone-44k1-24bit.wav', 44100, 500, 0.01],
    ['tone-48k-16bit-ext.wav', 48000, 500, 0.01],
  ])('resamples the sox tone %s (%i Hz) to 16 kHz keeping its level and length', (name, rateHz, ms, toleranceDb) => {
    const capture = loadCaptureSync(CAPTURES + name)
    const near = pcm(capture.near)
    expect(capture.near.kind === 'pcm' && capture.near.sampleRateHz).toBe(16000)
    expect(near.length).toBe(16 * ms)
    expect(capture.durationMs).toBe(ms)
    expect(capture.description).toContain(`${rateHz} Hz`)
    // Away from the edges (the tone starts and stops abruptly).
    expect(Math.abs(toneLevelDb(near, 1000, 16000, 800, near.length - 800) - TONE_DB)).toBeLessThan(toleranceDb)
    // Nothing left at the image / alias frequencies.
    expect(toneLevelDb(near, rateHz === 8000 ? 7000 : 3000, 16000, 800, near.length - 800)).toBeLessThan(-60)
  })

  it('describes WAVE_FORMAT_EXTENSIBLE files and flags a stereo file whose channels are the same', () => {
    const ext = loadCaptureSync(CAPTURES + 'tone-48k-16bit-ext.wav')
    expect(ext.description).toMatch(/16-bit PCM \(extensible\), 48000 Hz, 2 channels/)
    expect(ext.warnings.join('\n')).toMatch(/both channels carry the same signal/)
    expect(loadCaptureSync(CAPTURES + 'tone-44k1-24bit.wav').description).toMatch(/24-bit PCM \(extensible\)/)
  })

  it('takes the far end from a separate WAV, resampled to 16 kHz', () => {
    const capture = loadCaptureSync(CAPTURES + 'tone-8k-ulaw.wav', { farPath: CAPTURES + 'tone-44k1-24bit.wav' })
    const far = pcm(capture.far)
    expect(far.length).toBe(8000)
    expect(Math.abs(toneLevelDb(far, 1000, 16000, 800, 7200) - TONE_DB)).toBeLessThan(0.01)
    expect(capture.description).toContain('far from')
  })

  it('mixes a stereo far WAV to mono and says so', () => {
    const capture = loadCaptureSync(CAPTURES + 'tone-8k-alaw.wav', { farPath: CAPTURES + 'tone-48k-16bit-ext.wav' })
    expect(capture.warnings.join('\n')).toMatch(/2 channels mixed to mono/)
    expect(Math.abs(toneLevelDb(pcm(capture.far), 1000, 16000, 800, 7200) - TONE_DB)).toBeLessThan(0.01)
  })

  it('decodes 8-bit unsigned, 64-bit float and big-endian RIFX 16-bit samples', () => {
    const n = 1600
    const u8 = new Uint8Array(n).map((_, i) => 128 + Math.round(64 * Math.sin((2 * Math.PI * 1000 * i) / 8000)))
    const fromU8 = parseCapture(wavBytes({ format: 1, channels: 1, rateHz: 8000, bits: 8, data: u8 }), 'u8.wav')
    expect(toneLevelDb(pcm(fromU8.near), 1000, 16000, 400, 2800)).toBeCloseTo(-6.02, 1)

    const f64 = new Uint8Array(n * 8)
    const f64View = new DataView(f64.buffer)
    for (let i = 0; i < n; i++) f64View.setFloat64(8 * i, 0.25 * Math.sin((2 * Math.PI * 1000 * i) / 16000), true)
    const fromF64 = parseCapture(wavBytes({ format: 3, channels: 1, rateHz: 16000, bits: 64, data: f64 }), 'f64.wav')
    expect(toneLevelDb(pcm(fromF64.near), 1000, 16000, 200, 1400)).toBeCloseTo(-12.04, 2)

    const be = new Uint8Array(n * 2)
    const beView = new DataView(be.buffer)
    for (let i = 0; i < n; i++) beView.setInt16(2 * i, Math.round(16384 * Math.sin((2 * Math.PI * 1000 * i) / 16000)))
    const fromBe = parseCapture(
      wavBytes({ format: 1, channels: 1, rateHz: 16000, bits: 16, data: be, bigEndian: true }),
      'be.wav',
    )
    expect(toneLevelDb(pcm(fromBe.near), 1000, 16000, 200, 1400)).toBeCloseTo(-6.02, 2)
  })

  it('clamps float samples beyond full scale and silences non-finite ones', () => {
    const data = new Uint8Array(16)
    const view = new DataView(data.buffer)
    ;[2.5, -3, NaN, Infinity].forEach((v, i) => view.setFloat32(4 * i, v, true))
    const near = pcm(parseCapture(wavBytes({ format: 3, channels: 1, rateHz: 16000, bits: 32, data }), 'f.wav').near)
    expect(Array.from(near)).toEqual([1, -1, 0, 0])
  })

  it('reads a data chunk with a streaming placeholder size (0xFFFFFFFF) to the end of the file, with a warning', () => {
    const data = new Uint8Array(3200)
    const capture = parseCapture(
      wavBytes({ format: 1, channels: 1, rateHz: 16000, bits: 16, data, dataSizeField: 0xffffffff }),
      'stream.wav',
    )
    expect(pcm(capture.near).length).toBe(1600)
    expect(capture.warnings[0]).toMatch(/^stream\.wav: the data chunk at byte 36 has no size/)
  })

  it('rejects unsupported encodings, rates and channel maps with the file and the reason', () => {
    const data = new Uint8Array(64)
    const bad = (opts: Parameters<typeof wavBytes>[0]): (() => Capture) => {
      return () => parseCapture(wavBytes(opts), 'x.wav')
    }
    expect(bad({ format: 2, channels: 1, rateHz: 8000, bits: 4, data })).toThrow(
      /^x\.wav: unsupported WAV encoding: format 2/,
    )
    expect(bad({ format: 1, channels: 1, rateHz: 4000, bits: 16, data })).toThrow(
      /^x\.wav: sample rate 4000 Hz is outside/,
    )
    expect(bad({ format: 1, channels: 0, rateHz: 8000, bits: 16, data })).toThrow(/^x\.wav: 0 channels/)
    expect(() =>
      parseCapture(wavBytes({ format: 1, channels: 1, rateHz: 8000, bits: 16, data }), 'x.wav', {
        channels: { near: 1, far: null },
      }),
    ).toThrow(/near channel 1 does not exist/)
    expect(() => loadCaptureSync(CAPTURES + 'demo-call.wav', { farPath: CAPTURES + 'demo-call.pcap' })).toThrow(
      CaptureError,
    )
  })

  it('reads the same samples whatever the file is called (content decides the format)', () => {
    const bytes = readFileSync(CAPTURES + 'tone-8k-ulaw.wav')
    const a = parseCapture(bytes, 'recording.pcap')
    expect(a.format).toBe('wav')
    expect(pcm(a.near).length).toBe(16000)
  })
})

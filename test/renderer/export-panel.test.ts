import { describe, expect, it } from 'vitest'
import { encodeWav } from '../../src/main/analyze'
import { wavInfo } from '../../src/renderer/src/panels/export-panel'

describe('wavInfo', () => {
  it('reads the duration and channels of an exported WAV', () => {
    const second = new Float32Array(16000)
    const info = wavInfo(encodeWav([second, second, second], 16000))
    expect(info).toEqual({ durationS: 1, channels: 3, sampleRateHz: 16000 })
    expect(wavInfo(encodeWav([new Float32Array(8000)], 16000))!.durationS).toBe(0.5)
  })

  it('gives null for bytes that are not a RIFF/WAVE file', () => {
    expect(wavInfo(new TextEncoder().encode('{"report": true}'))).toBeNull()
    expect(wavInfo(new TextEncoder().encode('RIFF\0\0\0\0WAVEjunkjunk'))).toBeNull()
    expect(wavInfo(new Uint8Array(0))).toBeNull()
  })
})

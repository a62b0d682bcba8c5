import { describe, expect, it } from 'vitest'
import {
  alawDecode,
  alawEncode,
  float32ToInt16,
  g711DecodeFloat,
  g711EncodeFloat,
  int16ToFloat32,
  ulawDecode,
  ulawEncode,
  type G711Law,
} from '../../src/dsp/g711'

/** ITU-T G.711 µ-law expansion, written from the recommendation's table (not from alawmulaw). */
function referenceUlaw(code: number): number {
  const u = ~code & 0xff
  const sign = u & 0x80
  const exponent = (u >> 4) & 0x07
  const mantissa = u & 0x0f
  const magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
  return (sign ? -magnitude : magnitude) | 0
}

/** ITU-T G.711 A-law expansion (even bits inverted), scaled to 16 bits. */
function referenceAlaw(code: number): number {
  const a = code ^ 0x55
  const sign = a & 0x80
  const exponent = (a >> 4) & 0x07
  const mantissa = a & 0x0f
  let magnitude = exponent === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1)
  magnitude = magnitude | 0
  return sign ? magnitude : -magnitude
}

const allCodes = Uint8Array.from({ length: 256 }, (_, i) => i)

function decodeAll(law: G711Law): Int16Array {
  const out = new Int16Array(256)
  if (law === 'ulaw') ulawDecode(allCodes, out)
  else alawDecode(allCodes, out)
  return out
}

function encode(law: G711Law, samples: Int16Array): Uint8Array {
  const out = new Uint8Array(samples.length)
  if (law === 'ulaw') ulawEncode(samples, out)
  else alawEncode(samples, out)
  return out
}

function decode(law: G711Law, codes: Uint8Array): Int16Array {
  const out = new Int16Array(codes.length)
  if (law === 'ulaw') ulawDecode(codes, out)
  else alawDecode(codes, out)
  return out
}

describe('G.711', () => {
  it('decodes all 256 µ-law codes to the G.711 table', () => {
    const decoded = decodeAll('ulaw')
    for (let code = 0; code < 256; code++) expect(decoded[code], `code ${code}`).toBe(referenceUlaw(code))
    expect(decoded[0x00]).toBe(-32124)
    expect(decoded[0x80]).toBe(32124)
    expect(decoded[0xff]).toBe(0)
    expect(decoded[0x7f]).toBe(0)
  })

  it('decodes all 256 A-law codes to the G.711 table', () => {
    const decoded = decodeAll('alaw')
    for (let code = 0; code < 256; code++) expect(decoded[code], `code ${code}`).toBe(referenceAlaw(code))
    expect(decoded[0xd5]).toBe(8)
    expect(decoded[0x55]).toBe(-8)
    expect(decoded[0xaa]).toBe(32256)
  })

  for (const law of ['ulaw', 'alaw'] as const) {
    it(`${law}: decode(encode(decode(c))) equals decode(c) for every code`, () => {
      const once = decodeAll(law)
      const twice = decode(law, encode(law, once))
      expect(Array.from(twice)).toEqual(Array.from(once))
      if (law === 'ulaw') {
        // µ-law has two codes for zero (0x7f and 0xff): both decode to 0, and 0 encodes to one of them.
        expect(once[0x7f]).toBe(0)
        expect(once[0xff]).toBe(0)
        expect([0x7f, 0xff]).toContain(encode(law, Int16Array.of(0))[0])
      }
    })

    it(`${law}: the quantisation error on a full-scale sine stays within half a G.711 step`, () => {
      // G.711 quantises uniformly within each of 8 segments and reconstructs at the middle of the decision
      // interval, so the error may not exceed half the step of the segment the sample was coded in:
      // µ-law step = 8·2^e (16-bit scale), A-law step = 16·2^max(e−1, 0).
      const halfStep = (code: number): number => {
        const e = law === 'ulaw' ? ((~code & 0xff) >> 4) & 7 : ((code ^ 0x55) >> 4) & 7
        return law === 'ulaw' ? 4 << e : 8 << Math.max(e - 1, 0)
      }
      const n = 8000
      const input = new Int16Array(n)
      for (let i = 0; i < n; i++) input[i] = Math.round(32767 * Math.sin((2 * Math.PI * 1004 * i) / 8000 + 0.3))
      const codes = encode(law, input)
      const output = decode(law, codes)
      const top = law === 'ulaw' ? 32124 : 32256 // the largest level: inputs beyond it clip to it
      let signal = 0
      let noise = 0
      for (let i = 0; i < n; i++) {
        const x = input[i]!
        const error = Math.abs(output[i]! - x)
        const bound = Math.abs(x) > top ? Math.abs(x) - top : halfStep(codes[i]!)
        expect(error, `sample ${i}: x=${x} out=${output[i]}`).toBeLessThanOrEqual(bound)
        signal += x * x
        noise += error * error
      }
      // G.711 gives about 38 dB signal-to-quantisation-noise ratio on a full-scale sine.
      expect(10 * Math.log10(signal / noise)).toBeGreaterThan(37)
    })
  }

  it('encodes Float32 frames with clamping, and NaN / Infinity as silence / full scale', () => {
    const input = Float32Array.of(0, 0.5, -0.5, 1.5, -1.5, NaN, Infinity, -Infinity)
    const codes = new Uint8Array(input.length)
    g711EncodeFloat('ulaw', input, codes)
    const back = new Float32Array(input.length)
    g711DecodeFloat('ulaw', codes, back)
    expect(back.every(Number.isFinite)).toBe(true)
    expect(back[0]).toBe(0)
    expect(back[5]).toBe(0)
    expect(back[1]!).toBeCloseTo(0.5, 1)
    expect(back[3]!).toBeCloseTo(32124 / 32768, 6)
    expect(back[6]!).toBeCloseTo(32124 / 32768, 6)
    expect(back[7]!).toBeCloseTo(-32124 / 32768, 6)
  })

  it('round-trips Int16 through Float32 exactly', () => {
    const input = Int16Array.from({ length: 65536 }, (_, i) => i - 32768)
    const floats = new Float32Array(input.length)
    const back = new Int16Array(input.length)
    int16ToFloat32(input, floats)
    float32ToInt16(floats, back)
    expect(back).toEqual(input)
  })

  it('writes only into the caller buffer and reports how many samples it wrote', () => {
    const codes = new Uint8Array(160).fill(0x80)
    const out = new Int16Array(200).fill(7)
    expect(ulawDecode(codes, out, 100)).toBe(100)
    expect(out[99]).toBe(32124)
    expect(out[100]).toBe(7)
  })
})

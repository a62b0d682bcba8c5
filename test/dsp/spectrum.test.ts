import FFT from 'fft.js'
import { describe, expect, it } from 'vitest'
import { Random } from '../../src/dsp/random'
import { ComplexFft, RealFft } from '../../src/dsp/spectrum'

describe('ComplexFft', () => {
  it('matches a naive complex DFT for every size from 2 to 512 (radix-8, radix-4 and radix-2 first stages)', () => {
    const random = new Random(11)
    for (let size = 2; size <= 512; size *= 2) {
      const fft = new ComplexFft(size)
      const x = new Float64Array(2 * size)
      for (let i = 0; i < 2 * size; i++) x[i] = random.normal()
      const out = new Float64Array(2 * size)
      fft.transform(out, x)
      let error = 0
      for (let k = 0; k < size; k++) {
        let re = 0
        let im = 0
        for (let t = 0; t < size; t++) {
          const c = Math.cos((2 * Math.PI * k * t) / size)
          const s = Math.sin((2 * Math.PI * k * t) / size)
          re += x[2 * t]! * c + x[2 * t + 1]! * s
          im += x[2 * t + 1]! * c - x[2 * t]! * s
        }
        error = Math.max(error, Math.abs(re - out[2 * k]!), Math.abs(im - out[2 * k + 1]!))
      }
      expect(error, `size ${size}`).toBeLessThan(1e-9 * size)
    }
  })

  it('rejects sizes that are not powers of two', () => {
    expect(() => new ComplexFft(1)).toThrow(/ComplexFft size/)
    expect(() => new ComplexFft(24)).toThrow(RangeError)
  })
})

describe('RealFft', () => {
  it('matches a naive DFT and inverts exactly over a sweep of sizes', () => {
    const random = new Random(7)
    for (const size of [4, 8, 16, 32, 64, 128, 256, 512]) {
      const fft = new RealFft(size)
      const x = new Float64Array(size)
      for (let i = 0; i < size; i++) x[i] = random.normal()
      const spectrum = new Float64Array(size + 2)
      fft.forward(x, spectrum)
      let error = 0
      for (let k = 0; k <= size / 2; k++) {
        let re = 0
        let im = 0
        for (let i = 0; i < size; i++) {
          re += x[i]! * Math.cos((2 * Math.PI * k * i) / size)
          im -= x[i]! * Math.sin((2 * Math.PI * k * i) / size)
        }
        error = Math.max(error, Math.abs(re - spectrum[2 * k]!), Math.abs(im - spectrum[2 * k + 1]!))
      }
      expect(error).toBeLessThan(1e-9 * size)
      const back = new Float64Array(size)
      fft.inverse(spectrum, back)
      for (let i = 0; i < size; i++) expect(back[i]!).toBeCloseTo(x[i]!, 12)
    }
  })

  it('writes and reads spectra at an offset', () => {
    const fft = new RealFft(16)
    const x = Float64Array.from({ length: 16 }, (_, i) => Math.sin(i) + 0.1 * i)
    const packed = new Float64Array(40)
    fft.forward(x, packed, 20)
    const back = new Float64Array(16)
    fft.inverse(packed, back, 20)
    for (let i = 0; i < 16; i++) expect(back[i]!).toBeCloseTo(x[i]!, 12)
  })

  it('rejects sizes that are not powers of two', () => {
    expect(() => new RealFft(12)).toThrow(/RealFft size/)
    expect(() => new RealFft(2)).toThrow(RangeError)
  })
})

describe('RealFft against fft.js', () => {
  it("computes the same spectrum as fft.js's realTransform", () => {
    const random = new Random(3)
    for (const size of [16, 64, 512]) {
      const fft = new RealFft(size)
      const reference = new FFT(size)
      const x = new Float64Array(size)
      for (let i = 0; i < size; i++) x[i] = random.normal()
      const spectrum = new Float64Array(size + 2)
      fft.forward(x, spectrum)
      const expected = reference.createComplexArray() as number[]
      reference.realTransform(expected, Array.from(x))
      for (let k = 0; k <= size / 2; k++) {
        expect(spectrum[2 * k]).toBeCloseTo(expected[2 * k]!, 9)
        expect(spectrum[2 * k + 1]).toBeCloseTo(expected[2 * k + 1]!, 9)
      }
    }
  })
})

import FFT from 'fft.js'
import { describe, expect, it } from 'vitest'
import { Random } from '../../src/dsp/random'
import { ComplexFft, RealFft } from '../../src/dsp/spectrum'

describe('ComplexFft', () => {
  it('matches a naive complex DFT for every size from 2 to 1024 (radix-8, radix-4 and radix-2 first stages)', () => {
    const random = new Random(11)
    for (let size = 2; size <= 1024; size *= 2) {
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

/** The DFT of real x over bins 0…N/2, interleaved (naive, O(N²)). */
function naiveRealDft(x: Float64Array): Float64Array {
  const size = x.length
  const out = new Float64Array(size + 2)
  for (let k = 0; k <= size / 2; k++) {
    let re = 0
    let im = 0
    for (let i = 0; i < size; i++) {
      const angle = (2 * Math.PI * ((k * i) % size)) / size
      re += x[i]! * Math.cos(angle)
      im -= x[i]! * Math.sin(angle)
    }
    out[2 * k] = re
    out[2 * k + 1] = im
  }
  return out
}

/** max |a − b| over the arrays, relative to max |b|. */
function relativeError(a: Float64Array, b: Float64Array): number {
  let error = 0
  let scale = 0
  for (let i = 0; i < b.length; i++) {
    error = Math.max(error, Math.abs(a[i]! - b[i]!))
    scale = Math.max(scale, Math.abs(b[i]!))
  }
  return error / scale
}

const REAL_SIZES = [4, 8, 16, 32, 64, 128, 256, 512, 1024]

describe('RealFft', () => {
  it('matches a naive DFT to 1e-13 relative and inverts exactly for every size from 4 to 1024', () => {
    const random = new Random(7)
    for (const size of REAL_SIZES) {
      const fft = new RealFft(size)
      const x = new Float64Array(size)
      for (let i = 0; i < size; i++) x[i] = random.normal()
      const spectrum = new Float64Array(size + 2)
      fft.forward(x, spectrum)
      expect(relativeError(spectrum, naiveRealDft(x)), `size ${size}`).toBeLessThan(1e-13)
      const back = new Float64Array(size)
      fft.inverse(spectrum, back)
      expect(relativeError(back, x), `size ${size}`).toBeLessThan(1e-14)
    }
  })

  it('inverts a naive DFT (the inverse on its own) for every size from 4 to 1024', () => {
    const random = new Random(8)
    for (const size of REAL_SIZES) {
      const fft = new RealFft(size)
      const x = new Float64Array(size)
      for (let i = 0; i < size; i++) x[i] = random.normal()
      const back = new Float64Array(size)
      fft.inverse(naiveRealDft(x), back)
      expect(relativeError(back, x), `size ${size}`).toBeLessThan(1e-13)
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

/**
 * Perceptual colour map for the spectrograms: viridis (van der Walt & Smith, matplotlib 2.0), perceptually uniform
 * and readable in greyscale and by colour-blind viewers. Evaluated from the degree-6 polynomial fit of Matt Zucker
 * ("Colormap polynomials", shadertoy WlfXRN), within about 1/255 of the tabulated map, into a 256-entry RGBA lookup
 * table packed as little-endian uint32 (ImageData byte order R, G, B, A).
 */

const VIRIDIS = [
  [0.2777273272234177, 0.005407344544966578, 0.3340998053353061],
  [0.1050930431085774, 1.404613529898575, 1.384590162594685],
  [-0.3308618287255563, 0.214847559468213, 0.09509516302823659],
  [-4.634230498983486, -5.799100973351585, -19.33244095627987],
  [6.228269936347081, 14.17993336680509, 56.69055260068105],
  [4.776384997670288, -13.74514537774601, -65.35303263337234],
  [-5.435455855934631, 4.645852612178535, 26.3124352495832],
] as const

/** Viridis at t ∈ [0, 1] as [r, g, b] bytes. */
export function viridisRgb(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t))
  const rgb: [number, number, number] = [0, 0, 0]
  for (let k = 0; k < 3; k++) {
    let v = 0
    for (let i = VIRIDIS.length - 1; i >= 0; i--) v = v * x + VIRIDIS[i]![k]!
    rgb[k] = Math.round(Math.min(1, Math.max(0, v)) * 255)
  }
  return rgb
}

/** 256 entries, entry i = viridis(i/255) as a uint32 whose bytes in memory (little endian) are R, G, B, 255. */
export function viridisLut(): Uint32Array {
  const lut = new Uint32Array(256)
  for (let i = 0; i < 256; i++) {
    const [r, g, b] = viridisRgb(i / 255)
    lut[i] = ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0
  }
  return lut
}

/**
 * Colour maps for the spectrograms: viridis, magma and inferno (van der Walt & Smith, matplotlib 2.0), perceptually
 * uniform, monotonic in lightness and readable by colour-blind viewers, plus a plain grey ramp (black = quiet) for
 * print and for reading levels by brightness alone. The matplotlib maps are evaluated from the degree-6 polynomial
 * fits of Matt Zucker ("Colormap polynomials", shadertoy WlfXRN), within 6/255 of the tabulated maps (at the ends; closer in between). Each map
 * becomes a 256-entry RGBA lookup table packed as little-endian uint32 (ImageData byte order R, G, B, A), built once.
 */

type Poly = readonly (readonly [number, number, number])[]

/** Coefficients c0 … c6 of r, g, b as polynomials in t ∈ [0, 1]. */
const VIRIDIS: Poly = [
  [0.2777273272234177, 0.005407344544966578, 0.3340998053353061],
  [0.1050930431085774, 1.404613529898575, 1.384590162594685],
  [-0.3308618287255563, 0.214847559468213, 0.09509516302823659],
  [-4.634230498983486, -5.799100973351585, -19.33244095627987],
  [6.228269936347081, 14.17993336680509, 56.69055260068105],
  [4.776384997670288, -13.74514537774601, -65.35303263337234],
  [-5.435455855934631, 4.645852612178535, 26.3124352495832],
]

const MAGMA: Poly = [
  [-0.002136485053939582, -0.000749655052795221, -0.005386127855323933],
  [0.2516605407371642, 0.6775232436837668, 2.494026599312351],
  [8.353717279216625, -3.577719514958484, 0.3144679030132573],
  [-27.66873308576866, 14.26473078096533, -13.64921318813922],
  [52.17613981234068, -27.94360607168351, 12.94416944238394],
  [-50.76852536473588, 29.04658282127291, 4.23415299384598],
  [18.65570506591883, -11.48977351997711, -5.601961508734096],
]

const INFERNO: Poly = [
  [0.0002189403691192265, 0.001651004631001012, -0.01948089843709184],
  [0.1065134194856116, 0.5639564367884091, 3.932712388889277],
  [11.60249308247187, -3.972853965665698, -15.9423941062914],
  [-41.70399613139459, 17.43639888205313, 44.35414519872813],
  [77.162935699427, -33.40235894210092, -81.80730925738993],
  [-71.31942824499214, 32.62606426397723, 73.20951985803202],
  [25.13112622477341, -12.24266895238567, -23.07032500287172],
]

export const COLOUR_MAPS = ['viridis', 'magma', 'inferno', 'grey'] as const
export type ColourMapName = (typeof COLOUR_MAPS)[number]

function polynomialRgb(poly: Poly, t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0))
  const rgb: [number, number, number] = [0, 0, 0]
  for (let k = 0; k < 3; k++) {
    let v = 0
    for (let i = poly.length - 1; i >= 0; i--) v = v * x + poly[i]![k]! // Horner
    rgb[k] = Math.round(Math.min(1, Math.max(0, v)) * 255)
  }
  return rgb
}

/** The map at t ∈ [0, 1] (clamped; NaN reads as 0) as [r, g, b] bytes. */
export function colourMapRgb(name: ColourMapName, t: number): [number, number, number] {
  switch (name) {
    case 'viridis':
      return polynomialRgb(VIRIDIS, t)
    case 'magma':
      return polynomialRgb(MAGMA, t)
    case 'inferno':
      return polynomialRgb(INFERNO, t)
    case 'grey': {
      const v = Math.round(Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * 255)
      return [v, v, v]
    }
  }
}

/** Viridis at t ∈ [0, 1] as [r, g, b] bytes. */
export function viridisRgb(t: number): [number, number, number] {
  return polynomialRgb(VIRIDIS, t)
}

const luts = new Map<ColourMapName, Uint32Array>()

/**
 * The map's 256-entry table: entry i = map(i/255) as a uint32 whose bytes in memory (little endian) are R, G, B, 255.
 * Built on first use and shared (treat it as read-only).
 */
export function colourMapLut(name: ColourMapName): Uint32Array {
  let lut = luts.get(name)
  if (lut === undefined) {
    lut = new Uint32Array(256)
    for (let i = 0; i < 256; i++) {
      const [r, g, b] = colourMapRgb(name, i / 255)
      lut[i] = ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0
    }
    luts.set(name, lut)
  }
  return lut
}

/** The viridis table (a fresh copy). */
export function viridisLut(): Uint32Array {
  return colourMapLut('viridis').slice()
}

/** The map's floor colour (a level at or below the range's minimum) as a CSS colour. */
export function colourMapFloorCss(name: ColourMapName): string {
  return `rgb(${colourMapRgb(name, 0).join(', ')})`
}

/**
 * Seeded pseudo-random numbers for deterministic simulation (network simulator, test signals).
 * Generator: mulberry32 (32-bit state, period 2^32), with Box–Muller normals, Marsaglia–Tsang gamma
 * and a Pareto tail. Same seed → same sequence on every platform.
 */
export class Random {
  private state: number
  private spareNormal = 0
  private hasSpareNormal = false

  constructor(seed: number) {
    this.state = seed >>> 0
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  /** Integer in [low, high]. */
  int(low: number, high: number): number {
    return low + Math.floor(this.next() * (high - low + 1))
  }

  /** Standard normal (Box–Muller, the spare value is kept). */
  normal(): number {
    if (this.hasSpareNormal) {
      this.hasSpareNormal = false
      return this.spareNormal
    }
    let u = 0
    while (u === 0) u = this.next()
    const v = this.next()
    const r = Math.sqrt(-2 * Math.log(u))
    this.spareNormal = r * Math.sin(2 * Math.PI * v)
    this.hasSpareNormal = true
    return r * Math.cos(2 * Math.PI * v)
  }

  /** Gamma(shape k, scale θ), mean kθ (Marsaglia & Tsang 2000; k < 1 by the boost u^(1/k)). */
  gamma(shape: number, scale: number): number {
    if (shape <= 0 || scale <= 0) return 0
    if (shape < 1) {
      let u = 0
      while (u === 0) u = this.next()
      return this.gamma(shape + 1, scale) * Math.pow(u, 1 / shape)
    }
    const d = shape - 1 / 3
    const c = 1 / Math.sqrt(9 * d)
    for (;;) {
      let x: number
      let v: number
      do {
        x = this.normal()
        v = 1 + c * x
      } while (v <= 0)
      v = v * v * v
      const u = this.next()
      if (u < 1 - 0.0331 * x * x * x * x) return d * v * scale
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v * scale
    }
  }

  /** Pareto (heavy tail) with minimum xm and index alpha: P(X > x) = (xm/x)^alpha. */
  pareto(xm: number, alpha: number): number {
    let u = 0
    while (u === 0) u = this.next()
    return xm / Math.pow(u, 1 / alpha)
  }
}

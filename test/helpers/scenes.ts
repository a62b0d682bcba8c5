/**
 * Echo and noise scenes for the AEC and noise-reduction tests and benchmarks, built in memory from the committed speech
 * fixtures (test/fixtures/make-scene-speech.sh): only the voices are files; rooms, noises, mixing, clock drift and
 * echo path changes are synthesised here, deterministically (seeded Random), and cached per process.
 *
 * - Room impulse response: a direct path behind the bulk delay, a handful of early reflections (1–20 ms after it) and
 *   an exponentially decaying Gaussian noise tail whose amplitude falls 60 dB over RT60 (the statistical model of late
 *   reverberation, Polack 1993 / Schroeder). The tail carries 3/8 of the response's energy, so with a 40 ms bulk
 *   delay and RT60 250 ms an ideal 1024-tap filter starting at lag 0 is bounded near 9 dB ERLE (METRICS.md).
 * - Echo = far ⊛ RIR (FFT overlap-add), scaled to ERL 12 dB: echo power 12 dB below far power over the scene.
 * - Echo path change: the echoes of two rooms, switched with a 20 ms raised-cosine crossfade.
 * - Clock drift: the echo is resampled on the mic clock, echo[n] = y(n·(1 − ppm·1e−6)), by a 32-tap Hann-windowed sinc
 *   (1024 phases), so its delay grows by ppm·1e−6·n samples: 6 ms over 60 s at 100 ppm.
 * - Speech at −20 dBFS RMS over its active frames (within 40 dB of the loudest, as METRICS.md); mic noise −55 dBFS white.
 * - Noises: white, pink (Paul Kellet's refined pink filter), babble (five espeak-ng voices, looped with equal-power
 *   crossfades), fan hum (120 Hz and harmonics, 5 % slow AM, pink broadband 20 dB below). Mixed at the requested SNR
 *   over the clean signal's speech-active frames: SNR = 10·log10(Σ_active clean² / Σ_active noise²).
 * Frame sets follow METRICS.md (20 ms frames): far single-talk = echo power ≥ mean noise power + 10 dB and outside the
 * near talker's utterances (0.1 s before, 0.2 s after); double talk = near active and that echo condition; near only =
 * near active and the echo below it. Scenes are shared objects: treat their arrays as read-only.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import FFT from 'fft.js'
import { WaveFile } from './wav'
import { Random } from '../../src/dsp/random'
import { FIXTURES_DIR, activeFrames } from './signals'

export const SCENE_SAMPLE_RATE_HZ = 16000
const FRAME_SAMPLES = 320 // 20 ms
const SAMPLES_PER_MS = SCENE_SAMPLE_RATE_HZ / 1000

/** Active speech level of both talkers, dBFS RMS. */
export const SPEECH_LEVEL_DBFS = -20
/** Echo return loss: echo power this far below far power. */
export const ERL_DB = 12
/** Mic self-noise of the echo scenes, dBFS RMS (white). */
export const MIC_NOISE_DBFS = -55
/** Far single-talk condition: echo frame power at least this far above the mean noise power. */
const ECHO_ABOVE_NOISE_DB = 10
/** The near talker's utterance, widened by 0.1 s before and 0.2 s after (in 20 ms frames). */
const UTTERANCE_LEAD_FRAMES = 5
const UTTERANCE_TRAIL_FRAMES = 10
/** Lead-in of the noise scenes (noise only, for the reducer to learn the floor) and tail, seconds. */
const NOISE_LEAD_IN_S = 1
const NOISE_TAIL_S = 0.5

/**
 * Energy of the reverberant tail relative to the direct path and early reflections (a direct-to-reverberant ratio of
 * +2.2 dB): with a 40 ms bulk delay and RT60 250 ms it bounds an ideal 1024-tap filter at lag 0 near 9 dB ERLE.
 */
const TAIL_ENERGY_RATIO = 0.6

export interface EchoScene {
  name: string
  sampleRateHz: 16000
  /** Far-end reference (bot/TTS), as sent to the speaker. */
  far: Float32Array
  /** Far through the room (bulk delay + RIR, ERL applied): the echo part of mic. */
  echo: Float32Array
  /** Near talker as it appears in mic (zeros where silent). */
  near: Float32Array
  /** Mic noise (−55 dBFS white). */
  noise: Float32Array
  /** echo + near + noise: the canceller's near-end input. */
  mic: Float32Array
  /** True bulk delay of the echo path (the direct path's position; at t = 0 in the drift scene). */
  bulkDelaySamples: number
  farSingleTalkFrames: number[]
  doubleTalkFrames: number[]
  nearOnlyFrames: number[]
  /** Echo path change time, if any. */
  pathChangeAtS?: number
  /** Clock drift applied to the echo path, if any: its delay grows by driftPpm·1e−6 samples per sample. */
  driftPpm?: number
}

export type EchoSceneName = 'rt250' | 'longTail' | 'doubleTalk' | 'pathChange' | 'drift100ppm'
export const ECHO_SCENE_NAMES: readonly EchoSceneName[] = [
  'rt250',
  'longTail',
  'doubleTalk',
  'pathChange',
  'drift100ppm',
]

export interface NoiseScene {
  name: string
  kind: 'white' | 'pink' | 'babble' | 'hum'
  snrDb: number
  /** The near talker's speech after a 1 s lead-in of silence, 0.5 s of silence after. */
  clean: Float32Array
  noise: Float32Array
  /** clean + noise. */
  noisy: Float32Array
  sampleRateHz: 16000
}

export const NOISE_KINDS: readonly NoiseScene['kind'][] = ['white', 'pink', 'babble', 'hum']
export const NOISE_SNRS_DB: readonly (0 | 5 | 10)[] = [0, 5, 10]

interface RoomSpec {
  rt60Ms: number
  bulkDelayMs: number
  seed: number
}

interface EchoSpec {
  durationS: number
  rooms: RoomSpec[]
  noiseSeed: number
  pathChangeAtS?: number
  driftPpm?: number
  /** Where the near talker starts speaking, if there is one. */
  nearStartS?: number
}

const ROOM_250: RoomSpec = { rt60Ms: 250, bulkDelayMs: 40, seed: 250 }

const ECHO_SPECS: Record<EchoSceneName, EchoSpec> = {
  rt250: { durationS: 20, rooms: [ROOM_250], noiseSeed: 1001 },
  longTail: { durationS: 20, rooms: [{ rt60Ms: 600, bulkDelayMs: 120, seed: 600 }], noiseSeed: 1002 },
  // The near talker (12 s) from 8 s to 20 s: over about half of the far speech, with far single talk before and after.
  doubleTalk: { durationS: 24, rooms: [ROOM_250], noiseSeed: 1003, nearStartS: 8 },
  // A different room (other reflections and tail, RT60 350 ms) behind the same bulk delay, from 10 s.
  pathChange: {
    durationS: 20,
    rooms: [ROOM_250, { rt60Ms: 350, bulkDelayMs: 40, seed: 350 }],
    noiseSeed: 1004,
    pathChangeAtS: 10,
  },
  drift100ppm: { durationS: 60, rooms: [ROOM_250], noiseSeed: 1005, driftPpm: 100 },
}

// Per-process caches: scenes by name, and the levelled speech and raw noises they share.
const echoScenes = new Map<EchoSceneName, EchoScene>()
const noiseScenes = new Map<string, NoiseScene>()
const signals = new Map<string, Float32Array>()

/** Drops every cached scene and signal, so the next call rebuilds it (for determinism tests). */
export function clearSceneCache(): void {
  echoScenes.clear()
  noiseScenes.clear()
  signals.clear()
}

function dbToPower(db: number): number {
  return 10 ** (db / 10)
}

function meanSquare(x: ArrayLike<number>, start = 0, end = x.length): number {
  let sum = 0
  for (let i = start; i < end; i++) sum += x[i]! * x[i]!
  return end > start ? sum / (end - start) : 0
}

function energyOverFrames(x: ArrayLike<number>, frames: readonly number[]): number {
  let sum = 0
  for (const f of frames) for (let i = f * FRAME_SAMPLES; i < (f + 1) * FRAME_SAMPLES; i++) sum += x[i]! * x[i]!
  return sum
}

function scaleInPlace(x: Float32Array | Float64Array, gain: number): void {
  for (let i = 0; i < x.length; i++) x[i] = x[i]! * gain
}

/**
 * A 16-bit mono 16 kHz PCM WAV fixture as Float32 (x/32768). Parsed directly: wavefile's per-sample conversion takes
 * ~0.7 s for 20 s of audio, more than every scene's synthesis together.
 */
function readPcm16Fixture(name: string): Float32Array {
  const bytes = readFileSync(FIXTURES_DIR + name)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const tag = (at: number): string => bytes.toString('latin1', at, at + 4)
  if (tag(0) !== 'RIFF' || tag(8) !== 'WAVE') throw new Error(`${name}: not a RIFF/WAVE file`)
  let format: { channels: number; rateHz: number; bits: number; code: number } | null = null
  for (let at = 12; at + 8 <= bytes.length;) {
    const size = view.getUint32(at + 4, true)
    if (tag(at) === 'fmt ') {
      format = {
        code: view.getUint16(at + 8, true),
        channels: view.getUint16(at + 10, true),
        rateHz: view.getUint32(at + 12, true),
        bits: view.getUint16(at + 22, true),
      }
    } else if (tag(at) === 'data') {
      if (!format || format.code !== 1 || format.channels !== 1 || format.bits !== 16) {
        throw new Error(`${name}: expected mono 16-bit PCM, got ${JSON.stringify(format)}`)
      }
      if (format.rateHz !== SCENE_SAMPLE_RATE_HZ) throw new Error(`${name}: expected 16 kHz, got ${format.rateHz} Hz`)
      const count = Math.floor(Math.min(size, bytes.length - at - 8) / 2)
      const out = new Float32Array(count)
      for (let i = 0; i < count; i++) out[i] = view.getInt16(at + 8 + 2 * i, true) / 32768
      return out
    }
    at += 8 + size + (size & 1) // chunks are padded to even sizes
  }
  throw new Error(`${name}: no data chunk`)
}

/** A speech fixture at SPEECH_LEVEL_DBFS RMS over its active frames. */
function levelledSpeech(name: string): Float32Array {
  const key = `speech:${name}`
  const cached = signals.get(key)
  if (cached) return cached
  const samples = readPcm16Fixture(name)
  const frames = activeFrames(samples, FRAME_SAMPLES)
  const activePower = energyOverFrames(samples, frames) / (frames.length * FRAME_SAMPLES)
  scaleInPlace(samples, Math.sqrt(dbToPower(SPEECH_LEVEL_DBFS) / activePower))
  signals.set(key, samples)
  return samples
}

/** x repeated end to end (no crossfade: the speech fixtures start and end in silence) to length samples. */
function loop(x: Float32Array, length: number): Float32Array {
  const out = new Float32Array(length)
  for (let i = 0; i < length; i++) out[i] = x[i % x.length]!
  return out
}

/** x repeated with equal-power crossfades of fadeSamples at each seam (for noise-like signals), from offset. */
function loopCrossfaded(x: Float32Array, length: number, fadeSamples: number, offset: number): Float32Array {
  const out = new Float32Array(length)
  const period = x.length - fadeSamples
  for (let copyStart = -offset; copyStart < length; copyStart += period) {
    for (let i = 0; i < x.length; i++) {
      const n = copyStart + i
      if (n < 0 || n >= length) continue
      let gain = 1
      if (i < fadeSamples && copyStart > -offset) gain = Math.sin((0.5 * Math.PI * i) / fadeSamples)
      else if (i >= period) gain = Math.cos((0.5 * Math.PI * (i - period)) / fadeSamples)
      out[n] = out[n]! + gain * x[i]!
    }
  }
  return out
}

/** x ⊛ h by FFT overlap-add, truncated to x.length (what the mic hears while the far end plays). */
function convolve(x: Float32Array, h: Float32Array): Float64Array {
  let size = 4096
  while (size < 4 * h.length) size *= 2
  const block = size - h.length + 1
  const fft = new FFT(size)
  const input = new Float64Array(size)
  // Float64Array buffers, as the DSP's own transforms use (spectrum.ts): fft.js's code compiled for plain arrays here
  // would be polymorphic when the DSP under test runs in the same process (measured: the AEC bench 20 % slower).
  const filterSpectrum = new Float64Array(2 * size)
  const blockSpectrum = new Float64Array(2 * size)
  const product = new Float64Array(2 * size)
  const time = new Float64Array(2 * size)
  input.set(h)
  fft.realTransform(filterSpectrum, input)
  const out = new Float64Array(x.length)
  for (let start = 0; start < x.length; start += block) {
    input.fill(0)
    const end = Math.min(start + block, x.length)
    for (let i = start; i < end; i++) input[i - start] = x[i]!
    fft.realTransform(blockSpectrum, input)
    for (let k = 0; k <= size / 2; k++) {
      const ar = blockSpectrum[2 * k]!
      const ai = blockSpectrum[2 * k + 1]!
      const br = filterSpectrum[2 * k]!
      const bi = filterSpectrum[2 * k + 1]!
      product[2 * k] = ar * br - ai * bi
      product[2 * k + 1] = ar * bi + ai * br
    }
    fft.completeSpectrum(product)
    fft.inverseTransform(time, product)
    const limit = Math.min(size, out.length - start)
    for (let i = 0; i < limit; i++) out[start + i] = out[start + i]! + time[2 * i]!
  }
  return out
}

/**
 * A synthetic room impulse response at 16 kHz: zeros for the bulk delay, the direct path (amplitude 1), six early
 * reflections 1–20 ms after it (amplitude 0.15–0.45, random sign), and a Gaussian tail with amplitude envelope
 * exp(−ln(1000)·t / RT60) (60 dB down after RT60) and a 1 ms onset, with 0.6× the direct + early energy.
 * Default length: bulk delay + RT60. Deterministic for a seed.
 */
export function synthRoomImpulseResponse(opts: {
  rt60Ms: number
  bulkDelayMs: number
  seed: number
  lengthMs?: number
}): Float32Array {
  const { rt60Ms, bulkDelayMs, seed } = opts
  const lengthMs = opts.lengthMs ?? bulkDelayMs + rt60Ms
  if (!(rt60Ms >= 10 && rt60Ms <= 5000)) throw new RangeError(`rt60Ms: ${rt60Ms} is outside 10–5000`)
  if (!(bulkDelayMs >= 0 && bulkDelayMs <= 1000)) throw new RangeError(`bulkDelayMs: ${bulkDelayMs} is outside 0–1000`)
  if (!(lengthMs > bulkDelayMs + 20 && lengthMs <= 10000)) {
    throw new RangeError(`lengthMs: ${lengthMs} is outside bulkDelayMs + 20 (${bulkDelayMs + 20})–10000`)
  }
  const bulk = Math.round(bulkDelayMs * SAMPLES_PER_MS)
  const length = Math.round(lengthMs * SAMPLES_PER_MS)
  const random = new Random(seed)
  const h = new Float64Array(length)
  const decayPerSample = Math.log(1000) / (rt60Ms * SAMPLES_PER_MS) // amplitude ×1e−3 (−60 dB) over RT60
  const onsetSamples = SAMPLES_PER_MS // 1 ms build-up of the diffuse field
  let tailEnergy = 0
  for (let n = bulk + 1; n < length; n++) {
    const t = n - bulk
    h[n] = random.normal() * Math.exp(-decayPerSample * t) * (1 - Math.exp(-t / onsetSamples))
    tailEnergy += h[n]! * h[n]!
  }
  const reflections: Array<[number, number]> = []
  let directAndEarlyEnergy = 1
  for (let r = 0; r < 6; r++) {
    const delay = bulk + Math.round((1 + 19 * random.next()) * SAMPLES_PER_MS)
    const amplitude = (0.15 + 0.3 * random.next()) * (random.next() < 0.5 ? -1 : 1)
    reflections.push([delay, amplitude])
    directAndEarlyEnergy += amplitude * amplitude
  }
  scaleInPlace(h, Math.sqrt((TAIL_ENERGY_RATIO * directAndEarlyEnergy) / tailEnergy))
  h[bulk] = 1
  for (const [delay, amplitude] of reflections) h[delay] = h[delay]! + amplitude
  return Float32Array.from(h)
}

/** Windowed-sinc fractional-delay table: PHASES phases × DRIFT_TAPS taps, tap k at offset k − DRIFT_HALF + 1. */
const PHASES = 1024
const DRIFT_HALF = 16
const DRIFT_TAPS = 2 * DRIFT_HALF
let sincTable: Float64Array | null = null

function fractionalDelayTable(): Float64Array {
  if (sincTable) return sincTable
  const table = new Float64Array((PHASES + 1) * DRIFT_TAPS)
  for (let p = 0; p <= PHASES; p++) {
    const frac = p / PHASES
    for (let k = 0; k < DRIFT_TAPS; k++) {
      const t = k - DRIFT_HALF + 1 - frac // tap position relative to the interpolation point, samples
      const sinc = t === 0 ? 1 : Math.sin(Math.PI * t) / (Math.PI * t)
      const window = 0.5 + 0.5 * Math.cos((Math.PI * t) / DRIFT_HALF) // Hann over ±DRIFT_HALF
      table[p * DRIFT_TAPS + k] = sinc * window
    }
  }
  return (sincTable = table)
}

/** y read on a clock slower by ppm: out[n] = y(n − ppm·1e−6·n), band-limited interpolation. */
function applyDrift(y: Float64Array, ppm: number): Float64Array {
  const table = fractionalDelayTable()
  const out = new Float64Array(y.length)
  const ratio = 1 - ppm * 1e-6
  for (let n = 0; n < y.length; n++) {
    const position = n * ratio
    const base = Math.floor(position)
    const phase = Math.round((position - base) * PHASES)
    let sum = 0
    for (let k = 0; k < DRIFT_TAPS; k++) {
      const i = base + k - DRIFT_HALF + 1
      if (i >= 0 && i < y.length) sum += y[i]! * table[phase * DRIFT_TAPS + k]!
    }
    out[n] = sum
  }
  return out
}

/** Echo of far through one room, scaled to ERL_DB below the far power. */
function roomEcho(far: Float32Array, farPower: number, room: RoomSpec): Float64Array {
  const echo = convolve(far, synthRoomImpulseResponse(room))
  scaleInPlace(echo, Math.sqrt((farPower * dbToPower(-ERL_DB)) / meanSquare(echo)))
  return echo
}

function buildEchoScene(name: EchoSceneName): EchoScene {
  const spec = ECHO_SPECS[name]
  const length = Math.round(spec.durationS * SCENE_SAMPLE_RATE_HZ)
  const far = loop(levelledSpeech('far-talker-16k.wav'), length)
  const farPower = meanSquare(far)
  let echo = roomEcho(far, farPower, spec.rooms[0]!)
  if (spec.rooms.length > 1 && spec.pathChangeAtS !== undefined) {
    const second = roomEcho(far, farPower, spec.rooms[1]!)
    const fadeSamples = 20 * SAMPLES_PER_MS // 20 ms raised-cosine switch
    const fadeStart = Math.round(spec.pathChangeAtS * SCENE_SAMPLE_RATE_HZ) - fadeSamples / 2
    for (let n = Math.max(0, fadeStart); n < length; n++) {
      const w = n >= fadeStart + fadeSamples ? 1 : 0.5 - 0.5 * Math.cos((Math.PI * (n - fadeStart)) / fadeSamples)
      echo[n] = (1 - w) * echo[n]! + w * second[n]!
    }
  }
  if (spec.driftPpm !== undefined) echo = applyDrift(echo, spec.driftPpm)

  const near = new Float32Array(length)
  if (spec.nearStartS !== undefined) {
    const speech = levelledSpeech('near-talker-16k.wav')
    const start = Math.round(spec.nearStartS * SCENE_SAMPLE_RATE_HZ)
    for (let i = 0; i < speech.length && start + i < length; i++) near[start + i] = speech[i]!
  }
  const random = new Random(spec.noiseSeed)
  const noiseAmplitude = Math.sqrt(dbToPower(MIC_NOISE_DBFS))
  const noise = new Float32Array(length)
  for (let i = 0; i < length; i++) noise[i] = noiseAmplitude * random.normal()
  const echo32 = Float32Array.from(echo)
  const mic = new Float32Array(length)
  for (let i = 0; i < length; i++) mic[i] = echo32[i]! + near[i]! + noise[i]!

  const frameCount = Math.floor(length / FRAME_SAMPLES)
  const echoThreshold = meanSquare(noise) * dbToPower(ECHO_ABOVE_NOISE_DB)
  const nearActive = new Uint8Array(frameCount)
  const nearUtterance = new Uint8Array(frameCount)
  for (const f of activeFrames(near, FRAME_SAMPLES)) {
    nearActive[f] = 1
    const last = Math.min(frameCount - 1, f + UTTERANCE_TRAIL_FRAMES)
    for (let g = Math.max(0, f - UTTERANCE_LEAD_FRAMES); g <= last; g++) nearUtterance[g] = 1
  }
  const farSingleTalkFrames: number[] = []
  const doubleTalkFrames: number[] = []
  const nearOnlyFrames: number[] = []
  for (let f = 0; f < frameCount; f++) {
    const echoActive = meanSquare(echo32, f * FRAME_SAMPLES, (f + 1) * FRAME_SAMPLES) >= echoThreshold
    if (echoActive && !nearUtterance[f]) farSingleTalkFrames.push(f)
    if (echoActive && nearActive[f]) doubleTalkFrames.push(f)
    if (!echoActive && nearActive[f]) nearOnlyFrames.push(f)
  }
  const scene: EchoScene = {
    name,
    sampleRateHz: SCENE_SAMPLE_RATE_HZ,
    far,
    echo: echo32,
    near,
    noise,
    mic,
    bulkDelaySamples: Math.round(spec.rooms[0]!.bulkDelayMs * SAMPLES_PER_MS),
    farSingleTalkFrames,
    doubleTalkFrames,
    nearOnlyFrames,
  }
  if (spec.pathChangeAtS !== undefined) scene.pathChangeAtS = spec.pathChangeAtS
  if (spec.driftPpm !== undefined) scene.driftPpm = spec.driftPpm
  return scene
}

/**
 * An echo scene (cached; treat as read-only):
 * - rt250: RT60 250 ms, 40 ms bulk delay, ERL 12 dB, −55 dBFS noise, 20 s, far talker only
 * - longTail: RT60 600 ms, 120 ms bulk delay, ERL 12 dB, 20 s
 * - doubleTalk: as rt250, 24 s, the near talker from 8 s to 20 s (over about half of the far speech)
 * - pathChange: as rt250, the echo switches to another room (RT60 350 ms, same bulk delay) at 10 s
 * - drift100ppm: as rt250, 60 s, mic clock 100 ppm off the far clock (the echo delay grows by 6 ms over 60 s)
 */
export function echoScene(name: EchoSceneName): EchoScene {
  let scene = echoScenes.get(name)
  if (!scene) {
    if (!(name in ECHO_SPECS))
      throw new RangeError(`echo scene: ${String(name)} is not one of ${ECHO_SCENE_NAMES.join(', ')}`)
    scene = buildEchoScene(name)
    echoScenes.set(name, scene)
  }
  return scene
}

/** Paul Kellet's refined pink filter (−3 dB/octave within ±0.05 dB above ~10 Hz at 44.1 kHz; close enough at 16 kHz). */
function pinkNoise(length: number, random: Random): Float32Array {
  const out = new Float32Array(length)
  let b0 = 0
  let b1 = 0
  let b2 = 0
  let b3 = 0
  let b4 = 0
  let b5 = 0
  let b6 = 0
  const warmUp = SCENE_SAMPLE_RATE_HZ // 1 s: the slowest pole (0.99886) settles in ~880 samples
  for (let n = -warmUp; n < length; n++) {
    const white = random.normal()
    b0 = 0.99886 * b0 + white * 0.0555179
    b1 = 0.99332 * b1 + white * 0.0750759
    b2 = 0.969 * b2 + white * 0.153852
    b3 = 0.8665 * b3 + white * 0.3104856
    b4 = 0.55 * b4 + white * 0.5329522
    b5 = -0.7616 * b5 - white * 0.016898
    const pink = b0 + b1 + b2 + b3 + b4 + b5 + b6 + white * 0.5362
    b6 = white * 0.115926
    if (n >= 0) out[n] = pink
  }
  return out
}

/** Fan hum: 120 Hz and 11 harmonics (≈1/k, ±3 dB, random phases), 5 % AM at 0.4 Hz, pink broadband 20 dB below. */
function humNoise(length: number, random: Random): Float32Array {
  const fundamentalHz = 120
  const harmonics = 12
  const amplitudes = new Float64Array(harmonics)
  const phases = new Float64Array(harmonics)
  let harmonicPower = 0
  for (let k = 1; k <= harmonics; k++) {
    amplitudes[k - 1] = (1 / k) * 10 ** ((6 * random.next() - 3) / 20)
    phases[k - 1] = 2 * Math.PI * random.next()
    harmonicPower += amplitudes[k - 1]! ** 2 / 2
  }
  const broadband = pinkNoise(length, random)
  const broadbandGain = Math.sqrt((harmonicPower * dbToPower(-20)) / meanSquare(broadband))
  const out = new Float32Array(length)
  for (let n = 0; n < length; n++) {
    const t = n / SCENE_SAMPLE_RATE_HZ
    let sum = 0
    for (let k = 1; k <= harmonics; k++)
      sum += amplitudes[k - 1]! * Math.sin(2 * Math.PI * fundamentalHz * k * t + phases[k - 1]!)
    out[n] = sum * (1 + 0.05 * Math.sin(2 * Math.PI * 0.4 * t)) + broadbandGain * broadband[n]!
  }
  return out
}

/** The raw noise of a kind (level arbitrary), the same realisation for every SNR. */
function rawNoise(kind: NoiseScene['kind'], length: number): Float32Array {
  const key = `noise:${kind}:${length}`
  const cached = signals.get(key)
  if (cached) return cached
  let noise: Float32Array
  switch (kind) {
    case 'white': {
      const random = new Random(2001)
      noise = new Float32Array(length)
      for (let i = 0; i < length; i++) noise[i] = random.normal()
      break
    }
    case 'pink':
      noise = pinkNoise(length, new Random(2002))
      break
    case 'babble': {
      const samples = readPcm16Fixture('babble-16k.wav')
      const offset = new Random(2003).int(0, samples.length - 1)
      noise = loopCrossfaded(samples, length, 50 * SAMPLES_PER_MS, offset)
      break
    }
    case 'hum':
      noise = humNoise(length, new Random(2004))
      break
    default:
      throw new RangeError(`noise kind: ${String(kind)} is not one of ${NOISE_KINDS.join(', ')}`)
  }
  signals.set(key, noise)
  return noise
}

/**
 * A noise scene (cached; treat as read-only): the near talker's speech (1 s lead-in, 0.5 s tail) plus a noise scaled
 * so that 10·log10(Σ clean² / Σ noise²) over the clean signal's speech-active frames equals snrDb.
 */
export function noiseScene(kind: NoiseScene['kind'], snrDb: 0 | 5 | 10): NoiseScene {
  const key = `noise-scene:${kind}:${snrDb}`
  const cached = noiseScenes.get(key)
  if (cached) return cached
  if (!Number.isFinite(snrDb)) throw new RangeError(`snrDb: ${snrDb} is not finite`)
  const speech = levelledSpeech('near-talker-16k.wav')
  const leadIn = NOISE_LEAD_IN_S * SCENE_SAMPLE_RATE_HZ
  const length = leadIn + speech.length + NOISE_TAIL_S * SCENE_SAMPLE_RATE_HZ
  const clean = new Float32Array(length)
  clean.set(speech, leadIn)
  const raw = rawNoise(kind, length)
  const frames = activeFrames(clean, FRAME_SAMPLES)
  const gain = Math.sqrt(energyOverFrames(clean, frames) / energyOverFrames(raw, frames) / dbToPower(snrDb))
  const noise = new Float32Array(length)
  const noisy = new Float32Array(length)
  for (let i = 0; i < length; i++) {
    noise[i] = raw[i]! * gain
    noisy[i] = clean[i]! + noise[i]!
  }
  const scene: NoiseScene = { name: `${kind}-${snrDb}dB`, kind, snrDb, clean, noise, noisy, sampleRateHz: 16000 }
  noiseScenes.set(key, scene)
  return scene
}

function writeWav16(path: string, x: Float32Array): void {
  const pcm = new Int16Array(x.length)
  for (let i = 0; i < x.length; i++) pcm[i] = Math.round(Math.max(-1, Math.min(1, x[i]!)) * 32767)
  const wav = new WaveFile()
  wav.fromScratch(1, SCENE_SAMPLE_RATE_HZ, '16', pcm)
  writeFileSync(path, wav.toBuffer())
}

/**
 * Writes every scene as 16-bit 16 kHz mono WAVs into dir (created if needed), for the C peer harness:
 * echo-<name>-far.wav and echo-<name>-mic.wav per echo scene, noise-<kind>-<snr>dB-noisy.wav and -clean.wav per
 * noise scene. Returns the paths written.
 */
export function writeSceneWavs(dir: string): string[] {
  mkdirSync(dir, { recursive: true })
  const written: string[] = []
  const write = (name: string, x: Float32Array): void => {
    const path = join(dir, name)
    writeWav16(path, x)
    written.push(path)
  }
  for (const name of ECHO_SCENE_NAMES) {
    const scene = echoScene(name)
    write(`echo-${name}-far.wav`, scene.far)
    write(`echo-${name}-mic.wav`, scene.mic)
  }
  for (const kind of NOISE_KINDS) {
    for (const snr of NOISE_SNRS_DB) {
      const scene = noiseScene(kind, snr)
      write(`noise-${scene.name}-noisy.wav`, scene.noisy)
      write(`noise-${scene.name}-clean.wav`, scene.clean)
    }
  }
  return written
}

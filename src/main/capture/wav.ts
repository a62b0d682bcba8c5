/**
 * WAV captures: a call recording as near (mic / caller) and far (bot / AEC reference) audio at 16 kHz.
 *
 * Container: wavefile parses the RIFF/RIFX header and the fmt chunk (formats 1 PCM, 3 IEEE float, 6 A-law, 7 µ-law,
 * and 0xFFFE WAVE_FORMAT_EXTENSIBLE with one of those as sub-format). Before it, a bounded chunk walk finds the data
 * chunk and checks its size against the file: a data chunk that runs past the end (a truncated recording, or the
 * 0 / 0xFFFFFFFF size a streaming writer leaves) is read up to the end of the file with a warning naming the byte
 * offset. Samples are decoded here from the data bytes (8-bit unsigned, 16/24/32-bit signed PCM, 32/64-bit float,
 * G.711 through src/dsp/g711) and resampled from any rate in 8–192 kHz to 16 kHz with src/dsp/resampler (delay removed).
 *
 * Channels: mono is near only. Stereo (or more) uses a channel map, default left (0) = near, right (1) = far. The map
 * is checked with the GCC delay estimator (src/dsp/delay-estimator) run both ways over the first 30 s: an echo comes
 * after its reference, so when the near channel leads the far one (a negative delay), or the far channel holds the
 * delayed copy of the near one with more confidence, a warning says the far end looks like the other channel. Two
 * identical channels are flagged too. A separate far-end WAV (options.farPath) replaces the far channel; a stereo far
 * WAV is mixed to mono, and keeps its own length (the capture's duration is the near end's).
 *
 * Limits: RF64 and compressed formats other than G.711 (ADPCM, MP3 in WAV) are rejected; at most 4 h per track is
 * decoded (the rest is skipped with a warning) so a huge file cannot exhaust memory.
 */
import { CONFIDENT, DelayEstimator } from '../../dsp/delay-estimator'
import { g711DecodeFloat } from '../../dsp/g711'
import { RESAMPLER_MAX_RATE_HZ, RESAMPLER_MIN_RATE_HZ } from '../../dsp/resampler'
import { resampleSignal } from './audio'
import { CaptureError, type Capture, type LoadCaptureOptions } from './types'
import { WaveFile } from './wavefile'

export const WAV_SAMPLE_RATE_HZ = 16000
/** Longest audio decoded per track: 4 h (16 kHz Float32: 0.9 GB). */
export const WAV_MAX_DURATION_S = 4 * 3600
/** Audio the channel-map check looks at. */
const CHANNEL_CHECK_S = 30
const MAX_CHANNELS = 64

type SampleCodec = 'pcm-u8' | 'pcm16' | 'pcm24' | 'pcm32' | 'float32' | 'float64' | 'ulaw' | 'alaw'

const CODEC_NAMES: Record<SampleCodec, string> = {
  'pcm-u8': '8-bit PCM',
  pcm16: '16-bit PCM',
  pcm24: '24-bit PCM',
  pcm32: '32-bit PCM',
  float32: '32-bit float',
  float64: '64-bit float',
  ulaw: 'µ-law',
  alaw: 'A-law',
}

/** A decoded WAV: every channel at the file's rate. */
export interface WavAudio {
  sampleRateHz: number
  codec: SampleCodec
  /** wavefile's audioFormat (0xFFFE for extensible). */
  audioFormat: number
  channelCount: number
  /** Frames decoded (after truncation). */
  frameCount: number
  /** Decodes one channel as Float32 in [-1, 1] at sampleRateHz. */
  channel(index: number): Float32Array
  warnings: string[]
}

interface FmtChunk {
  audioFormat: number
  numChannels: number
  sampleRate: number
  blockAlign: number
  bitsPerSample: number
  subformat?: number[]
}

function fourCC(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!)
}

/** Parses the container and fmt; samples are decoded on demand by channel(). */
export function readWav(bytes: Uint8Array, file: string): WavAudio {
  const warnings: string[] = []
  if (bytes.length === 0) throw new CaptureError(file, 'the file is empty')
  if (bytes.length < 12) throw new CaptureError(file, `too short for a WAV header (${bytes.length} bytes, need 44)`)
  const container = fourCC(bytes, 0)
  if (container === 'RF64') throw new CaptureError(file, 'RF64 (64-bit WAV) is not supported; convert it to WAV')
  if (container !== 'RIFF' && container !== 'RIFX') throw new CaptureError(file, 'not a WAV file (no RIFF header)')
  if (fourCC(bytes, 8) !== 'WAVE') throw new CaptureError(file, `not a WAV file (RIFF form '${fourCC(bytes, 8)}')`)
  const bigEndian = container === 'RIFX'
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)

  // Bounded chunk walk: find fmt and data, and check their sizes against the file.
  let fmtFound = false
  let dataStart = -1
  let dataBytes = 0
  let dataDeclared = 0
  for (let at = 12; at + 8 <= bytes.length;) {
    const id = fourCC(bytes, at)
    const size = view.getUint32(at + 4, !bigEndian)
    const start = at + 8
    const available = bytes.length - start
    if (id === 'fmt ') {
      if (size < 16) throw new CaptureError(file, `fmt chunk at byte ${at} is ${size} bytes (need 16)`, at)
      if (size > available)
        throw new CaptureError(file, `fmt chunk at byte ${at} is cut at byte ${bytes.length} (the file ends)`, at)
      fmtFound = true
    } else if (id === 'data') {
      dataStart = start
      dataDeclared = size
      dataBytes = size
      // An empty data chunk followed by another chunk (e.g. LIST) is empty indeed, not a streaming placeholder.
      const isEmptyChunk = size === 0 && (available < 8 || isChunkHeader(bytes, view, start, bigEndian))
      if ((size > available || size === 0) && !isEmptyChunk) {
        if (size !== 0 || available > 0) {
          dataBytes = available
          warnings.push(
            size === 0 || size === 0xffffffff
              ? `${file}: the data chunk at byte ${at} has no size (${size}, a streaming writer's placeholder): read to the end of the file`
              : `${file}: truncated at byte ${bytes.length}: the data chunk at byte ${at} declares ${size} bytes, ${available} are there; read up to the damage`,
          )
        }
      }
      break
    }
    if (size > available) {
      if (!fmtFound)
        throw new CaptureError(file, `chunk '${printable(id)}' at byte ${at} runs past the end of the file`, at)
      throw new CaptureError(
        file,
        `no data chunk: chunk '${printable(id)}' at byte ${at} runs past the end of the file`,
        at,
      )
    }
    at = start + size + (size & 1)
  }
  if (!fmtFound) throw new CaptureError(file, 'no fmt chunk before the audio data (damaged or not a WAV file)')
  if (dataStart < 0) throw new CaptureError(file, 'no data chunk (the file holds no audio)')

  let fmt: FmtChunk
  try {
    const wav = new WaveFile()
    // Headers only: the data chunk is taken from the walk above, with its size checked.
    wav.fromBuffer(bytes.subarray(0, dataStart), false)
    fmt = wav.fmt as FmtChunk
  } catch (error) {
    // fromBuffer insists on a data chunk; a header without one past our cut is expected, so parse the whole file.
    try {
      const wav = new WaveFile()
      wav.fromBuffer(bytes, false)
      fmt = wav.fmt as FmtChunk
    } catch {
      throw new CaptureError(file, `unreadable WAV header: ${(error as Error).message}`)
    }
  }

  let format = fmt.audioFormat
  if (format === 0xfffe) {
    const sub = fmt.subformat?.[0]
    if (sub === undefined) throw new CaptureError(file, 'WAVE_FORMAT_EXTENSIBLE without a sub-format GUID')
    format = sub & 0xffff
  }
  const channelCount = fmt.numChannels
  if (!(channelCount >= 1 && channelCount <= MAX_CHANNELS))
    throw new CaptureError(file, `${channelCount} channels is outside 1–${MAX_CHANNELS}`)
  const rate = fmt.sampleRate
  if (!(Number.isInteger(rate) && rate >= RESAMPLER_MIN_RATE_HZ && rate <= RESAMPLER_MAX_RATE_HZ))
    throw new CaptureError(
      file,
      `sample rate ${rate} Hz is outside ${RESAMPLER_MIN_RATE_HZ}–${RESAMPLER_MAX_RATE_HZ} Hz (the resampler's range)`,
    )
  const bits = fmt.bitsPerSample
  let codec: SampleCodec
  if (format === 1 && bits === 8) codec = 'pcm-u8'
  else if (format === 1 && bits === 16) codec = 'pcm16'
  else if (format === 1 && bits === 24) codec = 'pcm24'
  else if (format === 1 && bits === 32) codec = 'pcm32'
  else if (format === 3 && bits === 32) codec = 'float32'
  else if (format === 3 && bits === 64) codec = 'float64'
  else if (format === 7 && bits === 8) codec = 'ulaw'
  else if (format === 6 && bits === 8) codec = 'alaw'
  else
    throw new CaptureError(
      file,
      `unsupported WAV encoding: format ${format} with ${bits} bits per sample ` +
        '(supported: PCM 8/16/24/32, float 32/64, A-law 6, µ-law 7, and these in WAVE_FORMAT_EXTENSIBLE)',
    )
  const bytesPerSample = bits / 8
  const blockAlign = bytesPerSample * channelCount
  if (fmt.blockAlign !== blockAlign)
    warnings.push(
      `${file}: fmt block align ${fmt.blockAlign} does not match ${channelCount}×${bits} bits: used ${blockAlign}`,
    )

  let frameCount = Math.floor(dataBytes / blockAlign)
  if (dataBytes % blockAlign !== 0 && dataBytes === dataDeclared)
    warnings.push(`${file}: the data chunk ends with ${dataBytes % blockAlign} bytes of a partial frame (ignored)`)
  if (frameCount === 0)
    throw new CaptureError(file, `no audio: the data chunk at byte ${dataStart - 8} holds no complete sample frame`)
  const maxFrames = WAV_MAX_DURATION_S * rate
  if (frameCount > maxFrames) {
    warnings.push(
      `${file}: longer than ${WAV_MAX_DURATION_S / 3600} h: only the first ${WAV_MAX_DURATION_S / 3600} h is read`,
    )
    frameCount = maxFrames
  }

  const channel = (index: number): Float32Array => {
    if (!(Number.isInteger(index) && index >= 0 && index < channelCount))
      throw new CaptureError(file, `channel ${index} does not exist (the file has ${channelCount})`)
    return decodeChannel(view, dataStart, frameCount, blockAlign, index * bytesPerSample, codec, !bigEndian)
  }
  return { sampleRateHz: rate, codec, audioFormat: fmt.audioFormat, channelCount, frameCount, channel, warnings }
}

/** Four printable ASCII characters and a size that fits in the file: the header of another chunk. */
function isChunkHeader(bytes: Uint8Array, view: DataView, at: number, bigEndian: boolean): boolean {
  for (let i = 0; i < 4; i++) if (bytes[at + i]! < 0x20 || bytes[at + i]! > 0x7e) return false
  return at + 8 + view.getUint32(at + 4, !bigEndian) <= bytes.length
}

function printable(id: string): string {
  return id.replace(/[^\x20-\x7e]/g, '?')
}

function decodeChannel(
  view: DataView,
  dataStart: number,
  frameCount: number,
  blockAlign: number,
  offsetInFrame: number,
  codec: SampleCodec,
  littleEndian: boolean,
): Float32Array {
  const out = new Float32Array(frameCount)
  let at = dataStart + offsetInFrame
  switch (codec) {
    case 'pcm-u8':
      for (let i = 0; i < frameCount; i++, at += blockAlign) out[i] = (view.getUint8(at) - 128) / 128
      break
    case 'pcm16':
      for (let i = 0; i < frameCount; i++, at += blockAlign) out[i] = view.getInt16(at, littleEndian) / 32768
      break
    case 'pcm24':
      for (let i = 0; i < frameCount; i++, at += blockAlign) {
        const b0 = view.getUint8(at)
        const b1 = view.getUint8(at + 1)
        const b2 = view.getUint8(at + 2)
        const value = littleEndian ? b0 | (b1 << 8) | (b2 << 16) : b2 | (b1 << 8) | (b0 << 16)
        out[i] = ((value << 8) >> 8) / 8388608 // sign-extend 24 → 32 bit
      }
      break
    case 'pcm32':
      for (let i = 0; i < frameCount; i++, at += blockAlign) out[i] = view.getInt32(at, littleEndian) / 2147483648
      break
    case 'float32':
      for (let i = 0; i < frameCount; i++, at += blockAlign) out[i] = finite(view.getFloat32(at, littleEndian))
      break
    case 'float64':
      for (let i = 0; i < frameCount; i++, at += blockAlign) out[i] = finite(view.getFloat64(at, littleEndian))
      break
    case 'ulaw':
    case 'alaw': {
      const codes = new Uint8Array(frameCount)
      for (let i = 0; i < frameCount; i++, at += blockAlign) codes[i] = view.getUint8(at)
      g711DecodeFloat(codec, codes, out)
      break
    }
  }
  return out
}

/** Float samples: non-finite → 0, beyond full scale clamped (a float WAV may exceed ±1). */
function finite(v: number): number {
  return v !== v || v === Infinity || v === -Infinity ? 0 : v > 1 ? 1 : v < -1 ? -1 : v
}

/** Loads a WAV capture (with an optional separate far-end WAV) as 16 kHz near and far tracks. */
export function wavCapture(
  bytes: Uint8Array,
  file: string,
  options: LoadCaptureOptions = {},
  far: { bytes: Uint8Array; file: string } | null = null,
): Capture {
  const audio = readWav(bytes, file)
  const warnings = [...audio.warnings]
  const map = options.channels ?? { near: 0, far: audio.channelCount > 1 ? 1 : null }
  if (map.near >= audio.channelCount || map.near < 0 || !Number.isInteger(map.near))
    throw new CaptureError(
      file,
      `channel map: near channel ${map.near} does not exist (the file has ${audio.channelCount})`,
    )
  if (map.far !== null && (map.far >= audio.channelCount || map.far < 0 || !Number.isInteger(map.far)))
    throw new CaptureError(
      file,
      `channel map: far channel ${map.far} does not exist (the file has ${audio.channelCount})`,
    )
  if (audio.channelCount > 2)
    warnings.push(
      `${file}: ${audio.channelCount} channels: near is channel ${map.near}, far is ${map.far ?? 'none'}; the others are ignored`,
    )
  const nearRaw = audio.channel(map.near)
  let farRaw: Float32Array | null = null
  let farRateHz = audio.sampleRateHz
  let farDescription = map.far === null ? 'no far end' : `far channel ${map.far}`
  if (far !== null) {
    const farAudio = readWav(far.bytes, far.file)
    warnings.push(...farAudio.warnings)
    if (map.far !== null && audio.channelCount > 1 && options.channels !== undefined)
      warnings.push(`${file}: channel ${map.far} is ignored: the far end comes from ${far.file}`)
    farRaw = farAudio.channel(0)
    if (farAudio.channelCount > 1) {
      for (let c = 1; c < farAudio.channelCount; c++) {
        const other = farAudio.channel(c)
        for (let i = 0; i < farRaw.length; i++) farRaw[i]! += other[i]!
      }
      for (let i = 0; i < farRaw.length; i++) farRaw[i]! /= farAudio.channelCount
      warnings.push(`${far.file}: ${farAudio.channelCount} channels mixed to mono for the far end`)
    }
    farRateHz = farAudio.sampleRateHz
    farDescription = `far from ${far.file} (${CODEC_NAMES[farAudio.codec]}, ${farAudio.sampleRateHz} Hz)`
  } else if (map.far !== null) {
    farRaw = audio.channel(map.far)
  }

  const near = resampleSignal(nearRaw, audio.sampleRateHz, WAV_SAMPLE_RATE_HZ)
  const farSamples = farRaw === null ? null : resampleSignal(farRaw, farRateHz, WAV_SAMPLE_RATE_HZ)
  if (farSamples !== null && far === null) {
    const check = checkChannelMap(near, farSamples)
    if (check !== null) warnings.push(`${file}: ${check}`)
  }
  const durationMs = (near.length * 1000) / WAV_SAMPLE_RATE_HZ
  const formatName =
    audio.audioFormat === 0xfffe ? `${CODEC_NAMES[audio.codec]} (extensible)` : CODEC_NAMES[audio.codec]
  const description =
    `WAV, ${formatName}, ${audio.sampleRateHz} Hz, ${audio.channelCount} channel${audio.channelCount > 1 ? 's' : ''} ` +
    `(near channel ${map.near}, ${farDescription}), ${(durationMs / 1000).toFixed(2)} s`
  return {
    file,
    format: 'wav',
    description,
    near: { kind: 'pcm', sampleRateHz: WAV_SAMPLE_RATE_HZ, samples: near },
    far: farSamples === null ? null : { kind: 'pcm', sampleRateHz: WAV_SAMPLE_RATE_HZ, samples: farSamples },
    durationMs,
    startEpochMs: null,
    warnings,
    streams: [],
    impairment: null,
  }
}

/**
 * Checks the near/far assignment of two 16 kHz channels. Returns a warning, or null when the map looks right or
 * nothing can be said (no echo found either way).
 */
export function checkChannelMap(near: Float32Array, far: Float32Array): string | null {
  const length = Math.min(near.length, far.length, CHANNEL_CHECK_S * WAV_SAMPLE_RATE_HZ)
  if (length === 0) return null
  // Identical channels (a mono recording saved as stereo): correlation coefficient ≈ 1 at lag 0.
  let cross = 0
  let nearPower = 0
  let farPower = 0
  for (let i = 0; i < length; i++) {
    cross += near[i]! * far[i]!
    nearPower += near[i]! * near[i]!
    farPower += far[i]! * far[i]!
  }
  if (nearPower > 0 && farPower > 0 && cross / Math.sqrt(nearPower * farPower) > 0.999)
    return 'both channels carry the same signal: there is no separate far end (echo cancellation has nothing to use)'
  const asMapped = new DelayEstimator({ sampleRateHz: WAV_SAMPLE_RATE_HZ, maxDelayMs: 500 })
  const swapped = new DelayEstimator({ sampleRateHz: WAV_SAMPLE_RATE_HZ, maxDelayMs: 500 })
  asMapped.push(near, far, length)
  swapped.push(far, near, length)
  const a = asMapped.estimate
  const b = swapped.estimate
  const nearLeads = a.confidence >= CONFIDENT && a.delayMs < -1
  const swappedEcho = b.confidence >= CONFIDENT && b.delayMs > 1 && b.confidence > a.confidence
  if (!nearLeads && !swappedEcho) return null
  const delayMs = swappedEcho ? b.delayMs : -a.delayMs
  return (
    `channel map: the far channel looks like the near end (the near channel's signal appears in it ${delayMs.toFixed(1)} ms ` +
    'later, as an echo would): the far end is probably the other channel; swap the channel map if so'
  )
}

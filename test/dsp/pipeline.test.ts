import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FrameBuffer } from '../../src/dsp/frame-buffer'
import { g711DecodeFloat, g711EncodeFloat } from '../../src/dsp/g711'
import { NetworkSimulator, makeStream } from '../../src/dsp/network-simulator'
import { Pipeline, type PipelineConfig } from '../../src/dsp/pipeline'
import { Resampler } from '../../src/dsp/resampler'
import { erleDb } from '../helpers/metrics'
import { echoScene } from '../helpers/scenes'
import { hasNonFinite, readWavFixture, snrDb, tone } from '../helpers/signals'

const FRAME = 320

/** Runs a PCM scene (near + optional far at 16 kHz) through the pipeline, one tick per frame. */
function runPcm(pipeline: Pipeline, near: Float32Array, far: Float32Array | null): Float32Array {
  const frames = Math.floor(near.length / FRAME)
  const out = new Float32Array(frames * FRAME)
  for (let f = 0; f < frames; f++) {
    pipeline.pushNearPcm(near.subarray(f * FRAME, (f + 1) * FRAME))
    if (far) pipeline.pushFarPcm(far.subarray(f * FRAME, (f + 1) * FRAME))
    pipeline.tick(f * 20, out.subarray(f * FRAME, (f + 1) * FRAME))
  }
  return out
}

describe('Pipeline', () => {
  it('passes PCM through bit-exact with every stage off', () => {
    const pipeline = new Pipeline({ echoCancellationEnabled: false, noiseReductionEnabled: false })
    const input = tone(440, 16000, 16000, 0.5)
    const out = runPcm(pipeline, input, null)
    expect(out).toEqual(input)
    expect(pipeline.metrics.frameIndex).toBe(50)
  })

  it('cancels the echo of a far talker in a room (echo scene, defaults)', () => {
    const scene = echoScene('rt250')
    const pipeline = new Pipeline()
    const out = runPcm(pipeline, scene.mic, scene.far)
    const delay = pipeline.echoCanceller.delaySamples + pipeline.noiseReducer.delaySamples
    const erle = erleDb(scene.mic, out, scene.farSingleTalkFrames, 2, delay)
    console.log(`pipeline ERLE on rt250: ${erle.toFixed(1)} dB`)
    expect(erle).toBeGreaterThan(20)
    expect(hasNonFinite(out)).toBe(false)
    expect(pipeline.metrics.latency.totalMs).toBeLessThan(200)
    expect(pipeline.metrics.latency.echoMs).toBeGreaterThan(0)
    expect(pipeline.metrics.latency.noiseMs).toBeGreaterThan(0)
  })

  it('applies a configuration at the next frame boundary, atomically, and rejects bad values by name', () => {
    const pipeline = new Pipeline({ noiseReductionEnabled: false, echoCancellationEnabled: false })
    const out = new Float32Array(FRAME)
    const frame = new Float32Array(FRAME).fill(0.25)
    pipeline.pushNearPcm(frame)
    pipeline.tick(0, out)
    expect(() => pipeline.configure({ noiseReductionStrength: 1.5 })).toThrow(
      /noiseReductionStrength: 1.5 is outside 0–1/,
    )
    expect(() => pipeline.configure({ jitterBufferTargetMs: 300 })).toThrow(/jitterBufferTargetMs/)
    expect(() => pipeline.configure({ echoFilterLengthTaps: 64 })).toThrow(/echoFilterLengthTaps/)
    const reply = pipeline.configure({ noiseReductionEnabled: true, noiseReductionStrength: 0.5 })
    expect(reply.effectiveFrame).toBe(1)
    expect(reply.changed).toEqual(['noiseReductionEnabled', 'noiseReductionStrength'])
    expect(pipeline.currentConfig.noiseReductionEnabled).toBe(false) // not before the boundary
    pipeline.pushNearPcm(frame)
    pipeline.tick(20, out)
    expect(pipeline.currentConfig.noiseReductionStrength).toBe(0.5)
    expect(pipeline.metrics.configApplied).toBe(1)
    expect(pipeline.metrics.frameIndex).toBe(2) // the session kept running
  })

  it('keeps the converged echo filter when the filter length changes mid-call', () => {
    const scene = echoScene('rt250')
    const pipeline = new Pipeline({ noiseReductionEnabled: false })
    const half = Math.floor(scene.mic.length / FRAME / 2) * FRAME
    const out = new Float32Array(scene.mic.length)
    for (let f = 0; f * FRAME + FRAME <= scene.mic.length; f++) {
      if (f * FRAME === half) pipeline.configure({ echoFilterLengthTaps: 2048 })
      pipeline.pushNearPcm(scene.mic.subarray(f * FRAME, (f + 1) * FRAME))
      pipeline.pushFarPcm(scene.far.subarray(f * FRAME, (f + 1) * FRAME))
      pipeline.tick(f * 20, out.subarray(f * FRAME, (f + 1) * FRAME))
    }
    const delay = pipeline.echoCanceller.delaySamples
    // The half second right after the change: no burst of echo (ERLE stays well above 0).
    const after = scene.farSingleTalkFrames.filter((f) => f * FRAME >= half && f * FRAME < half + 8000)
    expect(after.length).toBeGreaterThan(5)
    expect(erleDb(scene.mic, out, after, 0, delay)).toBeGreaterThan(10)
  })

  it('runs the network half on a packet source and counts the jitter buffer in the latency budget', () => {
    const speech = readWavFixture('speech-8k.wav').samples
    const packets = Math.floor(speech.length / 160)
    const arrivals = new NetworkSimulator({ profile: 'wifi', seed: 3 }).simulate(makeStream({ count: packets }))
    const pipeline = new Pipeline({ echoCancellationEnabled: false })
    const codes = new Uint8Array(160)
    const out = new Float32Array(FRAME)
    const ticks = packets + 25
    let next = 0
    let maxJitterBufferMs = 0
    let networkTicks = 0
    for (let tick = 0; tick < ticks; tick++) {
      while (next < arrivals.length && arrivals[next]!.arrivalMs <= tick * 20) {
        const a = arrivals[next++]!
        g711EncodeFloat('ulaw', speech.subarray(a.index * 160, a.index * 160 + 160), codes)
        pipeline.pushPacket(codes, a.seq, a.rtpTimestamp, a.arrivalMs)
      }
      if (next > 0) networkTicks++ // ticks before the first packet read the (empty) PCM queue
      pipeline.tick(tick * 20, out)
      expect(hasNonFinite(out)).toBe(false)
      maxJitterBufferMs = Math.max(maxJitterBufferMs, pipeline.metrics.latency.jitterBufferMs)
    }
    const network = pipeline.networkReceiver.metrics
    expect(network.framesOut).toBe(networkTicks)
    expect(network.framesPlayed + network.framesConcealed + network.framesIdle).toBe(networkTicks)
    expect(network.framesPlayed).toBeGreaterThan(packets * 0.95)
    expect(maxJitterBufferMs).toBeGreaterThan(0)
    expect(pipeline.metrics.latency.networkAlgorithmicMs).toBeGreaterThan(3.75)
    expect(pipeline.metrics.stageMeanUs.network).toBeGreaterThan(0)
  })

  it("passes the caller's noise once the bot stops talking, on a packet call (no suppression after the echo tail)", () => {
    // A packet call as the demo capture: the rt250 call's mic as µ-law packets (steady arrivals: the jitter buffer
    // starts with silence), its far end at 8 kHz (what Twilio carries), then 2 s of the mic's noise alone. Once the
    // echo has died away (0.4 s after the far end's last sample: RT60 250 ms behind 40 ms), the echo canceller must
    // pass the mic; only the noise reducer may then lower the noise (at most its −28 dB at strength 0.8, here off).
    const scene = echoScene('rt250')
    const body = 10 * 16000
    const total = body + 2 * 16000
    const mic16 = new Float32Array(total)
    mic16.set(scene.mic.subarray(0, body))
    mic16.set(scene.noise.subarray(body, total), body)
    const far16 = new Float32Array(total)
    far16.set(scene.far.subarray(0, body))
    const mic8 = new Float32Array(total / 2)
    new Resampler({ inputRateHz: 16000, outputRateHz: 8000 }).process(mic16, mic8)
    const far8 = new Float32Array(total / 2)
    new Resampler({ inputRateHz: 16000, outputRateHz: 8000 }).process(far16, far8)
    const farBand = new Float32Array(total)
    new Resampler({ inputRateHz: 8000, outputRateHz: 16000 }).process(far8, farBand)
    const pipeline = new Pipeline({ noiseReductionEnabled: false })
    const codes = new Uint8Array(160)
    const frames = total / FRAME
    const out = new Float32Array(total)
    for (let f = 0; f < frames; f++) {
      g711EncodeFloat('ulaw', mic8.subarray(f * 160, (f + 1) * 160), codes)
      pipeline.pushPacket(codes, f, f * 160, f * 20)
      pipeline.pushFarPcm(farBand.subarray(f * FRAME, (f + 1) * FRAME))
      pipeline.tick(f * 20, out.subarray(f * FRAME, (f + 1) * FRAME))
    }
    let lastFar = body - 1
    while (lastFar > 0 && Math.abs(far16[lastFar]!) < 1e-4) lastFar--
    // The output lags the mic by the pipeline's delay; compare powers over the same stretch of noise (stationary).
    const from = lastFar + Math.round(0.4 * 16000)
    const to = total - 1000
    // The reference is the mic as the network carries it (the 8 kHz band: half the white noise's power).
    let m = 0
    let o = 0
    for (let i = from; i < to; i++) o += out[i]! * out[i]!
    for (let i = from >> 1; i < to >> 1; i++) m += 2 * mic8[i]! * mic8[i]!
    const attenuationDb = 10 * Math.log10(m / o)
    console.log(`packet call: the mic's noise attenuated by ${attenuationDb.toFixed(2)} dB after the far end stopped`)
    expect(Math.abs(attenuationDb)).toBeLessThan(3)
  })

  it('encodes the TTS output path to µ-law and uses what it sent as the echo reference', () => {
    const pipeline = new Pipeline({ noiseReductionEnabled: false })
    const tts = tone(500, 16000, 16000, 0.3)
    const codes = new Uint8Array(160)
    const decoded = new Float32Array(8000)
    const frame8k = new Float32Array(160)
    for (let f = 0; f < 50; f++) {
      pipeline.pushOutput(tts.subarray(f * FRAME, (f + 1) * FRAME)) // TTS arrives frame by frame
      expect(pipeline.pullOutput(codes)).toBe(true)
      g711DecodeFloat('ulaw', codes, frame8k)
      decoded.set(frame8k, f * 160)
      // The mic hears the TTS frame just played (a direct echo, 6 dB down).
      const mic = new Float32Array(FRAME)
      for (let i = 0; i < FRAME; i++) mic[i] = 0.5 * tts[f * FRAME + i]!
      pipeline.pushNearPcm(mic)
      pipeline.tick(f * 20, new Float32Array(FRAME))
    }
    expect(pipeline.pullOutput(codes)).toBe(false) // nothing left to send
    // Reference: the same TTS through a 16→8 kHz resampler of its own; µ-law bounds the SNR (34 dB measured at this level).
    const expected = new Float32Array(8000)
    new Resampler({ inputRateHz: 16000, outputRateHz: 8000 }).process(tts, expected)
    expect(snrDb(expected, decoded)).toBeGreaterThan(30)
    expect(pipeline.metrics.farActive).toBe(true)
  })

  it('keeps the far reference in order, 16-bit, whatever mix of sent output, far PCM and far packets comes in', () => {
    // Reference: the far queue as the header describes it: what pullOutput sent (decoded, upsampled) and what is pushed
    // as far PCM or far packets, appended in arrival order to a 16-bit frame buffer, one frame read per tick.
    const pipeline = new Pipeline({ echoCancellationEnabled: false, noiseReductionEnabled: false })
    const queue = new FrameBuffer({ sampleRateHz: 16000, capacityMs: 100, clock: () => 0, sampleFormat: 'int16' })
    const upsampler = new Resampler({ inputRateHz: 8000, outputRateHz: 16000 })
    const decoded = new Float32Array(160)
    const upsampled = new Float32Array(320)
    const pushPacket = (codes: Uint8Array): void => {
      g711DecodeFloat('ulaw', codes, decoded, codes.length)
      queue.append(upsampled, 0, upsampler.process(decoded, upsampled, codes.length))
    }
    const tts = tone(700, 16000, 16000, 1.5) // clips: the queue's clamp is part of the reference
    const farPcm = tone(300, 16000, 16000, 0.2)
    const codes = new Uint8Array(160)
    const expected = new Float32Array(FRAME)
    const bursts = [320, 640, 0, 160, 480, 320, 0, 320]
    let ttsAt = 0
    for (let f = 0; f < 45; f++) {
      const n = Math.min(bursts[f % bursts.length]!, tts.length - ttsAt)
      pipeline.pushOutput(tts.subarray(ttsAt, ttsAt + n))
      ttsAt += n
      pipeline.pullOutput(codes)
      pushPacket(codes)
      if (f % 5 === 2) {
        pipeline.pushFarPcm(farPcm.subarray(f * 100, f * 100 + 100))
        queue.append(farPcm.subarray(f * 100, f * 100 + 100), 0)
      }
      if (f % 7 === 3) {
        const part = codes.subarray(0, 80)
        pipeline.pushFarPacket(part)
        pushPacket(part)
      }
      pipeline.tick(f * 20, new Float32Array(FRAME))
      queue.read(expected, 0)
      expect(pipeline.farInput).toEqual(expected)
    }
  })

  it('never outputs NaN under random configuration changes and hostile input', () => {
    const patch = fc.record(
      {
        echoCancellationEnabled: fc.boolean(),
        noiseReductionEnabled: fc.boolean(),
        noiseReductionStrength: fc.double({ min: 0, max: 1, noNaN: true }),
        echoFilterLengthTaps: fc.integer({ min: 128, max: 4096 }),
        echoCancellationEngine: fc.constantFrom('mdf' as const, 'nlms' as const),
        echoSuppressorEnabled: fc.boolean(),
        noiseReductionMode: fc.constantFrom('stationary' as const, 'nonstationary' as const),
        plcMethod: fc.constantFrom('pitch' as const, 'repeat' as const, 'spectral' as const, 'linear' as const),
      },
      { requiredKeys: [] },
    )
    fc.assert(
      fc.property(
        fc.array(fc.tuple(patch, fc.constantFrom(0, 0.5, 1, -1, NaN, Infinity, 1e9), fc.boolean()), {
          minLength: 1,
          maxLength: 12,
        }),
        (steps) => {
          const pipeline = new Pipeline()
          const out = new Float32Array(FRAME)
          for (const [config, value, withFar] of steps) {
            pipeline.configure(config as Partial<PipelineConfig>)
            for (let f = 0; f < 3; f++) {
              pipeline.pushNearPcm(new Float32Array(FRAME).fill(value))
              if (withFar) pipeline.pushFarPcm(new Float32Array(FRAME).fill(Math.sin(f)))
              pipeline.tick(f * 20, out)
              expect(hasNonFinite(out)).toBe(false)
            }
          }
        },
      ),
      { numRuns: 25 },
    )
  })
})

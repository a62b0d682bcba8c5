import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { g711DecodeFloat, g711EncodeFloat } from '../../src/dsp/g711'
import { NetworkReceiver } from '../../src/dsp/network-receiver'
import { JitterBuffer, JITTER_BUFFER_DEFAULTS } from '../../src/dsp/jitter-buffer'
import { NetworkSimulator, burstyLoss, makeStream } from '../../src/dsp/network-simulator'
import { PLC_METHODS, PacketLossConcealer } from '../../src/dsp/plc'
import { Resampler } from '../../src/dsp/resampler'
import { hasNonFinite, readWavFixture, snrDb } from '../helpers/signals'

const speech = readWavFixture('speech-8k.wav').samples
const PACKETS = Math.floor(speech.length / 160)

/** The fixture as 20 ms µ-law packets. */
const packets: Uint8Array[] = []
for (let p = 0; p < PACKETS; p++) {
  const codes = new Uint8Array(160)
  g711EncodeFloat('ulaw', speech.subarray(p * 160, (p + 1) * 160), codes)
  packets.push(codes)
}

/** Feeds arrivals (in arrival order) and pulls one frame per 20 ms tick; returns the 16 kHz output. */
function run(
  receiver: NetworkReceiver,
  arrivals: readonly { seq: number; rtpTimestamp: number; arrivalMs: number; index: number }[],
  ticks: number,
  afterPull: () => void = () => {},
): Float32Array {
  const output = new Float32Array(ticks * 320)
  let next = 0
  for (let tick = 0; tick < ticks; tick++) {
    const nowMs = tick * 20
    while (next < arrivals.length && arrivals[next]!.arrivalMs <= nowMs) {
      const a = arrivals[next++]!
      receiver.push(packets[a.index % packets.length]!, a.seq, a.rtpTimestamp, a.arrivalMs)
    }
    receiver.pull(nowMs, output.subarray(tick * 320, (tick + 1) * 320))
    afterPull()
  }
  return output
}

describe('NetworkReceiver (decode → jitter buffer → PLC → resample)', () => {
  it('passes a clean stream through unchanged apart from a fixed delay', () => {
    const receiver = new NetworkReceiver({ jitterBuffer: { mode: 'fixed', targetDelayMs: 40 } })
    const stream = makeStream({ count: PACKETS, startSeq: 65500 }) // wraps the 16-bit sequence number
    const arrivals = stream.map((p, index) => ({ ...p, index, arrivalMs: p.sendMs + 30 }))
    const ticks = PACKETS + 20
    let concealedWhileStreaming = -1
    const output = run(receiver, arrivals, ticks, () => {
      if (concealedWhileStreaming < 0 && receiver.jitterBuffer.lastPlayedSeq === stream[PACKETS - 1]!.seq)
        concealedWhileStreaming = receiver.metrics.framesConcealed
    })

    // Reference: the decoded µ-law stream through the same resampler, no network.
    const decoded = new Float32Array(PACKETS * 160)
    for (let p = 0; p < PACKETS; p++) g711DecodeFloat('ulaw', packets[p]!, decoded.subarray(p * 160))
    const reference = new Float32Array(decoded.length * 2)
    new Resampler({ inputRateHz: 8000, outputRateHz: 16000 }).process(decoded, reference)

    // The output lags by whole frames of buffering plus the PLC's 3.75 ms (60 samples at 16 kHz).
    let best = { lag: 0, snr: -Infinity }
    for (let frames = 0; frames <= 10; frames++) {
      const lag = frames * 320 + 60
      const snr = snrDb(reference.subarray(0, reference.length - 8000), output, lag)
      if (snr > best.snr) best = { lag, snr }
    }
    expect(best.snr).toBeGreaterThan(90)
    // Nothing concealed while the stream lasted (after its end the buffer conceals up to 500 ms, then goes idle).
    expect(concealedWhileStreaming).toBe(0)
    expect(receiver.jitterBuffer.metrics.late).toBe(0)
    expect(receiver.metrics.algorithmicDelayMs).toBeCloseTo(3.75 + receiver.resampler.delayMs, 6)
  })

  it('conserves frames and plays each packet at most once on a jittery, lossy, reordered trace', () => {
    const receiver = new NetworkReceiver({ jitterBuffer: { minDelayMs: 0 } })
    const simulator = new NetworkSimulator({
      profile: 'congested',
      seed: 7,
      reorderProbability: 0.02,
      duplicateProbability: 0.01,
    })
    const arrivals = simulator.simulate(makeStream({ count: 1500 }))
    const ticks = 1500 + 50
    const played = new Set<number>()
    let lastSeq = -1
    let maxTotalDelayMs = 0
    const output = new Float32Array(ticks * 320)
    let next = 0
    for (let tick = 0; tick < ticks; tick++) {
      const nowMs = tick * 20
      while (next < arrivals.length && arrivals[next]!.arrivalMs <= nowMs) {
        const a = arrivals[next++]!
        receiver.push(packets[a.index % packets.length]!, a.seq, a.rtpTimestamp, a.arrivalMs)
      }
      const outcome = receiver.pull(nowMs, output.subarray(tick * 320, (tick + 1) * 320))
      maxTotalDelayMs = Math.max(maxTotalDelayMs, receiver.metrics.totalDelayMs)
      if (outcome === 'ok' || outcome === 'recovered') {
        const seq = receiver.jitterBuffer.lastPlayedSeq
        expect(played.has(seq), `seq ${seq} played twice`).toBe(false)
        expect(seq).toBeGreaterThan(lastSeq) // no wrap in this trace
        played.add(seq)
        lastSeq = seq
      }
    }
    const m = receiver.metrics
    expect(m.framesOut).toBe(ticks)
    expect(m.framesPlayed + m.framesConcealed + m.framesIdle).toBe(ticks)
    expect(m.framesPlayed).toBe(played.size)
    expect(m.framesConcealed).toBeGreaterThan(0) // the trace loses packets
    expect(hasNonFinite(output)).toBe(false)
    expect(output.reduce((peak, v) => Math.max(peak, Math.abs(v)), 0)).toBeGreaterThan(0.1) // speech came through
    // The latency budget counts the jitter buffer's depth on top of the fixed delays.
    expect(maxTotalDelayMs).toBeGreaterThan(m.algorithmicDelayMs + 20)
  })

  it('never throws or outputs NaN for random payload sizes, orders and non-finite PCM', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            seq: fc.integer({ min: 0, max: 65535 }),
            size: fc.integer({ min: 0, max: 400 }),
            arrivalMs: fc.double({ min: 0, max: 2000, noNaN: true }),
            pcm: fc.boolean(),
            poison: fc.constantFrom(NaN, Infinity, -Infinity, 1e30, 0.5),
          }),
          { maxLength: 120 },
        ),
        (items) => {
          const receiver = new NetworkReceiver({ jitterBuffer: { minDelayMs: 0 } })
          const sorted = [...items].sort((a, b) => a.arrivalMs - b.arrivalMs)
          const out = new Float32Array(320)
          let next = 0
          const ticks = 110
          for (let tick = 0; tick < ticks; tick++) {
            const nowMs = tick * 20
            while (next < sorted.length && sorted[next]!.arrivalMs <= nowMs) {
              const item = sorted[next++]!
              if (item.pcm) {
                const pcm = new Float32Array(item.size).fill(item.poison)
                receiver.pushPcm(pcm, item.seq, item.seq * 160, item.arrivalMs)
              } else {
                receiver.push(new Uint8Array(item.size).fill(0x80), item.seq, item.seq * 160, item.arrivalMs)
              }
            }
            receiver.pull(nowMs, out)
            expect(hasNonFinite(out)).toBe(false)
            // Input is clamped to [-1, 1]; band-limiting a full-scale pulse (a 2-sample payload of 1e30, clamped, then
            // concealed) overshoots, bounded by the resampler's L1 gain (Σ|h| < 2): finite and bounded, never blown up.
            expect(out.every((v) => Math.abs(v) < 2)).toBe(true)
          }
          expect(receiver.metrics.framesOut).toBe(ticks)
        },
      ),
      { numRuns: 60 },
    )
  })

  it('plays packets in arrival order with the jitter buffer bypassed, and goes silent on underrun', () => {
    const receiver = new NetworkReceiver({ jitterBufferEnabled: false })
    // Packet 1 before packet 0: the bypass plays what it gets, as it gets it.
    const tone = (level: number) => new Uint8Array(160).fill(level)
    receiver.push(tone(0x90), 1, 160, 0)
    receiver.push(tone(0xa0), 0, 0, 0)
    const out = new Float32Array(320)
    const levels: number[] = []
    for (let tick = 0; tick < 3; tick++) {
      receiver.pull(tick * 20, out)
      levels.push(out[200]!)
    }
    // µ-law 0x90 decodes to 15996, 0xa0 to 7932 (/32768); the resampler's 35-sample delay smears the first edge only.
    expect(levels[0]).toBeCloseTo(15996 / 32768, 3)
    expect(levels[1]).toBeCloseTo(7932 / 32768, 3)
    expect(levels[2]).toBe(0)
    expect(receiver.metrics.framesPlayed).toBe(2)
    expect(receiver.metrics.framesIdle).toBe(1)
    expect(receiver.metrics.algorithmicDelayMs).toBeCloseTo(receiver.resampler.delayMs, 6)
  })

  it('switches the jitter buffer off and on mid-stream without losing the frame clock', () => {
    const receiver = new NetworkReceiver()
    const out = new Float32Array(320)
    const payload = new Uint8Array(160).fill(0x90)
    let seq = 0
    const tickWith = (tick: number) => {
      receiver.push(payload, seq, seq * 160, tick * 20)
      seq++
      return receiver.pull(tick * 20, out)
    }
    for (let tick = 0; tick < 20; tick++) tickWith(tick)
    receiver.configure({ jitterBufferEnabled: false })
    expect(tickWith(20)).toBe('ok') // the bypass plays what arrives at once
    expect(out[319]).toBeCloseTo(15996 / 32768, 3)
    receiver.configure({ jitterBufferEnabled: true })
    for (let tick = 21; tick < 40; tick++) tickWith(tick)
    expect(receiver.metrics.framesOut).toBe(40)
    expect(hasNonFinite(out)).toBe(false)
    expect(out[319]).toBeCloseTo(15996 / 32768, 3) // playing again after the buffer refilled
  })

  it('keeps its frames in the shared scratch without disturbing the PLC: the same output as the chain built by hand', () => {
    // The decoded packet, the 8 kHz frames and the resampled frame are views of the thread's scratch, which the
    // spectral and linear methods also use inside process() (between reading the frame and writing the output): the
    // output must equal a chain of the same stages with buffers of their own, for every method, switched every second.
    const arrivals = new NetworkSimulator({ profile: 'wifi', ...burstyLoss(0.08, 2.5), seed: 5 }).simulate(
      makeStream({ count: 600, startSeq: 65000, ssrc: 9 }),
    )
    const receiver = new NetworkReceiver({ plcMethod: 'spectral' })
    const jb = new JitterBuffer({ ...JITTER_BUFFER_DEFAULTS, sampleFormat: 'int16' })
    const plc = new PacketLossConcealer({ method: 'spectral' })
    const resampler = new Resampler({ inputRateHz: 8000, outputRateHz: 16000 })
    const decoded = new Float32Array(160)
    const concealed = new Float32Array(160)
    const resampled = new Float32Array(resampler.maxOutputLength(160))
    const out = new Float32Array(320)
    let next = 0
    let mismatches = 0
    for (let tick = 0; tick < 700; tick++) {
      const nowMs = tick * 20
      if (tick % 50 === 0) {
        const method = PLC_METHODS[(tick / 50) % PLC_METHODS.length]!
        receiver.configure({ plcMethod: method })
        plc.configure({ method })
      }
      while (next < arrivals.length && arrivals[next]!.arrivalMs <= nowMs) {
        const a = arrivals[next++]!
        const payload = packets[a.index % packets.length]!
        receiver.push(payload, a.seq, a.rtpTimestamp, a.arrivalMs, a.ssrc)
        g711DecodeFloat('ulaw', payload, decoded)
        jb.push(decoded, a.seq, a.rtpTimestamp, a.arrivalMs, a.ssrc)
      }
      receiver.pull(nowMs, out)
      const outcome = jb.playout(nowMs, decoded)
      if (outcome === 'ok' || outcome === 'idle') plc.process(decoded, concealed)
      else {
        const lostBefore = outcome === 'missing' ? jb.peekNext(decoded, plc.maxLookaheadFrames) : -1
        if (lostBefore >= 0) plc.offerNext(decoded, lostBefore)
        plc.process(null, concealed)
      }
      const produced = resampler.process(concealed, resampled, 160)
      expect(produced).toBe(320)
      for (let i = 0; i < 320; i++) if (out[i] !== resampled[i]) mismatches++
    }
    expect(plc.metrics.concealedFrames).toBeGreaterThan(20)
    expect(receiver.plc.metrics).toEqual(plc.metrics)
    expect(mismatches).toBe(0)
  })
})

import { describe, expect, it } from 'vitest'
import { g711DecodeFloat } from '../../../src/dsp/g711'
import { impairCapture, loadCaptureSync, type Capture, type PacketTrack } from '../../../src/main/capture'
import { FIXTURES_DIR, toneLevelDb } from '../../helpers/signals'

const CAPTURES = FIXTURES_DIR + 'captures/'

function packets(track: Capture['near'] | null): PacketTrack {
  if (track === null || track.kind !== 'packets') throw new Error('expected a packet track')
  return track
}

describe('what-if impairment of captures', () => {
  const wav = loadCaptureSync(CAPTURES + 'demo-call.wav')
  const pcap = loadCaptureSync(CAPTURES + 'demo-call.pcap')

  it('packetises a WAV as 20 ms µ-law and replays it through a named profile, deterministically for a seed', () => {
    const a = impairCapture(wav, 'lossy', 3)
    const b = impairCapture(wav, 'lossy', 3)
    const c = impairCapture(wav, 'lossy', 4)
    const near = packets(a.near)
    expect(near.law).toBe('ulaw')
    expect(near.timing).toBe('arrival')
    expect(near.frameMs).toBe(20)
    const stats = a.impairment!.stats
    expect(stats.sent).toBe(500)
    expect(near.packets.length).toBe(stats.delivered + stats.duplicated)
    expect(stats.lost).toBeGreaterThan(5) // 5 % loss in bursts
    expect(packets(b.near).packets).toEqual(near.packets)
    expect(packets(c.near).packets.map((p) => p.arrivalMs)).not.toEqual(near.packets.map((p) => p.arrivalMs))
    expect(a.impairment!.profile).toBe('lossy')
    expect(a.far).toBe(wav.far) // the far end is the local reference: left as it was
    expect(a.warnings.join('\n')).toMatch(/impaired with lossy \(seed 3\): 500 sent, \d+ lost/)
    expect(a.warnings.join('\n')).toMatch(/sent as 8 kHz µ-law for the impairment \(narrowband\)/)
  })

  it('keeps the level of a tone through packetisation and a loss-free network replay', () => {
    const tone = loadCaptureSync(CAPTURES + 'tone-16k-float.wav')
    const impaired = impairCapture(tone, { profile: 'good', lossGoodToBad: 0, duplicateProbability: 0 }, 1)
    const near = packets(impaired.near)
    expect(near.packets.length).toBe(50)
    // Decode in sequence order and measure at 8 kHz.
    const decoded = new Float32Array(50 * 160)
    const sorted = [...near.packets].sort((x, y) => x.seq - y.seq)
    sorted.forEach((p, i) => g711DecodeFloat('ulaw', p.payload, decoded.subarray(160 * i)))
    expect(Math.abs(toneLevelDb(decoded, 1000, 8000, 400, 7600) - 20 * Math.log10(0.5))).toBeLessThan(0.1)
  })

  it('re-sends a pcap capture at its media times: its own losses stay lost, new ones add up', () => {
    const original = packets(pcap.near)
    const impaired = impairCapture(pcap, 'congested', 9)
    const near = packets(impaired.near)
    const stats = impaired.impairment!.stats
    const originalSeqs = new Set(original.packets.map((p) => p.seq))
    expect(stats.sent).toBe(originalSeqs.size) // unique packets received in the capture
    for (const p of near.packets) expect(originalSeqs.has(p.seq)).toBe(true)
    expect(new Set(near.packets.map((p) => p.seq)).size).toBe(stats.delivered)
    expect(near.packets[0]!.arrivalMs).toBe(0)
  })

  it("can add the impairment on top of the capture's real arrivals", () => {
    const onTop = impairCapture(
      pcap,
      { profile: 'good', lossGoodToBad: 0, duplicateProbability: 0, jitterMeanMs: 0 },
      1,
      {
        basis: 'arrival',
      },
    )
    const near = packets(onTop.near).packets
    const original = packets(pcap.near).packets
    // A constant extra delay only: the same packets, the same relative arrival times.
    const bySeq = new Map(original.map((p) => [p.seq, p.arrivalMs]))
    const offset = near[0]!.arrivalMs - bySeq.get(near[0]!.seq)!
    for (const p of near) expect(p.arrivalMs - bySeq.get(p.seq)!).toBeCloseTo(offset, 3)
  })

  it('impairs the far track too when asked', () => {
    const both = impairCapture(pcap, 'wifi', 2, { tracks: 'both' })
    expect(packets(both.far).timing).toBe('arrival')
    expect(packets(both.far).packets).not.toEqual(packets(pcap.far).packets)
  })

  it('rejects an unknown profile or an out-of-range parameter, naming it', () => {
    expect(() => impairCapture(wav, 'satellite' as never)).toThrow(
      /impairment profile 'satellite' is not one of good, wifi/,
    )
    expect(() => impairCapture(wav, { lossInBad: 2 })).toThrow(
      /demo-call\.wav: impairment: lossInBad: 2 is outside 0–1/,
    )
  })
})

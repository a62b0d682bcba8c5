import { describe, expect, it } from 'vitest'
import { doubleTalkOverPackets } from '../helpers/packet-scene'

describe('a packet call with double talk: the whole pipeline behind an adaptive jitter buffer', () => {
  // The doubleTalk scene as µ-law packets over five 'wifi' networks. The adaptive buffer grows and shrinks by whole
  // frames (2–11 moves); the canceller follows each move. Before it did (and before the suppressor's noise floor held
  // through digital silence), the near talker's SDR was 0.6 / 2.1 / 6.5 / 2.0 / 20.0 dB in double talk and
  // 10.2 / 7.0 / 7.8 / 7.2 / 33.2 dB alone (seeds 1–5; seed 3's ERLE 8.3 dB); behind a fixed buffer, which never
  // moves, about 44 dB ERLE and 19.7 / 33.7 dB.
  it.each([1, 2, 3, 4, 5])('wifi seed %i: echo removed and the near talker kept, as behind a fixed buffer', (seed) => {
    const adaptive = doubleTalkOverPackets('adaptive', seed)
    const fixed = doubleTalkOverPackets('fixed', seed)
    console.log(
      `seed ${seed}: adaptive ERLE ${adaptive.erleDb.toFixed(2)} dB, near talker SDR ${adaptive.doubleTalkSdrDb.toFixed(2)}` +
        ` / ${adaptive.nearOnlySdrDb.toFixed(2)} dB (${adaptive.playoutMoves} moves); fixed ${fixed.erleDb.toFixed(2)},` +
        ` ${fixed.doubleTalkSdrDb.toFixed(2)} / ${fixed.nearOnlySdrDb.toFixed(2)}; codec path alone ${adaptive.codecSdrDb.toFixed(2)}`,
    )
    expect(adaptive.playoutMoves).toBeGreaterThan(0)
    expect(adaptive.erleDb).toBeGreaterThan(38)
    expect(adaptive.doubleTalkSdrDb).toBeGreaterThan(18)
    expect(adaptive.doubleTalkSdrDb).toBeGreaterThan(fixed.doubleTalkSdrDb - 1)
    // Near-only frames: within 2 dB of what µ-law and the resamplers leave of the talker.
    expect(adaptive.nearOnlySdrDb).toBeGreaterThan(adaptive.codecSdrDb - 2)
  })
})

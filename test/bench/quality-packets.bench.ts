/** The double-talk scene as a packet call (test/helpers/packet-scene.ts), adaptive and fixed jitter buffer. */
import { doubleTalkOverPackets } from '../helpers/packet-scene'
import type { Bench } from './harness'

export const benches: Bench[] = (['adaptive', 'fixed'] as const).map((mode) => ({
  name: `quality.packets.doubleTalk.${mode}`,
  description: `doubleTalk scene as µ-law packets over 'wifi' (seed 3), ${mode} jitter buffer → full pipeline`,
  frameMs: 20,
  figures: () => ({ ...doubleTalkOverPackets(mode, 3) }),
}))

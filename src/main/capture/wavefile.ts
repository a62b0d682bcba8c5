/**
 * wavefile, loaded so it works everywhere: it ships ESM (bundlers, vitest) and a UMD build (plain Node / tsx) whose
 * named exports arrive under `default`.
 */
import * as wavefileModule from 'wavefile'

type WaveFileClass = typeof wavefileModule.WaveFile
const loaded = wavefileModule as unknown as { WaveFile?: WaveFileClass; default?: { WaveFile: WaveFileClass } }
export const WaveFile: WaveFileClass = (loaded.WaveFile ?? loaded.default?.WaveFile)!

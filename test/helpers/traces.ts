import { NetworkSimulator, makeStream, type NetworkProfileName } from '../../src/dsp/network-simulator'

/** A simulated packet trace as typed arrays (arrival order), so a bench's timed loop allocates nothing. */
export interface Trace {
  seqs: Int32Array
  timestamps: Float64Array
  arrivalMs: Float64Array
  /** Index of each arrival's packet in the sent stream (payload lookup). */
  indices: Int32Array
}

export function simulatedTrace(profile: NetworkProfileName, seed: number, packets: number): Trace {
  const arrivals = new NetworkSimulator({ profile, seed }).simulate(makeStream({ count: packets }))
  return {
    seqs: Int32Array.from(arrivals, (a) => a.seq),
    timestamps: Float64Array.from(arrivals, (a) => a.rtpTimestamp),
    arrivalMs: Float64Array.from(arrivals, (a) => a.arrivalMs),
    indices: Int32Array.from(arrivals, (a) => a.index),
  }
}

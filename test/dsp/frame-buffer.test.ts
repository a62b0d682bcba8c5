import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FrameBuffer } from '../../src/dsp/frame-buffer'

function frame(value: number, length = 320): Float32Array {
  return new Float32Array(length).fill(value)
}

describe('FrameBuffer', () => {
  it('reads frames back in FIFO order with their content intact', () => {
    const buffer = new FrameBuffer({ clock: () => 0 })
    for (let i = 0; i < 5; i++) buffer.write(frame(i / 10))
    const out = new Float32Array(320)
    for (let i = 0; i < 5; i++) {
      expect(buffer.read(out)).toBe('ok')
      expect(out.every((v) => v === Math.fround(i / 10))).toBe(true)
    }
    expect(buffer.read(out)).toBe('underrun')
  })

  it('zero-pads short writes and truncates long ones, counting both', () => {
    const buffer = new FrameBuffer({ clock: () => 0 })
    buffer.write(frame(0.5, 100))
    buffer.write(frame(0.25, 500))
    const out = new Float32Array(320)
    buffer.read(out)
    expect(out[99]).toBe(0.5)
    expect(out[100]).toBe(0)
    expect(out[319]).toBe(0)
    buffer.read(out)
    expect(out.every((v) => v === 0.25)).toBe(true)
    expect(buffer.metrics.paddedWrites).toBe(1)
    expect(buffer.metrics.truncatedWrites).toBe(1)
  })

  it('scales Int16 input to [-1, 1] and replaces non-finite samples with 0', () => {
    const buffer = new FrameBuffer({ clock: () => 0 })
    buffer.write(Int16Array.of(-32768, 16384, 32767))
    buffer.write(Float32Array.of(NaN, Infinity, -Infinity, 0.5))
    const out = new Float32Array(320)
    buffer.read(out)
    expect([out[0], out[1], out[2]]).toEqual([-1, 0.5, 32767 / 32768])
    buffer.read(out)
    expect([out[0], out[1], out[2], out[3]]).toEqual([0, 0, 0, 0.5])
    expect(buffer.metrics.nonFiniteSamples).toBe(3)
  })

  it("stores 16-bit PCM with sampleFormat 'int16': Int16 exactly, floats to the nearest 1/32768, clamped", () => {
    const buffer = new FrameBuffer({ clock: () => 0, sampleFormat: 'int16' })
    buffer.write(Int16Array.of(-32768, 16384, 32767, -1))
    buffer.write(Float32Array.of(0.1, -0.30001, 1.5, -2, NaN, Infinity, 1 / 65536 + 1e-7))
    buffer.append(Float32Array.of(0.25, -0.25))
    buffer.append(new Float32Array(318).fill(0.5))
    const out = new Float32Array(320)
    buffer.read(out)
    expect([out[0], out[1], out[2], out[3], out[4]]).toEqual([-1, 0.5, 32767 / 32768, -1 / 32768, 0])
    buffer.read(out)
    expect(Math.abs(out[0]! - 0.1)).toBeLessThanOrEqual(0.5 / 32768)
    expect(Math.abs(out[1]! + 0.30001)).toBeLessThanOrEqual(0.5 / 32768)
    expect([out[2], out[3], out[4], out[5], out[6]]).toEqual([32767 / 32768, -1, 0, 0, 1 / 32768])
    expect(buffer.metrics.nonFiniteSamples).toBe(2)
    buffer.read(out)
    expect([out[0], out[1], out[2], out[319]]).toEqual([0.25, -0.25, 0.5, 0.5])
    expect(() => new FrameBuffer({ sampleFormat: 'int8' as never })).toThrow(/sampleFormat/)
  })

  it('drops the oldest frame on overrun and counts it', () => {
    const buffer = new FrameBuffer({ capacityMs: 100, clock: () => 0 }) // 5 frames
    for (let i = 0; i < 8; i++) buffer.write(frame(i))
    expect(buffer.metrics.overruns).toBe(3)
    expect(buffer.metrics.framesDropped).toBe(3)
    expect(buffer.metrics.fillPercent).toBe(100)
    const out = new Float32Array(320)
    buffer.read(out)
    expect(out[0]).toBe(3) // frames 0..2 were dropped
  })

  it('tracks per-frame latency from write to read (current, mean, max)', () => {
    let now = 1000
    const buffer = new FrameBuffer({ clock: () => now })
    buffer.write(frame(0)) // at 1000
    now = 1020
    buffer.write(frame(0)) // at 1020
    now = 1060
    const out = new Float32Array(320)
    buffer.read(out) // age 60
    expect(buffer.metrics.latencyCurrentMs).toBe(60)
    now = 1070
    buffer.read(out) // age 50
    expect(buffer.metrics.latencyCurrentMs).toBe(50)
    expect(buffer.metrics.latencyMeanMs).toBe(55)
    expect(buffer.metrics.latencyMaxMs).toBe(60)
  })

  it('reports fill and health against the given bounds', () => {
    const buffer = new FrameBuffer({ capacityMs: 200, clock: () => 0 }) // 10 frames
    expect(buffer.isHealthy(10, 90)).toBe(false)
    buffer.write(frame(0))
    buffer.write(frame(0))
    expect(buffer.metrics.fillPercent).toBe(20)
    expect(buffer.isHealthy(10, 90)).toBe(true)
    for (let i = 0; i < 8; i++) buffer.write(frame(0))
    expect(buffer.isHealthy(10, 90)).toBe(false)
  })

  it('re-frames a stream of odd-sized chunks without losing or inventing a sample', () => {
    const buffer = new FrameBuffer({ sampleRateHz: 8000, capacityMs: 2000, clock: () => 0 })
    const total = 160 * 37 + 55
    const stream = Float32Array.from({ length: total }, (_, i) => ((i % 1000) - 500) / 1000)
    let offset = 0
    let size = 1
    while (offset < total) {
      const chunk = stream.subarray(offset, Math.min(total, offset + size))
      buffer.append(chunk)
      offset += chunk.length
      size = (size * 7 + 3) % 401
    }
    expect(buffer.framesBuffered).toBe(37)
    const out = new Float32Array(160)
    for (let f = 0; f < 37; f++) {
      buffer.read(out)
      for (let i = 0; i < 160; i++) expect(out[i]).toBe(stream[f * 160 + i])
    }
  })

  it('resolves an awaiting reader when a frame arrives, and times out with silence otherwise', async () => {
    const buffer = new FrameBuffer()
    const out = new Float32Array(320).fill(9)
    expect(await buffer.readAsync(out, 20)).toBe('timeout')
    expect(out[0]).toBe(0)
    expect(buffer.metrics.underruns).toBe(1)
    const pending = buffer.readAsync(out, 1000)
    setTimeout(() => buffer.write(frame(0.75)), 5)
    expect(await pending).toBe('ok')
    expect(out[319]).toBe(0.75)
  })

  it('rejects out-of-range configuration with a message naming the field', () => {
    expect(() => new FrameBuffer({ frameMs: 0 })).toThrow(/frameMs/)
    expect(() => new FrameBuffer({ sampleRateHz: 10 })).toThrow(/sampleRateHz/)
    expect(() => new FrameBuffer({ capacityMs: 5 })).toThrow(/capacityMs/)
  })

  it('conserves frames under any interleaving of writes, appends and reads', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant('write' as const), size: fc.integer({ min: 0, max: 700 }) }),
            fc.record({ op: fc.constant('append' as const), size: fc.integer({ min: 0, max: 700 }) }),
            fc.record({ op: fc.constant('read' as const), size: fc.constant(0) }),
          ),
          { maxLength: 200 },
        ),
        fc.integer({ min: 20, max: 400 }),
        (ops, capacityMs) => {
          const buffer = new FrameBuffer({ capacityMs, clock: () => 0 })
          const out = new Float32Array(320)
          for (const { op, size } of ops) {
            if (op === 'write') buffer.write(new Float32Array(size).fill(NaN))
            else if (op === 'append') buffer.append(new Float32Array(size).fill(0.1))
            else buffer.read(out)
            expect(out.every(Number.isFinite)).toBe(true)
          }
          const m = buffer.metrics
          expect(m.framesWritten).toBe(m.framesRead + m.framesDropped + m.framesBuffered)
          expect(m.framesBuffered).toBeLessThanOrEqual(buffer.capacityFrames)
        },
      ),
    )
  })
})

describe('FrameBuffer partial frames', () => {
  it('keeps every buffered frame readable while append() assembles the next one in a full ring', () => {
    for (const sampleFormat of ['float32', 'int16'] as const) {
      const buffer = new FrameBuffer({ capacityMs: 60, clock: () => 0, sampleFormat }) // 3 frames
      for (let i = 1; i <= 3; i++) buffer.write(frame(i / 8))
      buffer.append(frame(0.5, 100)) // a partial frame while full: nothing dropped yet
      expect(buffer.metrics.framesDropped).toBe(0)
      const out = new Float32Array(320)
      buffer.read(out)
      expect(out[0]).toBe(1 / 8)
      buffer.write(frame(0.75)) // written frames go before the partial one
      buffer.append(frame(0.5, 220)) // completes it: the ring is full again, the oldest goes
      expect(buffer.metrics.framesDropped).toBe(1)
      const firsts: number[] = []
      while (buffer.read(out) === 'ok') firsts.push(out[0]!, out[319]!)
      expect(firsts).toEqual([3 / 8, 3 / 8, 0.75, 0.75, 0.5, 0.5])
    }
  })
})

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  COMMAND_NAMES,
  Channel,
  FRAME_METRICS,
  WireError,
  checkTapBatch,
  decodeWire,
  encodeWire,
  parseRequest,
  type TapBatch,
} from '../../src/shared/contract'

function batch(frames: number, frameSamples = 320): TapBatch {
  const metrics = Object.fromEntries(FRAME_METRICS.map((name, i) => [name, new Float32Array(frames).fill(i)]))
  return {
    sequence: 3,
    fromFrame: 100,
    frameCount: frames,
    frameSamples,
    sampleRateHz: 16000,
    frameMs: 20,
    near: Float32Array.from({ length: frames * frameSamples }, (_, i) => Math.sin(i / 7)),
    far: new Float32Array(frames * frameSamples).fill(-0.25),
    processed: new Float32Array(frames * frameSamples).fill(0.5),
    metrics: metrics as TapBatch['metrics'],
    events: [{ frame: 101, kind: 'packet-lost', count: 2 }],
    health: { status: 'degraded', reasons: ['late packets 2.0 %'] },
  }
}

describe('contract', () => {
  it('has one IPC channel per command', () => {
    for (const name of COMMAND_NAMES) expect(Channel[name]).toBe(`engine:${name}`)
    expect(new Set(Object.values(Channel)).size).toBe(COMMAND_NAMES.length + 1)
  })

  it('carries a tap batch as one binary frame and reads back the same arrays, bit for bit', () => {
    const original = batch(3)
    const wire = encodeWire({ kind: 'event', event: 'tap', payload: original })
    expect(wire).toBeInstanceOf(Uint8Array)
    const decoded = decodeWire(wire) as { payload: TapBatch }
    const checked = checkTapBatch(decoded.payload)
    expect(checked).not.toBeNull()
    expect(checked).toEqual(original)
    // Samples never travel as JSON numbers: the frame is about 4 bytes per sample.
    expect((wire as Uint8Array).byteLength).toBeLessThan(3 * 3 * 320 * 4 + 4096)
  })

  it('reads arrays back from any offset of the received buffer (a socket buffer is not aligned)', () => {
    fc.assert(
      fc.property(
        fc.float32Array({ maxLength: 50 }),
        fc.uint8Array({ maxLength: 9 }),
        fc.integer({ min: 0, max: 7 }),
        (samples, bytes, shift) => {
          const wire = encodeWire({ samples, bytes, text: 'x' }) as Uint8Array
          const shifted = new Uint8Array(wire.byteLength + shift)
          shifted.set(wire, shift)
          const decoded = decodeWire(shifted.subarray(shift)) as { samples: Float32Array; bytes: Uint8Array }
          expect(decoded.samples).toEqual(samples)
          expect(decoded.bytes).toEqual(bytes)
        },
      ),
    )
  })

  it('refuses damaged binary frames with a WireError, and keeps a "__proto__" key a plain property', () => {
    const wire = encodeWire({ a: new Float32Array(4) }) as Uint8Array
    expect(() => decodeWire(wire.subarray(0, 6))).toThrow(WireError)
    expect(() => decodeWire(wire.subarray(0, wire.byteLength - 4))).toThrow(/past the end/)
    const badMagic = wire.slice()
    badMagic[0] = 0
    expect(() => decodeWire(badMagic)).toThrow(/magic/)
    const json = (text: string) => {
      const body = new TextEncoder().encode(text)
      const out = new Uint8Array(8 + body.length + 8)
      new DataView(out.buffer).setUint32(0, 0x31425756, true)
      new DataView(out.buffer).setUint32(4, body.length, true)
      out.set(body, 8)
      return out
    }
    expect(() => decodeWire(json('{"a": {"$typed": "BigInt64Array", "offset": 0, "length": 1}}'))).toThrow(
      /unknown array type/,
    )
    expect(() => decodeWire(json('{"a": {"$typed": "Float32Array", "offset": -8, "length": 1}}'))).toThrow(WireError)
    expect(() => decodeWire(json('{"a": {"$typed": "Float32Array", "offset": 0, "length": 1e9}}'))).toThrow(
      /past the end/,
    )
    expect(() => decodeWire('{"kind":')).toThrow(/not JSON/)
    const decoded = decodeWire(json('{"__proto__": {"polluted": true}}')) as Record<string, unknown>
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype)
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
  })

  it('checks requests at the boundary: the error names the field', () => {
    expect(parseRequest('seek', { positionMs: 1000 })).toEqual({ ok: true, value: { positionMs: 1000 } })
    const bad = parseRequest('openCapture', { source: { kind: 'url', url: 'http://x' } })
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid-request' } })
    expect(!bad.ok && bad.error.message).toMatch(/^openCapture: source/)
    const settings = parseRequest('configure', { echoFilterLengthTaps: 100 })
    expect(settings).toMatchObject({ ok: false, error: { code: 'invalid-settings' } })
    expect(!settings.ok && settings.error.message).toMatch(
      /echoFilterLengthTaps \(ECHO_FILTER_LENGTH\): 100 is outside/,
    )
  })

  it('rejects a tap batch whose arrays do not match its frame count', () => {
    const b = batch(2)
    expect(checkTapBatch({ ...b, near: new Float32Array(10) })).toBeNull()
    expect(checkTapBatch({ ...b, metrics: { ...b.metrics, erleDb: new Float64Array(2) } })).toBeNull()
    expect(checkTapBatch({ ...b, frameCount: -1 })).toBeNull()
  })
})

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Random } from '../../../src/dsp/random'
import { CaptureError, loadCapture, loadCaptureSync, parseCapture, type Capture } from '../../../src/main/capture'
import { FIXTURES_DIR } from '../../helpers/signals'

const CAPTURES = FIXTURES_DIR + 'captures/'
const FILES = [
  'demo-call.wav',
  'tone-44k1-24bit.wav',
  'demo-call.pcap',
  'demo-call.pcapng',
  'text2pcap-ipv6.pcap',
  'demo-call.twilio.jsonl',
  'demo-call.twilio-console.log',
]
const bytesOf = new Map(FILES.map((name) => [name, new Uint8Array(readFileSync(CAPTURES + name))]))

/** Parses, and fails the test on anything but a Capture or a CaptureError naming the file. */
function attempt(bytes: Uint8Array, name: string): Capture | CaptureError {
  try {
    const capture = parseCapture(bytes, name)
    for (const w of capture.warnings) expect(w.startsWith(`${name}: `)).toBe(true)
    return capture
  } catch (error) {
    if (!(error instanceof CaptureError)) throw new Error(`${name}: not a CaptureError: ${String(error)}`)
    expect(error.message.startsWith(`${name}: `)).toBe(true)
    expect(error.message.length).toBeGreaterThan(name.length + 10)
    return error
  }
}

function packetCount(c: Capture): number {
  return c.near.kind === 'packets' ? c.near.packets.length : c.near.samples.length
}

describe('damaged and hostile capture files', () => {
  it.each(FILES)(
    '%s: cut at every offset of its first 600 bytes gives a clear error or a capture, never a crash',
    (name) => {
      const bytes = bytesOf.get(name)!
      let errors = 0
      for (let n = 0; n <= Math.min(600, bytes.length); n++) {
        if (attempt(bytes.subarray(0, n), name) instanceof CaptureError) errors++
      }
      expect(errors).toBeGreaterThan(10) // the header offsets
    },
  )

  it('names the problem for a file cut inside its header', () => {
    const wav = bytesOf.get('demo-call.wav')!
    expect(() => parseCapture(wav.subarray(0, 0), 'a.wav')).toThrow(/^a\.wav: the file is empty$/)
    expect(() => parseCapture(wav.subarray(0, 30), 'a.wav')).toThrow(/^a\.wav: fmt chunk at byte 12 is cut at byte 30/)
    expect(() => parseCapture(wav.subarray(0, 40), 'a.wav')).toThrow(/^a\.wav: no data chunk/)
    expect(() => parseCapture(wav.subarray(0, 44), 'a.wav')).toThrow(/^a\.wav: no audio: the data chunk at byte 36/)
    const pcap = bytesOf.get('demo-call.pcap')!
    expect(() => parseCapture(pcap.subarray(0, 20), 'a.pcap')).toThrow(/^a\.pcap: pcap header cut: 20 of 24 bytes/)
    expect(() => parseCapture(pcap.subarray(0, 30), 'a.pcap')).toThrow(
      /^a\.pcap: no packet could be read: truncated at byte 24: a packet record header is cut/,
    )
    const pcapng = bytesOf.get('demo-call.pcapng')!
    expect(() => parseCapture(pcapng.subarray(0, 50), 'a.pcapng')).toThrow(/^a\.pcapng: pcapng section header cut/)
  })

  it('reads a WAV truncated mid-data up to the damage, with a warning naming the byte offset', () => {
    const full = bytesOf.get('demo-call.wav')!
    const capture = attempt(full.subarray(0, 300_001), 'cut.wav') as Capture
    expect(capture.warnings[0]).toBe(
      'cut.wav: truncated at byte 300001: the data chunk at byte 36 declares 640000 bytes, 299957 are there; read up to the damage',
    )
    expect(packetCount(capture)).toBe(Math.floor(299_957 / 4))
  })

  it.each(['demo-call.pcap', 'demo-call.pcapng'])(
    '%s truncated mid-way reads the packets before the damage, with a warning naming the byte offset',
    (name) => {
      const full = parseCapture(bytesOf.get(name)!, name)
      const cut = attempt(bytesOf.get(name)!.subarray(0, 60_001), name) as Capture
      expect(cut.warnings.join('\n')).toMatch(
        new RegExp(`^${name.replace('.', '\\.')}: truncated at byte 60001: `, 'm'),
      )
      const fullNear = full.near.kind === 'packets' ? full.near.packets : []
      const cutNear = cut.near.kind === 'packets' ? cut.near.packets : []
      expect(cutNear.length).toBeGreaterThan(50)
      expect(cutNear.length).toBeLessThan(fullNear.length)
      cutNear.forEach((p, i) => expect(p.seq).toBe(fullNear[i]!.seq))
    },
  )

  it('reads a Twilio log cut mid-line and names the unreadable last line', () => {
    const text = new TextDecoder().decode(bytesOf.get('demo-call.twilio.jsonl')!)
    const cutAt = text.indexOf('\n', 100_000) + 150
    const lineNumber = text.slice(0, cutAt).split('\n').length
    const capture = attempt(new TextEncoder().encode(text.slice(0, cutAt)), 'cut.jsonl') as Capture
    expect(capture.warnings.join('\n')).toMatch(new RegExp(`1 unreadable line skipped \\(line ${lineNumber}\\)`))
  })

  it('rejects absurd sizes with a clear error or reads up to the file end, allocating nothing from them', () => {
    const wav = new Uint8Array(bytesOf.get('tone-44k1-24bit.wav')!.subarray(0, 2000))
    const view = new DataView(wav.buffer)
    const dataAt = 76 // 'data' of the sox extensible header: RIFF 12 + fmt 48 + fact 12 + 4
    expect(String.fromCharCode(...wav.subarray(dataAt - 4, dataAt))).toBe('data')
    view.setUint32(dataAt, 0x7fffffff, true)
    const huge = attempt(wav, 'huge.wav') as Capture
    expect(huge.warnings[0]).toMatch(
      /^huge\.wav: truncated at byte 2000: the data chunk at byte 72 declares 2147483647 bytes/,
    )
    const fmt = new Uint8Array(wav)
    new DataView(fmt.buffer).setUint32(16, 0xfffffff0, true)
    expect(() => parseCapture(fmt, 'fmt.wav')).toThrow(/^fmt\.wav: fmt chunk at byte 12 is cut/)
    const channels = new Uint8Array(wav)
    new DataView(channels.buffer).setUint16(22, 65535, true)
    expect(() => parseCapture(channels, 'ch.wav')).toThrow(/^ch\.wav: 65535 channels is outside 1–64/)
    const rate = new Uint8Array(wav)
    new DataView(rate.buffer).setUint32(24, 0xffffffff, true)
    expect(() => parseCapture(rate, 'rate.wav')).toThrow(/^rate\.wav: sample rate 4294967295 Hz is outside/)
    const junk = new Uint8Array(wav)
    junk.set(new TextEncoder().encode('LIST'), 60)
    new DataView(junk.buffer).setUint32(64, 0xfffffff0, true)
    expect(() => parseCapture(junk, 'junk.wav')).toThrow(
      /^junk\.wav: no data chunk: chunk 'LIST' at byte 60 runs past the end/,
    )

    const pcap = new Uint8Array(bytesOf.get('demo-call.pcap')!.subarray(0, 20_000))
    const records: number[] = []
    for (let at = 24; at + 16 <= pcap.length;) {
      records.push(at)
      at += 16 + new DataView(pcap.buffer).getUint32(at + 8, true)
    }
    new DataView(pcap.buffer).setUint32(records[30]! + 8, 0xffffffff, true)
    const damaged = attempt(pcap, 'huge.pcap') as Capture
    expect(damaged.warnings[0]).toBe(
      `huge.pcap: damaged at byte ${records[30]}: a packet record declares 4294967295 bytes (more than 262144); read up to there`,
    )

    const pcapng = new Uint8Array(bytesOf.get('demo-call.pcapng')!.subarray(0, 20_000))
    const ngView = new DataView(pcapng.buffer)
    let block = 0
    for (let i = 0; i < 40; i++) block += ngView.getUint32(block + 4, true)
    ngView.setUint32(block + 4, 0xfffffff0, true)
    const ng = attempt(pcapng, 'huge.pcapng') as Capture
    expect(ng.warnings[0]).toMatch(
      new RegExp(`^huge\\.pcapng: truncated at byte 20000: the block at byte ${block} declares 4294967280`),
    )
  })

  it('rejects random bytes, with or without a valid magic number, with a clear error', () => {
    const random = new Random(42)
    const prefixes = [
      new Uint8Array(0),
      new TextEncoder().encode('RIFF\x00\x01\x00\x00WAVE'),
      new Uint8Array([0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]),
      new Uint8Array([0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a]),
      new TextEncoder().encode('{"event":"media","media":{"track":"inbound","payload":"'),
    ]
    let captures = 0
    for (let trial = 0; trial < 400; trial++) {
      const prefix = prefixes[trial % prefixes.length]!
      const body = new Uint8Array(random.int(0, 3000))
      for (let i = 0; i < body.length; i++) body[i] = random.int(0, 255)
      const bytes = new Uint8Array(prefix.length + body.length)
      bytes.set(prefix)
      bytes.set(body, prefix.length)
      if (!(attempt(bytes, `random-${trial}.bin`) instanceof CaptureError)) captures++
    }
    expect(captures).toBe(0)
  })

  it.each(FILES)('%s with random bytes flipped in its first 512 bytes never crashes', (name) => {
    const original = bytesOf.get(name)!.subarray(0, 30_000)
    const random = new Random(7)
    for (let trial = 0; trial < 150; trial++) {
      const mutant = new Uint8Array(original)
      const flips = random.int(1, 8)
      for (let k = 0; k < flips; k++) mutant[random.int(0, 511)] = random.int(0, 255)
      attempt(mutant, name)
    }
  })

  it('reads an empty data chunk followed by another chunk as no audio, not as a streaming placeholder', () => {
    const header = new Uint8Array(bytesOf.get('demo-call.wav')!.subarray(0, 44))
    const list = new TextEncoder().encode('LIST\x04\x00\x00\x00INFO')
    const bytes = new Uint8Array(56)
    bytes.set(header)
    bytes.set(list, 44)
    new DataView(bytes.buffer).setUint32(40, 0, true)
    expect(() => parseCapture(bytes, 'empty-data.wav')).toThrow(/^empty-data\.wav: no audio: the data chunk at byte 36/)
  })

  it('names the file for wrong magic, empty and unreadable files', () => {
    expect(() => parseCapture(new TextEncoder().encode('hello world, not a capture'), 'note.txt')).toThrow(
      /^note\.txt: unknown format \(first bytes 68 65 6c 6c 6f 20 77 6f\): not a WAV \(RIFF\/WAVE\), pcap, pcapng or Twilio/,
    )
    expect(() =>
      parseCapture(new Uint8Array([0x52, 0x46, 0x36, 0x34, 0, 0, 0, 0, 0x57, 0x41, 0x56, 0x45]), 'big.wav'),
    ).toThrow(/^big\.wav: RF64 \(64-bit WAV\) is not supported/)
    expect(() => loadCaptureSync(join(tmpdir(), 'no-such-capture.pcap'))).toThrow(
      /no-such-capture\.pcap: cannot be read: ENOENT/,
    )
    expect(() => loadCaptureSync(tmpdir())).toThrow(/is a directory, not a capture file/)
  })

  const dir = mkdtempSync(join(tmpdir(), 'capture-limits-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('loads asynchronously with the same result and the same errors', async () => {
    const path = join(dir, 'call.pcap')
    writeFileSync(path, bytesOf.get('demo-call.pcap')!)
    const capture = await loadCapture(path)
    expect(capture.streams).toEqual(loadCaptureSync(path).streams)
    await expect(loadCapture(join(dir, 'missing.wav'))).rejects.toThrow(/missing\.wav: cannot be read: ENOENT/)
    await expect(loadCapture(path, { maxBytes: 10 })).rejects.toThrow(/over the 10-byte limit/)
  })

  it('refuses a file over the size limit before reading it, and an empty file', () => {
    const path = join(dir, 'big.pcap')
    writeFileSync(path, bytesOf.get('demo-call.pcap')!)
    expect(() => loadCaptureSync(path, { maxBytes: 1000 })).toThrow(
      /big\.pcap: is 228764 bytes, over the 1000-byte limit/,
    )
    const empty = join(dir, 'empty.wav')
    writeFileSync(empty, new Uint8Array(0))
    expect(() => loadCaptureSync(empty)).toThrow(/empty\.wav: the file is empty/)
  })
})

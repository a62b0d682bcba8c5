import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { decodeWav } from '../helpers/wav'

const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const BIN = join(ROOT, 'bin/voip-workbench.mjs')
const CAPTURES = join(ROOT, 'test/fixtures/captures/')
const facts = JSON.parse(readFileSync(CAPTURES + 'demo-call.json', 'utf8')) as {
  echoBulkDelayMs: number
  pcap: { removedSeqs: number[]; nearReceived: number }
}

/** Runs the real CLI; resolves with its exit code and output (a non-zero exit is not an exception here). */
async function cli(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      maxBuffer: 64 << 20,
    })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

interface Report {
  file: string
  output: string
  durationS: number
  echo: { delayMs: number | null; erleDb: number | null }
  network: { lost: number; packets: number; lateLossRate: number; jitterMs: number } | null
  latency: { totalMs: number }
  speed: { realtimeFactor: number }
  noise: { speechS: number }
}

describe('voip-workbench CLI', () => {
  it('analyzes the demo call as WAV, pcap and Twilio log, with --json printing one document', async () => {
    const out = mkdtempSync(join(tmpdir(), 'cli-'))
    const { code, stdout } = await cli([
      'analyze',
      CAPTURES + 'demo-call.wav',
      CAPTURES + 'demo-call.pcap',
      CAPTURES + 'demo-call.twilio.jsonl',
      '--out',
      out,
      '--json',
    ])
    expect(code).toBe(0)
    const document = JSON.parse(stdout) as { captures: Report[]; errors: unknown[]; aggregate: { captures: number } }
    expect(document.errors).toEqual([])
    expect(document.aggregate.captures).toBe(3)
    const [wav, pcap, twilio] = document.captures as [Report, Report, Report]
    // The demo's echo delay is found within 2 ms of the simulated one.
    expect(Math.abs(wav.echo.delayMs! - facts.echoBulkDelayMs)).toBeLessThan(2)
    expect(wav.echo.erleDb!).toBeGreaterThan(15)
    expect(wav.network).toBeNull()
    // The pcap's loss count equals the packets removed.
    expect(pcap.network!.lost).toBe(facts.pcap.removedSeqs.length)
    expect(pcap.network!.packets).toBe(facts.pcap.nearReceived)
    expect(pcap.network!.lateLossRate).toBeGreaterThanOrEqual(0)
    expect(pcap.network!.lateLossRate).toBeLessThan(0.05)
    expect(twilio.network!.jitterMs).toBeGreaterThan(0)
    // No caller talks in the demo (echo and noise only): the noise reducer's VAD calls at most the echo's onsets
    // speech, before the suppressor takes them (it called 7.6 s of the 10 s speech when a suppressed frame's
    // harmonics counted).
    for (const report of document.captures) expect(report.noise.speechS).toBeLessThan(0.25 * report.durationS)
    for (const report of document.captures) {
      expect(report.latency.totalMs).toBeLessThan(200)
      expect(report.speed.realtimeFactor).toBeGreaterThan(1)
    }
    // The processed WAV is 16 kHz mono, aligned to the input: the same length as the capture.
    const processed = decodeWav(readFileSync(wav.output))
    expect(processed.sampleRateHz).toBe(16000)
    expect(processed.samples.length).toBe(Math.round(wav.durationS * 16000))
  })

  it('reports a bad file by name, goes on with the batch, and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-bad-'))
    writeFileSync(join(dir, 'broken.wav'), Buffer.from('RIFF\x10\x00\x00\x00WAVEjunk'))
    const { code, stdout } = await cli([
      'analyze',
      join(dir, 'broken.wav'),
      CAPTURES + 'tone-8k-ulaw.wav',
      '--out',
      dir,
      '--json',
    ])
    expect(code).toBe(1)
    const document = JSON.parse(stdout) as { captures: Report[]; errors: { file: string; message: string }[] }
    expect(document.captures).toHaveLength(1)
    expect(document.errors).toHaveLength(1)
    expect(document.errors[0]!.message).toContain('broken.wav')
  })

  it('rejects an out-of-range --set with the key, value and range, analysing nothing', async () => {
    const { code, stderr } = await cli([
      'analyze',
      CAPTURES + 'tone-8k-ulaw.wav',
      '--set',
      'NOISE_REDUCTION_STRENGTH=1.5',
    ])
    expect(code).toBe(2)
    expect(stderr).toMatch(/NOISE_REDUCTION_STRENGTH/)
    expect(stderr).toMatch(/1\.5/)
    expect(stderr).toMatch(/0–1/)
  })

  it('env: validates a .env file and prints the normalised .env, with precedence defaults < file < environment < --set', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-env-'))
    const file = join(dir, 'service.env')
    writeFileSync(file, 'JITTER_BUFFER_TARGET_MS=100\nECHO_FILTER_LENGTH=2048\nNOISE_REDUCTION_STRENGTH=0.5\n')
    const { code, stdout } = await cli(['env', '--env', file, '--set', 'NOISE_REDUCTION_STRENGTH=0.6'], {
      ECHO_FILTER_LENGTH: '4096',
    })
    expect(code).toBe(0)
    expect(stdout).toMatch(/^JITTER_BUFFER_TARGET_MS=100$/m)
    expect(stdout).toMatch(/^ECHO_FILTER_LENGTH=4096$/m)
    expect(stdout).toMatch(/^NOISE_REDUCTION_STRENGTH=0.6$/m)
    expect(stdout).not.toMatch(/WORKBENCH_/)
  })

  it('env: an invalid line names the file and the line, and nothing is applied', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-env-bad-'))
    const file = join(dir, 'bad.env')
    writeFileSync(file, 'ENABLE_ECHO_CANCELLATION=true\nJITTER_BUFFER_MIN_MS=abc\n')
    const { code, stderr } = await cli(['env', '--env', file])
    expect(code).toBe(2)
    expect(stderr).toMatch(/bad\.env:2/)
    expect(stderr).toMatch(/JITTER_BUFFER_MIN_MS/)
  })

  it('replays a WAV through a simulated network (--impair with explicit parameters), deterministic with a seed', async () => {
    const out = mkdtempSync(join(tmpdir(), 'cli-impair-'))
    const args = [
      'analyze',
      CAPTURES + 'demo-call.wav',
      '--impair',
      'lossy',
      '--impair-set',
      'jitterMeanMs=15',
      '--seed',
      '5',
    ]
    const first = await cli([...args, '--out', out, '--json'])
    const second = await cli([...args, '--out', out, '--json'])
    expect(first.code).toBe(0)
    const [a] = (JSON.parse(first.stdout) as { captures: Report[] }).captures
    const [b] = (JSON.parse(second.stdout) as { captures: Report[] }).captures
    expect(a!.network).not.toBeNull() // the WAV was packetised and went through the jitter buffer
    expect(a!.network!.lost).toBeGreaterThan(0)
    expect(a!.network!.jitterMs).toBeGreaterThan(1)
    expect(b!.network).toEqual(a!.network)
    const bad = await cli(['analyze', CAPTURES + 'demo-call.wav', '--impair-set', 'bogus=1'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/bogus=1/)
  })
})

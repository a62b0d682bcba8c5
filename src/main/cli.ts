/**
 * `voip-workbench`: the headless command line (plain Node, no Electron).
 *   voip-workbench analyze <capture>... [--far <wav>] [--env <file>] [--set KEY=VALUE]... [--impair <profile>]
 *                  [--seed N] [--out <dir>] [--json] [--no-align]
 *   voip-workbench env [--env <file>] [--set KEY=VALUE]... [--include-workbench]
 * Folders and globs are expanded; one bad file is reported (which file, what is wrong) and the batch goes on; the exit
 * code is 1 when any file failed. With --json, stdout holds one JSON document and nothing else.
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs'
import { basename, extname, join } from 'node:path'
import { Command, InvalidArgumentError } from 'commander'
import { SingleBar } from 'cli-progress'
import { glob } from 'tinyglobby'
import { NETWORK_PROFILES, type NetworkParams, type NetworkProfileName } from '../dsp/network-simulator'
import { analyzeCapture, encodeWav, type CaptureReport } from './analyze'
import { formatEnvFile, resolveSettings, type EnvIssue } from './settings/env-file'

const CAPTURE_EXTENSIONS = ['wav', 'pcap', 'pcapng', 'json', 'jsonl', 'log', 'txt']

interface AnalyzeFlags {
  far?: string
  env?: string
  set: string[]
  impair?: string
  impairSet: string[]
  seed: number
  out: string
  json?: boolean
  align: boolean
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value]
}

function parseSeed(value: string): number {
  const seed = Number(value)
  if (!Number.isInteger(seed) || seed < 0)
    throw new InvalidArgumentError(`--seed: "${value}" is not a whole number ≥ 0`)
  return seed
}

/** Expands folders (their capture files) and globs; plain paths pass through so a missing file is reported. */
async function expandInputs(inputs: string[]): Promise<string[]> {
  const files: string[] = []
  for (const input of inputs) {
    let isFolder = false
    try {
      isFolder = statSync(input).isDirectory()
    } catch {
      // not a path: maybe a glob
    }
    if (isFolder) {
      const found = await glob(`**/*.{${CAPTURE_EXTENSIONS.join(',')}}`, { cwd: input, absolute: false })
      files.push(...found.sort().map((f) => join(input, f)))
    } else if (/[*?[\]{}]/.test(input)) {
      files.push(...(await glob(input)).sort())
    } else {
      files.push(input)
    }
  }
  return [...new Set(files)]
}

function describeIssues(issues: readonly EnvIssue[]): string {
  return issues.map((issue) => `  ${issue.message}`).join('\n')
}

function writeWav(path: string, samples: Float32Array): void {
  writeFileSync(path, encodeWav([samples], 16000))
}

function formatTable(report: CaptureReport, outFile: string): string {
  const n = (value: number | null | undefined, unit = '') =>
    value === null || value === undefined ? '—' : `${value}${unit}`
  const lines = [
    `${report.file}  (${report.description}, ${report.durationS} s)`,
    `  input    near ${n(report.input.nearRmsDb, ' dBFS')} rms, peak ${n(report.input.nearPeakDb, ' dBFS')}, far ${n(report.input.farRmsDb, ' dBFS')}, clipped ${report.input.clippedSamples}`,
    `  echo     ERLE ${n(report.echo.erleDb, ' dB')} (median ${n(report.echo.erleMedianDb, ' dB')}, ${n(report.echo.erleMinDb)}–${n(report.echo.erleMaxDb)} over far single talk; linear filter ${n(report.echo.linearErleDb, ' dB')}), delay ${n(report.echo.delayMs, ' ms')}, ERL ${n(report.echo.erlDb, ' dB')}, drift ${n(report.echo.driftPpm, ' ppm')}, ${report.echo.state ?? 'no far end'}`,
    `  noise    floor ${n(report.noise.noiseFloorDb, ' dBFS')}, ${report.noise.snrInDb === null ? 'no speech detected' : `SNR ${n(report.noise.snrInDb, ' dB')} → ${n(report.noise.snrOutDb, ' dB')} over ${report.noise.speechS} s of speech`}, attenuation ${n(report.noise.attenuationDb, ' dB')}`,
  ]
  const net = report.network
  if (net)
    lines.push(
      `  network  ${net.packets} packets, lost ${net.lost}, late ${net.late} (${(100 * net.lateLossRate).toFixed(2)} %), duplicates ${net.duplicates}, reordered ${net.reordered}, concealed ${net.concealedFrames} frames`,
      `           jitter ${net.jitterMs} ms mean, ${net.jitterMaxMs} ms max; buffer delay ${net.meanBufferDelayMs} ms mean, ${net.maxBufferDelayMs} ms max`,
    )
  const l = report.latency
  lines.push(
    `  latency  ${l.totalMs} ms of ${l.maxMs} (jitter buffer ${l.jitterBufferMs}, network ${l.networkAlgorithmicMs}, echo ${l.echoMs}, noise ${l.noiseMs}, framing ${l.framingMs})`,
    `  health   ${report.health.status}${report.health.reasons.length ? ': ' + report.health.reasons.join('; ') : ''}`,
    `  speed    ${report.speed.realtimeFactor}× real time`,
    `  output   ${outFile}`,
  )
  for (const warning of report.warnings) lines.push(`  warning  ${warning}`)
  return lines.join('\n')
}

async function analyzeCommand(inputs: string[], flags: AnalyzeFlags): Promise<number> {
  const resolved = resolveSettings({ envFile: flags.env, environment: process.env, sets: flags.set })
  if (!resolved.ok) {
    process.stderr.write(
      `voip-workbench: invalid settings, nothing was analysed:\n${describeIssues(resolved.errors)}\n`,
    )
    return 2
  }
  for (const warning of resolved.warnings) process.stderr.write(`voip-workbench: warning: ${warning.message}\n`)
  let impair: { profile?: NetworkProfileName; params: Partial<NetworkParams>; seed: number } | undefined
  if (flags.impair !== undefined || flags.impairSet.length > 0) {
    if (flags.impair !== undefined && !(flags.impair in NETWORK_PROFILES)) {
      process.stderr.write(
        `voip-workbench: --impair: "${flags.impair}" is not a profile (${Object.keys(NETWORK_PROFILES).join(', ')})\n`,
      )
      return 2
    }
    const params: Partial<NetworkParams> = {}
    const known = Object.keys(NETWORK_PROFILES.good)
    for (const item of flags.impairSet) {
      const match = /^([A-Za-z]+)=(.+)$/.exec(item)
      const key = match?.[1]
      const raw = match?.[2]?.trim() ?? ''
      const value = raw === 'true' ? true : raw === 'false' ? false : Number(raw)
      if (!match || !known.includes(key!) || (typeof value === 'number' && !Number.isFinite(value))) {
        process.stderr.write(
          `voip-workbench: --impair-set: "${item}" is not NAME=VALUE with NAME one of ${known.join(', ')}\n`,
        )
        return 2
      }
      ;(params as Record<string, number | boolean>)[key!] = value
    }
    impair = { ...(flags.impair ? { profile: flags.impair as NetworkProfileName } : {}), params, seed: flags.seed }
  }
  const files = await expandInputs(inputs)
  if (files.length === 0) {
    process.stderr.write('voip-workbench: no capture files matched\n')
    return 1
  }
  mkdirSync(flags.out, { recursive: true })
  const showProgress = !flags.json && files.length > 1 && process.stderr.isTTY === true
  const bar = showProgress ? new SingleBar({ format: '{bar} {value}/{total} {file}', hideCursor: true }) : null
  bar?.start(files.length, 0, { file: '' })
  const captures: (CaptureReport & { output: string })[] = []
  const errors: { file: string; message: string }[] = []
  const written = new Set<string>()
  for (const file of files) {
    bar?.update({ file: basename(file) })
    try {
      const { report, processed } = await analyzeCapture(file, {
        settings: resolved.settings,
        load: flags.far ? { farPath: flags.far } : undefined,
        impair,
        align: flags.align,
      })
      // <name>.processed.wav; when two inputs share a name (demo.wav, demo.pcap) the later ones keep their extension.
      let output = join(flags.out, `${basename(file, extname(file))}.processed.wav`)
      if (written.has(output)) output = join(flags.out, `${basename(file)}.processed.wav`)
      written.add(output)
      writeWav(output, processed)
      captures.push({ ...report, output })
      if (!flags.json) {
        bar?.stop()
        process.stdout.write(formatTable(report, output) + '\n\n')
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      errors.push({ file, message })
      if (!flags.json) process.stderr.write(`voip-workbench: ${message}\n`)
    }
    bar?.increment()
  }
  bar?.stop()
  if (flags.json) {
    const mean = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : null)
    const aggregate = {
      captures: captures.length,
      failed: errors.length,
      meanErleDb: mean(captures.flatMap((c) => (c.echo.erleDb === null ? [] : [c.echo.erleDb]))),
      meanJitterMs: mean(captures.flatMap((c) => (c.network ? [c.network.jitterMs] : []))),
      meanLateLossRate: mean(captures.flatMap((c) => (c.network ? [c.network.lateLossRate] : []))),
      meanRealtimeFactor: mean(captures.map((c) => c.speed.realtimeFactor)),
    }
    process.stdout.write(JSON.stringify({ captures, aggregate, errors }, null, 2) + '\n')
  }
  return errors.length > 0 ? 1 : 0
}

function envCommand(flags: { env?: string; set: string[]; includeWorkbench?: boolean }): number {
  const resolved = resolveSettings({ envFile: flags.env, environment: process.env, sets: flags.set })
  for (const warning of resolved.warnings) process.stderr.write(`voip-workbench: warning: ${warning.message}\n`)
  if (!resolved.ok) {
    process.stderr.write(`voip-workbench: invalid settings:\n${describeIssues(resolved.errors)}\n`)
    return 2
  }
  process.stdout.write(
    formatEnvFile(resolved.settings, {
      includeWorkbench: flags.includeWorkbench ?? false,
      header: { generatedAt: new Date(), capture: flags.env ? `normalised from ${flags.env}` : undefined },
      unknown: resolved.unknown,
    }),
  )
  return 0
}

export async function main(argv: string[]): Promise<number> {
  let exitCode = 0
  const program = new Command()
    .name('voip-workbench')
    .description('Replay VoIP call captures through the workbench pipeline and manage its .env settings')
    .showHelpAfterError()
    .exitOverride()
  program
    .command('analyze')
    .description('replay captures (WAV, Twilio logs, pcap/pcapng) through the pipeline as fast as possible and report')
    .argument('<capture...>', 'capture files, folders or globs')
    .option('--far <wav>', 'a separate far-end (bot) WAV for a mono WAV capture')
    .option('--env <file>', 'settings from a .env file')
    .option('--set <KEY=VALUE>', 'one setting (repeatable; .env name or setting key)', collect, [])
    .option('--impair <profile>', `replay through a simulated network (${Object.keys(NETWORK_PROFILES).join(', ')})`)
    .option(
      '--impair-set <NAME=VALUE>',
      'one simulated-network parameter, e.g. jitterMeanMs=30 (repeatable)',
      collect,
      [],
    )
    .option('--seed <n>', 'seed of the simulated network', parseSeed, 1)
    .option('--out <dir>', 'folder for the processed WAVs', './workbench-out')
    .option('--json', 'print one JSON document on stdout, nothing else')
    .option('--no-align', 'keep the pipeline delay in the processed WAV')
    .action(async (inputs: string[], flags: AnalyzeFlags) => {
      exitCode = await analyzeCommand(inputs, flags)
    })
  program
    .command('env')
    .description('validate settings (.env file, environment, --set) and print the normalised .env')
    .option('--env <file>', 'a .env file')
    .option('--set <KEY=VALUE>', 'one setting (repeatable)', collect, [])
    .option('--include-workbench', "also write the workbench's own keys (the voice service rejects them)")
    .action((flags: { env?: string; set: string[]; includeWorkbench?: boolean }) => {
      exitCode = envCommand(flags)
    })
  try {
    await program.parseAsync(argv, { from: 'user' })
  } catch (error) {
    const code = (error as { exitCode?: number }).exitCode
    return code === undefined ? 2 : code
  }
  return exitCode
}

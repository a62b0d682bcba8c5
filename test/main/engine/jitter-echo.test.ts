import { describe, expect, it } from 'vitest'
import { analyzeCapture } from '../../../src/main/analyze'
import { DEFAULT_SETTINGS } from '../../../src/shared/config'

const DEMO = 'test/fixtures/captures/demo-call.pcap'

describe("the jitter buffer's frame insertions and drops reach the echo canceller", () => {
  // The demo call's adaptive jitter buffer starts at its 80 ms target and shrinks to ~44 ms within 2 s by dropping
  // frames: each drop moves the echo 20 ms earlier against the far reference. Told of every move, the canceller
  // cancels as well as behind a fixed buffer that never moves; before, it lost the echo until its delay estimator
  // found the new delay (~1.5 s) and the filter re-converged: whole-call linear ERLE 4.3 dB, ERLE 26.4 dB.
  it('the demo call: ERLE and linear-filter ERLE behind the adaptive buffer match a fixed one', async () => {
    const [adaptive, fixed] = await Promise.all(
      (['adaptive', 'fixed'] as const).map((mode) =>
        analyzeCapture(DEMO, { settings: { ...DEFAULT_SETTINGS, jitterBufferMode: mode } }),
      ),
    )
    const a = adaptive.report
    const f = fixed.report
    console.log(
      `demo call: ERLE ${a.echo.erleDb} dB adaptive, ${f.echo.erleDb} fixed; linear filter ${a.echo.linearErleDb} / ` +
        `${f.echo.linearErleDb} dB; delay ${a.echo.delayMs} / ${f.echo.delayMs} ms; buffer ${a.network!.meanBufferDelayMs} / ` +
        `${f.network!.meanBufferDelayMs} ms`,
    )
    expect(a.network!.meanBufferDelayMs).toBeLessThan(f.network!.meanBufferDelayMs - 20) // it did shrink
    expect(a.echo.linearErleDb!).toBeGreaterThan(f.echo.linearErleDb! - 1)
    expect(a.echo.erleDb!).toBeGreaterThan(f.echo.erleDb! - 2)
    expect(a.echo.state).toBe('converged')
    // The echo's delay against the reference is the fixed buffer's less the depth the adaptive one took off.
    expect(a.echo.delayMs!).toBeLessThan(f.echo.delayMs! - 30)
  })
})

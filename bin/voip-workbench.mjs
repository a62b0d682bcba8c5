#!/usr/bin/env node
// voip-workbench CLI: runs the TypeScript sources directly through tsx (a runtime dependency), so no build is needed.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../src/main/cli.ts')
process.exitCode = await main(process.argv.slice(2))

// Runs the engine's TypeScript worker from source (tests, tsx): registers tsx's loader in this thread, then imports
// the worker module. Built apps start out/main/worker.js directly.
import { workerData } from 'node:worker_threads'
import { register } from 'tsx/esm/api'

register()
await import(workerData.entry)

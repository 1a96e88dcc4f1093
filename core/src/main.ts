// Starts an orchestrator from environment configuration (see docs/orchestrator.md) and
// stops it gracefully on SIGTERM/SIGINT. Used by the `stavily` process and by tests that
// run the orchestrator as a child process (`node --import tsx core/src/main.ts`).
import { configFromEnv } from './config.ts'
import { createOrchestrator } from './orchestrator.ts'

const orchestrator = await createOrchestrator(configFromEnv())
const { agentUrl, operatorUrl } = await orchestrator.listen()
if (orchestrator.bootstrapToken) {
  // Shown once: only its hash is stored.
  process.stderr.write(`stavily: first start; admin token (shown once): ${orchestrator.bootstrapToken}\n`)
}
process.stdout.write(`${JSON.stringify({ ready: true, agentUrl, operatorUrl, pid: process.pid })}\n`)

let stopping = false
const stop = async () => {
  if (stopping) return
  stopping = true
  await orchestrator.close()
  process.exit(0)
}
// SIGHUP: read the TLS certificate and key again (after a renewal); the listeners stay.
process.on('SIGHUP', () => {
  try {
    orchestrator.reloadTls()
    process.stderr.write('stavily: TLS certificate reloaded\n')
  } catch (err) {
    process.stderr.write(
      `stavily: TLS reload failed, still serving the old certificate: ${(err as Error).message}\n`,
    )
  }
})
process.on('SIGTERM', stop)
process.on('SIGINT', stop)

// @stavily/core/testing: core's test harness for the other packages' tests and benchmarks
// (the agent's, the dashboard's, the whole-platform ones). They import it through this
// export, never by a path into core/test or core/src. It is workspace-only: the published
// package carries dist/ alone.
export type { OrchestratorConfig } from '../src/config.ts'
export { openPostgres } from '../src/db/pg-client.ts'
export { openPglite } from '../src/db/pglite-client.ts'
export type { Database } from '../src/db/sql-client.ts'
export { createOrchestrator, type Orchestrator } from '../src/orchestrator.ts'
export { SIGNATURE_HEADER, signWebhook } from '../src/workflows/webhook/signature.ts'
export { deliver, HOOK_SECRET, token, webhookWorkflow } from './api/helpers.ts'
export { PluginRepo } from './api/plugin-repo.ts'
export { cli, freshConfig, spawnCli } from './cli/cli-process.ts'
export { signedHook } from './cli/fixtures.ts'
export { type Handler, type Outcome, SimAgent, type WireInstruction } from './engine/sim-agent.ts'
export {
  call,
  enqueue,
  enroll,
  FAST,
  type Running,
  type Setup,
  setups,
  sleep,
  until,
} from './helpers/harness.ts'

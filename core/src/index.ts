// @stavily/core: the orchestrator.
export { configFromEnv, type OrchestratorConfig, resolveConfig, type Tuning } from './config.ts'
export type { Database, SqlClient } from './db/sql-client.ts'
export { DEFAULTS } from './defaults.ts'
export { ERRORS, type ErrorCode, StavilyError } from './errors.ts'
export type { FleetState } from './fleet/fleet-state.ts'
export { createOrchestrator, type Orchestrator } from './orchestrator.ts'
export type { Services } from './services/context.ts'
export type * from './types.ts'

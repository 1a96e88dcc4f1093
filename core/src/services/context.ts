import type { Registry } from '@stavily/registry'
import type PgBoss from 'pg-boss'
import type { ResolvedConfig, Tuning } from '../config.ts'
import type { Database } from '../db/sql-client.ts'
import type { AgentPlugins } from '../engine/agent-plugins.ts'
import type { WorkflowEngine } from '../engine/engine.ts'
import type { RunService } from '../engine/run-service.ts'
import type { WorkflowService } from '../engine/workflow-service.ts'
import type { FleetState } from '../fleet/fleet-state.ts'
import type { Metrics } from '../metrics.ts'
import type { Dispatcher } from '../queue/dispatcher.ts'
import type { PollHub } from '../queue/poll-hub.ts'
import type { SecretStore } from '../secrets/index.ts'
import type { Agents } from './agents.ts'
import type { AuditLog } from './audit-log.ts'
import type { Events } from './events.ts'
import type { LiveStream } from './live-stream.ts'
import type { Organizations } from './organizations.ts'
import type { PluginCatalog } from './plugin-catalog.ts'
import type { Tenancy } from './tenancy.ts'

export type { Actor, Engine } from '../engine/types.ts'

/** What routes and the engine are given: the services of one orchestrator instance. */
export interface Services {
  config: ResolvedConfig
  tuning: Tuning
  db: Database
  boss: PgBoss
  fleet: FleetState
  metrics: Metrics
  tenancy: Tenancy
  /** Organizations as the instance admin lists, renames and deletes them. */
  organizations: Organizations
  agents: Agents
  dispatcher: Dispatcher
  polls: PollHub
  events: Events
  /** The plugin registry on the same database (`<schema>_registry`). */
  registry: Registry
  /** Plugins enabled per organization and pool (the desired sets agents load). */
  catalog: PluginCatalog
  /** Organization secrets, encrypted at rest. */
  secrets: SecretStore
  /** The hash-chained audit log. */
  audit: AuditLog
  /** Live run/step/agent events for SSE, across instances. */
  stream: LiveStream
  /** The workflow engine (webhooks, runs: start, cancel, retry). */
  engine: WorkflowEngine
  /** Workflows: apply, list, get, versions, setEnabled, dryRun. */
  workflows: WorkflowService
  /** Runs: list, get (with steps). */
  runs: RunService
  /** Agent-side additions: sensor assignments, instruction secrets, pluginsChanged. */
  agentPlugins: AgentPlugins
  /** Set when shutdown begins: new long-polls get 503. */
  lifecycle: { closing: boolean; lastSweepError: Error | undefined }
}

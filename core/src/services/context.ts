import type PgBoss from 'pg-boss'
import type { ResolvedConfig, Tuning } from '../config.ts'
import type { Database } from '../db/sql-client.ts'
import type { FleetState } from '../fleet/fleet-state.ts'
import type { Metrics } from '../metrics.ts'
import type { Dispatcher } from '../queue/dispatcher.ts'
import type { PollHub } from '../queue/poll-hub.ts'
import type { Agents } from './agents.ts'
import type { Events } from './events.ts'
import type { Tenancy } from './tenancy.ts'

/** What routes (and part 2's modules) are given: the services of one orchestrator instance. */
export interface Services {
  config: ResolvedConfig
  tuning: Tuning
  db: Database
  boss: PgBoss
  fleet: FleetState
  metrics: Metrics
  tenancy: Tenancy
  agents: Agents
  dispatcher: Dispatcher
  polls: PollHub
  events: Events
  /** Set when shutdown begins: new long-polls get 503. */
  lifecycle: { closing: boolean; lastSweepError: Error | undefined }
}

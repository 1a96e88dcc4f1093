import type PgBoss from 'pg-boss'
import { outboxStatement } from '../audit/outbox.ts'
import { isUuid } from '../checks.ts'
import type { Tuning } from '../config.ts'
import { type Database, run, type SqlClient, type Statement } from '../db/sql-client.ts'
import { StavilyError } from '../errors.ts'
import type { Dispatcher } from '../queue/dispatcher.ts'
import { instructionQueue } from '../queue/queue-names.ts'
import type { SecretStore } from '../secrets/index.ts'
import type { AuditLog } from '../services/audit-log.ts'
import type { Events } from '../services/events.ts'
import type { LiveStream } from '../services/live-stream.ts'
import type { Workflow } from '../workflows/index.ts'
import { combine } from './batch.ts'
import type { Effects } from './effects.ts'
import * as plans from './plans.ts'
import { ENGINE_POLICY } from './policy.ts'
import type { RunRecord } from './run-records.ts'

// What every part of the engine shares: its dependencies, the definitions cache, the
// workflow head read, the end of a transaction (its batched writes) and what follows a
// commit (wake-ups, the live stream, the audit drain, freed concurrency slots).

export interface EngineDeps {
  db: Database
  boss: PgBoss
  dispatcher: Dispatcher
  events: Events
  secrets: SecretStore
  audit: AuditLog
  stream: LiveStream
  tuning: Tuning
  /** Run schedules, the debounce worker and reconcile on start (false: tests drive them). */
  background: boolean
}

/** The workflow an event names, as plans.workflowHead reads it. */
export type Head = {
  id: string
  orgId: string
  name: string
  enabled: boolean
  version: number
  /** The pools' desired versions of the plugins the current version runs (see plans.workflowHead). */
  desired: { pool: string; name: string; version: string }[]
}

export type Row<T> = T & Record<string, unknown>
export type LockedRun = Row<RunRecord>

export class EngineCore {
  readonly d: EngineDeps
  // Saved versions never change, so their definitions are cached by (id, version).
  readonly #definitions = new Map<string, Workflow>()
  readonly #pending = new Set<Promise<unknown>>()
  closed = false
  /** Starts queued runs of a workflow whose run finished (set by the run lifecycle). */
  startQueued: (orgId: string, workflowId: string) => Promise<unknown> = async () => {}

  constructor(deps: EngineDeps) {
    this.d = deps
  }

  async definition(sql: SqlClient, workflowId: string, version: number): Promise<Workflow> {
    const key = `${workflowId}:${version}`
    const hit = this.#definitions.get(key)
    if (hit) return hit
    const { rows } = await run<{ definition: Workflow }>(sql, plans.workflowDefinition(workflowId, version))
    if (!rows[0])
      throw new StavilyError(
        'STAVILY_ERR_WORKFLOW_NOT_FOUND',
        `workflow ${workflowId} version ${version}: not found`,
      )
    if (this.#definitions.size >= ENGINE_POLICY.definitionCache)
      this.#definitions.delete(this.#definitions.keys().next().value as string)
    this.#definitions.set(key, rows[0].definition)
    return rows[0].definition
  }

  async head(workflowId: string): Promise<Head | undefined> {
    if (!isUuid(workflowId)) return undefined
    return (await run<Head>(this.d.db.sql, plans.workflowHead(workflowId))).rows[0]
  }

  // pg-boss queues are created outside any transaction: on PGlite's single connection a
  // creation inside one would wait for that same transaction to end.
  async ensureQueues(orgId: string, workflow: Workflow): Promise<void> {
    const pools = new Set([...workflow.actions, ...workflow.outputs].map((s) => s.pool))
    for (const pool of pools) await this.d.dispatcher.ensureQueue(instructionQueue(orgId, 'action', pool))
  }

  // Work started by a hook is tracked so close() can wait for it.
  track(p: Promise<unknown>): void {
    const q = p.catch(() => {
      // Whatever failed here is redone by the reconcile pass.
    })
    this.#pending.add(q)
    void q.finally(() => this.#pending.delete(q))
  }

  async drain(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending])
  }

  // The transaction's collected writes and audit entries, in one round trip; with `first`,
  // that statement leads them and its rows are the answer.
  async flush<R extends Record<string, unknown> = Record<string, unknown>>(
    tx: SqlClient,
    fx: Effects,
    first?: Statement,
  ): Promise<R[]> {
    const audit = outboxStatement(fx.audit)
    const list = [...(first ? [first] : []), ...fx.statements, ...(audit ? [audit] : [])]
    fx.statements.length = 0
    const all = combine(list, first ? 'q0' : undefined)
    return all ? (await run<R>(tx, all)).rows : []
  }

  after(fx: Effects): void {
    for (const q of fx.wake) void this.d.dispatcher.wake(q)
    for (const s of fx.stream) this.d.stream.publish(s.orgId, s.event)
    if (fx.audit.length > 0) this.d.audit.drainSoon()
    for (const [workflowId, orgId] of fx.freed) this.track(this.startQueued(orgId, workflowId))
  }
}

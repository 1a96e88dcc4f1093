import {
  type AuditEntry,
  type AuditEntryInput,
  type AuditListOptions,
  type AuditVerification,
  appendAudit,
  listAudit,
  verifyAuditChain,
} from '../audit/index.ts'
import { deferAudit, drainAuditOutbox } from '../audit/outbox.ts'
import type { Database, SqlClient } from '../db/sql-client.ts'
import { LIMITS } from '../defaults.ts'

// The audit log as a service: operator mutations are recorded at once (record, ideally in
// the mutation's transaction); engine transitions go through the outbox (defer) and join the
// chain when drained, which happens right after the writer's commit and on every sweep.

export class AuditLog {
  readonly #db: Database
  #draining: Promise<void> | undefined
  #again = false
  #timer: NodeJS.Timeout | undefined

  constructor(db: Database) {
    this.#db = db
  }

  /** Appends one entry to the chain now; pass a transaction to record it atomically with a change. */
  record(input: AuditEntryInput, sql?: SqlClient): Promise<AuditEntry> {
    return appendAudit(sql ?? this.#db.sql, input)
  }

  /** Writes entries to the outbox inside the caller's transaction; call drainSoon() after the commit. */
  defer(inputs: readonly AuditEntryInput[], sql: SqlClient): Promise<void> {
    return deferAudit(sql, inputs)
  }

  /** Newest first; page with `beforeSeq`. Outbox entries are drained first so a reader sees every committed change. */
  async list(org: string, opts: AuditListOptions = {}): Promise<AuditEntry[]> {
    await this.drain()
    return listAudit(this.#db.sql, org, opts)
  }

  async verify(org: string): Promise<AuditVerification> {
    await this.drain()
    return verifyAuditChain(this.#db.sql, org)
  }

  /**
   * Drains shortly (within `delayMs`), once for everything deferred meanwhile: under load,
   * one chain append then carries hundreds of entries instead of a few. Never throws.
   */
  drainSoon(delayMs = 50): void {
    if (this.#draining || this.#timer) {
      this.#again = this.#draining !== undefined
      return
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.#startDrain()
    }, delayMs)
    this.#timer.unref()
  }

  #startDrain(): void {
    this.#draining = (async () => {
      do {
        this.#again = false
        try {
          while ((await drainAuditOutbox(this.#db.sql, LIMITS.auditDrainBatch)) >= LIMITS.auditDrainBatch) {}
        } catch {
          // The sweeper drains again; the entries stay in the outbox until then.
        }
      } while (this.#again)
    })().finally(() => {
      this.#draining = undefined
    })
  }

  /** Drains until the outbox is empty (as of the call). */
  async drain(): Promise<void> {
    await this.#draining
    while ((await drainAuditOutbox(this.#db.sql, LIMITS.auditDrainBatch)) >= LIMITS.auditDrainBatch) {}
  }

  async close(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer)
      this.#timer = undefined
    }
    await this.#draining
  }
}

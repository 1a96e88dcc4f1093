import { randomUUID } from 'node:crypto'
import * as plans from '../db/plans/events.ts'
import { type Database, run } from '../db/sql-client.ts'
import type { Agent } from '../types.ts'

// Events reported by sensor agents. Stored before they are acknowledged; the dedupe key
// (per organization and source) makes a repeated report a no-op that gets the same ids.

export interface IncomingEvent {
  source: string
  type: string
  data?: unknown
  dedupeKey?: string
  occurredAt?: string
  /** The sensor assignment id (a workflow id) from /plugins; events without one start no run. */
  sensorId?: string
}

export type StoredListener = (orgId: string, eventIds: string[]) => void

export class Events {
  readonly #db: Database
  readonly #listeners = new Set<StoredListener>()

  constructor(db: Database) {
    this.#db = db
  }

  /** Part 2 (the workflow engine) hooks in here; a listener's failure never fails the report. */
  onStored(fn: StoredListener): () => void {
    this.#listeners.add(fn)
    return () => this.#listeners.delete(fn)
  }

  async store(agent: Agent, events: IncomingEvent[]) {
    const rows: plans.EventRow[] = events.map((e) => {
      const id = randomUUID()
      return {
        id,
        source: e.source,
        type: e.type,
        data: e.data ?? {},
        // Without a dedupe key every report is new: the event's own id is its key.
        dedupeKey: e.dedupeKey ?? id,
        occurredAt: e.occurredAt ?? new Date().toISOString(),
        sensorId: e.sensorId ?? null,
      }
    })
    const { inserted, all } = await this.#db.sql.transaction(async (tx) => {
      const inserted = new Set(
        (await run<{ id: string }>(tx, plans.insertEvents(agent.orgId, agent.id, rows))).rows.map(
          (r) => r.id,
        ),
      )
      const all = (
        await run<{ id: string; source: string; dedupeKey: string }>(
          tx,
          plans.eventIdsByKeys(agent.orgId, rows),
        )
      ).rows
      return { inserted, all }
    })
    const byKey = new Map(all.map((r) => [`${r.source}\u0000${r.dedupeKey}`, r.id]))
    const ids = rows.map((r) => byKey.get(`${r.source}\u0000${r.dedupeKey}`)!)
    if (inserted.size > 0) {
      for (const fn of this.#listeners) {
        try {
          fn(agent.orgId, [...inserted])
        } catch {
          // A listener must not turn a stored event into a failed report.
        }
      }
    }
    return { ids, duplicates: rows.length - inserted.size }
  }
}

import { randomUUID } from 'node:crypto'
import * as plans from '../db/plans/events.ts'
import { type Database, run, type SqlClient } from '../db/sql-client.ts'
import { StavilyError } from '../errors.ts'
import type { Agent } from '../types.ts'

// Events reported by sensor agents. Stored before they are acknowledged; the dedupe key
// (per sensor and source) makes a repeated report a no-op that gets the same ids.
//
// An event that names a sensor (and so may start a run) is bound to who sent it: the
// sensor must be a sensor workflow of the agent's organization whose trigger runs in the
// agent's pool, and the event's source must be the trigger's plugin. One bad event refuses
// the whole batch (403, naming it), so nothing of it is stored. Dedupe keys are scoped to
// the sensor, so no other sensor can claim a key first and suppress an event.

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

  /** The workflow engine hooks in here; a listener's failure never fails the report. */
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
      await checkBindings(tx, agent, rows)
      const inserted = new Set(
        (await run<{ id: string }>(tx, plans.insertEvents(agent.orgId, agent.id, rows))).rows.map(
          (r) => r.id,
        ),
      )
      const all = (
        await run<{ id: string; sensorId: string | null; source: string; dedupeKey: string }>(
          tx,
          plans.eventIdsByKeys(agent.orgId, rows),
        )
      ).rows
      return { inserted, all }
    })
    const byKey = new Map(all.map((r) => [dedupeScope(r), r.id]))
    const ids = rows.map((r) => byKey.get(dedupeScope(r))!)
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

const dedupeScope = (e: { sensorId: string | null; source: string; dedupeKey: string }) =>
  JSON.stringify([e.sensorId, e.source, e.dedupeKey])

// Refuses the batch when an event names a sensor that is not this agent's to speak for.
async function checkBindings(tx: SqlClient, agent: Agent, rows: plans.EventRow[]): Promise<void> {
  const named = [...new Set(rows.map((r) => r.sensorId).filter((id): id is string => id !== null))]
  if (named.length === 0) return
  const { rows: bindings } = await run<{ id: string; pool: string; plugin: string }>(
    tx,
    plans.sensorBindings(agent.orgId, named),
  )
  const byId = new Map(bindings.map((b) => [b.id, b]))
  rows.forEach((e, i) => {
    if (e.sensorId === null) return
    const b = byId.get(e.sensorId)
    if (!b || b.pool !== agent.pool) {
      throw notBound(
        `events[${i}].sensorId`,
        `events[${i}].sensorId: ${e.sensorId} is not a sensor assigned to this agent's pool (${agent.pool}); send the id of a sensor from GET /plugins`,
      )
    }
    if (e.source !== b.plugin) {
      throw notBound(
        `events[${i}].source`,
        `events[${i}].source: sensor ${e.sensorId} runs ${b.plugin}, got ${JSON.stringify(e.source)}; set source to the sensor's plugin`,
      )
    }
  })
}

function notBound(field: string, message: string): StavilyError {
  return new StavilyError('STAVILY_ERR_EVENT_NOT_BOUND', message, { data: { field } })
}

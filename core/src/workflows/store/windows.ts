import { isoTime as iso } from '../../checks.ts'
import type { SqlClient } from '../../db/sql-client.ts'
import { toText } from '../../expressions/values.ts'
import type { WorkflowEvent } from '../context.ts'
import type { Statement } from './plans.ts'
import { debouncePending, debouncePush, debounceTake, throttleEvent as throttlePlan } from './window-plans.ts'

// What the engine asks before starting a run of a workflow that has a debounce or throttle
// window, so an alert storm starts one run, not a thousand.
//
// Throttle (leading edge): the first event of a window starts a run at once; the rest of
// the window's events start none.
// Debounce (trailing edge): events extend the window; when no event has come for the whole
// window, one run starts with the last event. The engine schedules a check (a delayed job)
// at `closesAt` when `opened` is true, and calls takeDebounced then; if events kept coming
// the answer carries the new `closesAt` to check again at.

function exec<R extends Record<string, unknown>>(sql: SqlClient, s: Statement) {
  return sql.query<R>(s.text, s.values)
}

/** The text a rendered window key is stored under; the whole workflow shares the key "" when it has none. */
export function windowKeyText(rendered: unknown): string {
  return rendered === undefined ? '' : toText(rendered)
}

const at = (d?: Date) => (d ? d.toISOString() : null)

export async function throttleEvent(
  sql: SqlClient,
  w: { workflowId: string; key: string; windowMs: number; at?: Date },
): Promise<{ start: true; closesAt: string } | { start: false; absorbed: number }> {
  // absorbed: events of this window that started no run, this one included.
  const { rows } = await exec<{ closesAt: unknown; events: number }>(
    sql,
    throttlePlan(w.workflowId, w.key, w.windowMs, at(w.at)),
  )
  const r = rows[0]!
  return r.events === 1
    ? { start: true, closesAt: iso(r.closesAt) }
    : { start: false, absorbed: r.events - 1 }
}

export async function debounceEvent(
  sql: SqlClient,
  w: { workflowId: string; key: string; windowMs: number; event: WorkflowEvent; at?: Date },
): Promise<{ opened: boolean; closesAt: string }> {
  const { rows } = await exec<{ closesAt: unknown; opened: boolean }>(
    sql,
    debouncePush(w.workflowId, w.key, w.windowMs, w.event, at(w.at)),
  )
  return { opened: rows[0]!.opened, closesAt: iso(rows[0]!.closesAt) }
}

export type DebounceCheck =
  /** The window was quiet: start one run with this event (`events` arrived in the window). */
  | { due: true; event: WorkflowEvent; events: number }
  /** Events kept coming: check again at closesAt. */
  | { due: false; closesAt: string }
  /** Nothing pending (another instance already took it). */
  | { due: false; closesAt: null }

export async function takeDebounced(
  sql: SqlClient,
  w: { workflowId: string; key: string; at?: Date },
): Promise<DebounceCheck> {
  const taken = await exec<{ event: WorkflowEvent; events: number }>(
    sql,
    debounceTake(w.workflowId, w.key, at(w.at)),
  )
  if (taken.rows[0]) return { due: true, event: taken.rows[0].event, events: taken.rows[0].events }
  const pending = await exec<{ closesAt: unknown }>(sql, debouncePending(w.workflowId, w.key))
  return { due: false, closesAt: pending.rows[0] ? iso(pending.rows[0].closesAt) : null }
}

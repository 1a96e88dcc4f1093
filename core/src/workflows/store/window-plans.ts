import type { Statement } from './plans.ts'

// Debounce and throttle windows. Times come from the database clock (clock_timestamp), the
// one clock every orchestrator instance shares; `at` overrides it for tests.

const NOW = (n: number) => `coalesce($${n}::timestamptz, clock_timestamp())`

/**
 * Throttle: counts the event in the key's window, opening a new window when none is open.
 * `events` is 1 only for the event that opened the window: that one starts a run, the
 * others start none. One atomic upsert per event: concurrent events take turns on the row,
 * so exactly one of them sees 1.
 */
export function throttleEvent(
  workflowId: string,
  key: string,
  windowMs: number,
  at: string | null,
): Statement {
  return {
    text: `INSERT INTO workflow_windows AS w (workflow_id, key, mode, closes_at, events)
           VALUES ($1, $2, 'throttle', ${NOW(4)} + $3::float8 * interval '1 millisecond', 1)
           ON CONFLICT (workflow_id, key, mode) DO UPDATE SET
             closes_at = CASE WHEN w.closes_at <= ${NOW(4)} THEN EXCLUDED.closes_at ELSE w.closes_at END,
             events = CASE WHEN w.closes_at <= ${NOW(4)} THEN 1 ELSE w.events + 1 END
           RETURNING closes_at AS "closesAt", events::int AS events`,
    values: [workflowId, key, windowMs, at],
  }
}

/**
 * Debounce: every event pushes the window's end to now + window and becomes the event the
 * run will start with. `opened` is true for the event that created the window.
 */
export function debouncePush(
  workflowId: string,
  key: string,
  windowMs: number,
  event: unknown,
  at: string | null,
): Statement {
  return {
    text: `INSERT INTO workflow_windows (workflow_id, key, mode, closes_at, events, last_event)
           VALUES ($1, $2, 'debounce', ${NOW(5)} + $3::float8 * interval '1 millisecond', 1, $4::jsonb)
           ON CONFLICT (workflow_id, key, mode) DO UPDATE
             SET closes_at = EXCLUDED.closes_at, events = workflow_windows.events + 1, last_event = EXCLUDED.last_event
           RETURNING closes_at AS "closesAt", (xmax = 0) AS opened`,
    values: [workflowId, key, windowMs, JSON.stringify(event), at],
  }
}

/** Closes a quiet debounce window and hands back its last event; no row when none is due. */
export function debounceTake(workflowId: string, key: string, at: string | null): Statement {
  return {
    text: `DELETE FROM workflow_windows
           WHERE workflow_id = $1 AND key = $2 AND mode = 'debounce' AND closes_at <= ${NOW(3)}
           RETURNING last_event AS "event", events::int AS events`,
    values: [workflowId, key, at],
  }
}

export function debouncePending(workflowId: string, key: string): Statement {
  return {
    text: `SELECT closes_at AS "closesAt" FROM workflow_windows WHERE workflow_id = $1 AND key = $2 AND mode = 'debounce'`,
    values: [workflowId, key],
  }
}

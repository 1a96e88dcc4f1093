import type { Statement } from '../db/sql-client.ts'

// The engine's statements. Runs and steps are read and changed through their organization;
// each transition that the audit log must see returns what the record needs.

const RUN = `r.id, r.org_id AS "org", r.workflow_id AS "workflowId", r.workflow_version AS "workflowVersion", r.status,
  r.event, r.dedupe_key AS "dedupeKey", r.created_at AS "createdAt", r.started_at AS "startedAt", r.finished_at AS "finishedAt",
  r.priority`

const STEP = `s.step_id AS "stepId", s.kind, s.status, s.attempt, s.idempotency_key AS "idempotencyKey", s.input, s.output,
  s.error, s.reason, s.instruction_id AS "instructionId", s.created_at AS "createdAt", s.started_at AS "startedAt",
  s.finished_at AS "finishedAt"`

/**
 * The workflow a webhook, sensor event or schedule names, with what deciding on an event
 * needs: its current version and the pools' desired versions of the plugins that version's
 * steps run (`desired`: one entry per enabled pool and plugin), so the run's first steps
 * need no read of their own.
 */
export const workflowHead = (workflowId: string): Statement => ({
  text: `SELECT w.id, w.org_id AS "orgId", w.name, w.enabled, w.current_version AS "version",
      (SELECT coalesce(jsonb_agg(jsonb_build_object('pool', d.pool, 'name', d.name, 'version', d.version)), '[]'::jsonb)
        FROM desired_plugins d
        WHERE d.org_id = w.org_id AND EXISTS (
          SELECT 1 FROM workflow_versions v,
            jsonb_array_elements(coalesce(v.definition -> 'actions', '[]'::jsonb) || coalesce(v.definition -> 'outputs', '[]'::jsonb)) st
          WHERE v.workflow_id = w.id AND v.version = w.current_version
            AND st ->> 'pool' = d.pool AND st ->> 'plugin' = d.name)) AS "desired"
    FROM workflows w WHERE w.id = $1`,
  values: [workflowId],
})

export const workflowDefinition = (workflowId: string, version: number): Statement => ({
  text: 'SELECT definition FROM workflow_versions WHERE workflow_id = $1 AND version = $2',
  values: [workflowId, version],
})

/**
 * A new run. Without a concurrency limit it starts at once (status running); with one it
 * waits queued until a slot frees. No row when the dedupe key already started a run.
 */
export const insertRun = (r: {
  id: string
  org: string
  workflowId: string
  version: number
  event: unknown
  dedupeKey: string | null
  running: boolean
  /** Its steps' instructions carry it (higher is claimed first in a pool). */
  priority?: number
}): Statement => ({
  text: `INSERT INTO runs AS r (id, org_id, workflow_id, workflow_version, status, event, dedupe_key, started_at, priority)
    VALUES ($1, $2, $3, $4, $7, $5::jsonb, $6, CASE WHEN $7 = 'running' THEN clock_timestamp() END, $8)
    ON CONFLICT (workflow_id, dedupe_key) DO NOTHING RETURNING ${RUN}`,
  values: [
    r.id,
    r.org,
    r.workflowId,
    r.version,
    JSON.stringify(r.event),
    r.dedupeKey,
    r.running ? 'running' : 'queued',
    r.priority ?? 0,
  ],
})

/** The run a dedupe key already started (the answer to the same event delivered again). */
export const runByDedupeKey = (org: string, workflowId: string, dedupeKey: string): Statement => ({
  text: `SELECT ${RUN} FROM runs r WHERE r.org_id = $1 AND r.workflow_id = $2 AND r.dedupe_key = $3`,
  values: [org, workflowId, dedupeKey],
})

export const runById = (org: string, runId: string): Statement => ({
  text: `SELECT ${RUN} FROM runs r WHERE r.org_id = $1 AND r.id = $2`,
  values: [org, runId],
})

/** A run's steps as the operator API shows them, in the order they were decided. */
export const stepsOfRun = (runId: string): Statement => ({
  text: `SELECT ${STEP} FROM run_steps s WHERE s.run_id = $1 ORDER BY s.created_at, s.step_id`,
  values: [runId],
})

export interface RunFilter {
  workflowId?: string
  status?: string
  /** Runs created at or after this time (ISO). */
  since?: string
  /** Keyset cursor: runs created before this one (its createdAt and id). */
  before?: { createdAt: string; id: string }
}

/** Newest first. Only fixed column names are interpolated. */
export const listRuns = (org: string, f: RunFilter, limit: number): Statement => {
  const values: unknown[] = [org]
  const where = ['r.org_id = $1']
  const param = (v: unknown) => {
    values.push(v)
    return `$${values.length}`
  }
  if (f.workflowId !== undefined) where.push(`r.workflow_id = ${param(f.workflowId)}`)
  if (f.status !== undefined) where.push(`r.status = ${param(f.status)}`)
  if (f.since !== undefined) where.push(`r.created_at >= ${param(f.since)}::timestamptz`)
  if (f.before !== undefined) {
    where.push(
      `(r.created_at, r.id) < (${param(f.before.createdAt)}::timestamptz, ${param(f.before.id)}::uuid)`,
    )
  }
  return {
    text: `SELECT ${RUN} FROM runs r WHERE ${where.join(' AND ')} ORDER BY r.created_at DESC, r.id DESC LIMIT ${param(limit)}`,
    values,
  }
}

export const countRunning = (workflowId: string): Statement => ({
  text: `SELECT count(*)::int AS running FROM runs WHERE workflow_id = $1 AND status = 'running'`,
  values: [workflowId],
})

/** The oldest queued runs of a workflow: the next to start when a slot frees up. */
export const oldestQueued = (org: string, workflowId: string, limit: number): Statement => ({
  text: `SELECT r.id FROM runs r WHERE r.org_id = $1 AND r.workflow_id = $2 AND r.status = 'queued'
    ORDER BY r.created_at, r.id LIMIT $3`,
  values: [org, workflowId, limit],
})

/**
 * Locks a run and reads it; advancing one run happens one transaction at a time. Its steps
 * are read by the next statement: in READ COMMITTED a statement that waited for the lock
 * still sees the data of its start, so steps read here could miss what the transaction it
 * waited for wrote (and the step would be enqueued twice).
 */
export const lockRun = (org: string, runId: string): Statement => ({
  text: `SELECT ${RUN} FROM runs r WHERE r.org_id = $1 AND r.id = $2 FOR UPDATE`,
  values: [org, runId],
})

export const runSteps = (runId: string): Statement => ({
  text: `SELECT step_id AS "stepId", status, output, error, instruction_id AS "instructionId"
    FROM run_steps WHERE run_id = $1`,
  values: [runId],
})

export const finishRun = (runId: string, status: string): Statement => ({
  text: `UPDATE runs SET status = $2, finished_at = clock_timestamp() WHERE id = $1 AND status = 'running'
    RETURNING finished_at AS "finishedAt"`,
  values: [runId, status],
})

export const cancelRunRow = (org: string, runId: string): Statement => ({
  text: `UPDATE runs r SET status = 'cancelled', finished_at = clock_timestamp()
    WHERE r.org_id = $1 AND r.id = $2 AND r.status IN ('queued', 'running') RETURNING ${RUN}`,
  values: [org, runId],
})

/** Steps decided on in one statement: queued (with their instruction), skipped or failed. */
export const insertSteps = (
  runId: string,
  steps: {
    stepId: string
    kind: string
    status: string
    idempotencyKey: string
    input: unknown
    error: unknown
    reason: string | null
    instructionId: string | null
  }[],
): Statement => ({
  text: `INSERT INTO run_steps (run_id, step_id, kind, status, idempotency_key, input, error, reason, instruction_id, finished_at)
    SELECT $1, s.step_id, s.kind, s.status, s.idempotency_key, s.input, s.error, s.reason, s.instruction_id,
      CASE WHEN s.status = 'queued' THEN NULL ELSE clock_timestamp() END
    FROM jsonb_to_recordset($2::jsonb) AS s(step_id text, kind text, status text, idempotency_key text, input jsonb,
      error jsonb, reason text, instruction_id uuid)
    ON CONFLICT (run_id, step_id) DO NOTHING`,
  values: [
    runId,
    JSON.stringify(
      steps.map((s) => ({
        step_id: s.stepId,
        kind: s.kind,
        status: s.status,
        idempotency_key: s.idempotencyKey,
        input: s.input ?? null,
        error: s.error ?? null,
        reason: s.reason,
        instruction_id: s.instructionId,
      })),
    ),
  ],
})

/**
 * Records a finished attempt on its step and reads, in the same statement, what advancing
 * the run needs: its steps (as of before this update: the caller applies it) and the pools'
 * desired versions of the plugins `plugins` names. `done` is null when the step was already
 * final (a cancelled run). The caller holds the run's lock, taken by an earlier statement, so
 * this one's snapshot sees every step the lock's previous holder wrote.
 */
export const finishStepAndRead = (
  instructionId: string,
  to: string,
  from: string[],
  output: unknown,
  error: unknown,
  run: { id: string; org: string },
  plugins: { pool: string; plugin: string }[],
): Statement => ({
  text: `WITH u AS (
      UPDATE run_steps s SET status = $2, output = $4::jsonb, error = $5::jsonb, finished_at = clock_timestamp()
      WHERE s.instruction_id = $1 AND s.status = ANY($3::text[])
      RETURNING s.step_id AS "stepId", s.attempt
    )
    SELECT (SELECT to_jsonb(u) FROM u) AS "done",
      (SELECT coalesce(jsonb_agg(jsonb_build_object('stepId', s.step_id, 'status', s.status, 'output', s.output, 'error', s.error)), '[]'::jsonb)
        FROM run_steps s WHERE s.run_id = $6) AS "steps",
      (SELECT coalesce(jsonb_agg(jsonb_build_object('pool', d.pool, 'name', d.name, 'version', d.version)), '[]'::jsonb)
        FROM desired_plugins d JOIN unnest($8::text[], $9::text[]) AS p(pool, name) ON d.pool = p.pool AND d.name = p.name
        WHERE d.org_id = $7) AS "desired"`,
  values: [
    instructionId,
    to,
    from,
    output === undefined || output === null ? null : JSON.stringify(output),
    error === undefined || error === null ? null : JSON.stringify(error),
    run.id,
    run.org,
    plugins.map((p) => p.pool),
    plugins.map((p) => p.plugin),
  ],
})

/** Records a finished attempt on its step; no row when the step is already final (a cancelled run). */
export const finishStep = (
  instructionId: string,
  to: string,
  from: string[],
  output: unknown,
  error: unknown,
): Statement => ({
  text: `UPDATE run_steps s SET status = $2, output = $4::jsonb, error = $5::jsonb, finished_at = clock_timestamp()
    WHERE s.instruction_id = $1 AND s.status = ANY($3::text[])
    RETURNING s.run_id AS "runId", s.step_id AS "stepId", s.attempt`,
  values: [
    instructionId,
    to,
    from,
    output === undefined || output === null ? null : JSON.stringify(output),
    error === undefined || error === null ? null : JSON.stringify(error),
  ],
})

/**
 * Steps whose instruction an agent picked up: running, at the instruction's attempt, with
 * the audit entry written by the same statement.
 */
export const stepsLeased = (picks: { id: string; attempt: number }[]): Statement => ({
  text: `WITH p AS (SELECT * FROM unnest($1::uuid[], $2::int[]) AS p(id, attempt)),
    u AS (
      UPDATE run_steps s SET status = 'running', attempt = p.attempt, started_at = clock_timestamp()
      FROM p WHERE s.instruction_id = p.id AND s.status IN ('queued', 'running')
      RETURNING s.run_id, s.step_id, s.attempt
    ),
    a AS (
      INSERT INTO audit_outbox (org_id, actor_type, actor_id, action, target_type, target_id, data)
      SELECT r.org_id, 'system', NULL, 'step.started', 'run', u.run_id::text,
        jsonb_build_object('step', u.step_id, 'attempt', u.attempt)
      FROM u JOIN runs r ON r.id = u.run_id
    )
    SELECT u.run_id AS "runId", u.step_id AS "stepId", u.attempt, r.org_id AS "orgId"
    FROM u JOIN runs r ON r.id = u.run_id`,
  values: [picks.map((p) => p.id), picks.map((p) => p.attempt)],
})

/** A step whose attempt failed with retries left: queued again, with the failure as its last error. */
export const stepsRequeued = (items: { id: string; error: unknown }[]): Statement => ({
  text: `WITH p AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS p(id uuid, error jsonb)),
    u AS (
      UPDATE run_steps s SET status = 'queued', error = p.error
      FROM p WHERE s.instruction_id = p.id AND s.status = 'running'
      RETURNING s.run_id, s.step_id, s.attempt, p.error
    ),
    a AS (
      INSERT INTO audit_outbox (org_id, actor_type, actor_id, action, target_type, target_id, data)
      SELECT r.org_id, 'system', NULL, 'step.retrying', 'run', u.run_id::text,
        jsonb_build_object('step', u.step_id, 'attempt', u.attempt, 'error', u.error)
      FROM u JOIN runs r ON r.id = u.run_id
    )
    SELECT u.run_id AS "runId", u.step_id AS "stepId", u.attempt, r.org_id AS "orgId"
    FROM u JOIN runs r ON r.id = u.run_id`,
  values: [JSON.stringify(items.map((i) => ({ id: i.id, error: i.error ?? null })))],
})

/** The non-final steps of a run (to cancel them with it). */
export const cancelOpenSteps = (runId: string): Statement => ({
  text: `UPDATE run_steps SET status = 'cancelled', finished_at = clock_timestamp()
    WHERE run_id = $1 AND status IN ('queued', 'running')
    RETURNING step_id AS "stepId", instruction_id AS "instructionId"`,
  values: [runId],
})

/** The desired version (and permissions) of plugins in a pool. */
export const desiredVersions = (org: string, pool: string, names: string[]): Statement => ({
  text: `SELECT name, version, permissions FROM desired_plugins WHERE org_id = $1 AND pool = $2 AND name = ANY($3::text[])`,
  values: [org, pool, names],
})

// ---- reconcile --------------------------------------------------------------------------

/** Steps still open whose instruction finished: the engine missed the hook (a crash, a restart). */
export const missedOutcomes = (limit: number): Statement => ({
  text: `SELECT i.id, i.org_id AS "orgId", i.run_id AS "runId", i.step_id AS "stepId", i.attempt, i.status, i.output, i.error
    FROM run_steps s JOIN instructions i ON i.id = s.instruction_id
    WHERE s.status IN ('queued', 'running') AND i.status IN ('succeeded', 'failed', 'cancelled')
    LIMIT $1`,
  values: [limit],
})

/** Running runs with nothing in flight: a start or advance was interrupted before it planned. */
export const stalledRuns = (graceMs: number, limit: number): Statement => ({
  text: `SELECT r.id, r.org_id AS "orgId" FROM runs r
    WHERE r.status = 'running' AND r.started_at < clock_timestamp() - $1::int * interval '1 millisecond'
      AND NOT EXISTS (SELECT 1 FROM run_steps s WHERE s.run_id = r.id AND s.status IN ('queued', 'running'))
    LIMIT $2`,
  values: [graceMs, limit],
})

/** Unfinished instructions of runs that ended (cancelled): the cancel after the run's commit did not happen. */
export const orphanedInstructions = (limit: number): Statement => ({
  text: `SELECT i.id, i.org_id AS "orgId" FROM instructions i JOIN runs r ON r.id = i.run_id
    WHERE i.run_id IS NOT NULL AND i.status IN ('queued', 'leased', 'running') AND NOT i.cancel_requested
      AND r.status IN ('succeeded', 'failed', 'cancelled', 'timed_out')
    LIMIT $1`,
  values: [limit],
})

export const workflowsWithQueuedRuns = (limit: number): Statement => ({
  text: `SELECT DISTINCT org_id AS "orgId", workflow_id AS "workflowId" FROM runs WHERE status = 'queued' LIMIT $1`,
  values: [limit],
})

export const dueDebounces = (limit: number): Statement => ({
  text: `SELECT w.workflow_id AS "workflowId", w.key, wf.org_id AS "orgId"
    FROM workflow_windows w JOIN workflows wf ON wf.id = w.workflow_id
    WHERE w.mode = 'debounce' AND w.closes_at <= clock_timestamp() LIMIT $1`,
  values: [limit],
})

/** Enabled workflows of every organization whose trigger is a schedule (the cron sync). */
export const scheduledWorkflows = (): Statement => ({
  text: `SELECT w.id, w.org_id AS "orgId", v.definition -> 'trigger' AS "trigger"
    FROM workflows w JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.current_version
    WHERE w.enabled AND v.definition -> 'trigger' ->> 'kind' = 'schedule'`,
  values: [],
})

// ---- sensors and agents ------------------------------------------------------------------

/** Sensor assignments of a pool: enabled sensor workflows whose plugin the pool has enabled. */
export const sensorAssignments = (org: string, pool: string): Statement => ({
  text: `SELECT w.id, w.current_version AS "revision", v.definition -> 'trigger' AS "trigger",
      d.version AS "desiredVersion", d.permissions
    FROM workflows w
    JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.current_version
    JOIN desired_plugins d ON d.org_id = w.org_id AND d.pool = $2 AND d.name = v.definition -> 'trigger' ->> 'plugin'
    WHERE w.org_id = $1 AND w.enabled AND v.definition -> 'trigger' ->> 'kind' = 'sensor'
      AND v.definition -> 'trigger' ->> 'pool' = $2
    ORDER BY w.name`,
  values: [org, pool],
})

export const touchPool = (org: string, pool: string): Statement => ({
  text: `INSERT INTO pool_changes (org_id, pool, changed_at) VALUES ($1, $2, now())
    ON CONFLICT (org_id, pool) DO UPDATE SET changed_at = now()`,
  values: [org, pool],
})

export const poolChangedSince = (org: string, pool: string, withinMs: number): Statement => ({
  text: `SELECT changed_at > now() - $3::int * interval '1 millisecond' AS changed FROM pool_changes
    WHERE org_id = $1 AND pool = $2`,
  values: [org, pool, withinMs],
})

/**
 * Permissions of the plugins a poll answer hands out (for the secrets they declare) and the
 * agent's secret grants, in one round trip.
 */
export const handOutGrants = (org: string, pool: string, names: string[], agentId: string): Statement => ({
  text: `SELECT a.secret_grants AS "secretGrants", coalesce((SELECT jsonb_agg(jsonb_build_object('name', d.name, 'permissions', d.permissions))
      FROM desired_plugins d WHERE d.org_id = $1 AND d.pool = $2 AND d.name = ANY($3::text[])), '[]'::jsonb) AS "plugins"
    FROM agents a WHERE a.id = $4`,
  values: [org, pool, names, agentId],
})

// ---- the workflow service ------------------------------------------------------------------

const SUMMARY = `w.id, w.name, w.enabled, w.current_version AS "version", cv.definition -> 'trigger' ->> 'kind' AS "triggerKind",
  w.created_at AS "createdAt", w.updated_at AS "updatedAt"`
const CURRENT = 'JOIN workflow_versions cv ON cv.workflow_id = w.id AND cv.version = w.current_version'

export const workflowSummaries = (org: string): Statement => ({
  text: `SELECT ${SUMMARY} FROM workflows w ${CURRENT} WHERE w.org_id = $1 ORDER BY w.name`,
  values: [org],
})

/** One workflow by id or name, with its current definition. */
export const workflowSummary = (org: string, idOrName: string, byId: boolean): Statement => ({
  text: `SELECT ${SUMMARY}, cv.definition FROM workflows w ${CURRENT}
    WHERE w.org_id = $1 AND ${byId ? 'w.id = $2::uuid' : 'w.name = $2'}`,
  values: [org, idOrName],
})

export const recordedEvent = (org: string, id: string): Statement => ({
  text: `SELECT source, type, data, dedupe_key AS "dedupeKey", occurred_at AS "occurredAt"
    FROM events WHERE org_id = $1 AND id = $2`,
  values: [org, id],
})

import type { Statement } from '../store/plans.ts'

// Every statement of the run store, as {text, values}. Runs are read and changed through
// their organization; steps through their run's organization.

const RUN = `r.id, r.org_id AS "org", r.workflow_id AS "workflowId", r.workflow_version AS "workflowVersion", r.status,
  r.event, r.dedupe_key AS "dedupeKey", r.created_at AS "createdAt", r.started_at AS "startedAt", r.finished_at AS "finishedAt",
  r.priority`

const STEP = `s.step_id AS "stepId", s.kind, s.status, s.attempt, s.idempotency_key AS "idempotencyKey", s.input, s.output,
  s.error, s.reason, s.instruction_id AS "instructionId", s.created_at AS "createdAt", s.started_at AS "startedAt",
  s.finished_at AS "finishedAt"`

/** A run for an event; no row when the workflow already has a run for this dedupe key. */
export function insertRun(r: {
  id: string
  org: string
  workflowId: string
  version: number
  event: unknown
  dedupeKey: string | null
}): Statement {
  return {
    text: `INSERT INTO runs AS r (id, org_id, workflow_id, workflow_version, status, event, dedupe_key)
           VALUES ($1, $2, $3, $4, 'queued', $5::jsonb, $6)
           ON CONFLICT (workflow_id, dedupe_key) DO NOTHING RETURNING ${RUN}`,
    values: [r.id, r.org, r.workflowId, r.version, JSON.stringify(r.event), r.dedupeKey],
  }
}

export function runByDedupeKey(org: string, workflowId: string, dedupeKey: string): Statement {
  return {
    text: `SELECT ${RUN} FROM runs r WHERE r.org_id = $1 AND r.workflow_id = $2 AND r.dedupe_key = $3`,
    values: [org, workflowId, dedupeKey],
  }
}

export function runById(org: string, runId: string): Statement {
  return { text: `SELECT ${RUN} FROM runs r WHERE r.org_id = $1 AND r.id = $2`, values: [org, runId] }
}

/** Moves a run only from a status the state machine allows; no row when it is elsewhere. */
export function updateRunStatus(
  org: string,
  runId: string,
  to: string,
  from: string[],
  terminal: boolean,
): Statement {
  return {
    text: `UPDATE runs r SET status = $3,
             started_at = CASE WHEN $3 = 'running' THEN coalesce(r.started_at, clock_timestamp()) ELSE r.started_at END,
             finished_at = CASE WHEN $5 THEN clock_timestamp() ELSE r.finished_at END
           WHERE r.org_id = $1 AND r.id = $2 AND r.status = ANY($4::text[]) RETURNING ${RUN}`,
    values: [org, runId, to, from, terminal],
  }
}

export function insertStep(s: {
  runId: string
  stepId: string
  kind: string
  status: string
  idempotencyKey: string
  input: unknown
  error: unknown
  reason: string | null
  terminal: boolean
}): Statement {
  return {
    text: `INSERT INTO run_steps AS s (run_id, step_id, kind, status, idempotency_key, input, error, reason, finished_at)
           VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8, CASE WHEN $9 THEN clock_timestamp() END)
           ON CONFLICT (run_id, step_id) DO NOTHING RETURNING ${STEP}`,
    values: [
      s.runId,
      s.stepId,
      s.kind,
      s.status,
      s.idempotencyKey,
      s.input === undefined ? null : JSON.stringify(s.input),
      s.error === undefined || s.error === null ? null : JSON.stringify(s.error),
      s.reason,
      s.terminal,
    ],
  }
}

export function stepById(org: string, runId: string, stepId: string): Statement {
  return {
    text: `SELECT ${STEP} FROM run_steps s JOIN runs r ON r.id = s.run_id WHERE r.org_id = $1 AND s.run_id = $2 AND s.step_id = $3`,
    values: [org, runId, stepId],
  }
}

/** Moves a step only from an allowed status; an attempt starts each time it goes to running. */
export function updateStepStatus(u: {
  org: string
  runId: string
  stepId: string
  to: string
  from: string[]
  terminal: boolean
  output: unknown
  error: unknown
  instructionId: string | null
}): Statement {
  return {
    text: `UPDATE run_steps s SET status = $4,
             attempt = CASE WHEN $4 = 'running' THEN s.attempt + 1 ELSE s.attempt END,
             started_at = CASE WHEN $4 = 'running' THEN clock_timestamp() ELSE s.started_at END,
             finished_at = CASE WHEN $6 THEN clock_timestamp() ELSE s.finished_at END,
             output = coalesce($7::jsonb, s.output),
             error = coalesce($8::jsonb, s.error),
             instruction_id = coalesce($9::uuid, s.instruction_id)
           FROM runs r
           WHERE r.id = s.run_id AND r.org_id = $1 AND s.run_id = $2 AND s.step_id = $3 AND s.status = ANY($5::text[])
           RETURNING ${STEP}`,
    values: [
      u.org,
      u.runId,
      u.stepId,
      u.to,
      u.from,
      u.terminal,
      u.output === undefined ? null : JSON.stringify(u.output),
      u.error === undefined || u.error === null ? null : JSON.stringify(u.error),
      u.instructionId,
    ],
  }
}

export function stepsOfRun(runId: string): Statement {
  return {
    text: `SELECT ${STEP} FROM run_steps s WHERE s.run_id = $1 ORDER BY s.created_at, s.step_id`,
    values: [runId],
  }
}

export interface RunFilter {
  workflowId?: string
  status?: string
  /** Runs created at or after this time (ISO). */
  since?: string
  /** Keyset cursor: runs created before this one (its createdAt and id). */
  before?: { createdAt: string; id: string }
}

/** Newest first. Only fixed column names are interpolated. */
export function listRuns(org: string, f: RunFilter, limit: number): Statement {
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

/** Locks a run's workflow row: starts of one workflow's runs take turns, so a concurrency limit holds. */
export function lockRunWorkflow(org: string, runId: string): Statement {
  return {
    text: `SELECT w.id FROM workflows w JOIN runs r ON r.workflow_id = w.id
           WHERE r.org_id = $1 AND r.id = $2 FOR UPDATE OF w`,
    values: [org, runId],
  }
}

export function countRunning(workflowId: string): Statement {
  return {
    text: `SELECT count(*)::int AS running FROM runs WHERE workflow_id = $1 AND status = 'running'`,
    values: [workflowId],
  }
}

/** The oldest queued runs of a workflow: the next to start when a slot frees up. */
export function oldestQueued(org: string, workflowId: string, limit: number): Statement {
  return {
    text: `SELECT r.id FROM runs r WHERE r.org_id = $1 AND r.workflow_id = $2 AND r.status = 'queued'
           ORDER BY r.created_at, r.id LIMIT $3`,
    values: [org, workflowId, limit],
  }
}

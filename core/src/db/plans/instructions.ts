import type { Statement } from '../sql-client.ts'

export const INSTRUCTION_COLUMNS = `id, org_id AS "orgId", kind, pool, queue, plugin, operation, input, config,
  timeout_ms AS "timeoutMs", status, attempt, max_attempts AS "maxAttempts", agent_id AS "agentId",
  lease_until AS "leaseUntil", cancel_requested AS "cancelRequested", error, output,
  created_at AS "createdAt", picked_at AS "pickedAt", finished_at AS "finishedAt",
  plugin_version AS "pluginVersion", idempotency_key AS "idempotencyKey", run_id AS "runId", step_id AS "stepId",
  priority`

/** The same columns qualified with the alias `i`, for joins and UPDATE … FROM. */
const QUALIFIED = INSTRUCTION_COLUMNS.replace(/(^|,\s*)(\w+)/g, '$1i.$2')

export const insertInstruction = (i: {
  id: string
  orgId: string
  kind: string
  pool: string
  queue: string
  plugin: string
  operation: string
  input: unknown
  config: unknown
  timeoutMs: number
  maxAttempts: number
  pluginVersion: string | null
  idempotencyKey: string
  runId: string | null
  stepId: string | null
  priority: number
}): Statement => ({
  text: `INSERT INTO instructions (id, org_id, kind, pool, queue, plugin, operation, input, config, timeout_ms, max_attempts,
      plugin_version, idempotency_key, run_id, step_id, priority)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10, $11, $12, $13, $14, $15, $16) RETURNING ${INSTRUCTION_COLUMNS}`,
  values: [
    i.id,
    i.orgId,
    i.kind,
    i.pool,
    i.queue,
    i.plugin,
    i.operation,
    JSON.stringify(i.input),
    JSON.stringify(i.config),
    i.timeoutMs,
    i.maxAttempts,
    i.pluginVersion,
    i.idempotencyKey,
    i.runId,
    i.stepId,
    i.priority,
  ],
})

/**
 * Where each parked poll's agent stands, read with its row locked (FOR SHARE) for the rest
 * of the claim's transaction: a revoke or a rotation (an UPDATE of the row) either commits
 * before this read, and the poll is refused, or waits until the claim has committed.
 * `current` is false once the credential the poll came with was rotated away.
 */
export const agentStanding = (
  polls: { key: number; agentId: string; credentialHash: string }[],
  opts: { asyncCommit?: boolean } = {},
): Statement => ({
  // asyncCommit: the claim's transaction need not wait for the WAL flush (see Dispatcher.claim);
  // set here rather than by a SET LOCAL of its own, which would be one more round trip.
  text: `${opts.asyncCommit ? "WITH c AS MATERIALIZED (SELECT set_config('synchronous_commit', 'off', true)) " : ''}SELECT p.key, a.status = 'revoked' AS "revoked", a.credential_hash = decode(p.hash, 'hex') AS "current", a.drain
    FROM ${opts.asyncCommit ? 'c, ' : ''}unnest($1::int[], $2::uuid[], $3::text[]) AS p(key, agent_id, hash)
    JOIN agents a ON a.id = p.agent_id
    FOR SHARE OF a`,
  values: [polls.map((p) => p.key), polls.map((p) => p.agentId), polls.map((p) => p.credentialHash)],
})

/**
 * Records pickups. The pg-boss fetch that preceded it (same transaction) is the exclusive
 * claim, so an instruction still marked as held by an earlier attempt is taken over: that
 * attempt's lease was given up by pg-boss's own expiry. A pickup is recorded only for an
 * agent that is not revoked and still holds the credential its poll came with (hex of its
 * hash), checked in this very statement.
 */
export const leaseInstructions = (
  picks: { id: string; agentId: string; attempt: number; credentialHash: string }[],
  leaseMs: number,
): Statement => ({
  text: `UPDATE instructions i SET status = 'leased', agent_id = p.agent_id, attempt = p.attempt,
      lease_until = now() + $4::int * interval '1 millisecond', picked_at = now()
    FROM unnest($1::uuid[], $2::uuid[], $3::int[], $5::text[]) AS p(id, agent_id, attempt, hash)
    JOIN agents a ON a.id = p.agent_id AND a.status <> 'revoked' AND a.credential_hash = decode(p.hash, 'hex')
    WHERE i.id = p.id AND i.status IN ('queued', 'leased', 'running')
    RETURNING ${QUALIFIED}, extract(epoch FROM (now() - i.created_at))::float8 AS "waitedSeconds"`,
  values: [
    picks.map((p) => p.id),
    picks.map((p) => p.agentId),
    picks.map((p) => p.attempt),
    leaseMs,
    picks.map((p) => p.credentialHash),
  ],
})

export const renewLease = (id: string, agentId: string, attempt: number, leaseMs: number): Statement => ({
  text: `UPDATE instructions SET status = 'running', lease_until = now() + $4::int * interval '1 millisecond'
    WHERE id = $1 AND agent_id = $2 AND attempt = $3 AND status IN ('leased', 'running')
    RETURNING lease_until AS "leaseUntil", cancel_requested AS "cancelRequested"`,
  values: [id, agentId, attempt, leaseMs],
})

/**
 * Locks an instruction for a result report and reads, in the same round trip, the result
 * already stored for that attempt (a repeated report) and, for a workflow step, locks and
 * reads its run (`lockedRun`, the engine's run row): the instruction first, then its run, the
 * order every outcome takes. Later statements of the transaction then see everything the
 * run lock's previous holder wrote.
 */
export const instructionForResult = (orgId: string, id: string, attempt: number): Statement => ({
  text: `WITH i AS (
      SELECT ${QUALIFIED}, r.agent_id AS "priorAgentId", r.answer AS "priorAnswer"
      FROM instructions i LEFT JOIN results r ON r.instruction_id = i.id AND r.attempt = $3
      WHERE i.org_id = $1 AND i.id = $2 FOR UPDATE OF i
    )
    SELECT i.*, (
      SELECT jsonb_build_object('id', ru.id, 'org', ru.org_id, 'workflowId', ru.workflow_id,
        'workflowVersion', ru.workflow_version, 'status', ru.status, 'event', ru.event, 'dedupeKey', ru.dedupe_key,
        'createdAt', ru.created_at, 'startedAt', ru.started_at, 'finishedAt', ru.finished_at, 'priority', ru.priority)
      FROM runs ru WHERE ru.id = i."runId" AND ru.org_id = i."orgId" FOR UPDATE OF ru
    ) AS "lockedRun"
    FROM i`,
  values: [orgId, id, attempt],
})

/**
 * Records an attempt's outcome: the instruction's new state and the result row (with the
 * answer a repeat will get) in one statement. `also`, a write of its own (its pg-boss job's
 * completion), runs in the same statement: its placeholders are renumbered after these, and
 * its text must hold no `$` but its placeholders and must not start with WITH.
 */
export const recordOutcome = (
  o: {
    id: string
    status: string
    output: unknown
    error: unknown
    attempt: number
    agentId: string
    reported: string
    logs: unknown
    answer: unknown
  },
  also?: Statement,
): Statement => {
  const values: unknown[] = [
    o.id,
    o.status,
    o.output === undefined ? null : JSON.stringify(o.output),
    o.error == null ? null : JSON.stringify(o.error),
    o.attempt,
    o.agentId,
    o.reported,
    JSON.stringify(o.logs ?? []),
    JSON.stringify(o.answer),
  ]
  const offset = values.length
  const extra = also
    ? `, also AS (${also.text.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`)})`
    : ''
  if (also) values.push(...also.values)
  return {
    text: `WITH changed AS (
      UPDATE instructions SET status = $2, output = $3::jsonb, error = $4::jsonb, lease_until = NULL,
        finished_at = CASE WHEN $2 = 'queued' THEN NULL ELSE now() END,
        agent_id = CASE WHEN $2 = 'queued' THEN NULL ELSE agent_id END
      WHERE id = $1 RETURNING id
    )${extra}
    INSERT INTO results (instruction_id, attempt, agent_id, status, output, error, logs, answer)
    SELECT id, $5, $6, $7, $3::jsonb, $4::jsonb, $8::jsonb, $9::jsonb FROM changed
    ON CONFLICT (instruction_id, attempt) DO NOTHING`,
    values,
  }
}

export const instructionById = (orgId: string, id: string): Statement => ({
  text: `SELECT ${INSTRUCTION_COLUMNS} FROM instructions WHERE org_id = $1 AND id = $2`,
  values: [orgId, id],
})

export const finishInstruction = (
  id: string,
  status: string,
  output: unknown,
  error: unknown,
): Statement => ({
  text: `UPDATE instructions SET status = $2, output = $3::jsonb, error = $4::jsonb, finished_at = now(), lease_until = NULL
    WHERE id = $1`,
  values: [
    id,
    status,
    output === undefined ? null : JSON.stringify(output),
    error == null ? null : JSON.stringify(error),
  ],
})

export const requeueInstruction = (id: string, error: unknown): Statement => ({
  text: `UPDATE instructions SET status = 'queued', agent_id = NULL, lease_until = NULL, error = $2::jsonb WHERE id = $1`,
  values: [id, error == null ? null : JSON.stringify(error)],
})

/** Pickups whose poll was gone before the answer: back to the queue (the agent never saw them). */
export const unleaseInstructions = (ids: string[]): Statement => ({
  text: `UPDATE instructions SET status = 'queued', agent_id = NULL, lease_until = NULL
    WHERE id = ANY($1::uuid[]) AND status = 'leased'`,
  values: [ids],
})

/** Leases past their deadline, locked so concurrent sweepers on other instances skip them. */
export const expiredLeases = (limit: number): Statement => ({
  text: `SELECT id, org_id AS "orgId", queue, agent_id AS "agentId", attempt,
      (lease_until >= now()) AS "timedOut", timeout_ms AS "timeoutMs", run_id AS "runId", step_id AS "stepId"
    FROM instructions
    WHERE status IN ('leased', 'running')
      AND (lease_until < now() OR (run_id IS NOT NULL AND picked_at + timeout_ms * interval '1 millisecond' < now()))
    ORDER BY lease_until LIMIT $1 FOR UPDATE SKIP LOCKED`,
  values: [limit],
})

/** Releases the leases of an agent that is gone (lost or revoked) so its work moves on now. */
export const expireAgentLeases = (agentIds: string[]): Statement => ({
  text: `UPDATE instructions SET lease_until = now() - interval '1 millisecond'
    WHERE agent_id = ANY($1::uuid[]) AND status IN ('leased', 'running')`,
  values: [agentIds],
})

export const requestCancel = (orgId: string, id: string): Statement => ({
  text: `UPDATE instructions SET cancel_requested = true,
      status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END,
      finished_at = CASE WHEN status = 'queued' THEN now() ELSE finished_at END
    WHERE org_id = $1 AND id = $2 RETURNING ${INSTRUCTION_COLUMNS}`,
  values: [orgId, id],
})

export const cancelsForAgent = (agentId: string): Statement => ({
  text: `SELECT id, attempt FROM instructions
    WHERE agent_id = $1 AND status IN ('leased', 'running') AND cancel_requested`,
  values: [agentId],
})

export const queueDepths = (): Statement => ({
  text: `SELECT org_id AS "orgId", kind, pool, count(*)::int AS "count" FROM instructions
    WHERE status = 'queued' GROUP BY org_id, kind, pool`,
  values: [],
})

export const resultFor = (id: string, attempt: number): Statement => ({
  text: `SELECT agent_id AS "agentId", status, answer FROM results WHERE instruction_id = $1 AND attempt = $2`,
  values: [id, attempt],
})

import { randomUUID } from 'node:crypto'
import type { SqlClient } from '../../db/sql-client.ts'
import type { WorkflowEvent } from '../context.ts'
import type { StepState } from '../engine/plan-next.ts'
import { WorkflowError } from '../errors.ts'
import { stepIdempotencyKey } from '../idempotency.ts'
import {
  allowedFrom,
  assertTransition,
  isTerminal,
  type RunStatus,
  type StepStatus,
} from '../state-machine.ts'
import type { Statement } from '../store/plans.ts'
import {
  insertRun,
  insertStep,
  listRuns as listRunsPlan,
  type RunFilter,
  runByDedupeKey,
  runById,
  stepById,
  stepsOfRun,
  updateRunStatus,
  updateStepStatus,
} from './plans.ts'

// Runs and their steps, persisted. Every status change goes through the state machine as a
// guarded UPDATE (`WHERE status = ANY(<allowed from>)`): when two orchestrator instances
// race to move the same run or step, one wins and the other gets
// STAVILY_ERR_ILLEGAL_TRANSITION with the status it lost to.

export interface RunRecord {
  id: string
  org: string
  workflowId: string
  workflowVersion: number
  status: RunStatus
  event: WorkflowEvent
  dedupeKey: string | null
  createdAt: string
  startedAt: string | null
  finishedAt: string | null
  /** Claim order of its steps in their pools (higher first); 0 unless a manual run set it. */
  priority?: number
}

export interface StepRecord {
  stepId: string
  kind: 'action' | 'output'
  status: StepStatus
  /** Attempts started so far (0 until the step first runs). */
  attempt: number
  /** The same for every attempt: the plugin's ctx.idempotencyKey. */
  idempotencyKey: string
  input: unknown
  output: unknown
  error: { code: string; message: string } | null
  /** Why the step was skipped. */
  reason: string | null
  instructionId: string | null
  createdAt: string
  startedAt: string | null
  finishedAt: string | null
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const MAX_LIST = 501

export function checkId(field: string, id: string): string {
  if (!UUID.test(id))
    throw new WorkflowError(
      'STAVILY_ERR_RUN_NOT_FOUND',
      `${field}: expected a UUID, got ${JSON.stringify(id)}`,
    )
  return id.toLowerCase()
}

function exec<R extends Record<string, unknown>>(sql: SqlClient, s: Statement) {
  return sql.query<R>(s.text, s.values)
}

const iso = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string).toISOString())

function toRun(r: Record<string, unknown>): RunRecord {
  return {
    id: r.id as string,
    org: r.org as string,
    workflowId: r.workflowId as string,
    workflowVersion: r.workflowVersion as number,
    status: r.status as RunStatus,
    event: r.event as WorkflowEvent,
    dedupeKey: (r.dedupeKey as string | null) ?? null,
    createdAt: iso(r.createdAt)!,
    startedAt: iso(r.startedAt),
    finishedAt: iso(r.finishedAt),
    priority: Number(r.priority ?? 0),
  }
}

function toStep(r: Record<string, unknown>): StepRecord {
  return {
    stepId: r.stepId as string,
    kind: r.kind as 'action' | 'output',
    status: r.status as StepStatus,
    attempt: r.attempt as number,
    idempotencyKey: r.idempotencyKey as string,
    input: r.input ?? null,
    output: r.output ?? null,
    error: (r.error as StepRecord['error']) ?? null,
    reason: (r.reason as string | null) ?? null,
    instructionId: (r.instructionId as string | null) ?? null,
    createdAt: iso(r.createdAt)!,
    startedAt: iso(r.startedAt),
    finishedAt: iso(r.finishedAt),
  }
}

/**
 * Creates a queued run for an event. The event's dedupe key makes it once per workflow:
 * the same event delivered twice returns the first run with `created: false`.
 */
export async function createRun(
  sql: SqlClient,
  r: { org: string; workflowId: string; version: number; event: WorkflowEvent },
): Promise<{ run: RunRecord; created: boolean }> {
  const org = checkId('org', r.org)
  const dedupeKey = r.event.dedupeKey ?? null
  const { rows } = await exec(
    sql,
    insertRun({
      id: randomUUID(),
      org,
      workflowId: r.workflowId,
      version: r.version,
      event: r.event,
      dedupeKey,
    }),
  )
  if (rows[0]) return { run: toRun(rows[0]), created: true }
  const existing = await exec(sql, runByDedupeKey(org, r.workflowId, dedupeKey!))
  return { run: toRun(existing.rows[0]!), created: false }
}

export async function getRun(
  sql: SqlClient,
  org: string,
  runId: string,
): Promise<(RunRecord & { steps: StepRecord[] }) | undefined> {
  const { rows } = await exec(sql, runById(checkId('org', org), checkId('run', runId)))
  if (!rows[0]) return undefined
  const steps = await exec(sql, stepsOfRun(runId.toLowerCase()))
  return { ...toRun(rows[0]), steps: steps.rows.map(toStep) }
}

export async function listRuns(
  sql: SqlClient,
  org: string,
  options: RunFilter & { limit?: number } = {},
): Promise<RunRecord[]> {
  const limit = options.limit ?? 50
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST) {
    throw new WorkflowError(
      'STAVILY_ERR_WORKFLOW_INVALID',
      `limit: expected an integer from 1 to ${MAX_LIST}, got ${limit}`,
    )
  }
  const { limit: _, ...filter } = options
  const { rows } = await exec(sql, listRunsPlan(checkId('org', org), filter, limit))
  return rows.map(toRun)
}

/** Moves a run to `to`, or throws STAVILY_ERR_ILLEGAL_TRANSITION (409) naming where it is. */
export async function transitionRun(
  sql: SqlClient,
  org: string,
  runId: string,
  to: RunStatus,
): Promise<RunRecord> {
  const o = checkId('org', org)
  const id = checkId('run', runId)
  const { rows } = await exec(sql, updateRunStatus(o, id, to, allowedFrom('run', to), isTerminal('run', to)))
  if (rows[0]) return toRun(rows[0])
  const current = (await exec(sql, runById(o, id))).rows[0]
  if (!current)
    throw new WorkflowError('STAVILY_ERR_RUN_NOT_FOUND', `run ${id}: no such run in this organization`)
  assertTransition('run', current.status as string, to, `run ${id}`)
  // The row moved between the update and the read; the update's answer stands.
  throw new WorkflowError('STAVILY_ERR_ILLEGAL_TRANSITION', `run ${id}: changed concurrently; read it again`)
}

/**
 * Records a step the engine decided on: `queued` to run it, `skipped` with a reason, or
 * `failed` with an error (its input could not be rendered). Recording the same step twice
 * keeps the first record (`created: false`), so a replayed decision changes nothing.
 */
export async function recordStep(
  sql: SqlClient,
  org: string,
  runId: string,
  s: {
    stepId: string
    kind: 'action' | 'output'
    status: 'queued' | 'skipped' | 'failed'
    input?: unknown
    reason?: string
    error?: { code: string; message: string }
  },
): Promise<{ step: StepRecord; created: boolean }> {
  const o = checkId('org', org)
  const id = checkId('run', runId)
  if (!(await exec(sql, runById(o, id))).rows[0]) {
    throw new WorkflowError('STAVILY_ERR_RUN_NOT_FOUND', `run ${id}: no such run in this organization`)
  }
  const { rows } = await exec(
    sql,
    insertStep({
      runId: id,
      stepId: s.stepId,
      kind: s.kind,
      status: s.status,
      idempotencyKey: stepIdempotencyKey(id, s.stepId),
      input: s.input,
      error: s.error ?? null,
      reason: s.reason ?? null,
      terminal: s.status !== 'queued',
    }),
  )
  if (rows[0]) return { step: toStep(rows[0]), created: true }
  return { step: toStep((await exec(sql, stepById(o, id, s.stepId))).rows[0]!), created: false }
}

/** Moves a step; `running` starts a new attempt. Output, error and instruction id are kept when given. */
export async function transitionStep(
  sql: SqlClient,
  org: string,
  runId: string,
  stepId: string,
  to: StepStatus,
  extra: { output?: unknown; error?: { code: string; message: string } | null; instructionId?: string } = {},
): Promise<StepRecord> {
  const o = checkId('org', org)
  const id = checkId('run', runId)
  const { rows } = await exec(
    sql,
    updateStepStatus({
      org: o,
      runId: id,
      stepId,
      to,
      from: allowedFrom('step', to),
      terminal: isTerminal('step', to),
      output: extra.output,
      error: extra.error ?? null,
      instructionId: extra.instructionId ?? null,
    }),
  )
  if (rows[0]) return toStep(rows[0])
  const current = (await exec(sql, stepById(o, id, stepId))).rows[0]
  if (!current)
    throw new WorkflowError('STAVILY_ERR_RUN_NOT_FOUND', `step ${stepId} of run ${id}: no such step`)
  assertTransition('step', current.status as string, to, `step ${stepId}`)
  throw new WorkflowError(
    'STAVILY_ERR_ILLEGAL_TRANSITION',
    `step ${stepId}: changed concurrently; read it again`,
  )
}

/** The steps as planNext reads them. */
export function stepStates(steps: readonly StepRecord[]): Record<string, StepState> {
  const out: Record<string, StepState> = {}
  for (const s of steps) out[s.stepId] = { status: s.status, output: s.output, error: s.error }
  return out
}

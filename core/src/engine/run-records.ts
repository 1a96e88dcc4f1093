import { isoTime, isoTimeOrNull } from '../checks.ts'
import { run, type SqlClient } from '../db/sql-client.ts'
import type { RunStatus, StepStatus, WorkflowEvent } from '../workflows/index.ts'
import { listRuns as listRunsPlan, type RunFilter, runById, stepsOfRun } from './plans.ts'

// Runs and their steps as read back (the operator API, the CLI, a retry). The engine is the
// one writer of both tables (its plans, its transactions); this module only reads.

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

/** A run row as read (timestamps as ISO text, the priority as a number). */
export function toRun(r: Record<string, unknown>): RunRecord {
  return {
    id: r.id as string,
    org: r.org as string,
    workflowId: r.workflowId as string,
    workflowVersion: r.workflowVersion as number,
    status: r.status as RunStatus,
    event: r.event as WorkflowEvent,
    dedupeKey: (r.dedupeKey as string | null) ?? null,
    createdAt: isoTime(r.createdAt),
    startedAt: isoTimeOrNull(r.startedAt),
    finishedAt: isoTimeOrNull(r.finishedAt),
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
    createdAt: isoTime(r.createdAt),
    startedAt: isoTimeOrNull(r.startedAt),
    finishedAt: isoTimeOrNull(r.finishedAt),
  }
}

/** One run of an organization with its steps (ids already checked and lower-cased by the caller). */
export async function getRun(
  sql: SqlClient,
  org: string,
  runId: string,
): Promise<(RunRecord & { steps: StepRecord[] }) | undefined> {
  const { rows } = await run(sql, runById(org, runId))
  if (!rows[0]) return undefined
  const steps = await run(sql, stepsOfRun(runId))
  return { ...toRun(rows[0]), steps: steps.rows.map(toStep) }
}

/** Runs of an organization, newest first (filter and limit already checked by the caller). */
export async function listRuns(
  sql: SqlClient,
  org: string,
  filter: RunFilter,
  limit: number,
): Promise<RunRecord[]> {
  const { rows } = await run(sql, listRunsPlan(org, filter, limit))
  return rows.map(toRun)
}

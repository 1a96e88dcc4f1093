import type { SqlClient } from '../../db/sql-client.ts'
import { WorkflowError } from '../errors.ts'
import type { Statement } from '../store/plans.ts'
import { countRunning, lockRunWorkflow, oldestQueued } from './plans.ts'
import { checkId, type RunRecord, transitionRun } from './run-store.ts'

// A workflow's `concurrency` limit: a queued run starts only while fewer than `limit` runs
// of its workflow are running. The check and the start happen in one transaction holding
// the workflow row's lock, so two instances cannot both take the last slot.

function exec<R extends Record<string, unknown>>(sql: SqlClient, s: Statement) {
  return sql.query<R>(s.text, s.values)
}

export type StartAnswer = { started: true; run: RunRecord } | { started: false; running: number }

/** Starts a queued run if its workflow has a free slot (`limit` null: no limit). */
export async function tryStartRun(
  sql: SqlClient,
  org: string,
  runId: string,
  limit: number | null,
): Promise<StartAnswer> {
  const o = checkId('org', org)
  const id = checkId('run', runId)
  return sql.transaction(async (tx) => {
    const locked = (await exec<{ id: string }>(tx, lockRunWorkflow(o, id))).rows[0]
    if (!locked)
      throw new WorkflowError('STAVILY_ERR_RUN_NOT_FOUND', `run ${id}: no such run in this organization`)
    if (limit !== null) {
      const running = (await exec<{ running: number }>(tx, countRunning(locked.id))).rows[0]!.running
      if (running >= limit) return { started: false as const, running }
    }
    return { started: true as const, run: await transitionRun(tx, org, runId, 'running') }
  })
}

/** The queued runs to try next when a run of the workflow finishes, oldest first. */
export async function queuedRuns(
  sql: SqlClient,
  org: string,
  workflowId: string,
  limit = 10,
): Promise<string[]> {
  const { rows } = await exec<{ id: string }>(
    sql,
    oldestQueued(checkId('org', org), checkId('workflow', workflowId), limit),
  )
  return rows.map((r) => r.id)
}

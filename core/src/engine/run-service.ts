import { checkInt, checkOrg, isUuid, storableTime } from '../checks.ts'
import { type Database, run } from '../db/sql-client.ts'
import { invalid, StavilyError } from '../errors.ts'
import { RUN_STATUSES } from '../workflows/index.ts'
import { getRun, listRuns, type RunRecord, type StepRecord } from './run-records.ts'
import { logsOfInstructions, type StepLog } from './step-logs.ts'

// Runs for the operator API and the CLI: a filtered, paginated list and one run with its
// steps, each with the log lines its plugin call reported.

export interface RunListFilter {
  /** A workflow id or name. */
  workflow?: string
  status?: string
  /** ISO time: runs created at or after it. */
  since?: string
  /** At most this many (1 to 501; default 50). */
  limit?: number
  /** Keyset: runs created before this one (the last run of the previous page). */
  before?: { createdAt: string; id: string }
}

export type RunSummary = RunRecord & { workflowName: string }

export class RunService {
  readonly #db: Database

  constructor(db: Database) {
    this.#db = db
  }

  /** Newest first, filtered; page with `before` = the last run returned. Unknown workflow: an empty list. */
  async list(orgId: string, filter: RunListFilter = {}): Promise<RunSummary[]> {
    const org = checkOrg(orgId, undefined, 'orgId')
    const limit = checkInt('limit', filter.limit ?? 50, 1, 501)
    if (filter.status !== undefined && !(RUN_STATUSES as readonly string[]).includes(filter.status))
      throw invalid('status', `one of ${RUN_STATUSES.join(', ')}`, filter.status)
    const since = filter.since === undefined ? undefined : storableTime(filter.since)
    if (filter.since !== undefined && since === undefined)
      throw invalid('since', 'an ISO date-time in the years 1 to 9999', filter.since)
    const createdAt = filter.before === undefined ? undefined : storableTime(filter.before.createdAt)
    if (filter.before !== undefined && (!isUuid(filter.before.id) || createdAt === undefined))
      throw invalid('cursor', 'a cursor from a previous page', filter.before)
    const before = filter.before && createdAt ? { createdAt, id: filter.before.id } : undefined
    let workflowId: string | undefined
    if (filter.workflow !== undefined) {
      const w = (
        await run<{ id: string }>(this.#db.sql, {
          text: `SELECT id FROM workflows WHERE org_id = $1 AND ${isUuid(filter.workflow) ? 'id = $2::uuid' : 'name = $2'}`,
          values: [org, filter.workflow],
        })
      ).rows[0]
      if (!w) return []
      workflowId = w.id
    }
    const rows = await listRuns(
      this.#db.sql,
      org,
      {
        ...(workflowId ? { workflowId } : {}),
        ...(filter.status ? { status: filter.status } : {}),
        ...(since ? { since } : {}),
        ...(before ? { before } : {}),
      },
      limit,
    )
    const names = await this.#names(org, [...new Set(rows.map((r) => r.workflowId))])
    return rows.map((r) => ({ ...r, workflowName: names.get(r.workflowId) ?? '' }))
  }

  /** One run with its steps; STAVILY_ERR_RUN_NOT_FOUND (404) when the organization has no such run. */
  async get(
    orgId: string,
    id: string,
  ): Promise<RunSummary & { steps: (StepRecord & { logs: StepLog[] })[] }> {
    const org = checkOrg(orgId, undefined, 'orgId')
    const r = isUuid(id) ? await getRun(this.#db.sql, org, id.toLowerCase()) : undefined
    if (!r) throw new StavilyError('STAVILY_ERR_RUN_NOT_FOUND', `run ${id}: not found in this organization`)
    const names = await this.#names(org, [r.workflowId])
    const logs = await logsOfInstructions(
      this.#db.sql,
      r.steps.map((s) => s.instructionId),
    )
    const steps = r.steps.map((s) => ({ ...s, logs: (s.instructionId && logs.get(s.instructionId)) || [] }))
    return { ...r, steps, workflowName: names.get(r.workflowId) ?? '' }
  }

  async #names(org: string, ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map()
    const { rows } = await run<{ id: string; name: string }>(this.#db.sql, {
      text: 'SELECT id, name FROM workflows WHERE org_id = $1 AND id = ANY($2::uuid[])',
      values: [org, ids],
    })
    return new Map(rows.map((r) => [r.id, r.name]))
  }
}

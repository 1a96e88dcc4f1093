import { type Database, run } from '../db/sql-client.ts'
import { StavilyError } from '../errors.ts'
import { getRun, listRuns, RUN_STATUSES, type RunRecord, type StepRecord } from '../workflows/index.ts'

// Runs for the operator API and the CLI: a filtered, paginated list and one run with its steps.

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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

function bad(field: string, expected: string, got: unknown): StavilyError {
  return new StavilyError(
    'STAVILY_ERR_INVALID_ARGUMENT',
    `${field}: expected ${expected}, got ${JSON.stringify(got)}`,
    {
      data: { field },
    },
  )
}

export class RunService {
  readonly #db: Database

  constructor(db: Database) {
    this.#db = db
  }

  /** Newest first, filtered; page with `before` = the last run returned. Unknown workflow: an empty list. */
  async list(orgId: string, filter: RunListFilter = {}): Promise<RunSummary[]> {
    if (!UUID.test(orgId)) throw bad('orgId', 'a UUID', orgId)
    const org = orgId.toLowerCase()
    const limit = filter.limit ?? 50
    if (!Number.isInteger(limit) || limit < 1 || limit > 501)
      throw bad('limit', 'an integer from 1 to 501', limit)
    if (filter.status !== undefined && !(RUN_STATUSES as readonly string[]).includes(filter.status))
      throw bad('status', `one of ${RUN_STATUSES.join(', ')}`, filter.status)
    if (filter.since !== undefined && Number.isNaN(Date.parse(filter.since)))
      throw bad('since', 'an ISO date-time', filter.since)
    const before = filter.before
    if (before !== undefined && (!UUID.test(before.id) || Number.isNaN(Date.parse(before.createdAt))))
      throw bad('cursor', 'a cursor from a previous page', before)
    let workflowId: string | undefined
    if (filter.workflow !== undefined) {
      const w = (
        await run<{ id: string }>(this.#db.sql, {
          text: `SELECT id FROM workflows WHERE org_id = $1 AND ${UUID.test(filter.workflow) ? 'id = $2::uuid' : 'name = $2'}`,
          values: [org, filter.workflow],
        })
      ).rows[0]
      if (!w) return []
      workflowId = w.id
    }
    const rows = await listRuns(this.#db.sql, org, {
      limit,
      ...(workflowId ? { workflowId } : {}),
      ...(filter.status ? { status: filter.status } : {}),
      ...(filter.since ? { since: new Date(filter.since).toISOString() } : {}),
      ...(before ? { before } : {}),
    })
    const names = await this.#names(org, [...new Set(rows.map((r) => r.workflowId))])
    return rows.map((r) => ({ ...r, workflowName: names.get(r.workflowId) ?? '' }))
  }

  /** One run with its steps; STAVILY_ERR_RUN_NOT_FOUND (404) when the organization has no such run. */
  async get(orgId: string, id: string): Promise<RunSummary & { steps: StepRecord[] }> {
    if (!UUID.test(orgId)) throw bad('orgId', 'a UUID', orgId)
    const r = UUID.test(id) ? await getRun(this.#db.sql, orgId, id) : undefined
    if (!r) throw new StavilyError('STAVILY_ERR_RUN_NOT_FOUND', `run ${id}: not found in this organization`)
    const names = await this.#names(orgId.toLowerCase(), [r.workflowId])
    return { ...r, workflowName: names.get(r.workflowId) ?? '' }
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

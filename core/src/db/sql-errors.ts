import { StavilyError } from '../errors.ts'

// Database errors a request can provoke by racing another one, as the Stavily error a
// caller should see. Both backends report PostgreSQL's own error fields (pg's and PGlite's
// DatabaseError: `code` is the SQLSTATE, `constraint`, `table`, `detail`).
//
// A foreign-key violation on insert or update (23503, "… is not present in table …") means
// the row it references was deleted after the request read it: most often a forced
// organization delete that committed between a request's authentication and its write
// (workflows, secrets, audit entries, … reference their organization). A token or agent
// credential of a deleted organization is gone with it (401 "unknown …"), so that write is
// the same 401, saying why. Any other reference that vanished is a 404 naming the field.
// A delete refused because rows still reference it ("… is still referenced …") is not a
// race a caller can fix: it stays an internal error.

interface PgError {
  code?: unknown
  constraint?: unknown
  table?: unknown
  detail?: unknown
}

const NOT_PRESENT = /is not present in table "([^"]+)"/

/** The Stavily error for a database error a race can cause, or undefined for any other error. */
export function raceError(err: unknown): StavilyError | undefined {
  if (typeof err !== 'object' || err === null) return undefined
  const e = err as PgError
  if (e.code !== '23503') return undefined
  const constraint = typeof e.constraint === 'string' ? e.constraint : ''
  const detail = typeof e.detail === 'string' ? e.detail : ''
  const referenced = NOT_PRESENT.exec(detail)?.[1]
  if (referenced === undefined && detail !== '') return undefined // still referenced: not a race
  if (referenced === 'organizations' || (referenced === undefined && constraint.endsWith('_org_id_fkey'))) {
    return new StavilyError(
      'STAVILY_ERR_UNAUTHENTICATED',
      'authorization: the organization of this credential no longer exists (it was deleted while this request ran)',
      { data: { field: 'authorization' }, cause: err },
    )
  }
  const field = fieldOf(constraint, typeof e.table === 'string' ? e.table : '')
  return new StavilyError(
    'STAVILY_ERR_NOT_FOUND',
    `${field}: what it names no longer exists (removed while this request ran)`,
    { data: { field }, cause: err },
  )
}

// `runs_workflow_id_fkey` on table `runs` → `workflowId` (the API's spelling of the column).
function fieldOf(constraint: string, table: string): string {
  let column = constraint.replace(/_fkey$/, '')
  if (table && column.startsWith(`${table}_`)) column = column.slice(table.length + 1)
  if (!column) return 'body'
  return column.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())
}

import { invalid } from '../errors.ts'
import { checkOrg } from './checks.ts'
import type { AuditEntry } from './entry.ts'
import { AuditError } from './errors.ts'
import { type ListFilter, listEntries } from './plans.ts'
import { AUDIT_POLICY } from './policy.ts'
import { type AuditRow, fromRow } from './rows.ts'
import { exec, type SqlClient } from './sql.ts'

export interface AuditListOptions extends ListFilter {
  limit?: number
}

/** An organization's entries, newest first; page with `beforeSeq` = the last seq returned. */
export async function listAudit(
  sql: SqlClient,
  org: string,
  options: AuditListOptions = {},
): Promise<AuditEntry[]> {
  const orgId = checkOrg(org)
  const limit = options.limit ?? AUDIT_POLICY.defaultListLimit
  if (!Number.isInteger(limit) || limit < 1 || limit > AUDIT_POLICY.maxListLimit) {
    throw invalid('limit', `an integer from 1 to ${AUDIT_POLICY.maxListLimit}`, limit, AuditError)
  }
  if (options.beforeSeq !== undefined && (!Number.isInteger(options.beforeSeq) || options.beforeSeq < 1)) {
    throw invalid('beforeSeq', 'an integer ≥ 1', options.beforeSeq, AuditError)
  }
  const { limit: _, ...filter } = options
  const { rows } = await exec<AuditRow>(sql, listEntries(orgId, filter, limit))
  return rows.map(fromRow)
}

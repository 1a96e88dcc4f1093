import { invalid } from '../errors.ts'
import { checkOrg } from './checks.ts'
import { entryHash } from './entry.ts'
import { AuditError } from './errors.ts'
import { pageAfter, readHead } from './plans.ts'
import { AUDIT_POLICY, GENESIS_HASH } from './policy.ts'
import { type AuditRow, fromRow } from './rows.ts'
import { exec, type SqlClient, toBuffer } from './sql.ts'

/** Why a chain is broken at `seq`. */
export type BrokenReason =
  /** The row's content no longer matches its hash: edited, or moved to another position. */
  | 'edited'
  /** The row is intact but does not follow the row before it: that row was replaced or re-hashed. */
  | 'relinked'
  /** A position has no row: deleted. */
  | 'missing'
  /** Rows after the recorded head: inserted behind the log's back. */
  | 'unexpected'
  /** The head records more entries, or another last hash, than the rows show: the tail was deleted or rewritten. */
  | 'head_mismatch'

export type AuditVerification =
  | { ok: true; org: string; entries: number; head: string }
  | {
      ok: false
      org: string
      entries: number
      broken: { seq: number; reason: BrokenReason; message: string }
    }

/**
 * Recomputes an organization's chain from the first entry and reports the first broken link.
 * Reads in pages, so memory stays bounded however long the chain is. `entries` counts the
 * entries checked before the break.
 *
 * The chain proves the log was not changed piecemeal; someone able to rewrite every row
 * and the head could rebuild it, so operators who need more keep the reported `head`
 * somewhere else (a ticket, another system) and compare later.
 */
export async function verifyAuditChain(
  sql: SqlClient,
  org: string,
  options: { pageSize?: number } = {},
): Promise<AuditVerification> {
  const pageSize = options.pageSize ?? AUDIT_POLICY.verifyPageSize
  if (!Number.isInteger(pageSize) || pageSize < 1)
    throw invalid('pageSize', 'an integer ≥ 1', pageSize, AuditError)
  const orgId = checkOrg(org)
  const headRows = (await exec<{ seq: string; hash: unknown }>(sql, readHead(orgId))).rows
  const headSeq = headRows[0] ? Number(headRows[0].seq) : 0
  const headHash = headRows[0] ? toBuffer(headRows[0].hash).toString('hex') : GENESIS_HASH.toString('hex')

  let expectedSeq = 1
  let prev = GENESIS_HASH.toString('hex')
  const broken = (seq: number, reason: BrokenReason, message: string): AuditVerification => ({
    ok: false,
    org: orgId,
    entries: expectedSeq - 1,
    broken: { seq, reason, message },
  })

  for (;;) {
    const page = (await exec<AuditRow>(sql, pageAfter(orgId, expectedSeq - 1, pageSize))).rows
    for (const row of page) {
      const e = fromRow(row)
      if (headRows.length === 0) {
        return broken(e.seq, 'head_mismatch', 'the chain head is missing while entries exist: it was deleted')
      }
      if (e.seq > headSeq) {
        return broken(
          e.seq,
          'unexpected',
          `entry ${e.seq} is after the recorded head (entry ${headSeq}): it was inserted`,
        )
      }
      if (e.seq !== expectedSeq) {
        return broken(expectedSeq, 'missing', `entry ${expectedSeq} is missing: it was deleted`)
      }
      const { hash, ...rest } = e
      if (entryHash(rest) !== hash) {
        return broken(e.seq, 'edited', `entry ${e.seq} does not match its hash: it was edited or moved`)
      }
      if (e.prevHash !== prev) {
        return broken(
          e.seq,
          'relinked',
          `entry ${e.seq} does not follow entry ${e.seq - 1}: the previous entry was replaced or re-hashed`,
        )
      }
      prev = hash
      expectedSeq++
    }
    if (page.length < pageSize) break
  }
  const entries = expectedSeq - 1
  if (entries !== headSeq) {
    return broken(
      entries + 1,
      'head_mismatch',
      `the head records ${headSeq} entries but the log holds ${entries}: the tail was deleted`,
    )
  }
  if (prev !== headHash) {
    return broken(
      entries,
      'head_mismatch',
      `entry ${entries} is not the recorded head: the tail was rewritten`,
    )
  }
  return { ok: true, org: orgId, entries, head: headHash }
}

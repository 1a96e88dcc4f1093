// Every statement of the audit log, as {text, values}. Tables are unqualified: the
// connection's search path is the orchestrator's schema.

export interface Statement {
  text: string
  values: unknown[]
}

/** Makes sure the organization has a chain head (seq 0, genesis hash) before it is locked. */
export function ensureHead(org: string, genesis: Buffer): Statement {
  return {
    text: 'INSERT INTO audit_heads (org_id, seq, hash) VALUES ($1, 0, $2) ON CONFLICT (org_id) DO NOTHING',
    values: [org, genesis],
  }
}

/**
 * Locks the head row until the transaction ends: appends of one organization run one at a
 * time. The entry's time is read here, after the lock, from the database clock (in
 * milliseconds, as it is hashed): entries of a chain are then in time order whichever
 * instance wrote them.
 */
export function lockHead(org: string): Statement {
  return {
    text: `SELECT seq::text AS seq, hash, date_trunc('milliseconds', clock_timestamp()) AS now
           FROM audit_heads WHERE org_id = $1 FOR UPDATE`,
    values: [org],
  }
}

export function readHead(org: string): Statement {
  return { text: 'SELECT seq::text AS seq, hash FROM audit_heads WHERE org_id = $1', values: [org] }
}

export interface EntryRow {
  org: string
  seq: number
  at: string
  actorType: string
  actorId: string | null
  action: string
  targetType: string | null
  targetId: string | null
  data: unknown
  ip: string | null
  prevHash: Buffer
  hash: Buffer
}

export function insertEntry(e: EntryRow): Statement {
  return {
    text: `INSERT INTO audit_log (org_id, seq, at, actor_type, actor_id, action, target_type, target_id, data, ip, prev_hash, hash)
           VALUES ($1, $2, $3::timestamptz, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12)`,
    values: [
      e.org,
      e.seq,
      e.at,
      e.actorType,
      e.actorId,
      e.action,
      e.targetType,
      e.targetId,
      JSON.stringify(e.data),
      e.ip,
      e.prevHash,
      e.hash,
    ],
  }
}

export function advanceHead(org: string, seq: number, hash: Buffer): Statement {
  return { text: 'UPDATE audit_heads SET seq = $2, hash = $3 WHERE org_id = $1', values: [org, seq, hash] }
}

// seq is read as text (bigint exceeds what pg parses to a number), so ORDER BY names the
// table column explicitly: the output alias would sort "10" before "2".
const COLUMNS = `org_id::text AS org, seq::text AS seq, at, actor_type AS "actorType", actor_id AS "actorId", action,
  target_type AS "targetType", target_id AS "targetId", data, ip, prev_hash AS "prevHash", hash`

/** One page of an organization's chain in order, after `afterSeq` (keyset pagination). */
export function pageAfter(org: string, afterSeq: number, limit: number): Statement {
  return {
    text: `SELECT ${COLUMNS} FROM audit_log WHERE org_id = $1 AND seq > $2 ORDER BY audit_log.seq LIMIT $3`,
    values: [org, afterSeq, limit],
  }
}

export interface ListFilter {
  action?: string
  targetType?: string
  targetId?: string
  /** Newest first, before this seq (keyset pagination). */
  beforeSeq?: number
}

/** Newest first, optionally filtered. Only fixed column names are interpolated. */
export function listEntries(org: string, filter: ListFilter, limit: number): Statement {
  const values: unknown[] = [org]
  const where = ['org_id = $1']
  const add = (column: string, value: unknown, op = '=') => {
    values.push(value)
    where.push(`${column} ${op} $${values.length}`)
  }
  if (filter.action !== undefined) add('action', filter.action)
  if (filter.targetType !== undefined) add('target_type', filter.targetType)
  if (filter.targetId !== undefined) add('target_id', filter.targetId)
  if (filter.beforeSeq !== undefined) add('seq', filter.beforeSeq, '<')
  values.push(limit)
  return {
    text: `SELECT ${COLUMNS} FROM audit_log WHERE ${where.join(' AND ')} ORDER BY audit_log.seq DESC LIMIT $${values.length}`,
    values,
  }
}

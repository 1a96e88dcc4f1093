import { isoTime } from '../checks.ts'
import { checkEntry } from './checks.ts'
import { type AuditEntry, type AuditEntryInput, entryHash } from './entry.ts'
import { advanceHead, ensureHead, insertEntry, lockHead } from './plans.ts'
import { GENESIS_HASH } from './policy.ts'
import { exec, type SqlClient, toBuffer } from './sql.ts'

/**
 * Appends an entry to its organization's chain and returns it with its seq and hash.
 *
 * The organization's head row is locked (`FOR UPDATE`) for the transaction, so concurrent
 * appends, from any number of orchestrator instances, take turns and the chain never forks.
 * Pass a transaction as `sql` to record the entry atomically with the change it describes.
 */
export async function appendAudit(sql: SqlClient, input: AuditEntryInput): Promise<AuditEntry> {
  const checked = checkEntry(input)
  return sql.transaction(async (tx) => {
    await exec(tx, ensureHead(checked.org, GENESIS_HASH))
    const { rows } = await exec<{ seq: string; hash: unknown; now: unknown }>(tx, lockHead(checked.org))
    const head = rows[0]!
    const entry = {
      ...checked,
      seq: Number(head.seq) + 1,
      at: isoTime(head.now),
      prevHash: toBuffer(head.hash).toString('hex'),
    }
    const hash = entryHash(entry)
    const hashBytes = Buffer.from(hash, 'hex')
    await exec(
      tx,
      insertEntry({
        org: entry.org,
        seq: entry.seq,
        at: entry.at,
        actorType: entry.actor.type,
        actorId: entry.actor.id,
        action: entry.action,
        targetType: entry.target?.type ?? null,
        targetId: entry.target?.id ?? null,
        data: entry.data,
        ip: entry.ip,
        prevHash: Buffer.from(entry.prevHash, 'hex'),
        hash: hashBytes,
      }),
    )
    await exec(tx, advanceHead(entry.org, entry.seq, hashBytes))
    return { ...entry, hash }
  })
}

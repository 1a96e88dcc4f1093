import { isoTime } from '../checks.ts'
import { checkEntry } from './checks.ts'
import { type AuditEntryInput, entryHash } from './entry.ts'
import { insertEntries, insertOutbox, outboxOrgs, takeOutbox } from './outbox-plans.ts'
import { ensureHead, lockHead, type Statement } from './plans.ts'
import { GENESIS_HASH } from './policy.ts'
import { exec, type SqlClient, toBuffer } from './sql.ts'

// The audit outbox: entries written in the same transaction as the change they describe,
// without the chain head's lock, then moved into the chain in batches. A busy engine records
// thousands of transitions a second; appending each one to the chain in its own transaction
// would make every run of an organization wait for the head lock in turn. The outbox keeps
// the record atomic with the change (a crash loses neither or both) and the chain append
// cheap (one lock, two statements per batch). Entries reach the chain in the order they
// were written to the outbox.

/** The statement that writes entries to the outbox (to run alone or combined with others); undefined for none. */
export function outboxStatement(inputs: readonly AuditEntryInput[]): Statement | undefined {
  return inputs.length === 0 ? undefined : insertOutbox(inputs.map(checkEntry))
}

/** Writes entries to the outbox in one statement; they join the chain at the next drain. */
export async function deferAudit(sql: SqlClient, inputs: readonly AuditEntryInput[]): Promise<void> {
  if (inputs.length === 0) return
  await exec(sql, insertOutbox(inputs.map(checkEntry)))
}

interface OutboxRow extends Record<string, unknown> {
  id: string
  actorType: string
  actorId: string | null
  action: string
  targetType: string | null
  targetId: string | null
  data: unknown
  ip: string | null
}

/**
 * Moves waiting entries into their organizations' chains: per organization one transaction
 * that locks the head, takes up to `batch` entries, hashes them in order and appends them.
 * Returns how many entries moved. Safe to run on several instances at once.
 */
export async function drainAuditOutbox(sql: SqlClient, batch = 1_000): Promise<number> {
  const orgs = (await exec<{ org: string }>(sql, outboxOrgs(100))).rows
  let moved = 0
  for (const { org } of orgs) {
    moved += await sql.transaction(async (tx) => {
      let head = (await exec<{ seq: string; hash: unknown; now: unknown }>(tx, lockHead(org))).rows[0]
      if (!head) {
        await exec(tx, ensureHead(org, GENESIS_HASH))
        head = (await exec<{ seq: string; hash: unknown; now: unknown }>(tx, lockHead(org))).rows[0]!
      }
      const rows = (await exec<OutboxRow>(tx, takeOutbox(org, batch))).rows
      if (rows.length === 0) return 0
      rows.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1))
      const at = isoTime(head.now)
      let seq = Number(head.seq)
      let prevHash = toBuffer(head.hash).toString('hex')
      const entries = rows.map((r) => {
        seq++
        const e = {
          org,
          seq,
          at,
          actor: { type: r.actorType as AuditEntryInput['actor']['type'], id: r.actorId },
          action: r.action,
          target:
            r.targetType === null || r.targetId === null ? null : { type: r.targetType, id: r.targetId },
          data: r.data,
          ip: r.ip,
          prevHash,
        }
        const hash = entryHash(e)
        prevHash = hash
        return {
          org,
          seq,
          at,
          actorType: r.actorType,
          actorId: r.actorId,
          action: r.action,
          targetType: e.target?.type ?? null,
          targetId: e.target?.id ?? null,
          data: r.data,
          ip: r.ip,
          prevHash: e.prevHash,
          hash,
        }
      })
      await exec(tx, insertEntries(entries, { org, seq, hash: prevHash }))
      return rows.length
    })
  }
  return moved
}

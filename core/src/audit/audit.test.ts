import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backends } from '../../test/helpers/backends.ts'
import type { Database } from '../db/sql-client.ts'
import { appendAudit } from './append.ts'
import { entryHash } from './entry.ts'
import { AuditError } from './errors.ts'
import { listAudit } from './list.ts'
import { AUDIT_MIGRATION } from './migration.ts'
import { verifyAuditChain } from './verify.ts'

async function openAudit(open: () => Promise<Database>): Promise<Database> {
  const db = await open()
  await db.exec(AUDIT_MIGRATION)
  return db
}

async function chain(db: Database, org: string, n: number): Promise<void> {
  for (let i = 1; i <= n; i++) {
    await appendAudit(db.sql, {
      org,
      actor: { type: 'api_token', id: 'tok-1' },
      action: 'workflow.updated',
      target: { type: 'workflow', id: `wf-${i}` },
      data: { version: i, note: 'ünïcode ✓', nested: { b: [1, 2.5, null], a: true } },
      ip: '192.0.2.7',
    })
  }
}

for (const backend of backends()) {
  describe(`audit log on ${backend.name}`, () => {
    // Starting PGlite takes seconds on a busy machine: pay it in the hook, not in the first test's budget.
    beforeAll(async () => (await backend.open()).close())
    afterAll(() => backend.cleanup())

    it('appends a chain that verifies, and lists it newest first with filters and pages', async () => {
      const db = await openAudit(() => backend.open())
      const org = randomUUID()
      expect(await verifyAuditChain(db.sql, org)).toMatchObject({ ok: true, entries: 0 })
      await chain(db, org, 4)
      // The entry appended comes back as stored: its position, time and both hashes.
      const appended = await appendAudit(db.sql, {
        org,
        actor: { type: 'api_token', id: 'tok-1' },
        action: 'workflow.updated',
        target: { type: 'workflow', id: 'wf-5' },
        data: { version: 5, note: 'ünïcode ✓', nested: { b: [1, 2.5, null], a: true } },
        ip: '192.0.2.7',
      })
      expect(appended).toEqual((await listAudit(db.sql, org, { limit: 1 }))[0])
      expect(appended).toMatchObject({ seq: 5, action: 'workflow.updated', target: { id: 'wf-5' } })
      const first = (await listAudit(db.sql, org, { limit: 500 })).at(-1)!
      expect(first).toMatchObject({
        seq: 1,
        actor: { type: 'api_token', id: 'tok-1' },
        action: 'workflow.updated',
        target: { type: 'workflow', id: 'wf-1' },
        data: { version: 1, note: 'ünïcode ✓', nested: { a: true, b: [1, 2.5, null] } },
        ip: '192.0.2.7',
        prevHash: '0'.repeat(64),
      })
      const result = await verifyAuditChain(db.sql, org)
      expect(result).toMatchObject({ ok: true, entries: 5 })
      const newest = await listAudit(db.sql, org, { limit: 2 })
      expect(newest.map((e) => e.seq)).toEqual([5, 4])
      expect(result.ok && result.head).toBe(newest[0]!.hash)
      expect((await listAudit(db.sql, org, { beforeSeq: 4 })).map((e) => e.seq)).toEqual([3, 2, 1])
      expect(
        (await listAudit(db.sql, org, { targetType: 'workflow', targetId: 'wf-2' })).map((e) => e.seq),
      ).toEqual([2])
      expect(await listAudit(db.sql, org, { action: 'run.cancelled' })).toEqual([])
      // Stored rows recompute to their hashes (jsonb key order and number forms do not matter).
      for (const e of newest) {
        const { hash, ...rest } = e
        expect(entryHash(rest)).toBe(hash)
      }
      await db.close()
    })

    it('verifies page by page, across page boundaries', async () => {
      const db = await openAudit(() => backend.open())
      const org = randomUUID()
      await chain(db, org, 7)
      for (const pageSize of [1, 2, 3, 7, 8]) {
        expect(await verifyAuditChain(db.sql, org, { pageSize })).toMatchObject({ ok: true, entries: 7 })
      }
      await expect(verifyAuditChain(db.sql, org, { pageSize: 0 })).rejects.toThrow(
        'pageSize: expected an integer ≥ 1, got 0',
      )
      await db.sql.query('DELETE FROM audit_log WHERE org_id = $1 AND seq = 5', [org])
      for (const pageSize of [2, 4]) {
        expect(await verifyAuditChain(db.sql, org, { pageSize })).toMatchObject({
          ok: false,
          broken: { seq: 5, reason: 'missing' },
        })
      }
      await db.close()
    })

    it('detects an edit to any row and any column', async () => {
      const db = await openAudit(() => backend.open())
      const org = randomUUID()
      await chain(db, org, 4)
      const edits = [
        `data = jsonb_set(data, '{version}', '99')`,
        `action = 'workflow.deleted'`,
        `actor_id = 'someone-else'`,
        `at = at + interval '1 second'`,
        `ip = '198.51.100.1'`,
        `target_id = 'wf-x'`,
      ]
      for (const [i, edit] of edits.entries()) {
        const seq = (i % 4) + 1
        await db.sql.transaction(async (tx) => {
          await tx.query('CREATE TEMP TABLE IF NOT EXISTS saved AS SELECT * FROM audit_log WITH NO DATA')
          await tx.query('DELETE FROM saved')
          await tx.query('INSERT INTO saved SELECT * FROM audit_log WHERE org_id = $1 AND seq = $2', [
            org,
            seq,
          ])
        })
        await db.sql.query(`UPDATE audit_log SET ${edit} WHERE org_id = $1 AND seq = $2`, [org, seq])
        const r = await verifyAuditChain(db.sql, org)
        expect(r, edit).toMatchObject({ ok: false, entries: seq - 1, broken: { seq, reason: 'edited' } })
        expect(!r.ok && r.broken.message).toBe(`entry ${seq} does not match its hash: it was edited or moved`)
        // Put the row back; the chain verifies again, so the next edit is tested on its own.
        await db.sql.query('DELETE FROM audit_log WHERE org_id = $1 AND seq = $2', [org, seq])
        await db.sql.query('INSERT INTO audit_log SELECT * FROM saved')
        expect((await verifyAuditChain(db.sql, org)).ok).toBe(true)
      }
      await db.close()
    })

    it('detects a deleted row, first, middle or last, and a deleted chain head', async () => {
      for (const seq of [1, 3, 5]) {
        const db = await openAudit(() => backend.open())
        const org = randomUUID()
        await chain(db, org, 5)
        await db.sql.query('DELETE FROM audit_log WHERE org_id = $1 AND seq = $2', [org, seq])
        const r = await verifyAuditChain(db.sql, org)
        if (seq === 5) {
          expect(r).toMatchObject({ ok: false, broken: { seq: 5, reason: 'head_mismatch' } })
          expect(!r.ok && r.broken.message).toMatch(/the head records 5 entries but the log holds 4/)
        } else {
          expect(r).toMatchObject({ ok: false, entries: seq - 1, broken: { seq, reason: 'missing' } })
          expect(!r.ok && r.broken.message).toBe(`entry ${seq} is missing: it was deleted`)
        }
        await db.close()
      }
      const db = await openAudit(() => backend.open())
      const org = randomUUID()
      await chain(db, org, 2)
      await db.sql.query('DELETE FROM audit_heads WHERE org_id = $1', [org])
      const r = await verifyAuditChain(db.sql, org)
      expect(r).toMatchObject({ ok: false, entries: 0, broken: { seq: 1, reason: 'head_mismatch' } })
      expect(!r.ok && r.broken.message).toBe('the chain head is missing while entries exist: it was deleted')
      await db.close()
    })

    it('detects inserted rows, even ones with a correctly computed hash', async () => {
      const db = await openAudit(() => backend.open())
      const org = randomUUID()
      await chain(db, org, 3)
      const [last] = await listAudit(db.sql, org, { limit: 1 })
      // A forger who knows the recipe appends a well-formed entry behind the log's back.
      const forged = {
        org,
        seq: 4,
        at: new Date().toISOString(),
        actor: { type: 'system' as const, id: null },
        action: 'workflow.created',
        target: null,
        data: {},
        ip: null,
        prevHash: last!.hash,
      }
      const insert = `INSERT INTO audit_log (org_id, seq, at, actor_type, actor_id, action, target_type, target_id, data, ip, prev_hash, hash)
        VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL, '{}', NULL, $7, $8)`
      await db.sql.query(insert, [
        org,
        4,
        forged.at,
        'system',
        null,
        'workflow.created',
        Buffer.from(forged.prevHash, 'hex'),
        Buffer.from(entryHash(forged), 'hex'),
      ])
      const inserted = await verifyAuditChain(db.sql, org)
      expect(inserted).toMatchObject({
        ok: false,
        entries: 3,
        broken: { seq: 4, reason: 'unexpected' },
      })
      expect(!inserted.ok && inserted.broken.message).toBe(
        'entry 4 is after the recorded head (entry 3): it was inserted',
      )

      // In the middle: the rows after it are renumbered to make room.
      await db.sql.query('DELETE FROM audit_log WHERE org_id = $1 AND seq = 4', [org])
      await db.sql.query('UPDATE audit_log SET seq = seq + 10 WHERE org_id = $1 AND seq >= 2', [org])
      await db.sql.query('UPDATE audit_log SET seq = seq - 9 WHERE org_id = $1 AND seq >= 12', [org])
      await db.sql.query(insert, [
        org,
        2,
        forged.at,
        'system',
        null,
        'workflow.created',
        Buffer.alloc(32),
        Buffer.alloc(32),
      ])
      const r = await verifyAuditChain(db.sql, org)
      expect(r).toMatchObject({ ok: false, broken: { seq: 2, reason: 'edited' } })
      await db.close()
    })

    it('detects reordered rows and a row replaced by a re-hashed one', async () => {
      const db = await openAudit(() => backend.open())
      const org = randomUUID()
      await chain(db, org, 4)
      // Swap entries 2 and 3.
      await db.sql.query('UPDATE audit_log SET seq = 100 WHERE org_id = $1 AND seq = 2', [org])
      await db.sql.query('UPDATE audit_log SET seq = 2 WHERE org_id = $1 AND seq = 3', [org])
      await db.sql.query('UPDATE audit_log SET seq = 3 WHERE org_id = $1 AND seq = 100', [org])
      expect(await verifyAuditChain(db.sql, org)).toMatchObject({
        ok: false,
        broken: { seq: 2, reason: 'edited' },
      })

      const other = randomUUID()
      await chain(db, other, 4)
      const entry2 = (await listAudit(db.sql, other, { beforeSeq: 3, limit: 1 }))[0]!
      const rewritten = { ...entry2, data: { version: 2, note: 'rewritten' } }
      const { hash: _, ...rest } = rewritten
      await db.sql.query(`UPDATE audit_log SET data = $3::jsonb, hash = $4 WHERE org_id = $1 AND seq = $2`, [
        other,
        2,
        JSON.stringify(rewritten.data),
        Buffer.from(entryHash(rest), 'hex'),
      ])
      const r = await verifyAuditChain(db.sql, other)
      expect(r).toMatchObject({ ok: false, entries: 2, broken: { seq: 3, reason: 'relinked' } })
      expect(!r.ok && r.broken.message).toBe(
        'entry 3 does not follow entry 2: the previous entry was replaced or re-hashed',
      )
      await db.close()
    })

    it('detects a last entry rewritten and re-hashed, which only the recorded head can tell', async () => {
      const db = await openAudit(() => backend.open())
      const org = randomUUID()
      await chain(db, org, 3)
      // The forger keeps the link to entry 2 and a hash that matches the new content, so every
      // row-by-row check passes: nothing follows entry 3 to notice, only the head's hash does.
      const last = (await listAudit(db.sql, org, { limit: 1 }))[0]!
      const { hash: _, ...rest } = { ...last, data: { version: 3, note: 'rewritten' } }
      await db.sql.query(`UPDATE audit_log SET data = $3::jsonb, hash = $4 WHERE org_id = $1 AND seq = $2`, [
        org,
        3,
        JSON.stringify(rest.data),
        Buffer.from(entryHash(rest), 'hex'),
      ])
      const r = await verifyAuditChain(db.sql, org)
      expect(r).toMatchObject({ ok: false, entries: 3, broken: { seq: 3, reason: 'head_mismatch' } })
      expect(!r.ok && r.broken.message).toBe('entry 3 is not the recorded head: the tail was rewritten')
      await db.close()
    })

    it('keeps one chain per organization under concurrent appends', async () => {
      const db = await openAudit(() => backend.open())
      const orgs = [randomUUID(), randomUUID()]
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          appendAudit(db.sql, {
            org: orgs[i % 2]!,
            actor: { type: 'agent', id: `a${i}` },
            action: 'run.step.succeeded',
            data: { i },
          }),
        ),
      )
      for (const org of orgs) {
        const entries = (await listAudit(db.sql, org, { limit: 500 })).reverse()
        for (let i = 1; i < entries.length; i++) expect(entries[i]!.at >= entries[i - 1]!.at).toBe(true)
        const r = await verifyAuditChain(db.sql, org)
        expect(r, JSON.stringify(r)).toMatchObject({ ok: true, entries: 20 })
        const seqs = (await listAudit(db.sql, org, { limit: 500 })).map((e) => e.seq)
        expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => 20 - i))
      }
      await db.close()
    })

    it('records nothing when the surrounding transaction rolls back', async () => {
      const db = await openAudit(() => backend.open())
      const org = randomUUID()
      await chain(db, org, 1)
      await expect(
        db.sql.transaction(async (tx) => {
          await appendAudit(tx, { org, actor: { type: 'system' }, action: 'workflow.created' })
          throw new Error('the change failed')
        }),
      ).rejects.toThrow('the change failed')
      await chain(db, org, 1)
      expect(await verifyAuditChain(db.sql, org)).toMatchObject({ ok: true, entries: 2 })
      await db.close()
    })

    it('refuses malformed entries with the field named', async () => {
      const db = await openAudit(() => backend.open())
      const org = randomUUID()
      const bad = async (input: Record<string, unknown>) => {
        const err = await appendAudit(db.sql, {
          org,
          actor: { type: 'system' },
          action: 'x.y',
          ...input,
        } as never).catch((e) => e)
        expect(err).toBeInstanceOf(AuditError)
        return (err as AuditError).message
      }
      expect(await bad({ org: 'acme' })).toBe('org: expected an organization id (a UUID), got "acme"')
      expect(await bad({ actor: { type: 'robot' } })).toMatch(
        /^actor.type: expected one of user, api_token, agent, system/,
      )
      expect(await bad({ action: 'Workflow Created' })).toMatch(/^action: expected a dotted lower-case verb/)
      expect(await bad({ ip: 'localhost' })).toMatch(/^ip: expected an IPv4 or IPv6 address/)
      expect(await bad({ target: { type: 'workflow', id: '' } })).toMatch(
        /^target.id: expected a string of 1 to 200/,
      )
      expect(await bad({ data: { s: 'a\u0000b' } })).toMatch(/^data: expected JSON without NUL characters/)
      expect(await bad({ data: { big: 'x'.repeat(70_000) } })).toMatch(/^data: expected at most 65536 bytes/)
      await expect(listAudit(db.sql, org, { limit: 0 })).rejects.toThrow(
        'limit: expected an integer from 1 to 500, got 0',
      )
      expect(await verifyAuditChain(db.sql, org)).toMatchObject({ ok: true, entries: 0 })
      await db.close()
    })
  })
}

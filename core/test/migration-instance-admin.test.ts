import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrate } from '../src/db/migrate.ts'
import { MIGRATIONS } from '../src/db/migrations/index.ts'
import { createMigrationsTable, recordMigration } from '../src/db/plans/migrations.ts'
import type { Database } from '../src/db/sql-client.ts'
import { backends } from './helpers/backends.ts'

// An installation upgraded to organizations (migration 6) gets exactly one live instance
// admin: its bootstrap token, or, when that was revoked before the upgrade, the oldest live
// admin token of its organization (migration 8 repairs what migration 6 did to such a one).

/** A database as an older release left it: migrations up to `version` applied. */
async function migratedTo(db: Database, version: number): Promise<void> {
  await db.sql.query(createMigrationsTable())
  for (const m of MIGRATIONS.filter((x) => x.version <= version)) {
    for (const statement of m.sql.split(/;\s*\n/).map((s) => s.trim()))
      if (statement.length > 0) await db.sql.query(statement)
    await db.sql.query(recordMigration(m.version, m.name).text, recordMigration(m.version, m.name).values)
  }
}

async function seedTokens(db: Database, bootstrapRevoked: boolean): Promise<void> {
  await db.sql.query(`INSERT INTO organizations (id, name, created_at) VALUES
    ('00000000-0000-4000-8000-000000000001', 'default', now() - interval '30 days'),
    ('00000000-0000-4000-8000-000000000002', 'other', now() - interval '20 days')`)
  await db.sql.query(
    `INSERT INTO api_tokens (id, org_id, name, role, token_hash, created_at, revoked_at) VALUES
    ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-000000000001', 'bootstrap admin', 'admin', '\\x01', now() - interval '30 days', $1),
    ('00000000-0000-4000-8000-0000000000a2', '00000000-0000-4000-8000-000000000001', 'ops viewer', 'viewer', '\\x02', now() - interval '25 days', NULL),
    ('00000000-0000-4000-8000-0000000000a3', '00000000-0000-4000-8000-000000000001', 'ops admin', 'admin', '\\x03', now() - interval '10 days', NULL),
    ('00000000-0000-4000-8000-0000000000a4', '00000000-0000-4000-8000-000000000002', 'first admin', 'admin', '\\x04', now() - interval '20 days', NULL)`,
    [bootstrapRevoked ? new Date(Date.now() - 86_400_000) : null],
  )
}

async function instanceAdmins(db: Database): Promise<string[]> {
  const { rows } = await db.sql.query<{ name: string }>(
    'SELECT name FROM api_tokens WHERE instance_admin ORDER BY name',
  )
  return rows.map((r) => r.name)
}

for (const backend of backends()) {
  describe(`instance admin after the upgrade, on ${backend.name}`, () => {
    beforeAll(() => backend.prepare())
    afterAll(() => backend.cleanup())

    it('is the bootstrap token when it is live', async () => {
      const db = await backend.open()
      await migratedTo(db, 5)
      await seedTokens(db, false)
      await migrate(db)
      expect(await instanceAdmins(db)).toEqual(['bootstrap admin'])
      await db.close()
    })

    it('is never a bootstrap token revoked before the upgrade: the oldest live admin of its organization instead', async () => {
      const db = await backend.open()
      await migratedTo(db, 5)
      await seedTokens(db, true)
      await migrate(db)
      expect(await instanceAdmins(db)).toEqual(['ops admin'])
      await db.close()
    })

    it('stays with a token the instance admin revoked itself after the upgrade (nobody else is promoted)', async () => {
      const db = await backend.open()
      await migratedTo(db, 7)
      await seedTokens(db, false)
      await db.sql.query(
        `UPDATE api_tokens SET instance_admin = true, revoked_at = now() + interval '1 second' WHERE name = 'bootstrap admin'`,
      )
      await migrate(db)
      expect(await instanceAdmins(db)).toEqual(['bootstrap admin'])
      await db.close()
    })
  })
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrate } from '../src/db/migrate.ts'
import { MIGRATIONS } from '../src/db/migrations/index.ts'
import { openPostgres } from '../src/db/pg-client.ts'
import { openPglite } from '../src/db/pglite-client.ts'
import { backends } from './helpers/backends.ts'

for (const backend of backends()) {
  describe(`database on ${backend.name}`, () => {
    beforeAll(() => backend.prepare())
    afterAll(() => backend.cleanup())

    it('applies each migration once, even when two instances migrate at the same time', async () => {
      const db = await backend.open()
      let twin = db
      if (backend.name === 'postgres') {
        twin = await openPostgres({ connectionString: backend.url!, schema: db.schema, poolSize: 2 })
      } else {
        twin = await openPglite({
          dataDir: undefined,
          schema: db.schema,
          shared: (db as never as { pglite: never }).pglite,
        })
      }
      const [a, b] = await Promise.all([migrate(db), migrate(twin)])
      expect([...a, ...b].sort()).toEqual(MIGRATIONS.map((m) => m.version))
      expect(await migrate(db)).toEqual([])
      const { rows } = await db.sql.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations')
      expect(rows[0]!.n).toBe(MIGRATIONS.length)
      if (twin !== db) await twin.close()
      await db.close()
    })

    it('rolls a transaction back when its function throws, and keeps a failed inner unit apart', async () => {
      const db = await backend.open()
      await migrate(db)
      await db.sql.query(`INSERT INTO organizations (id, name) VALUES (gen_random_uuid(), 'kept')`)
      await expect(
        db.sql.transaction(async (tx) => {
          await tx.query(`INSERT INTO organizations (id, name) VALUES (gen_random_uuid(), 'lost')`)
          throw new Error('boom')
        }),
      ).rejects.toThrow('boom')
      await db.sql.transaction(async (tx) => {
        await tx.query(`INSERT INTO organizations (id, name) VALUES (gen_random_uuid(), 'outer')`)
        await expect(
          tx.transaction(async (inner) => {
            await inner.query(`INSERT INTO organizations (id, name) VALUES (gen_random_uuid(), 'inner')`)
            await inner.query(`INSERT INTO organizations (id, name) VALUES (gen_random_uuid(), 'kept')`)
          }),
        ).rejects.toThrow()
      })
      const { rows } = await db.sql.query<{ name: string }>('SELECT name FROM organizations ORDER BY name')
      expect(rows.map((r) => r.name)).toEqual(['kept', 'outer'])
      await db.close()
    })

    it('passes parameters and JSON both ways', async () => {
      const db = await backend.open()
      const { rows } = await db.sql.query<{ v: { a: number[] }; n: number }>(
        'SELECT $1::jsonb AS v, $2::int + 1 AS n',
        [JSON.stringify({ a: [1, 2] }), 41],
      )
      expect(rows[0]).toEqual({ v: { a: [1, 2] }, n: 42 })
      await db.close()
    })
  })
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backends, dropSchema, freshSchema } from '../../test/helpers/backends.ts'
import { isRegistryError } from '../errors.ts'
import { checkSchemaName } from './identifiers.ts'
import { migrate } from './migrate.ts'
import { MIGRATIONS } from './migrations/index.ts'
import type { SqlClient } from './sql-client.ts'

describe.each(backends)('migrate on $name', (backend) => {
  let db: { sql: SqlClient; close(): Promise<void> }
  const schemas: string[] = []
  beforeAll(async () => {
    db = await backend.open()
  })
  afterAll(async () => {
    for (const s of schemas) await dropSchema(db.sql, s)
    await db.close()
  })

  it('applies every migration once, also when two instances start together', async () => {
    const schema = freshSchema()
    schemas.push(schema)
    const [a, b] = await Promise.all([migrate(db.sql, schema), migrate(db.sql, schema)])
    // One of the two applied everything, the other found nothing left to do.
    expect([...(a ?? []), ...(b ?? [])].sort()).toEqual(MIGRATIONS.map((m) => m.version))
    expect(await migrate(db.sql, schema)).toEqual([])
    const { rows } = await db.sql.query(`SELECT count(*)::int AS n FROM ${schema}.registry_migrations`)
    expect(rows[0]?.n).toBe(MIGRATIONS.length)
    const tables = await db.sql.query<{ name: string }>(
      'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1',
      [schema],
    )
    expect(tables.rows.map((r) => r.name)).toEqual([
      'artifacts',
      'plugins',
      'registry_migrations',
      'tuf_metadata',
      'versions',
    ])
  })
})

describe('checkSchemaName', () => {
  it('refuses anything but a plain lower-case identifier, naming the field', () => {
    expect(checkSchemaName('schema', 'reg_1')).toBe('reg_1')
    for (const bad of ['Reg', '1abc', 'a;drop table x', '', 'a'.repeat(49), 42]) {
      let caught: unknown
      try {
        checkSchemaName('schema', bad)
      } catch (err) {
        caught = err
      }
      expect(isRegistryError(caught, 'STAVILY_ERR_REGISTRY_INVALID_ARGUMENT')).toBe(true)
      expect((caught as Error).message).toMatch(/^schema: a lower-case SQL identifier/)
    }
  })
})

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { MIGRATIONS } from '../src/db/migrations/index.ts'
import { openPglite } from '../src/db/pglite-client.ts'
import { buildSeed, seedFor } from '../src/db/seed.ts'

// The embedded default's pre-built data folder: a new folder started from it has the
// schema migrated and pg-boss installed, so the first start skips that work.

describe('embedded seed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stavily-seed-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('builds a data folder that opens migrated, with pg-boss installed', { timeout: 120_000 }, async () => {
    const file = join(dir, 'seed.tar.gz')
    const size = await buildSeed(file)
    expect(size).toBeGreaterThan(100_000)
    const db = await openPglite({
      dataDir: join(dir, 'data'),
      schema: 'stavily',
      loadDataDir: new Blob([readFileSync(file)]),
    })
    const { rows } = await db.sql.query<{ version: number }>(
      'SELECT version FROM schema_migrations ORDER BY version',
    )
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version))
    const boss = await db.sql.query<{ name: string }>(`SELECT name FROM stavily_boss.queue ORDER BY name`)
    expect(boss.rows.map((r) => r.name)).toContain('stavily.dead')
    await db.close()
  })

  it('is used only for a new folder of the default schema', () => {
    const used = join(dir, 'used')
    mkdirSync(used)
    writeFileSync(join(used, 'PG_VERSION'), '17')
    expect(seedFor(used, 'stavily')).toBeUndefined()
    expect(seedFor(join(dir, 'fresh'), 'other_schema')).toBeUndefined()
    expect(seedFor(undefined, 'stavily')).toBeUndefined()
  })
})

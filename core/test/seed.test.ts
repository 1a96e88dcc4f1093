import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, describe, expect, it } from 'vitest'
import { MIGRATIONS } from '../src/db/migrations/index.ts'
import { openPglite } from '../src/db/pglite-client.ts'
import { buildSeed, plantSeed, seedFor } from '../src/db/seed.ts'

// The embedded default's pre-built data folder: a new folder started from it has the
// schema migrated and pg-boss installed, so the first start skips that work.

describe('embedded seed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stavily-seed-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('builds a data folder that opens migrated, with pg-boss installed', { timeout: 120_000 }, async () => {
    const file = join(dir, 'seed.tar.gz')
    const size = await buildSeed(file)
    expect(size).toBeGreaterThan(100_000)
    plantSeed(file, join(dir, 'data'))
    const db = await openPglite({ dataDir: join(dir, 'data'), schema: 'stavily' })
    const { rows } = await db.sql.query<{ version: number }>(
      'SELECT version FROM schema_migrations ORDER BY version',
    )
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version))
    const boss = await db.sql.query<{ name: string }>(`SELECT name FROM stavily_boss.queue ORDER BY name`)
    expect(boss.rows.map((r) => r.name)).toContain('stavily.dead')
    await db.close()
  })

  it('refuses a file that is not a data-folder tarball, naming it, and leaves no folder behind', () => {
    const file = join(dir, 'not-a-seed.tar.gz')
    const header = Buffer.alloc(1024)
    header.write('/pg_wal/link', 0)
    header.write('0000000', 124)
    header.write('2', 156) // a symbolic link: never in a seed
    writeFileSync(file, gzipSync(header))
    expect(() => plantSeed(file, join(dir, 'bad'))).toThrow(
      /not-a-seed\.tar\.gz: not a data-folder seed \(entry \/pg_wal\/link has type "2"\)/,
    )
    expect(existsSync(join(dir, 'bad'))).toBe(false)
    expect(readdirSync(dir).some((f) => f.includes('.seeding-'))).toBe(false)
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

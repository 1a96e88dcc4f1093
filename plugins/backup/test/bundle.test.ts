// Builds this plugin as the registry does and runs it in the agent's real sandbox (see
// ../../bundle-check.ts) against the real PostgreSQL (a scratch database of its own, created
// and dropped here) and real folders: back up, change the data, restore, compare.
import { randomBytes } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { callIds, inSandbox, itBundlesForTheSandbox } from '../../bundle-check.ts'
import pkg from '../package.json' with { type: 'json' }

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const database = `stavily_backup_${randomBytes(4).toString('hex')}`
const dbUrl = (() => {
  const u = new URL(ADMIN_URL)
  u.pathname = `/${database}`
  u.search = ''
  return u.toString()
})()
const root = join('/tmp/stavily', `backup-${process.pid}-${randomBytes(3).toString('hex')}`)
const destination = join(root, 'backups')
const site = join(root, 'site')
const grants = {
  exec: ['pg_dump', 'pg_restore', 'tar', 'sha256sum', 'wc', 'mv', 'rm'],
  fs: { read: [root], write: [root] },
}

async function sql<T = Record<string, unknown>>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query(text)).rows as T[]
  } finally {
    await client.end()
  }
}

beforeAll(async () => {
  mkdirSync(destination, { recursive: true })
  mkdirSync(join(site, 'conf'), { recursive: true })
  await sql(ADMIN_URL, `CREATE DATABASE ${database}`)
  await sql(
    dbUrl,
    `CREATE TABLE orders (id int PRIMARY KEY, customer text NOT NULL, total numeric(10,2));
     INSERT INTO orders SELECT g, 'customer ' || g, g * 1.5 FROM generate_series(1, 500) g;`,
  )
})

afterAll(async () => {
  await sql(ADMIN_URL, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
  rmSync(root, { recursive: true, force: true })
})

const call = (config: Record<string, unknown>, input: Record<string, unknown> = {}) => ({
  ...callIds(),
  config,
  input,
})

describe('backup bundle', () => {
  itBundlesForTheSandbox(import.meta.url, pkg, 'action')

  it('backs up the real PostgreSQL with pg_dump, keeps the newest N, and restores after the data changed', async () => {
    const config = { database: dbUrl, destination, name: 'shop', keep: 2, timeoutMs: 15_000 }
    await inSandbox(import.meta.url, pkg, grants, async (sandbox, name) => {
      const outputs = []
      for (let i = 0; i < 3; i++)
        outputs.push((await sandbox.invoke(name, call(config))).output as Record<string, unknown>)
      const [first, , third] = outputs
      expect(third).toMatchObject({ operation: 'backup', format: 'postgres', target: null })
      expect(String(third!.file)).toMatch(new RegExp(`^${destination}/shop-\\d{8}T\\d{9}Z\\.dump$`))
      expect(third!.sizeBytes).toBeGreaterThan(1000)
      // The checksum is the file's, and written beside it in sha256sum's format.
      const file = String(third!.file)
      const { createHash } = await import('node:crypto')
      expect(third!.sha256).toBe(createHash('sha256').update(readFileSync(file)).digest('hex'))
      expect(readFileSync(`${file}.sha256`, 'utf8')).toBe(`${third!.sha256}  ${file.split('/').pop()}\n`)
      // Retention: the oldest went with its checksum file; two remain; no partial file is left.
      expect(third!.removed).toEqual([String(first!.file).split('/').pop()])
      const left = readdirSync(destination).sort()
      expect(left).toHaveLength(4)
      expect(left.some((f) => f.includes('partial'))).toBe(false)

      await sql(
        dbUrl,
        `DELETE FROM orders WHERE id > 10; UPDATE orders SET total = 0; CREATE TABLE junk (x int)`,
      )
      // The backup step's output.file, as a workflow passes it on.
      const restored = await sandbox.invoke(name, call(config, { operation: 'restore', file }))
      expect(restored.output).toMatchObject({ operation: 'restore', file, sha256: third!.sha256 })
      const [summary] = await sql<{ n: string; sum: string }>(
        dbUrl,
        'SELECT count(*) AS n, sum(total) AS sum FROM orders',
      )
      expect(summary).toEqual({ n: '500', sum: '187875.00' })
      // --clean restores the dump's objects; a table created since stays (the dump does not know it).
      expect(await sql(dbUrl, `SELECT 1 FROM pg_tables WHERE tablename = 'junk'`)).toHaveLength(1)
    })
  }, 120_000)

  it('refuses to restore a damaged backup, and a name that is not a backup', async () => {
    const config = { database: dbUrl, destination, name: 'tamper', keep: 1 }
    await inSandbox(import.meta.url, pkg, grants, async (sandbox, name) => {
      const out = (await sandbox.invoke(name, call(config))).output as { file: string }
      const bytes = readFileSync(out.file)
      bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1)
      writeFileSync(out.file, bytes)
      await expect(sandbox.invoke(name, call(config, { operation: 'restore' }))).rejects.toMatchObject({
        code: 'BACKUP_CHECKSUM_MISMATCH',
        message: expect.stringContaining('the backup is damaged'),
      })
      await expect(
        sandbox.invoke(name, call(config, { operation: 'restore', file: 'shop-20260101T000000000Z.dump' })),
      ).rejects.toMatchObject({ code: 'BACKUP_NOT_FOUND', message: expect.stringContaining('input.file') })
    })
  }, 60_000)

  it('archives a folder with tar and gzip and restores it', async () => {
    writeFileSync(join(site, 'index.html'), '<h1>v1</h1>\n')
    writeFileSync(join(site, 'conf', 'app.json'), '{"workers":4}\n')
    writeFileSync(join(site, 'cache.tmp'), 'scratch')
    const config = { folder: site, exclude: ['./cache.tmp'], destination, name: 'site', keep: 3 }
    await inSandbox(import.meta.url, pkg, grants, async (sandbox, name) => {
      const out = (await sandbox.invoke(name, call(config))).output as { file: string; sizeBytes: number }
      expect(out.file.endsWith('.tar.gz')).toBe(true)
      writeFileSync(join(site, 'index.html'), '<h1>broken</h1>\n')
      rmSync(join(site, 'conf'), { recursive: true })
      await sandbox.invoke(name, call(config, { operation: 'restore' }))
      expect(readFileSync(join(site, 'index.html'), 'utf8')).toBe('<h1>v1</h1>\n')
      expect(readFileSync(join(site, 'conf', 'app.json'), 'utf8')).toBe('{"workers":4}\n')
      // Restore into another folder leaves the excluded file out.
      const copy = join(root, 'copy')
      mkdirSync(copy)
      await sandbox.invoke(name, call(config, { operation: 'restore', target: copy }))
      expect(readdirSync(copy).sort()).toEqual(['conf', 'index.html'])
    })
  }, 60_000)

  it('writes nothing outside the granted destination', async () => {
    const config = { database: dbUrl, destination: '/tmp/stavily/not-granted', name: 'shop' }
    await inSandbox(import.meta.url, pkg, grants, async (sandbox, name) => {
      await expect(sandbox.invoke(name, call(config))).rejects.toMatchObject({
        code: 'STAVILY_ERR_PERMISSION_DENIED',
        data: { permission: 'fs.write' },
      })
    })
  }, 60_000)
})

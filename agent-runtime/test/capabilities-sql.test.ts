// ctx.sql against the real PostgreSQL: parameterised queries on a granted connection,
// read-only unless the operator granted write (and always for sensors), one statement per
// query, credentials from a secret that plugin code cannot read, LISTEN as a watch stream,
// and clear denials.
import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SandboxErrorCodes as C, createSandbox, type PluginEvent, type Sandbox } from '../src/index.ts'
import { buildFixture, ids, manifest } from './helpers/build-fixture.ts'

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const schema = `sql_cap_${randomUUID().slice(0, 8)}`
const role = `stavily_reader_${randomUUID().slice(0, 8)}`
const password = `pw-${randomUUID()}`
const admin = new pg.Client({ connectionString: DATABASE_URL })
let sandbox: Sandbox
const base = new URL(DATABASE_URL)
// The same database through a role that needs a password: the secret is what lets it in.
const readerUrl = `postgres://${role}@${base.host}${base.pathname}`

beforeAll(async () => {
  await admin.connect()
  await admin.query(`CREATE SCHEMA ${schema}`)
  await admin.query(
    `CREATE TABLE ${schema}.jobs (id int PRIMARY KEY, state text, at timestamptz, big bigint)`,
  )
  await admin.query(
    `INSERT INTO ${schema}.jobs VALUES (1, 'ok', '2026-01-02T03:04:05Z', 9007199254740993), (2, 'failed', NULL, 1)`,
  )
  await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`)
  await admin.query(`GRANT USAGE ON SCHEMA ${schema} TO ${role}`)
  await admin.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${schema}.jobs TO ${role}`)
  sandbox = await createSandbox()
  const connections = {
    sql: {
      main: { url: DATABASE_URL },
      writer: { url: DATABASE_URL, write: true },
      reader: { url: readerUrl, passwordSecret: 'READER_PASSWORD' },
      elsewhere: { url: `postgres://postgres@${hostname()}:5432/test` },
    },
    smtp: {},
  }
  await sandbox.load({
    manifest: manifest('sql-action', { permissions: { sql: ['$granted'], secrets: ['READER_PASSWORD'] } }),
    bundle: await buildFixture('data-caps'),
    grants: {
      sql: ['main', 'writer', 'reader', 'elsewhere'],
      secrets: ['READER_PASSWORD'],
      connections,
    } as never,
  })
  await sandbox.load({
    manifest: manifest('sql-named', { permissions: { sql: ['main'] } }),
    bundle: await buildFixture('data-caps'),
    grants: { sql: ['writer'], connections } as never,
  })
  await sandbox.load({
    manifest: manifest('sql-sensor', { kind: 'sensor', permissions: { sql: ['$granted'] } }),
    bundle: await buildFixture('data-watch'),
    grants: { sql: ['writer'], connections } as never,
  })
})
afterAll(async () => {
  await sandbox?.close()
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {})
  await admin.query(`DROP ROLE IF EXISTS ${role}`).catch(() => {})
  await admin.end()
})

const query = (
  connection: string,
  text: string,
  params?: unknown[],
  options?: unknown,
  plugin = 'sql-action',
) =>
  sandbox.invoke(plugin, {
    ...ids(),
    input: { op: 'query', connection, text, params, options },
    secrets: { READER_PASSWORD: password },
  })

describe('ctx.sql.query', () => {
  it('binds parameters and returns rows as JSON (timestamps as ISO, bigint as text)', async () => {
    const r = await query('main', `SELECT id, state, at, big FROM ${schema}.jobs WHERE id = $1`, [1])
    expect(r.output).toEqual({
      rows: [{ id: 1, state: 'ok', at: '2026-01-02T03:04:05.000Z', big: '9007199254740993' }],
      rowCount: 1,
      fields: ['id', 'state', 'at', 'big'],
      command: 'SELECT',
    })
    // A parameter is a value, never SQL.
    const injected = await query('main', `SELECT count(*)::int AS n FROM ${schema}.jobs WHERE state = $1`, [
      "x' OR '1'='1",
    ])
    expect((injected.output as { rows: unknown[] }).rows).toEqual([{ n: 0 }])
  })

  it('is read-only unless the operator granted write', async () => {
    await expect(query('main', `DELETE FROM ${schema}.jobs WHERE id = 2`)).rejects.toMatchObject({
      code: C.CAPABILITY_FAILED,
      message: expect.stringContaining('read-only transaction'),
      data: { sqlState: '25006' },
    })
    const { rows } = await admin.query(`SELECT count(*)::int AS n FROM ${schema}.jobs`)
    expect(rows[0].n).toBe(2)
    const written = await query('writer', `UPDATE ${schema}.jobs SET state = $1 WHERE id = 2`, ['retried'])
    expect(written.output).toMatchObject({ rowCount: 1, command: 'UPDATE' })
  })

  it('runs exactly one statement: a second one cannot ride along', async () => {
    await expect(query('main', `SELECT 1; DELETE FROM ${schema}.jobs`)).rejects.toMatchObject({
      code: C.CAPABILITY_FAILED,
      message: expect.stringContaining('cannot insert multiple commands into a prepared statement'),
    })
    await expect(query('main', 'COMMIT')).resolves.toBeDefined()
    await expect(query('main', `DELETE FROM ${schema}.jobs`)).rejects.toMatchObject({
      data: { sqlState: '25006' },
    })
  })

  it('connects with the password from a secret, which plugin code cannot read', async () => {
    const r = await query('reader', `SELECT current_user AS who, count(*)::int AS n FROM ${schema}.jobs`)
    expect((r.output as { rows: unknown[] }).rows).toEqual([{ who: role, n: 2 }])
    await expect(
      sandbox.invoke('sql-action', {
        ...ids(),
        input: { op: 'secret', name: 'READER_PASSWORD' },
        secrets: { READER_PASSWORD: password },
      }),
    ).rejects.toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'secrets', value: 'READER_PASSWORD', reason: 'credential' },
    })
    await expect(
      sandbox.invoke('sql-action', {
        ...ids(),
        input: { op: 'query', connection: 'reader', text: 'SELECT 1' },
      }),
    ).rejects.toMatchObject({ code: C.SECRET_MISSING, message: expect.stringContaining('READER_PASSWORD') })
  })

  it('caps rows and time, and fails clearly on bad arguments', async () => {
    await expect(
      query('main', 'SELECT generate_series(1, 5) AS n', [], { maxRows: 3 }),
    ).rejects.toMatchObject({
      message: expect.stringContaining('more than 3 rows (options.maxRows)'),
    })
    await expect(query('main', 'SELECT pg_sleep(5)', [], { timeoutMs: 300 })).rejects.toMatchObject({
      code: C.CAPABILITY_FAILED,
      retryable: true,
      message: expect.stringContaining('timed out'),
    })
    await expect(query('main', 'SELECT $1', [{ a: 1 }])).rejects.toMatchObject({
      message: expect.stringContaining('sql.query params[0]: expected a string, number, boolean or null'),
    })
  })

  it('denies connections not granted or not declared, and applies the address rules', async () => {
    await expect(query('other', 'SELECT 1')).rejects.toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'sql', value: 'other', reason: 'ungranted' },
    })
    await expect(query('writer', 'SELECT 1', [], undefined, 'sql-named')).rejects.toMatchObject({
      data: { permission: 'sql', value: 'writer', reason: 'undeclared' },
      message: expect.stringContaining('add it to stavily.permissions.sql'),
    })
    // The machine's own name resolves to loopback: not an address a name may reach.
    await expect(query('elsewhere', 'SELECT 1')).rejects.toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { reason: 'address' },
    })
  })
})

describe('ctx.sql in sensors', () => {
  it('never writes, even on a connection granted write', async () => {
    await expect(
      sandbox.invoke('sql-sensor', {
        ...ids(),
        operation: 'check',
        config: { mode: 'query', connection: 'writer', text: `DELETE FROM ${schema}.jobs` },
      }),
    ).rejects.toMatchObject({ data: { sqlState: '25006' } })
    const { rows } = await admin.query(`SELECT count(*)::int AS n FROM ${schema}.jobs`)
    expect(rows[0].n).toBe(2)
  })

  it('LISTEN streams notifications into a watch, and the connection ends with it', async () => {
    const channel = `jobs_${randomUUID().slice(0, 8)}`
    const seen: PluginEvent[] = []
    const stop = new AbortController()
    const running = sandbox.invoke('sql-sensor', {
      ...ids(),
      operation: 'watch',
      config: { mode: 'listen', connection: 'writer', channel },
      deadline: Date.now() + 30_000,
      signal: stop.signal,
      onEvent: (e) => seen.push(e),
    })
    await waitFor(() => seen.some((e) => e.type === 'ready'))
    await admin.query('SELECT pg_notify($1, $2)', [channel, '{"id":7}'])
    await admin.query('SELECT pg_notify($1, $2)', [channel, 'second'])
    await waitFor(() => seen.filter((e) => e.type === 'item').length === 2)
    expect(seen.filter((e) => e.type === 'item').map((e) => (e.data as { payload: string }).payload)).toEqual(
      ['{"id":7}', 'second'],
    )
    stop.abort()
    await running
    await waitFor(async () => {
      const { rows } = await admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE query = $1', [
        `LISTEN "${channel}"`,
      ])
      return rows[0].n === 0
    })
  })

  it('refuses listen to an action: it has no such method', async () => {
    const r = await sandbox.invoke('sql-action', { ...ids(), input: { op: 'listen' } })
    expect(r.output).toEqual({ hasListen: false })
  })
})

async function waitFor(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const until = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 50))
  }
}

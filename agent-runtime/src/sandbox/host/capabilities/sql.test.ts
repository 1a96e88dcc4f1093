import { getEventListeners } from 'node:events'
import { writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { hostname } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runName } from '../../../../../test/run-names.ts'
import { tempDir } from '../../../../../test/temp-dir.ts'
import { failed, hostCall, hostGrants, hostPlugin, rejection } from '../../../../test/helpers/host-plugin.ts'
import type { PluginLimits } from '../../../defaults.ts'
import { SandboxErrorCodes as C } from '../../../errors.ts'
import type { PluginInstance } from '../plugin-instance.ts'
import { hostSqlListen, hostSqlQuery, type SqlOptions } from './sql.ts'
import { closeStream, nextBatch, openStream, type Stream } from './subscriptions.ts'

// ctx.sql on the host against the real PostgreSQL: the connection a plugin names is checked
// (granted, defined, its address), each query runs on its own connection, read-only unless
// the operator granted write (never for sensors), one statement, rows as plain JSON, capped
// by count, size and time; LISTEN delivers notifications into a stream.

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const base = new URL(DATABASE_URL)
const schema = runName('sql_unit')
const role = runName('sql_reader')
const admin = new pg.Client({ connectionString: DATABASE_URL })
const folder = tempDir('sql-unit')
const passwordFile = join(folder, 'password')
let closedPort = 0

const NAMES = ['main', 'writer', 'reader', 'filed', 'nofile', 'params', 'tls', 'noport', 'down', 'elsewhere']
let action: PluginInstance
let sensor: PluginInstance

beforeAll(async () => {
  await admin.connect()
  await admin.query(`CREATE SCHEMA ${schema}`)
  await admin.query(`CREATE TABLE ${schema}.jobs (id int PRIMARY KEY, state text)`)
  await admin.query(`INSERT INTO ${schema}.jobs VALUES (1, 'ok'), (2, 'failed'), (3, 'ok')`)
  await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD 'unused'`)
  await admin.query(`GRANT USAGE ON SCHEMA ${schema} TO ${role}`)
  await admin.query(`GRANT SELECT ON ${schema}.jobs TO ${role}`)
  writeFileSync(passwordFile, 'from-file\n')
  // A port nothing listens on.
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  closedPort = (probe.address() as { port: number }).port
  await new Promise((resolve) => probe.close(resolve))
  const readerUrl = `postgres://${role}@${base.host}${base.pathname}`
  const connections = {
    sql: {
      main: { url: DATABASE_URL },
      writer: { url: DATABASE_URL, write: true },
      reader: { url: readerUrl, passwordSecret: 'READER_PASSWORD' },
      filed: { url: readerUrl, passwordFile },
      nofile: { url: readerUrl, passwordFile: join(folder, 'missing') },
      params: { url: `${DATABASE_URL}?sslmode=disable&application_name=mine` },
      tls: { url: `${DATABASE_URL}?sslmode=require` },
      noport: { url: `postgres://${base.username}@${base.hostname}${base.pathname}` },
      down: { url: `postgres://postgres@127.0.0.1:${closedPort}/test` },
      elsewhere: { url: `postgres://postgres@${hostname()}:5432/test` },
    },
  }
  // "ghost" is granted by name without a definition: an operator's mistake.
  const grants = { sql: [...NAMES, 'ghost'], secrets: ['READER_PASSWORD'], connections }
  const permissions = { sql: ['$granted'], secrets: ['READER_PASSWORD'] }
  action = hostPlugin({ name: '@acme/sql-action', permissions, grants })
  sensor = hostPlugin({ name: '@acme/sql-sensor', kind: 'sensor', permissions, grants })
})
afterAll(async () => {
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {})
  await admin.query(`DROP ROLE IF EXISTS ${role}`).catch(() => {})
  await admin.end()
})

interface Over {
  limits?: Partial<PluginLimits>
  secrets?: Record<string, string>
  deadline?: number
  signal?: AbortSignal
}

/** The options the dispatch gives ctx.sql for `plugin` (dispatch.ts). */
function options(plugin: PluginInstance, over: Over = {}): SqlOptions {
  const { guard, connections } = hostGrants(plugin)
  return {
    guard,
    limits: { ...plugin.spec.limits, ...over.limits },
    kind: plugin.info.kind,
    connections: connections.sql,
    secrets: over.secrets ?? {},
    allowPrivateNetwork: plugin.spec.allowPrivateNetwork,
    deadline: over.deadline ?? Date.now() + 60_000,
    signal: over.signal ?? new AbortController().signal,
  }
}

const query = (connection: unknown, text: unknown, params?: unknown, opts?: unknown, over: Over = {}) =>
  hostSqlQuery(connection, text, params, opts, options(action, over))

async function waitFor(check: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 20))
  }
}

const count = async (sql: string, params: unknown[] = []) =>
  (await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM (${sql}) x`, params)).rows[0]!.n

describe('hostSqlQuery: arguments', () => {
  it('refuses a connection argument that is not a short string', async () => {
    expect(await rejection(query(7, 'SELECT 1'))).toEqual(
      failed('sql.query connection: expected a non-empty string of at most 64 characters, got number'),
    )
    expect(await rejection(query('m'.repeat(65), 'SELECT 1'))).toEqual(
      failed(
        'sql.query connection: expected a non-empty string of at most 64 characters, got a string of 65 characters',
      ),
    )
    expect((await rejection(query('m'.repeat(64), 'SELECT 1'))).code).toBe(C.PERMISSION_DENIED)
  })

  it('denies a connection not granted, and says when a granted one is not defined', async () => {
    expect(await rejection(query('other', 'SELECT 1'))).toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'sql', value: 'other', reason: 'ungranted' },
    })
    expect(await rejection(query('ghost', 'SELECT 1'))).toEqual(
      failed(
        'sql.query: connection "ghost" is granted but the agent defines no such connection (grants.sql.ghost.url)',
      ),
    )
  })

  it('refuses a text that is no statement, before connecting', async () => {
    // "down" would fail to connect: the argument is refused first.
    for (const text of ['', '   ', 7, undefined])
      expect((await rejection(query('down', text))).message).toMatch(
        /^sql\.query text: expected a non-empty SQL statement of at most 1048576 characters, got /,
      )
    expect(await rejection(query('down', 'SELECT 1\0'))).toEqual(
      failed('sql.query text: must not contain a NUL character'),
    )
  })

  it('takes params as an array of plain values; null or absent is none', async () => {
    expect(await rejection(query('down', 'SELECT $1', { a: 1 }))).toEqual(
      failed('sql.query params: expected an array of at most 1000 values, got an object'),
    )
    expect((await rejection(query('down', 'SELECT $1', [1, { a: 1 }]))).message).toBe(
      'sql.query params[1]: expected a string, number, boolean or null (pass JSON as a string and cast it, $2::jsonb), got an object',
    )
    expect((await query('main', 'SELECT 1 AS one', null)).rows).toEqual([{ one: 1 }])
    expect((await query('main', 'SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
  })

  it('checks options: an object, maxRows from 1 to 100000, timeoutMs from 1 ms to a day', async () => {
    expect(await rejection(query('down', 'SELECT 1', [], 'fast'))).toEqual(
      failed('sql.query options: expected an object, got "fast"'),
    )
    for (const maxRows of [0, 100_001, '5', Number.NaN])
      expect((await rejection(query('down', 'SELECT 1', [], { maxRows }))).message).toMatch(
        /^sql\.query options\.maxRows: expected a number from 1 to 100000, got /,
      )
    for (const timeoutMs of [0, 24 * 3600_000 + 1, '5'])
      expect((await rejection(query('down', 'SELECT 1', [], { timeoutMs }))).message).toMatch(
        /^sql\.query options\.timeoutMs: expected a number from 1 to 86400000, got /,
      )
    expect(
      (await query('main', 'SELECT 1 AS one', [], { maxRows: 100_000, timeoutMs: 24 * 3600_000 })).rows,
    ).toEqual([{ one: 1 }])
    expect((await query('main', 'SELECT 1 AS one', [], { maxRows: 1, timeoutMs: null })).rows).toEqual([
      { one: 1 },
    ])
  })

  it('refuses URL parameters other than sslmode in the operator’s definition', async () => {
    expect(await rejection(query('params', 'SELECT 1'))).toEqual(
      failed(
        'sql.query: connection "params": URL parameter "application_name" is not supported; only sslmode (disable, require, verify-full)',
      ),
    )
  })

  it('applies the address rules to the connection’s host', async () => {
    expect(await rejection(query('elsewhere', 'SELECT 1'))).toMatchObject({
      code: C.PERMISSION_DENIED,
      data: {
        permission: 'sql connection "elsewhere"',
        value: `${hostname().toLowerCase()}:5432`,
        reason: 'address',
      },
    })
  })
})

describe('hostSqlQuery: results', () => {
  it('binds parameters as values and returns rows, fields and command', async () => {
    expect(
      await query('main', `SELECT id, state FROM ${schema}.jobs WHERE state = $1 ORDER BY id`, ['ok']),
    ).toEqual({
      rows: [
        { id: 1, state: 'ok' },
        { id: 3, state: 'ok' },
      ],
      rowCount: 2,
      fields: ['id', 'state'],
      command: 'SELECT',
    })
    expect(
      (
        await query('main', `SELECT count(*)::int AS n FROM ${schema}.jobs WHERE state = $1`, [
          "x' OR '1'='1",
        ])
      ).rows,
    ).toEqual([{ n: 0 }])
    expect(await query('main', `SELECT id FROM ${schema}.jobs WHERE id > $1`, [99])).toEqual({
      rows: [],
      rowCount: 0,
      fields: ['id'],
      command: 'SELECT',
    })
  })

  it('returns plain JSON values: timestamps as ISO text, an out-of-range one as null, bytea as base64', async () => {
    const r = await query(
      'main',
      `SELECT '2026-01-02T03:04:05.678Z'::timestamptz AS at, '290000-01-01 00:00:00+00'::timestamptz AS far,
              '\\x0102ff'::bytea AS bin, 9007199254740993::bigint AS big, 1.50::numeric AS num,
              '{"a":[1,2]}'::jsonb AS j, NULL AS nothing, true AS yes, 'text' AS t`,
    )
    expect(r.rows).toStrictEqual([
      {
        at: '2026-01-02T03:04:05.678Z',
        far: null,
        bin: 'AQL/',
        big: '9007199254740993',
        num: '1.50',
        j: { a: [1, 2] },
        nothing: null,
        yes: true,
        t: 'text',
      },
    ])
  })

  it('counts rows of a command without a count as none', async () => {
    expect(await query('main', 'SET search_path = public')).toEqual({
      rows: [],
      rowCount: 0,
      fields: [],
      command: 'SET',
    })
  })

  it('connects as the URL says: user, database, default port 5432, as "stavily-agent"', async () => {
    const r = await query(
      'noport',
      "SELECT current_user AS who, current_database() AS db, current_setting('application_name') AS app",
    )
    expect(r.rows).toEqual([
      { who: decodeURIComponent(base.username), db: base.pathname.slice(1), app: 'stavily-agent' },
    ])
    expect((await query('filed', 'SELECT current_user AS who')).rows).toEqual([{ who: role }])
  })

  it('does not reach a server that offers no TLS when the URL asks for it', async () => {
    expect(await rejection(query('tls', 'SELECT 1'))).toEqual(
      failed('sql.query on tls: The server does not support SSL connections'),
    )
  })
})

describe('hostSqlQuery: read-only, one statement', () => {
  it('runs read-only unless the operator granted write, and commits what it read', async () => {
    expect(await rejection(query('main', `DELETE FROM ${schema}.jobs WHERE id = 2`))).toEqual(
      failed('sql.query on main: cannot execute DELETE in a read-only transaction', {
        data: { sqlState: '25006' },
      }),
    )
    expect(await count(`SELECT 1 FROM ${schema}.jobs`)).toBe(3)
    expect(await query('writer', `UPDATE ${schema}.jobs SET state = $1 WHERE id = 2`, ['retried'])).toEqual({
      rows: [],
      rowCount: 1,
      fields: [],
      command: 'UPDATE',
    })
    expect(await count(`SELECT 1 FROM ${schema}.jobs WHERE state = 'retried'`)).toBe(1)
    // A notification is delivered only when its transaction commits: the read-only one does.
    const listener = new pg.Client({ connectionString: DATABASE_URL })
    await listener.connect()
    try {
      const heard: string[] = []
      listener.on('notification', (n) => heard.push(n.payload ?? ''))
      const channel = runName('ro_commit')
      await listener.query(`LISTEN ${channel}`)
      await query('main', 'SELECT pg_notify($1, $2)', [channel, 'committed'])
      await waitFor(() => heard.length === 1)
      expect(heard).toEqual(['committed'])
    } finally {
      await listener.end()
    }
  })

  it('never writes for a sensor, even on a connection granted write', async () => {
    expect(
      await rejection(hostSqlQuery('writer', `DELETE FROM ${schema}.jobs`, [], undefined, options(sensor))),
    ).toMatchObject({ data: { sqlState: '25006' } })
    expect(await count(`SELECT 1 FROM ${schema}.jobs`)).toBe(3)
  })

  it('runs exactly one statement: a second one cannot ride along, a COMMIT changes nothing', async () => {
    expect(await rejection(query('main', `SELECT 1; DELETE FROM ${schema}.jobs`))).toEqual(
      failed('sql.query on main: cannot insert multiple commands into a prepared statement', {
        data: { sqlState: '42601' },
      }),
    )
    expect((await query('main', 'COMMIT')).command).toBe('COMMIT')
    expect((await rejection(query('main', `DELETE FROM ${schema}.jobs`))).data).toEqual({ sqlState: '25006' })
    expect(await count(`SELECT 1 FROM ${schema}.jobs`)).toBe(3)
  })
})

describe('hostSqlQuery: errors', () => {
  it('fails a bad statement without retry, with its SQLSTATE', async () => {
    expect(await rejection(query('main', 'SELEC 1'))).toEqual(
      failed('sql.query on main: syntax error at or near "SELEC"', { data: { sqlState: '42601' } }),
    )
  })

  it('marks connection, shutdown, resource and rollback classes retryable, and no others', async () => {
    const cases: [string, boolean][] = [
      ['08006', true],
      ['57P01', true],
      ['53300', true],
      ['40001', true],
      ['40P01', true],
      ['57014', false],
      ['22008', false],
      ['42501', false],
      ['P0001', false],
    ]
    for (const [state, retryable] of cases) {
      const text = `DO $$ BEGIN RAISE EXCEPTION 'raised %', '${state}' USING ERRCODE = '${state}'; END $$`
      expect(await rejection(query('main', text)), state).toEqual(
        failed(`sql.query on main: raised ${state}`, { data: { sqlState: state }, retryable }),
      )
    }
  })

  it('fails a refused connection as retryable', async () => {
    expect(await rejection(query('down', 'SELECT 1'))).toEqual(
      failed(`sql.query on down: connect ECONNREFUSED 127.0.0.1:${closedPort}`, {
        data: { sqlState: 'ECONNREFUSED' },
        retryable: true,
      }),
    )
  })

  it('fails a query whose session the server ends as retryable', async () => {
    const marker = runName('terminated')
    const running = rejection(query('main', `SELECT pg_sleep(30) /* ${marker} */`))
    const pid = `SELECT pid FROM pg_stat_activity WHERE query LIKE '%${marker}%' AND pid <> pg_backend_pid()`
    await waitFor(async () => (await count(pid)) === 1)
    await admin.query(`SELECT pg_terminate_backend(pid) FROM (${pid}) p`)
    expect(await running).toEqual(
      failed('sql.query on main: terminating connection due to administrator command', {
        data: { sqlState: '57P01' },
        retryable: true,
      }),
    )
  })
})

describe('hostSqlQuery: credentials', () => {
  it('takes the password from the secret named by the operator, or fails naming it', async () => {
    expect(
      (
        await query('reader', 'SELECT current_user AS who', [], undefined, {
          secrets: { READER_PASSWORD: 'x' },
        })
      ).rows,
    ).toEqual([{ who: role }])
    expect(await rejection(query('reader', 'SELECT 1', [], undefined, { secrets: { OTHER: 'x' } }))).toEqual({
      code: C.SECRET_MISSING,
      message:
        'sql.query: connection "reader" takes its password from the secret READER_PASSWORD, which was not supplied for this call: the plugin must declare it in permissions.secrets and the agent grant it',
      data: { name: 'READER_PASSWORD' },
      retryable: false,
    })
  })

  it('fails clearly when its password file cannot be read', async () => {
    expect(await rejection(query('nofile', 'SELECT 1'))).toEqual(
      failed('sql.query: connection "nofile": cannot read its passwordFile: ENOENT'),
    )
  })
})

describe('hostSqlQuery: caps', () => {
  it('returns up to maxRows rows (1000 unless asked) and fails past them', async () => {
    expect((await query('main', 'SELECT generate_series(1, 3) AS n', [], { maxRows: 3 })).rowCount).toBe(3)
    expect(await rejection(query('main', 'SELECT generate_series(1, 4) AS n', [], { maxRows: 3 }))).toEqual(
      failed('sql.query on main: more than 3 rows (options.maxRows); add a LIMIT or page with a cursor'),
    )
    expect((await query('main', 'SELECT generate_series(1, 1000) AS n')).rows).toHaveLength(1000)
    expect((await rejection(query('main', 'SELECT generate_series(1, 1001) AS n'))).message).toBe(
      'sql.query on main: more than 1000 rows (options.maxRows); add a LIMIT or page with a cursor',
    )
  })

  it('returns rows up to limits.sqlResultBytes as JSON, and fails one byte past it', async () => {
    // Each row is {"s":"xxxxxxxxxx"}: 18 bytes.
    const rows = (n: number) => `SELECT repeat('x', 10) AS s FROM generate_series(1, ${n})`
    expect(
      (await query('main', rows(2), [], undefined, { limits: { sqlResultBytes: 36 } })).rows,
    ).toHaveLength(2)
    expect(
      await rejection(query('main', rows(2), [], undefined, { limits: { sqlResultBytes: 35 } })),
    ).toEqual(
      failed('sql.query on main: the result is larger than the limit of 35 bytes (limits.sqlResultBytes)'),
    )
    // Multi-byte characters count as bytes.
    expect(
      await rejection(query('main', "SELECT 'éé' AS s", [], undefined, { limits: { sqlResultBytes: 11 } })),
    ).toMatchObject({ message: expect.stringContaining('larger than the limit of 11 bytes') })
    expect(
      (await query('main', "SELECT 'éé' AS s", [], undefined, { limits: { sqlResultBytes: 12 } })).rows,
    ).toEqual([{ s: 'éé' }])
  })
})

describe('hostSqlQuery: time', () => {
  const statementTimeout = async (opts: unknown, over: Over = {}) =>
    (await query('main', "SELECT current_setting('statement_timeout') AS t", [], opts, over)).rows[0]!
      .t as string

  it('sets the server’s statement_timeout to the least of timeoutMs, limits.sqlTimeoutMs and the deadline', async () => {
    expect(await statementTimeout(undefined)).toBe('15s')
    expect(await statementTimeout({ timeoutMs: 4000 })).toBe('4s')
    expect(await statementTimeout({ timeoutMs: 60_000 })).toBe('15s')
    expect(await statementTimeout(undefined, { limits: { sqlTimeoutMs: 7000 } })).toBe('7s')
    const left = Number.parseInt(
      await statementTimeout(undefined, {
        limits: { sqlTimeoutMs: 120_000 },
        deadline: Date.now() + 30_000,
      }),
      10,
    )
    // In ms when not whole seconds ("29993ms"); in seconds on a fast machine ("30s").
    expect(left === 30 || (left > 20_000 && left < 30_000)).toBe(true)
  })

  it('ends a query at its timeout as retryable, naming the time', async () => {
    expect(await rejection(query('main', 'SELECT pg_sleep(5)', [], { timeoutMs: 200 }))).toEqual(
      failed('sql.query on main: timed out after 200 ms', { retryable: true }),
    )
    expect(
      await rejection(query('main', 'SELECT pg_sleep(5)', [], undefined, { limits: { sqlTimeoutMs: 250 } })),
    ).toEqual(failed('sql.query on main: timed out after 250 ms', { retryable: true }))
  })

  it('gives a query past its deadline 1 ms', async () => {
    expect(
      await rejection(query('main', 'SELECT pg_sleep(1)', [], undefined, { deadline: Date.now() - 1000 })),
    ).toEqual(failed('sql.query on main: timed out after 1 ms', { retryable: true }))
  })

  it('runs nothing for a call stopped before the query began', async () => {
    const stop = new AbortController()
    stop.abort()
    expect(
      await rejection(
        query('writer', `UPDATE ${schema}.jobs SET state = 'stopped' WHERE id = 1`, [], undefined, {
          signal: stop.signal,
        }),
      ),
    ).toEqual(failed('sql.query on writer: the call was stopped; not run', { retryable: true }))
    expect(await count(`SELECT 1 FROM ${schema}.jobs WHERE state = 'stopped'`)).toBe(0)
  })

  it('ends a running query when the call’s signal aborts, and lets go of the signal after', async () => {
    const stop = new AbortController()
    const marker = runName('aborted')
    const running = rejection(
      query('main', `SELECT pg_sleep(3) /* ${marker} */`, [], undefined, { signal: stop.signal }),
    )
    await waitFor(
      async () =>
        (await count(
          `SELECT 1 FROM pg_stat_activity WHERE query LIKE '%${marker}%' AND pid <> pg_backend_pid()`,
        )) === 1,
    )
    stop.abort()
    expect(await running).toEqual(failed('sql.query on main: timed out after 15000 ms', { retryable: true }))
    const kept = new AbortController()
    await query('main', 'SELECT 1', [], undefined, { signal: kept.signal })
    expect(getEventListeners(kept.signal, 'abort')).toHaveLength(0)
  })
})

/** A stream that keeps what it is given. */
function collector<T>(): Stream<T> & { items: T[]; errors: Error[] } {
  const items: T[] = []
  const errors: Error[] = []
  return { items, errors, push: (i) => items.push(i), fail: (e) => errors.push(e) }
}

const listeners = (channel: string) =>
  count('SELECT 1 FROM pg_stat_activity WHERE query = $1', [`LISTEN "${channel}"`])

describe('hostSqlListen', () => {
  it('delivers notifications on its channel into the stream until released', async () => {
    const call = hostCall({ operation: 'watch' })
    const channel = runName('Jobs')
    const o = options(sensor)
    const id = await openStream(call, 'sql.listen', sensor.spec.limits, (stream) =>
      hostSqlListen('main', channel, o, stream),
    )
    expect(await listeners(channel)).toBe(1)
    const adminPid = (await admin.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid
    await admin.query('SELECT pg_notify($1, $2)', [channel, '{"id":7}'])
    await admin.query('SELECT pg_notify($1, NULL)', [channel])
    // The channel is an identifier as written: its lower-case twin is another channel.
    await admin.query('SELECT pg_notify($1, $2)', [channel.toLowerCase(), 'elsewhere'])
    const got: unknown[] = []
    await waitFor(async () => {
      got.push(...(await nextBatch(call, id, { timeoutMs: 200 }, Date.now() + 10_000)).items)
      return got.length >= 2
    })
    expect(got).toEqual([
      { channel, payload: '{"id":7}', processId: adminPid },
      { channel, payload: '', processId: adminPid },
    ])
    closeStream(call, id)
    await waitFor(async () => (await listeners(channel)) === 0)
  })

  it('checks the connection and the channel before connecting', async () => {
    const stream = collector()
    const listen = (connection: unknown, channel: unknown) =>
      rejection(hostSqlListen(connection, channel, options(sensor), stream))
    expect(await listen(7, 'jobs')).toEqual(
      failed('sql.listen connection: expected a non-empty string of at most 64 characters, got number'),
    )
    expect(await listen('other', 'jobs')).toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { reason: 'ungranted' },
    })
    expect(await listen('ghost', 'jobs')).toEqual(
      failed(
        'sql.listen: connection "ghost" is granted but the agent defines no such connection (grants.sql.ghost.url)',
      ),
    )
    for (const channel of ['jobs; DROP TABLE x', '1jobs', 'x'.repeat(64), 7])
      expect((await listen('down', channel)).message).toMatch(
        /^sql\.listen channel: expected a channel name \(letters, digits, _ and \$, starting with a letter or _, at most 63\), got /,
      )
    expect(await listen('reader', 'jobs')).toMatchObject({ code: C.SECRET_MISSING })
    expect(stream.errors).toEqual([])
  })

  it('fails to start as retryable when the server cannot be reached, and leaves the stream alone', async () => {
    const stream = collector()
    expect(await rejection(hostSqlListen('down', 'jobs', options(sensor), stream))).toEqual(
      failed(`sql.listen on down: connect ECONNREFUSED 127.0.0.1:${closedPort}`, {
        data: { sqlState: 'ECONNREFUSED' },
        retryable: true,
      }),
    )
    expect(stream.errors).toEqual([])
  })

  it('ends the stream with a retryable error when the server closes the session, not when released', async () => {
    const channel = runName('dropped')
    const stream = collector<unknown>()
    await hostSqlListen('main', channel, options(sensor), stream)
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1', [
      `LISTEN "${channel}"`,
    ])
    await waitFor(() => stream.errors.length > 0)
    // The server says why before it closes: that reason comes first (a stream keeps the first).
    expect(stream.errors[0]).toMatchObject({
      code: C.CAPABILITY_FAILED,
      message: 'sql.listen on main: terminating connection due to administrator command',
      data: { sqlState: '57P01' },
      retryable: true,
    })

    const quiet = collector<unknown>()
    const other = runName('released')
    const release = await hostSqlListen('main', other, options(sensor), quiet)
    release()
    await waitFor(async () => (await listeners(other)) === 0)
    expect(quiet.errors).toEqual([])
  })
})

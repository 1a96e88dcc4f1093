// Builds this plugin as the registry does and runs it in the agent's real sandbox (see
// ../../bundle-check.ts) against the real PostgreSQL (DATABASE_URL, else the local test
// database), in a schema of its own: a threshold on a count, new rows past a cursor, and
// NOTIFY on a LISTEN channel as a watch.
import { randomUUID } from 'node:crypto'
import type { PluginEvent } from '@stavily/agent'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { callIds, inSandbox, itBundlesForTheSandbox } from '../../bundle-check.ts'
import pkg from '../package.json' with { type: 'json' }

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const schema = `postgres_sensor_${randomUUID().slice(0, 8)}`
const admin = new pg.Client({ connectionString: DATABASE_URL })
const grants = { sql: ['main'], connections: { sql: { main: { url: DATABASE_URL } }, smtp: {} } } as never

beforeAll(async () => {
  await admin.connect()
  await admin.query(`CREATE SCHEMA ${schema}`)
  await admin.query(
    `CREATE TABLE ${schema}.jobs (id serial PRIMARY KEY, queue text NOT NULL, state text NOT NULL)`,
  )
  await admin.query(`CREATE TABLE ${schema}.orders (id bigserial PRIMARY KEY, total numeric NOT NULL)`)
})

afterAll(async () => {
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {})
  await admin.end()
})

describe('postgres bundle', () => {
  itBundlesForTheSandbox(import.meta.url, pkg, 'sensor')

  it('reports a count over its threshold and its resolution, from the real database', async () => {
    await inSandbox(import.meta.url, pkg, grants, async (sandbox, name) => {
      const config = {
        connection: 'main',
        mode: 'threshold',
        name: 'failed-jobs',
        query: `SELECT queue, count(*) AS value FROM ${schema}.jobs WHERE state = $1 GROUP BY queue`,
        params: ['failed'],
        operator: '>=',
        threshold: 3,
      }
      const check = async () => (await sandbox.invoke(name, { ...callIds(), config })).events
      await admin.query(`INSERT INTO ${schema}.jobs (queue, state) VALUES ('mail', 'failed'), ('mail', 'ok')`)
      expect(await check()).toEqual([])
      await admin.query(
        `INSERT INTO ${schema}.jobs (queue, state) SELECT 'mail', 'failed' FROM generate_series(1, 2)`,
      )
      const over = await check()
      expect(over).toMatchObject([
        {
          type: 'postgres.threshold',
          data: { key: { queue: 'mail' }, value: 3, row: { queue: 'mail', value: '3' } },
        },
      ])
      expect(await check()).toEqual([])
      await admin.query(`UPDATE ${schema}.jobs SET state = 'retried' WHERE state = 'failed'`)
      expect((await check()).map((e) => [e.type, (e.data as { value: unknown }).value])).toEqual([
        ['postgres.resolved', null],
      ])
    })
  })

  it('reports each new row once, past the cursor it keeps; the sensor cannot write', async () => {
    await inSandbox(import.meta.url, pkg, grants, async (sandbox, name) => {
      const config = {
        connection: 'main',
        mode: 'newRows',
        name: 'orders',
        query: `SELECT id, total FROM ${schema}.orders WHERE total > $1`,
        params: [0],
        cursorColumn: 'id',
        maxRows: 2,
      }
      const check = async () =>
        (await sandbox.invoke(name, { ...callIds(), config })).events.map(
          (e) => (e.data as { row: unknown }).row,
        )
      await admin.query(`INSERT INTO ${schema}.orders (total) VALUES (10), (20)`)
      expect(await check()).toEqual([]) // starts after the rows already there
      await admin.query(`INSERT INTO ${schema}.orders (total) VALUES (30), (0), (40), (50)`)
      expect(await check()).toEqual([
        { id: '3', total: '30' },
        { id: '5', total: '40' },
      ])
      expect(await check()).toEqual([{ id: '6', total: '50' }])
      expect(await check()).toEqual([])
      // A query that writes fails: a sensor's queries run READ ONLY.
      const writer = {
        connection: 'main',
        mode: 'threshold',
        query: `WITH w AS (INSERT INTO ${schema}.orders (total) VALUES (1) RETURNING id) SELECT count(*) AS value FROM w`,
        operator: '>',
        threshold: 0,
      }
      await expect(sandbox.invoke(name, { ...callIds(), config: writer })).rejects.toThrow(/read-only/i)
      expect((await admin.query(`SELECT count(*)::int AS n FROM ${schema}.orders`)).rows[0].n).toBe(6)
    })
  })

  it('emits postgres.notification for each NOTIFY while it watches a channel', async () => {
    await inSandbox(import.meta.url, pkg, grants, async (sandbox, name) => {
      const channel = `orders_${randomUUID().slice(0, 8)}`
      const seen: PluginEvent[] = []
      const stop = new AbortController()
      const running = sandbox.invoke(name, {
        ...callIds(),
        operation: 'watch',
        config: { connection: 'main', mode: 'listen', channel },
        deadline: Date.now() + 60_000,
        signal: stop.signal,
        onEvent: (e) => seen.push(e),
      })
      await waitFor(async () => {
        const { rows } = await admin.query(
          'SELECT count(*)::int AS n FROM pg_stat_activity WHERE query = $1',
          [`LISTEN "${channel}"`],
        )
        return rows[0].n === 1
      })
      await admin.query('SELECT pg_notify($1, $2)', [channel, '{"id":7,"total":"30"}'])
      await admin.query('SELECT pg_notify($1, $2)', [channel, 'plain'])
      const emitted = () => seen.filter((e) => e.type === 'postgres.notification')
      await waitFor(() => emitted().length === 2)
      expect(emitted().map((e) => e.data)).toMatchObject([
        { channel, payload: '{"id":7,"total":"30"}', json: { id: 7, total: '30' } },
        { channel, payload: 'plain', json: null },
      ])
      stop.abort()
      await running
    })
  })
})

async function waitFor(check: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const until = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 50))
  }
}

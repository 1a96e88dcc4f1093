import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { startProxy, type TcpProxy } from '../../test/tcp-proxy.ts'
import { dropSchemas, uniqueSchema } from './helpers/backends.ts'
import { type Child, kill9, startChild, stopGracefully } from './helpers/child.ts'
import { call, deleteRedisKeys, redisPrefix, sleep, until } from './helpers/harness.ts'

// kill -9 of the orchestrator in the middle of dispatch, then a restart: every instruction
// still completes, and none completes twice. Agents are simulated over HTTP and keep going
// through the outage, as real agents do (retrying with backoff).

interface Target {
  name: string
  env(): Record<string, string>
  count(sql: string): Promise<number>
  cleanup(): Promise<void>
}

const targets: Target[] = []
{
  const dir = mkdtempSync(join(tmpdir(), 'stavily-crash-'))
  targets.push({
    name: 'pglite',
    env: () => ({ STAVILY_DATA_DIR: dir, DATABASE_URL: '', REDIS_URL: '' }),
    // Read after the child stopped: the data folder has one owner at a time.
    async count(sql) {
      const { PGlite } = await import('@electric-sql/pglite')
      const db = await PGlite.create(dir)
      try {
        await db.exec('SET search_path TO stavily')
        return (await db.query<{ n: number }>(sql)).rows[0]!.n
      } finally {
        await db.close()
      }
    },
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  })
}
if (process.env.DATABASE_URL) {
  const url = process.env.DATABASE_URL
  const schema = uniqueSchema('crash')
  targets.push({
    name: process.env.REDIS_URL ? 'postgres+redis' : 'postgres',
    env: () => ({
      DATABASE_URL: url,
      STAVILY_SCHEMA: schema,
      REDIS_URL: process.env.REDIS_URL ?? '',
      STAVILY_REDIS_PREFIX: redisPrefix(schema),
    }),
    async count(sql) {
      const c = new pg.Client({ connectionString: url })
      await c.connect()
      try {
        await c.query(`SET search_path TO ${schema}`)
        return (await c.query(sql)).rows[0].n as number
      } finally {
        await c.end()
      }
    },
    async cleanup() {
      const c = new pg.Client({ connectionString: url })
      await c.connect()
      await c.query(dropSchemas(schema))
      await c.end()
      if (process.env.REDIS_URL) await deleteRedisKeys(process.env.REDIS_URL, redisPrefix(schema))
    },
  })
}

for (const target of targets) {
  describe(`orchestrator killed mid-dispatch (${target.name})`, () => {
    let child: Child | undefined
    let proxy: TcpProxy | undefined
    afterAll(async () => {
      if (child) await kill9(child)
      await proxy?.close()
      await target.cleanup()
    })

    it('loses no instruction and completes none twice', { timeout: 180_000 }, async () => {
      // Agents keep one address across the kill: a proxy holds it (bound once, to port 0) and
      // forwards to whichever orchestrator runs, itself on a port of its own choosing.
      const front = await startProxy()
      proxy = front
      const admin = `stv_admin_${randomBytes(32).toString('base64url')}`
      const env = {
        ...target.env(),
        STAVILY_PORT: '0',
        STAVILY_BOOTSTRAP_TOKEN: admin,
        STAVILY_LEASE_TTL_MS: '2000',
        STAVILY_RESTART_GRACE_MS: '0',
        STAVILY_SWEEP_INTERVAL_MS: '200',
        STAVILY_RETRY_DELAY_SECONDS: '1',
        STAVILY_RETRY_LIMIT: '10',
      }
      const launch = async () => {
        child = await startChild(env)
        front.target = { host: '127.0.0.1', port: Number(new URL(child.url).port) }
      }
      await launch()
      const base = `http://127.0.0.1:${front.port}`
      const N = 120
      const ids: string[] = []
      const ets = await call(base, 'POST', '/api/v1/enrollment-tokens', {
        token: admin,
        body: { kind: 'action', pool: 'crash', uses: 10 },
      })
      for (let i = 0; i < N; i++) {
        const r = await call(base, 'POST', '/api/v1/instructions', {
          token: admin,
          body: { kind: 'action', pool: 'crash', plugin: 'p', operation: 'run', input: { i } },
        })
        ids.push(r.body.id)
      }
      const creds: string[] = []
      for (let a = 0; a < 4; a++) {
        const reg = await call(base, 'POST', '/agents/v1/register', {
          body: { enrollmentToken: ets.body.token, name: `agent-${a}` },
        })
        creds.push(reg.body.credential)
      }

      let stop = false
      let reported = 0
      const succeeded = new Set<string>()
      const serverErrors: string[] = []
      // Retries a request through the outage until it gets an HTTP answer.
      const persist = async (method: string, path: string, token: string, body?: unknown) => {
        for (;;) {
          try {
            const r = await call(base, method, path, { token, ...(body ? { body } : {}) })
            if (r.status >= 500 && r.status !== 503)
              serverErrors.push(`${path} ${r.status} ${JSON.stringify(r.body)}`)
            if (r.status !== 503) return r
          } catch {
            // Connection refused or reset: the orchestrator is down.
          }
          if (stop) return undefined
          await sleep(100)
        }
      }
      const agent = async (token: string) => {
        while (!stop) {
          const got = await persist('GET', '/agents/v1/instructions?waitMs=1000&max=2', token)
          for (const i of got?.body?.instructions ?? []) {
            const res = await persist('POST', `/agents/v1/instructions/${i.id}/result`, token, {
              attempt: i.attempt,
              status: 'succeeded',
              output: { i: i.input.i },
            })
            if (res?.status === 200 && res.body.instructionStatus === 'succeeded') {
              succeeded.add(i.id)
              reported++
            }
          }
        }
      }
      const running = creds.map(agent)
      await until(async () => reported >= 30, 60_000, '30 results before the kill')
      await kill9(child!)
      front.target = undefined
      front.dropAll()
      await launch()
      const finished = new Set<string>()
      const done = await until(
        async () => {
          for (const id of ids) {
            if (finished.has(id)) continue
            const r = await call(base, 'GET', `/api/v1/instructions/${id}`, { token: admin }).catch(
              () => undefined,
            )
            if (r?.body?.status !== 'succeeded') return undefined
            finished.add(id)
          }
          return finished.size
        },
        120_000,
        'every instruction succeeded',
      )
      stop = true
      await Promise.all(running)
      expect(done).toBe(N)
      expect(serverErrors).toEqual([])
      expect(succeeded.size).toBe(N)
      // A graceful stop exits cleanly.
      expect(await stopGracefully(child!)).toBe(0)
      // None completed twice: exactly one successful result per instruction.
      const dup = await target.count(
        `SELECT count(*)::int AS n FROM (SELECT instruction_id FROM results WHERE status = 'succeeded' GROUP BY instruction_id HAVING count(*) > 1) d`,
      )
      expect(dup).toBe(0)
      const total = await target.count(
        `SELECT count(DISTINCT instruction_id)::int AS n FROM results WHERE status = 'succeeded'`,
      )
      expect(total).toBe(N)
    })
  })
}

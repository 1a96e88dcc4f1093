import { randomBytes } from 'node:crypto'
import { PGlite } from '@electric-sql/pglite'
import { Redis } from 'ioredis'
import pg from 'pg'
import { onTestFinished } from 'vitest'
import type { OrchestratorConfig } from '../../src/config.ts'
import { createOrchestrator, type Orchestrator } from '../../src/orchestrator.ts'
import { dropSchemas, uniqueSchema } from './backends.ts'

// Orchestrators for tests: on PGlite + in-process fleet always, and on PostgreSQL + Redis
// when DATABASE_URL / REDIS_URL are set. Each `start()` gets its own schema and Redis key
// prefix; `twin()` starts another instance on the same schema and prefix. cleanup() closes
// every instance and removes what they left: schemas (with `_boss` and `_registry`) and
// Redis keys (presence has no TTL, so nothing else would).

export interface Setup {
  name: string
  /** Opens what the setup shares (the PGlite instance): call it in beforeAll, whose timeout allows a slow start. */
  prepare(): Promise<void>
  start(extra?: Partial<OrchestratorConfig>): Promise<Running>
  cleanup(): Promise<void>
}

export interface Running {
  o: Orchestrator
  url: string
  operatorUrl: string
  admin: string
  config: OrchestratorConfig
  twin(extra?: Partial<OrchestratorConfig>): Promise<Running>
  close(): Promise<void>
}

export const FAST = {
  pollWaitMs: 5_000,
  pollJitterMs: 0,
  sweepIntervalMs: 200,
  restartGraceMs: 0,
  recheckMs: 500,
  recheckDegradedMs: 200,
  retryDelaySeconds: 1,
}

// `running` collects every instance, twins included, so cleanup closes them all. One
// started inside a test is closed when that test ends: instances left running keep
// sweeping, and on the shared PGlite (one connection) a file's worth of them starves the
// later tests on a busy machine.
async function boot(config: OrchestratorConfig, admin: string, running: Running[]): Promise<Running> {
  const o = await createOrchestrator(config)
  const { agentUrl, operatorUrl } = await o.listen()
  let closing: Promise<void> | undefined
  const r: Running = {
    o,
    url: agentUrl,
    operatorUrl,
    admin,
    config,
    twin: (extra = {}) =>
      boot({ ...config, ...extra, tuning: { ...config.tuning, ...extra.tuning } }, admin, running),
    close: () => {
      closing ??= o.close()
      return closing
    },
  }
  running.push(r)
  try {
    onTestFinished(() => r.close())
  } catch {
    // Started in a hook (beforeAll): cleanup() closes it.
  }
  return r
}

/** Deletes the Redis keys under `prefix` (a test's own prefix). */
export async function deleteRedisKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  try {
    await redis.connect()
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
      cursor = next
      if (keys.length > 0) await redis.del(...keys)
    } while (cursor !== '0')
  } finally {
    redis.disconnect()
  }
}

function adminToken(): string {
  return `stv_admin_${randomBytes(32).toString('base64url')}`
}

export function setups(opts: { pglite?: boolean; postgres?: boolean } = {}): Setup[] {
  const list: Setup[] = []
  if (opts.pglite !== false) {
    let shared: PGlite | undefined
    const running: Running[] = []
    list.push({
      name: 'pglite+memory',
      async prepare() {
        shared ??= await PGlite.create()
      },
      async start(extra = {}) {
        shared ??= await PGlite.create()
        const admin = adminToken()
        return boot(
          {
            database: { pglite: shared, schema: uniqueSchema() },
            listen: { host: '127.0.0.1', port: 0 },
            bootstrapToken: admin,
            ...extra,
            tuning: { ...FAST, ...extra.tuning },
          },
          admin,
          running,
        )
      },
      async cleanup() {
        for (const r of running.splice(0)) await r.close()
        await shared?.close()
        shared = undefined
      },
    })
  }
  const url = process.env.DATABASE_URL
  if (url && opts.postgres !== false) {
    const schemas: string[] = []
    const running: Running[] = []
    list.push({
      name: process.env.REDIS_URL ? 'postgres+redis' : 'postgres+memory',
      async prepare() {},
      async start(extra = {}) {
        const schema = uniqueSchema()
        schemas.push(schema)
        const admin = adminToken()
        return boot(
          {
            database: { url, schema },
            ...(process.env.REDIS_URL
              ? { redis: { url: process.env.REDIS_URL, prefix: redisPrefix(schema) } }
              : {}),
            listen: { host: '127.0.0.1', port: 0 },
            bootstrapToken: admin,
            ...extra,
            tuning: { ...FAST, ...extra.tuning },
          },
          admin,
          running,
        )
      },
      async cleanup() {
        for (const r of running.splice(0)) await r.close()
        const done = schemas.splice(0)
        const c = new pg.Client({ connectionString: url })
        await c.connect()
        for (const s of done) await c.query(dropSchemas(s))
        await c.end()
        const redisUrl = process.env.REDIS_URL
        if (redisUrl) for (const s of done) await deleteRedisKeys(redisUrl, redisPrefix(s))
      },
    })
  }
  return list
}

/** The Redis key prefix of a test orchestrator on `schema`. */
export function redisPrefix(schema: string): string {
  return `test:${schema}:`
}

/**
 * Resolves the next time a long-poll on `r` is parked: its claim found nothing and it is
 * subscribed to wake-ups. Call it before the poll starts.
 */
export function parked(r: Running): Promise<string> {
  const hub = r.o.services.polls
  return new Promise((resolve) => {
    hub.onParked = (queue) => {
      hub.onParked = undefined
      resolve(queue)
    }
  })
}

/** A small JSON client for the two APIs. */
export async function call(
  base: string,
  method: string,
  path: string,
  opts: {
    token?: string
    body?: unknown
    raw?: string
    headers?: Record<string, string>
    signal?: AbortSignal
  } = {},
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { ...opts.headers }
  if (opts.token) headers.authorization = `Bearer ${opts.token}`
  let body: string | undefined
  if (opts.raw !== undefined) body = opts.raw
  else if (opts.body !== undefined) body = JSON.stringify(opts.body)
  if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json'
  const res = await fetch(`${base}${path}`, { method, headers, body, signal: opts.signal })
  const text = await res.text()
  let parsed: unknown = text
  try {
    parsed = text ? JSON.parse(text) : undefined
  } catch {}
  return { status: res.status, body: parsed, headers: res.headers }
}

/** Mints an enrollment token and registers an agent with it. */
export async function enroll(
  r: Running,
  kind: 'sensor' | 'action',
  pool: string,
  opts: { token?: string; name?: string } = {},
): Promise<{ id: string; credential: string; orgId: string }> {
  const et = await call(r.operatorUrl, 'POST', '/api/v1/enrollment-tokens', {
    token: opts.token ?? r.admin,
    body: { kind, pool },
  })
  if (et.status !== 201) throw new Error(`enrollment token: ${et.status} ${JSON.stringify(et.body)}`)
  const reg = await call(r.url, 'POST', '/agents/v1/register', {
    body: { enrollmentToken: et.body.token, name: opts.name ?? `${kind}-${pool}` },
  })
  if (reg.status !== 201) throw new Error(`register: ${reg.status} ${JSON.stringify(reg.body)}`)
  return { id: reg.body.agentId, credential: reg.body.credential, orgId: reg.body.orgId }
}

export async function enqueue(r: Running, body: Record<string, unknown>, token = r.admin) {
  const res = await call(r.operatorUrl, 'POST', '/api/v1/instructions', {
    token,
    body: { kind: 'action', operation: 'run', plugin: '@acme/restart', ...body },
  })
  if (res.status !== 201) throw new Error(`enqueue: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body as { id: string; status: string }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export async function until<T>(
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (v !== undefined && v !== false) return v
    if (Date.now() > end) throw new Error(`${what}: not met within ${timeoutMs} ms`)
    await sleep(100)
  }
}

// Dispatch benchmark: simulated agents over real HTTP on loopback, against PostgreSQL and
// Redis when DATABASE_URL / REDIS_URL are set (else PGlite + in-process fleet).
//   pickup latency (enqueue → agent holds it) vs pg-boss's plain polling (same run),
//   dispatched+completed per second with 50 agents, and idle long-polls held by one instance.
//   (The embedded default's start time and memory are embedded-start's.)
// BENCH_DISPATCH_PARTS=pickup,throughput,idle runs some parts only (all by default).
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { type BenchContext, type BenchReport, nowMs, percentile, round } from '../../bench/lib.ts'
import { createOrchestrator, type Orchestrator } from '../src/orchestrator.ts'
import { instructionQueue } from '../src/queue/queue-names.ts'
import {
  closeConnections,
  mapLimit,
  type Reply,
  rssOf,
  request as send,
  startPlatform,
  stopChild,
  UNLIMITED_TUNING,
} from './helpers/platform.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const request = (
  base: string,
  method: string,
  path: string,
  token?: string,
  body?: unknown,
): Promise<Reply> => send(base, method, path, { token, body })

async function register(base: string, admin: string, pool: string, n: number): Promise<string[]> {
  // One enrollment token per 250 agents: each use locks the token's row, so one token for
  // ten thousand agents would serialise their registration.
  const per = 250
  const tokens: string[] = []
  for (let i = 0; i < n; i += per) {
    const et = await request(base, 'POST', '/api/v1/enrollment-tokens', admin, {
      kind: 'action',
      pool,
      uses: Math.min(per, n - i),
    })
    tokens.push(et.body.token)
  }
  return mapLimit(
    Array.from({ length: n }, (_, i) => i),
    32,
    async (i) => {
      const r = await request(base, 'POST', '/agents/v1/register', undefined, {
        enrollmentToken: tokens[Math.floor(i / per)],
        name: `bench-${i}`,
      })
      if (r.status !== 201) throw new Error(`register: ${r.status} ${JSON.stringify(r.body)}`)
      return r.body.credential as string
    },
  )
}

export default async function dispatch(ctx: BenchContext): Promise<BenchReport> {
  const dbUrl = process.env.DATABASE_URL
  const redisUrl = process.env.REDIS_URL
  const schema = `bench_${randomBytes(4).toString('hex')}`
  const admin = `stv_admin_${randomBytes(32).toString('base64url')}`
  const backend = `${dbUrl ? 'postgres' : 'pglite'}+${redisUrl ? 'redis' : 'memory'}`
  const schemas: string[] = [schema]
  const info: Record<string, string | number | boolean> = { backend }
  const metrics: BenchReport['metrics'] = {}

  const parts = new Set((process.env.BENCH_DISPATCH_PARTS ?? 'pickup,throughput,idle').split(','))
  let o: Orchestrator | undefined
  try {
    // ---- pickup latency and its pg-boss polling baseline, in-process orchestrator
    o = await createOrchestrator({
      database: dbUrl ? { url: dbUrl, schema } : { dataDir: null, schema },
      ...(redisUrl ? { redis: { url: redisUrl, prefix: `bench:${schema}:` } } : {}),
      listen: { host: '127.0.0.1', port: 0 },
      bootstrapToken: admin,
      tuning: { ...UNLIMITED_TUNING, pollJitterMs: 0 },
    })
    const { agentUrl: base } = await o.listen()
    const [cred] = parts.has('pickup') ? await register(base, admin, 'pickup', 1) : []
    const orgId = (await o.services.tenancy.authenticateApiToken(admin))!.orgId
    const spec = { kind: 'action' as const, pool: 'pickup', plugin: 'bench', operation: 'run' }
    const n = parts.has('pickup') ? (ctx.quick ? 60 : 400) : 0
    ctx.progress(`pickup: ${n} samples`)
    const pickups: number[] = []
    const withEnqueue: number[] = []
    const queue = instructionQueue(orgId, 'action', 'pickup')
    const { dispatcher, db } = o.services
    // An enqueue inside a transaction needs its queue to exist (the engine and the API
    // ensure it when a workflow or pool first needs it); the wake-up path is what is measured.
    if (n > 0) await dispatcher.ensureQueue(queue)
    for (let i = 0; i < (n === 0 ? 0 : n + 20); i++) {
      const poll = request(base, 'GET', '/agents/v1/instructions?waitMs=30000', cred)
      while (o.services.polls.parked < 1) await new Promise((r) => setImmediate(r))
      // "Enqueued" is the commit; the wake-up after it is part of the pickup.
      const start = nowMs()
      await db.sql.transaction((tx) => dispatcher.enqueue(orgId, spec, tx))
      const committed = nowMs()
      await dispatcher.wake(queue)
      const got = await poll
      const t1 = nowMs()
      if (i >= 20) {
        pickups.push(t1 - committed)
        withEnqueue.push(t1 - start)
      }
      const inst = got.body.instructions[0]
      await request(base, 'POST', `/agents/v1/instructions/${inst.id}/result`, cred, {
        attempt: inst.attempt,
        status: 'succeeded',
      })
    }
    if (parts.has('pickup')) {
      metrics.pickup_ms_p50 = {
        value: round(percentile(pickups, 50)),
        unit: 'ms',
        target: 5,
        better: 'lower',
      }
      metrics.pickup_ms_p99 = {
        value: round(percentile(pickups, 99)),
        unit: 'ms',
        target: 25,
        better: 'lower',
      }
      info.pickup_including_enqueue_ms_p50 = round(percentile(withEnqueue, 50))

      const boss = o.services.boss
      await boss.createQueue('bench.baseline', { name: 'bench.baseline' })
      let notify: (() => void) | undefined
      await boss.work('bench.baseline', { pollingIntervalSeconds: 0.5, batchSize: 1 }, async () => notify?.())
      const bn = ctx.quick ? 15 : 60
      ctx.progress(`polling baseline: ${bn} samples (pg-boss work(), 500 ms polling, its minimum)`)
      const baseline: number[] = []
      for (let i = 0; i < bn; i++) {
        await sleep(Math.random() * 500)
        const done = new Promise<void>((r) => {
          notify = r
        })
        const t0 = nowMs()
        await boss.send('bench.baseline', {})
        await done
        baseline.push(nowMs() - t0)
      }
      await boss.offWork('bench.baseline')
      const baseP50 = percentile(baseline, 50)
      metrics.pickup_ms_p50.baseline = 'pg-boss work() polling, p50'
      metrics.pickup_ms_p50.baseline_value = round(baseP50)
      metrics.pickup_polling_baseline_ms_p50 = { value: round(baseP50), unit: 'ms', better: 'lower' }
      info.pickup_speedup_vs_polling = round(baseP50 / percentile(pickups, 50), 1)
    }

    // ---- throughput: 50 agents, work queued ahead. The orchestrator runs in its own
    // process, as in production, so the simulated agents do not share its event loop.
    if (parts.has('throughput')) {
      const agents = 50
      const total = ctx.quick ? 300 : 6_000
      const tputSchema = `${schema}_tput`
      schemas.push(tputSchema)
      const tputDir = mkdtempSync(join(tmpdir(), 'stavily-bench-'))
      const tput = await startPlatform({
        schema: tputSchema,
        admin,
        dbUrl,
        redisUrl,
        redisPrefix: `bench:${tputSchema}:`,
        env: dbUrl ? {} : { STAVILY_DATA_DIR: tputDir },
      })
      try {
        const creds = await register(tput.url, admin, 'tput', agents)
        const enqueue = async () => {
          ctx.progress(`throughput: enqueue ${total}, then ${agents} agents`)
          await mapLimit(
            Array.from({ length: total }, (_, i) => i),
            16,
            async () => {
              const r = await request(tput.url, 'POST', '/api/v1/instructions', admin, {
                ...spec,
                pool: 'tput',
              })
              if (r.status !== 201) throw new Error(`enqueue: ${r.status} ${JSON.stringify(r.body)}`)
            },
          )
        }
        // Each agent takes one instruction at a time and reports it. `next`: as stavily-agent
        // does, the result asks for the next instruction, which its reply carries (one round
        // trip per instruction); without it, as before result replies carried work, every
        // instruction costs a poll and a result (the baseline, same orchestrator).
        const drain = async (next: boolean) => {
          let completed = 0
          const t0 = nowMs()
          await Promise.all(
            creds.map(async (c) => {
              let held: { id: string; attempt: number }[] = []
              while (completed < total) {
                if (held.length === 0) {
                  const got = await request(tput.url, 'GET', '/agents/v1/instructions?waitMs=1000&max=1', c)
                  held = got.body.instructions ?? []
                  continue
                }
                const inst = held.shift()!
                const r = await request(
                  tput.url,
                  'POST',
                  `/agents/v1/instructions/${inst.id}/result${next ? '?next=1' : ''}`,
                  c,
                  { attempt: inst.attempt, status: 'succeeded' },
                )
                if (r.status !== 200) throw new Error(`result: ${r.status} ${JSON.stringify(r.body)}`)
                completed++
                held.push(...(r.body.instructions ?? []))
              }
            }),
          )
          return round(total / ((nowMs() - t0) / 1000), 1)
        }
        await enqueue()
        const pollOnly = await drain(false)
        await enqueue()
        metrics.dispatch_per_s = {
          value: await drain(true),
          unit: '/s',
          target: 2_000,
          better: 'higher',
          baseline: 'each instruction polled for, then reported (no next work in result replies)',
          baseline_value: pollOnly,
        }
        info.dispatch_agents = agents
        info.dispatch_instructions = total
      } finally {
        await stopChild(tput.child)
        rmSync(tputDir, { recursive: true, force: true })
      }
    }
    await o.close()
    o = undefined

    // ---- idle long-polls held by one orchestrator process
    if (parts.has('idle')) {
      const idle = ctx.quick ? 200 : 10_000
      ctx.progress(`idle: ${idle} long-polls on one orchestrator process`)
      const idleSchema = `${schema}_idle`
      schemas.push(idleSchema)
      const dataDir = mkdtempSync(join(tmpdir(), 'stavily-bench-'))
      const idleProc = await startPlatform({
        schema: idleSchema,
        admin,
        dbUrl,
        redisUrl,
        redisPrefix: `bench:${idleSchema}:`,
        env: { STAVILY_POLL_WAIT_MS: '50000', ...(dbUrl ? {} : { STAVILY_DATA_DIR: dataDir }) },
      })
      try {
        const idleCreds = await register(idleProc.url, admin, 'idle', idle)
        const sockets: http.ClientRequest[] = []
        const answered: Record<number, number> = {}
        const failed: Record<string, number> = {}
        let stopping = false
        const idleAgent = new http.Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY })
        for (const c of idleCreds) {
          const req = http.request(`${idleProc.url}/agents/v1/instructions?waitMs=50000`, {
            agent: idleAgent,
            headers: { authorization: `Bearer ${c}` },
          })
          req.on('response', (res) => {
            answered[res.statusCode ?? 0] = (answered[res.statusCode ?? 0] ?? 0) + 1
            res.resume()
          })
          req.on('error', (e: NodeJS.ErrnoException) => {
            if (!stopping) failed[e.code ?? 'error'] = (failed[e.code ?? 'error'] ?? 0) + 1
          })
          req.end()
          sockets.push(req)
          // Open connections in small steps: a burst of ten thousand SYNs overflows the listen backlog.
          if (sockets.length % 200 === 0) await sleep(20)
        }
        let parked = 0
        const deadline = Date.now() + 120_000
        while (Date.now() < deadline) {
          parked = (await request(idleProc.url, 'GET', '/readyz')).body.parkedPolls
          if (parked >= idle) break
          await sleep(500)
        }
        const mem = rssOf(idleProc.child.pid!)
        metrics.idle_agents = { value: parked, unit: 'polls', target: 10_000, better: 'higher' }
        metrics.idle_agents_rss_mb = { value: round(mem.rss, 1), unit: 'MiB', target: 1_000, better: 'lower' }
        info.idle_agents_peak_rss_mb = round(mem.hwm, 1)
        info.idle_answered_early = JSON.stringify(answered)
        info.idle_request_errors = JSON.stringify(failed)
        stopping = true
        for (const s of sockets) s.destroy()
        idleAgent.destroy()
      } finally {
        await stopChild(idleProc.child)
        rmSync(dataDir, { recursive: true, force: true })
      }
    }
  } finally {
    await o?.close()
    closeConnections()
    if (dbUrl) {
      const c = new pg.Client({ connectionString: dbUrl })
      await c.connect()
      for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS ${s}, ${s}_boss CASCADE`)
      await c.end()
    }
  }
  return { metrics, info }
}

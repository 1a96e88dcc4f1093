// Workflow benchmark: trivial workflows (webhook → one action → one output) end to end,
// with simulated action agents over real HTTP on loopback. The orchestrator runs in its own
// process, as in production, on PostgreSQL (and Redis when REDIS_URL is set); this process
// plays the webhook senders, the agents and an SSE client that sees each run finish.
//   runs_per_s: runs started by webhooks and finished, per second, with work in flight;
//   run_latency_ms_p50/p99: webhook sent → run finished (seen on the SSE stream), one run
//     at a time, so the figure is the engine's path and not queueing behind other runs;
//   baseline: the bare dispatch round trip (enqueue → agent picks up → result) in the same
//     process, one at a time: a run is two of those plus the engine's work;
//   sql_statements_per_run: statements the orchestrator sent to PostgreSQL (count-sql.mjs,
//     preloaded into it) during the one-at-a-time phase, less those of an idle spell as long.
import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { type BenchContext, type BenchReport, nowMs, percentile, round } from '../../bench/lib.ts'
import {
  closeConnections,
  mapLimit,
  request,
  simulatedAgent,
  startPlatform,
  stopChild,
  type WebhookRuns,
  webhookRuns,
} from './helpers/platform.ts'

const COUNT_SQL = fileURLToPath(new URL('./count-sql.mjs', import.meta.url))
const COUNT_FILE = process.env.STAVILY_BENCH_SQL_COUNT_FILE ?? `${tmpdir()}/stavily-bench-sql-${process.pid}`

/** Statements the orchestrator has sent to PostgreSQL so far (see count-sql.mjs). */
async function sqlCount(child: ChildProcess): Promise<number> {
  rmSync(COUNT_FILE, { force: true })
  child.kill('SIGUSR2')
  for (let i = 0; i < 400; i++) {
    await new Promise((r) => setTimeout(r, 5))
    const text = existsSync(COUNT_FILE) ? readFileSync(COUNT_FILE, 'utf8') : ''
    if (text !== '') return Number(text)
  }
  throw new Error('bench workflows: the orchestrator did not report its statement count')
}

const SECRET = 'whsec_bench'
const WORKFLOW = `
name: bench-trivial
trigger: { webhook: { secret: HOOK_KEY } }
actions:
  - { id: act, plugin: "@bench/act", version: ^1, pool: bench, input: { n: "\${{ trigger.n }}" } }
outputs:
  - { id: out, plugin: "@bench/out", version: ^1, pool: bench, input: { got: "\${{ steps.act.output.n }}" } }
`

export default async function workflows(ctx: BenchContext): Promise<BenchReport> {
  const dbUrl = process.env.DATABASE_URL
  if (!dbUrl) throw new Error('bench workflows: set DATABASE_URL (the figures are for PostgreSQL)')
  const redisUrl = process.env.REDIS_URL
  const schema = `bench_${randomBytes(4).toString('hex')}`
  const admin = `stv_admin_${randomBytes(32).toString('base64url')}`
  const info: Record<string, string | number | boolean> = {
    backend: `postgres+${redisUrl ? 'redis' : 'memory'}`,
  }
  const metrics: BenchReport['metrics'] = {}
  // BENCH_WORKFLOWS_PROFILE=<dir>: a CPU profile of the orchestrator process, written when it stops.
  const prof = process.env.BENCH_WORKFLOWS_PROFILE
  const o = await startPlatform({
    schema,
    admin,
    dbUrl,
    redisUrl,
    redisPrefix: `bench:${schema}:`,
    env: { STAVILY_BENCH_SQL_COUNT_FILE: COUNT_FILE },
    nodeArgs: [...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []), '--import', COUNT_SQL],
  })
  const base = o.url
  const db = new pg.Client({ connectionString: dbUrl })
  await db.connect()
  let hooks: WebhookRuns | undefined
  let stop = false
  try {
    const agentsN = 16
    const et = await request(base, 'POST', '/api/v1/enrollment-tokens', {
      token: admin,
      body: { kind: 'action', pool: 'bench', uses: agentsN },
    })
    const creds: string[] = []
    for (let i = 0; i < agentsN; i++) {
      const r = await request(base, 'POST', '/agents/v1/register', {
        body: { enrollmentToken: et.body.token, name: `bench-${i}` },
      })
      creds.push(r.body.credential)
    }
    const orgId = (await db.query(`SELECT org_id FROM ${schema}.api_tokens LIMIT 1`)).rows[0].org_id as string
    // Plugins enabled as the catalog would (publishing real plugins is not what is measured).
    for (const name of ['@bench/act', '@bench/out']) {
      await db.query(
        `INSERT INTO ${schema}.desired_plugins (org_id, pool, name, version, digest, signature) VALUES ($1, 'bench', $2, '1.0.0', 'd', 's')`,
        [orgId, name],
      )
    }
    hooks = await webhookRuns(base, admin, { document: WORKFLOW, secret: SECRET })
    const runOnce = async (): Promise<number> => (await hooks!.runOnce()).ms

    // The simulated agents: as stavily-agent, without plugins: each step answered at once.
    const agents = creds.map((c) =>
      simulatedAgent(
        base,
        c,
        (i) => i.input,
        () => !stop,
      ),
    )

    // Warm up (queues, caches, connections).
    for (let i = 0; i < 30; i++) await runOnce()

    // Latency: one run at a time.
    const latN = ctx.quick ? 100 : 400
    ctx.progress(`latency: ${latN} runs one at a time`)
    const lat: number[] = []
    const sql0 = await sqlCount(o.child)
    const latT0 = nowMs()
    for (let i = 0; i < latN; i++) lat.push(await runOnce())
    const latMs = nowMs() - latT0
    const sql1 = await sqlCount(o.child)
    // The same spell idle: what parked polls and the sweeps cost whether runs happen or not.
    await new Promise((r) => setTimeout(r, latMs))
    const idle = (await sqlCount(o.child)) - sql1

    // Baseline: the bare dispatch round trip, one at a time, on the same orchestrator.
    const bn = ctx.quick ? 100 : 400
    ctx.progress(`baseline: ${bn} bare dispatch round trips`)
    const baseline: number[] = []
    for (let i = 0; i < bn; i++) {
      const t0 = nowMs()
      const e = await request(base, 'POST', '/api/v1/instructions', {
        token: admin,
        body: { kind: 'action', pool: 'bench', plugin: '@bench/act', operation: 'run', input: {} },
      })
      for (;;) {
        const s = await request(base, 'GET', `/api/v1/instructions/${e.body.id}`, { token: admin })
        if (s.body.status === 'succeeded') break
        await new Promise((r) => setImmediate(r))
      }
      baseline.push(nowMs() - t0)
    }

    // Throughput: many webhooks in flight.
    const total = ctx.quick ? 1_500 : 6_000
    const inFlight = 128
    ctx.progress(`throughput: ${total} runs, ${inFlight} in flight`)
    const t0 = nowMs()
    const loaded = await mapLimit(Array.from({ length: total }), inFlight, runOnce)
    const elapsed = (nowMs() - t0) / 1000
    metrics.runs_per_s = { value: round(total / elapsed, 1), unit: '/s', target: 500, better: 'higher' }
    metrics.run_latency_ms_p50 = {
      value: round(percentile(lat, 50)),
      unit: 'ms',
      target: 20,
      better: 'lower',
      baseline: 'bare dispatch round trip (enqueue → pickup → result), p50',
      baseline_value: round(percentile(baseline, 50)),
    }
    metrics.run_latency_ms_p99 = { value: round(percentile(lat, 99)), unit: 'ms', better: 'lower' }
    metrics.dispatch_round_trip_ms_p50 = {
      value: round(percentile(baseline, 50)),
      unit: 'ms',
      better: 'lower',
    }
    metrics.sql_statements_per_run = {
      value: round((sql1 - sql0 - idle) / latN, 1),
      unit: 'statements',
      better: 'lower',
    }
    info.sql_statements_idle_per_s = round(idle / (latMs / 1000), 1)
    info.loaded_run_latency_ms_p50 = round(percentile(loaded, 50))
    info.loaded_run_latency_ms_p99 = round(percentile(loaded, 99))
    info.runs = total
    info.in_flight = inFlight
    info.agents = agentsN
    stop = true
    await Promise.all(agents)
  } finally {
    stop = true
    hooks?.close()
    closeConnections()
    await stopChild(o.child)
    await db.query(`DROP SCHEMA IF EXISTS ${schema}, ${schema}_boss, ${schema}_registry CASCADE`)
    await db.end()
  }
  return { metrics, info }
}

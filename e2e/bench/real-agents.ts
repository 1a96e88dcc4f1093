// Real-agent benchmark: webhook → a pure-JavaScript action → the first-party `log` output,
// through real `stavily-agent` processes running the plugins in their sandboxes. Everything
// is built and published as in production: the orchestrator is core/dist/main.js, the agents
// agent-runtime's `stavily-agent` bin, and both plugins are published by the registry from a
// Git repository served by a real `git daemon` (the e2e tests' snapshot of plugins/, plus
// the benchmark's own action). PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set.
//   runs_per_s_real_agents: runs started by webhooks and finished, per second, with many
//     in flight (the saturated rate);
//   run_latency_ms_p50_real_agents: webhook sent → run finished (seen on the SSE stream),
//     with webhooks offered at half the saturated rate;
//   baseline (same process, same orchestrator, same workflow): the same two figures with
//     simulated agents (the protocol answered at once, nothing run), the setting of
//     core/bench/workflows.ts's runs_per_s: the ratio is the cost of real agents and sandboxes.
// Rate limits are lifted for the benchmark (the figures are the run path's, not the limits').
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  closeConnections,
  mapLimit,
  ok,
  type Platform,
  request,
  simulatedAgent,
  startPlatform,
  stopChild,
  type WebhookRuns,
  webhookRuns,
} from '@stavily/core/bench'
import { type BenchContext, type BenchReport, nowMs, percentile, round } from '../../bench/lib.ts'
import { type Child, startChild } from '../src/child.ts'
import { dropPlatformData } from '../src/cleanup.ts'
import { PluginRepo, REPO_ROOT, startGitDaemon } from '../src/git.ts'

const CORE_MAIN = join(REPO_ROOT, 'core/dist/main.js')
const AGENT_BIN = join(REPO_ROOT, 'agent-runtime/bin/stavily-agent.js')
const AGENT_DIST = join(REPO_ROOT, 'agent-runtime/dist/agent.js')
const SECRET = 'whsec_bench_real_agents'

// The benchmark's action: pure JavaScript, no capability used, so what is measured is the
// platform's path (dispatch, agent, sandbox call, result) and not the plugin's work.
const ACTION_PACKAGE = {
  name: '@bench/compute',
  version: '1.0.0',
  type: 'module',
  stavily: { kind: 'action', entry: 'src/index.ts', sdk: '^1.0.0', permissions: {} },
  dependencies: { '@stavily/sdk': '^0.1.0' },
}
const ACTION_SOURCE = `import { defineAction, Type } from '@stavily/sdk'

export default defineAction({
  input: Type.Object({ n: Type.Union([Type.Number(), Type.String()]) }),
  output: Type.Object({ n: Type.Number(), square: Type.Number(), label: Type.String() }),
  async run(_ctx, input) {
    const n = Number(input.n)
    return { n, square: n * n, label: 'run ' + n }
  },
})
`

const WORKFLOW = `
name: bench-real-agents
trigger: { webhook: { secret: HOOK_KEY } }
actions:
  - { id: compute, plugin: "@bench/compute", version: ^1.0.0, input: { n: "\${{ trigger.n }}" } }
outputs:
  - { id: log, plugin: "@stavily/plugin-log", version: ^0.1.0, input: { message: "\${{ steps.compute.output.label }}" } }
`

interface Phase {
  runsPerS: number
  latencyP50: number
  latencyP99: number
  offeredPerS: number
  failed: number
}

export default async function realAgents(ctx: BenchContext): Promise<BenchReport> {
  for (const [file, hint] of [
    [CORE_MAIN, 'npm run build -w @stavily/core'],
    [AGENT_DIST, 'npm run build -w @stavily/agent'],
  ] as const)
    if (!existsSync(file))
      throw new Error(`bench real-agents: ${file} is missing; run ${hint} (or npm run build)`)
  const dbUrl = process.env.DATABASE_URL
  const redisUrl = process.env.REDIS_URL
  const backend = `${dbUrl ? 'postgres' : 'pglite'}+${redisUrl ? 'redis' : 'memory'}`
  const schema = `bench_${randomBytes(4).toString('hex')}`
  const admin = `stv_admin_${randomBytes(32).toString('base64url')}`
  const dir = mkdtempSync(join(tmpdir(), 'stavily-bench-real-agents-'))
  const agentsN = 2
  const children: Child[] = []
  let hooks: WebhookRuns | undefined
  let orchestrator: Platform | undefined
  let daemon: Awaited<ReturnType<typeof startGitDaemon>> | undefined
  try {
    ctx.progress(`orchestrator (${backend}), registry publishing from git`)
    orchestrator = await startPlatform({
      schema,
      admin,
      dbUrl,
      redisUrl,
      // Plugins are published from a git daemon on loopback.
      env: { STAVILY_DATA_DIR: join(dir, 'orchestrator'), STAVILY_REGISTRY_ALLOW_PRIVATE: '1' },
    })
    const base = orchestrator.url

    // Plugins from Git, as an author publishes them: the first-party snapshot plus the action.
    const repo = PluginRepo.snapshot(join(dir, 'git'))
    repo.write('plugins/bench-compute/package.json', `${JSON.stringify(ACTION_PACKAGE, null, 2)}\n`)
    repo.write('plugins/bench-compute/src/index.ts', ACTION_SOURCE)
    repo.commit('the benchmark action')
    daemon = await startGitDaemon(join(dir, 'git'))
    const gitUrl = daemon.url(repo)
    for (const path of ['plugins/bench-compute', 'plugins/log']) {
      const p = await ok(
        `publish ${path}`,
        request(base, 'POST', '/api/v1/registry/plugins', {
          token: admin,
          body: { repo: gitUrl, ref: 'main', path },
        }),
      )
      const { name, version } = p.body.version as { name: string; version: string }
      ctx.progress(`published ${name}@${version}`)
      await ok(
        `enable ${name}`,
        request(base, 'POST', '/api/v1/plugins/enable', {
          token: admin,
          body: { name, pool: 'default', range: version },
        }),
      )
    }
    hooks = await webhookRuns(base, admin, { document: WORKFLOW, secret: SECRET })
    let failed = 0
    const runOnce = async (): Promise<number> => {
      const { ms, status } = await hooks!.runOnce()
      if (status !== 'succeeded') failed++
      return ms
    }

    const total = ctx.quick ? 150 : 1_500
    const inFlight = 64
    const latencySeconds = ctx.quick ? 2 : 10
    const measure = async (label: string): Promise<Phase> => {
      failed = 0
      for (let i = 0; i < 20; i++) await runOnce() // warm: queues, caches, isolates
      ctx.progress(`${label}: ${total} runs, ${inFlight} in flight`)
      const t0 = nowMs()
      await mapLimit(Array.from({ length: total }), inFlight, runOnce)
      const runsPerS = total / ((nowMs() - t0) / 1000)
      // Half the saturated rate, offered open-loop (a webhook every 1/rate s, whatever the
      // runs before it are doing), as senders do.
      const offered = runsPerS / 2
      const n = Math.max(10, Math.round(offered * latencySeconds))
      ctx.progress(`${label}: ${n} runs offered at ${offered.toFixed(0)}/s`)
      const lat: Promise<number>[] = []
      const start = nowMs()
      for (let i = 0; i < n; i++) {
        const due = start + (i * 1000) / offered
        const wait = due - nowMs()
        if (wait > 1) await new Promise((r) => setTimeout(r, wait))
        lat.push(runOnce())
      }
      const samples = await Promise.all(lat)
      return {
        runsPerS,
        latencyP50: percentile(samples, 50),
        latencyP99: percentile(samples, 99),
        offeredPerS: offered,
        failed,
      }
    }

    // ---- baseline: simulated agents (the same count) answer at once, nothing is run.
    const enroll = async (uses: number) =>
      (
        await ok(
          'enrollment token',
          request(base, 'POST', '/api/v1/enrollment-tokens', {
            token: admin,
            body: { kind: 'action', pool: 'default', uses },
          }),
        )
      ).body.token as string
    const simToken = await enroll(agentsN)
    let simulating = true
    const sims = await Promise.all(
      Array.from({ length: agentsN }, async (_, i) => {
        const r = await ok(
          'register',
          request(base, 'POST', '/agents/v1/register', {
            body: { enrollmentToken: simToken, name: `sim-${i}` },
          }),
        )
        const cred = r.body.credential as string
        // Wrapped: an async function returning the loop's promise would wait for the loop.
        return {
          loop: simulatedAgent(
            base,
            cred,
            (ins) => {
              const n = Number((ins.input as { n?: unknown }).n)
              return ins.plugin === '@bench/compute'
                ? { n, square: n * n, label: `run ${n}` }
                : { level: 'info', file: null, droppedLines: 0 }
            },
            () => simulating,
            500,
          ),
        }
      }),
    )
    const sim = await measure('simulated agents')
    simulating = false
    await Promise.all(sims.map((s) => s.loop))

    // ---- real agents: stavily-agent processes, plugins verified, loaded and run in sandboxes.
    ctx.progress(`${agentsN} stavily-agent processes: enroll, fetch and load both plugins`)
    // Trusted out of band, byte for byte as the registry serves it.
    const rootRes = await fetch(`${base}/api/v1/registry/tuf/1.root.json`)
    if (!rootRes.ok) throw new Error(`root.json: HTTP ${rootRes.status}`)
    const trustedRoot = join(dir, 'root.json')
    writeFileSync(trustedRoot, await rootRes.text())
    const agents: Child[] = []
    for (let i = 0; i < agentsN; i++) {
      const token = await enroll(1)
      const a = startChild(
        `agent-${i}`,
        process.execPath,
        [
          '--no-node-snapshot',
          AGENT_BIN,
          '--orchestrator',
          base,
          '--data-dir',
          join(dir, `agent-${i}`),
          '--name',
          `bench-agent-${i}`,
          '--kind',
          'action',
          '--pool',
          'default',
          '--enrollment-token',
          token,
          '--trusted-root',
          trustedRoot,
        ],
        { env: { ...process.env } },
      )
      children.push(a)
      agents.push(a)
    }
    for (const a of agents) {
      const loaded = () => a.lines.filter((l) => l.includes('plugin loaded')).length >= 2
      const deadline = Date.now() + 120_000
      while (!loaded()) {
        if (!a.running || Date.now() > deadline)
          throw new Error(`bench real-agents: ${a.name} did not load both plugins:\n${a.tail(40)}`)
        await new Promise((r) => setTimeout(r, 200))
      }
    }
    const real = await measure('real agents')

    return {
      metrics: {
        runs_per_s_real_agents: {
          value: round(real.runsPerS, 1),
          unit: '/s',
          target: 150,
          better: 'higher',
          baseline: `simulated agents (${agentsN}), same orchestrator and workflow`,
          baseline_value: round(sim.runsPerS, 1),
        },
        run_latency_ms_p50_real_agents: {
          value: round(real.latencyP50, 1),
          unit: 'ms',
          target: 50,
          better: 'lower',
          baseline: 'simulated agents at half their own saturated rate, p50',
          baseline_value: round(sim.latencyP50, 1),
        },
        run_latency_ms_p99_real_agents: { value: round(real.latencyP99, 1), unit: 'ms', better: 'lower' },
      },
      info: {
        backend,
        agents: agentsN,
        runs: total,
        in_flight: inFlight,
        real_offered_per_s: round(real.offeredPerS, 1),
        real_failed_runs: real.failed,
        simulated_runs_per_s: round(sim.runsPerS, 1),
        simulated_offered_per_s: round(sim.offeredPerS, 1),
        simulated_latency_ms_p99: round(sim.latencyP99, 1),
        simulated_failed_runs: sim.failed,
        real_over_simulated: round(real.runsPerS / sim.runsPerS, 2),
        rate_limits: 'lifted for the benchmark',
      },
    }
  } finally {
    hooks?.close()
    for (const c of children.reverse()) await c.stop(20_000).catch(() => {})
    if (orchestrator) await stopChild(orchestrator.child)
    await daemon?.close().catch(() => {})
    closeConnections()
    await dropPlatformData(schema).catch(() => {})
    rmSync(dir, { recursive: true, force: true })
  }
}

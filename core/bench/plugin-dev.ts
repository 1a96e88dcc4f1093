// `stavily plugin dev` reload benchmark: an in-process orchestrator (PostgreSQL and Redis
// when DATABASE_URL / REDIS_URL are set, else PGlite + in-process fleet), a real action
// agent process in pool dev, and `stavily plugin dev --input` as a process. Each sample
// saves the plugin's source with a new marker and waits until the CLI prints the call's
// output carrying it: save → rebuilt, published, pinned, swapped in on the agent, called.
//   plugin_dev_reload_ms_p50 / p99 (target ≤ 2 s, issue 19)
//   baseline: one call of the loaded plugin through the API (enqueue → result), same run
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { type BenchContext, type BenchReport, nowMs, percentile, round } from '../../bench/lib.ts'
import { createOrchestrator, type Orchestrator } from '../src/orchestrator.ts'

const AGENT_MAIN = fileURLToPath(new URL('../../agent-runtime/src/agent/main.ts', import.meta.url))
const CLI_MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url))
const TSX = import.meta.resolve('tsx')
const NAME = '@bench/dev-loop'

const source = (marker: string) => `import { defineAction, Type } from '@stavily/sdk'
export default defineAction({
  input: Type.Object({}),
  output: Type.Object({ marker: Type.String() }),
  async run(ctx) {
    ctx.log.info('running ${marker}')
    return { marker: '${marker}' }
  },
})
`

async function api(base: string, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const json = (await res.json()) as Record<string, unknown>
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`)
  return json
}

/** Resolves when `text()` satisfies `ok`, checking on each output chunk of `child`; fails after `ms`. */
function waitOutput(
  child: ChildProcess,
  text: () => string,
  ok: (t: string) => boolean,
  ms: number,
  what: string,
) {
  return new Promise<void>((resolve, reject) => {
    const check = () => {
      if (!ok(text())) return
      clearTimeout(timer)
      child.stdout!.off('data', check)
      child.stderr!.off('data', check)
      resolve()
    }
    const timer = setTimeout(() => {
      child.stdout!.off('data', check)
      child.stderr!.off('data', check)
      reject(new Error(`${what}: not seen within ${ms} ms; output:\n${text().slice(-2000)}`))
    }, ms)
    child.stdout!.on('data', check)
    child.stderr!.on('data', check)
    check()
  })
}

function stop(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    child.once('exit', () => resolve())
    child.kill(signal)
  })
}

export default async function pluginDev(ctx: BenchContext): Promise<BenchReport> {
  const dbUrl = process.env.DATABASE_URL
  const redisUrl = process.env.REDIS_URL
  const schema = `bench_${randomBytes(4).toString('hex')}`
  const admin = `stv_admin_${randomBytes(32).toString('base64url')}`
  const backend = `${dbUrl ? 'postgres' : 'pglite'}+${redisUrl ? 'redis' : 'memory'}`
  const root = mkdtempSync(join(tmpdir(), 'stavily-bench-plugin-dev-'))
  const samples = ctx.quick ? 3 : 15
  let o: Orchestrator | undefined
  let agent: ChildProcess | undefined
  let dev: ChildProcess | undefined
  try {
    o = await createOrchestrator({
      database: dbUrl ? { url: dbUrl, schema } : { dataDir: null, schema },
      ...(redisUrl ? { redis: { url: redisUrl, prefix: `bench:${schema}:` } } : {}),
      listen: { host: '127.0.0.1', port: 0 },
      bootstrapToken: admin,
      registry: { keysDir: join(root, 'keys'), remotes: { allowFile: true } },
    })
    const { agentUrl, operatorUrl } = await o.listen()
    const tree = join(root, 'plugin')
    mkdirSync(join(tree, 'src'), { recursive: true })
    writeFileSync(
      join(tree, 'package.json'),
      JSON.stringify({
        name: NAME,
        version: '0.1.0',
        type: 'module',
        stavily: { kind: 'action', entry: 'src/index.ts', sdk: '^1.0.0', permissions: {} },
        dependencies: { '@stavily/sdk': '^0.1.0' },
      }),
    )
    writeFileSync(join(tree, 'src', 'index.ts'), source('start'))
    writeFileSync(join(root, 'input.json'), '{}')
    const et = await api(operatorUrl, admin, 'POST', '/enrollment-tokens', { kind: 'action', pool: 'dev' })
    ctx.progress('starting the agent and the first dev build')
    agent = spawn(
      process.execPath,
      [
        '--no-node-snapshot',
        '--import',
        TSX,
        AGENT_MAIN,
        '--orchestrator',
        agentUrl,
        '--registry',
        `${operatorUrl}/api/v1/registry`,
        '--data-dir',
        join(root, 'agent'),
        '--enrollment-token',
        String(et.token),
      ],
      { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, STAVILY_LOG_LEVEL: 'warn' } },
    )
    let out = ''
    dev = spawn(
      process.execPath,
      [
        '--import',
        TSX,
        CLI_MAIN,
        'plugin',
        'dev',
        tree,
        '--pool',
        'dev',
        '--input',
        join(root, 'input.json'),
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, STAVILY_URL: operatorUrl, STAVILY_TOKEN: admin, NO_COLOR: '1' },
      },
    )
    dev.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
    })
    dev.stderr!.on('data', (d: Buffer) => {
      out += d.toString()
    })
    const child = dev
    const seen = (marker: string) => (t: string) =>
      t.includes(`"marker": "${marker}"`) && t.lastIndexOf('watching ') > t.indexOf(`"marker": "${marker}"`)
    await waitOutput(child, () => out, seen('start'), 120_000, 'the first dev build')

    const reloads: number[] = []
    for (let i = 0; i < samples + 1; i++) {
      const marker = `m${i}`
      const t0 = nowMs()
      writeFileSync(join(tree, 'src', 'index.ts'), source(marker))
      await waitOutput(child, () => out, seen(marker), 60_000, `build ${marker}`)
      // The first save warms the path (esbuild service, TUF re-signing, the agent's swap).
      if (i > 0) reloads.push(nowMs() - t0)
      ctx.progress(`save ${i}: ${round(nowMs() - t0, 0)} ms`)
    }

    // Baseline: one call of the plugin the pool already runs, through the API.
    const calls: number[] = []
    for (let i = 0; i < samples + 1; i++) {
      const t0 = nowMs()
      const { id } = await api(operatorUrl, admin, 'POST', '/instructions', {
        kind: 'action',
        operation: 'run',
        pool: 'dev',
        plugin: NAME,
        input: {},
      })
      for (;;) {
        const i2 = await api(operatorUrl, admin, 'GET', `/instructions/${id}`)
        if (i2.status === 'succeeded') break
        if (i2.status === 'failed') throw new Error(`baseline call failed: ${JSON.stringify(i2.error)}`)
        await new Promise((r) => setTimeout(r, 10))
      }
      if (i > 0) calls.push(nowMs() - t0)
    }
    const callP50 = percentile(calls, 50)
    return {
      metrics: {
        plugin_dev_reload_ms_p50: {
          value: round(percentile(reloads, 50), 0),
          unit: 'ms',
          target: 2000,
          better: 'lower',
          baseline: 'one API call of the loaded plugin (enqueue → result)',
          baseline_value: round(callP50, 0),
        },
        plugin_dev_reload_ms_p99: { value: round(percentile(reloads, 99), 0), unit: 'ms', better: 'lower' },
      },
      info: {
        backend,
        samples,
        reload_over_call_ratio: round(percentile(reloads, 50) / callP50, 1),
      },
    }
  } finally {
    await stop(dev, 'SIGINT')
    await stop(agent, 'SIGTERM')
    await o?.close()
    rmSync(root, { recursive: true, force: true })
    if (dbUrl) {
      const c = new pg.Client({ connectionString: dbUrl })
      await c.connect()
      await c.query(`DROP SCHEMA IF EXISTS ${schema}, ${schema}_boss, ${schema}_registry CASCADE`)
      await c.end()
    }
  }
}

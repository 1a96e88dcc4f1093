// Embedded start benchmark: the orchestrator on its embedded defaults (PGlite in a new data
// folder, in-process fleet state), started as the `stavily` process is: time from spawn to
// its "ready" line, and its resident memory then. Also a restart on the same folder.
// Baselines measured in the same run, as child processes too: a bare Node start (the floor
// any process pays) and PGlite alone opening an existing data folder (the database's own
// floor), so the ratio holds when the machine's speed drifts.
// Needs `npm run build -w @stavily/core` (dist/main.js and the seed dist/seed.tar.gz); from
// source without a seed the first start runs initdb and the migrations and says so.
import { type ChildProcess, spawn } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type BenchContext, type BenchReport, nowMs, percentile, round } from '../../bench/lib.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const DIST_MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url))
const SRC_MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url))
const SEED = fileURLToPath(new URL('../dist/seed.tar.gz', import.meta.url))

interface Started {
  child: ChildProcess
  ms: number
  rssMb: number
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN) / 1024
}

// Spawns `args` and resolves when a stdout line starts with `{` (the ready line), with the
// time it took and the child's RSS at that moment.
function startChild(args: string[], env: Record<string, string>): Promise<Started> {
  const t0 = nowMs()
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let err = ''
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString()
  })
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.split('\n').some((l) => l.startsWith('{')))
        resolve({ child, ms: nowMs() - t0, rssMb: rssOf(child.pid!) })
    })
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited (${code}): ${err.slice(-2000)}`)))
  })
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 15_000)
    child.on('exit', () => {
      clearTimeout(t)
      resolve()
    })
    child.kill('SIGTERM')
  })
}

const median = (xs: number[]) => percentile(xs, 50)

export default async function embeddedStart(ctx: BenchContext): Promise<BenchReport> {
  const iterations = ctx.quick ? 2 : 7
  const entry = existsSync(DIST_MAIN) ? [DIST_MAIN] : ['--import', 'tsx', SRC_MAIN]
  const work = mkdtempSync(join(tmpdir(), 'stavily-embedded-start-'))
  const firsts: Started[] = []
  const restarts: Started[] = []
  const bare: number[] = []
  const pglite: Started[] = []
  try {
    for (let i = 0; i < iterations; i++) {
      ctx.progress(`round ${i + 1}/${iterations}: bare node, PGlite alone, first start, restart`)
      // Baseline 1: a Node process that prints its ready line at once.
      const b = await startChild(['-e', 'process.stdout.write("{}\\n")'], {})
      bare.push(b.ms)
      await stop(b.child)

      const dataDir = join(work, `data-${i}`)
      const env = { DATABASE_URL: '', REDIS_URL: '', STAVILY_DATA_DIR: dataDir, STAVILY_PORT: '0' }
      const first = await startChild(entry, env)
      firsts.push(first)
      await stop(first.child)
      const again = await startChild(entry, env)
      restarts.push(again)
      await stop(again.child)

      // Baseline 2: PGlite alone opening a copy of that (now existing) data folder.
      const copy = join(work, `pglite-${i}`)
      cpSync(dataDir, copy, { recursive: true })
      const script = [
        "const { PGlite } = await import('@electric-sql/pglite')",
        `const db = await PGlite.create(${JSON.stringify(copy)})`,
        "await db.query('select 1')",
        'process.stdout.write("{}\\n")',
        "process.on('SIGTERM', async () => { await db.close(); process.exit(0) })",
      ].join('\n')
      // The same WebAssembly compiler setting as the orchestrator's (db/pglite-client.ts).
      const p = await startChild(['--liftoff-only', '--input-type=module', '-e', script], {})
      pglite.push(p)
      await stop(p.child)
      rmSync(copy, { recursive: true, force: true })
      rmSync(dataDir, { recursive: true, force: true })
    }
  } finally {
    for (const s of [...firsts, ...restarts, ...pglite]) await stop(s.child)
    rmSync(work, { recursive: true, force: true })
  }

  const firstMs = median(firsts.map((s) => s.ms))
  const pgliteMs = median(pglite.map((s) => s.ms))
  return {
    metrics: {
      embedded_start_ms: {
        value: round(firstMs, 0),
        unit: 'ms',
        target: 1_500,
        better: 'lower',
        baseline: 'PGlite alone opening an existing folder (child process)',
        baseline_value: round(pgliteMs, 0),
      },
      embedded_rss_mb: {
        value: round(median(firsts.map((s) => s.rssMb)), 1),
        unit: 'MiB',
        target: 300,
        better: 'lower',
        baseline: 'PGlite alone, RSS after opening',
        baseline_value: round(median(pglite.map((s) => s.rssMb)), 1),
      },
      embedded_restart_ms: {
        value: round(median(restarts.map((s) => s.ms)), 0),
        unit: 'ms',
        better: 'lower',
        baseline: 'bare node start',
        baseline_value: round(median(bare), 0),
      },
      embedded_restart_rss_mb: {
        value: round(median(restarts.map((s) => s.rssMb)), 1),
        unit: 'MiB',
        better: 'lower',
      },
    },
    info: {
      backend: 'pglite+memory',
      entry: entry.length === 1 ? 'core/dist/main.js' : 'core/src/main.ts via tsx',
      seed: existsSync(SEED) ? 'core/dist/seed.tar.gz' : 'none (first start runs initdb and migrations)',
      iterations,
      first_start_ms_p90: round(
        percentile(
          firsts.map((s) => s.ms),
          90,
        ),
        0,
      ),
      first_over_pglite_alone: round(firstMs / pgliteMs, 2),
      bare_node_ms: round(median(bare), 0),
    },
  }
}

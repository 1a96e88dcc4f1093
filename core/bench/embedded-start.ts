// Embedded start benchmark: the orchestrator on its embedded defaults (PGlite in a new data
// folder, in-process fleet state), started as the `stavily` process is: time from spawn to
// its "ready" line, and its resident memory then. Also a restart on the same folder.
// Baselines measured in the same run, as child processes too: a bare Node start (the floor
// any process pays) and PGlite alone opening an existing data folder (the database's own
// floor), so the ratio holds when the machine's speed drifts.
// Needs `npm run build -w @stavily/core` (dist/main.js and the seed dist/seed.tar.gz); from
// source without a seed the first start runs initdb and the migrations and says so.
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type BenchContext, type BenchReport, percentile, round } from '../../bench/lib.ts'
import {
  ORCHESTRATOR_ARGS,
  ORCHESTRATOR_ENTRY,
  type Ready,
  spawnReady,
  stopChild,
} from './helpers/platform.ts'

const SEED = fileURLToPath(new URL('../dist/seed.tar.gz', import.meta.url))

const median = (xs: number[]) => percentile(xs, 50)

export default async function embeddedStart(ctx: BenchContext): Promise<BenchReport> {
  const iterations = ctx.quick ? 2 : 7
  const entry = ORCHESTRATOR_ARGS
  const work = mkdtempSync(join(tmpdir(), 'stavily-embedded-start-'))
  const firsts: Ready[] = []
  const restarts: Ready[] = []
  const bare: number[] = []
  const pglite: Ready[] = []
  try {
    for (let i = 0; i < iterations; i++) {
      ctx.progress(`round ${i + 1}/${iterations}: bare node, PGlite alone, first start, restart`)
      // Baseline 1: a Node process that prints its ready line at once.
      const b = await spawnReady(['-e', 'process.stdout.write("{}\\n")'], {})
      bare.push(b.ms)
      await stopChild(b.child)

      const dataDir = join(work, `data-${i}`)
      const env = { DATABASE_URL: '', REDIS_URL: '', STAVILY_DATA_DIR: dataDir, STAVILY_PORT: '0' }
      const first = await spawnReady(entry, env)
      firsts.push(first)
      await stopChild(first.child)
      const again = await spawnReady(entry, env)
      restarts.push(again)
      await stopChild(again.child)

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
      const p = await spawnReady(['--liftoff-only', '--input-type=module', '-e', script], {})
      pglite.push(p)
      await stopChild(p.child)
      rmSync(copy, { recursive: true, force: true })
      rmSync(dataDir, { recursive: true, force: true })
    }
  } finally {
    for (const s of [...firsts, ...restarts, ...pglite]) await stopChild(s.child)
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
      entry: ORCHESTRATOR_ENTRY,
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

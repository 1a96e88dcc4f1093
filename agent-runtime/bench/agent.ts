// `npm run bench -- agent`: the agent's resident memory when idle with 5 plugins loaded,
// summed over its processes (the agent and its sandbox host child) from /proc, against a
// bare `node` process measured in the same run. The agent runs from dist/ (as installed),
// against an orchestrator and registry in this process (PGlite, in-process fleet state).
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setups } from '@stavily/core/testing'
import { type BenchContext, type BenchReport, round } from '../../bench/lib.ts'
import { echoSource, platform } from '../test/agent/helpers/platform.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))

/** Resident set of a process, bytes (VmRSS), or 0 when it is gone. */
function rss(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) * 1024 : 0
  } catch {
    return 0
  }
}

/**
 * Where a process's resident memory is, MB (smaps_rollup): its own (anonymous: heaps,
 * isolates, code) and file-backed pages (mostly the node binary's text, which every node
 * process on the machine shares, so RSS summed over two processes counts it twice), and its
 * proportional share (PSS: shared pages divided among the processes mapping them).
 */
function parts(pid: number): { anon: number; file: number; pss: number } {
  try {
    const t = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8')
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(t)?.[1] ?? 0)
    return { anon: kb('Anonymous') / 1024, file: (kb('Rss') - kb('Anonymous')) / 1024, pss: kb('Pss') / 1024 }
  } catch {
    return { anon: 0, file: 0, pss: 0 }
  }
}

/** pid and every descendant, from the parent ids in /proc/<pid>/stat. */
function tree(pid: number): number[] {
  const parent = new Map<number, number>()
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8')
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]))
    } catch {}
  }
  const out = [pid]
  for (let i = 0; i < out.length; i++) for (const [c, pp] of parent) if (pp === out[i]) out.push(c)
  return out
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

export default async function bench(ctx: BenchContext): Promise<BenchReport> {
  // The quick form (CI's smoke run, right after npm test built everything) takes dist/ as
  // it is; a full run builds it first, so its figure is the current code's.
  if (ctx.quick && existsSync(join(root, 'agent-runtime/dist/agent.js'))) {
    ctx.progress('quick: running the agent from the dist/ folders as built')
  } else {
    ctx.progress('building sdk, registry and agent-runtime (the agent runs from dist/)')
    for (const w of ['sdk', 'registry', 'agent-runtime'])
      execFileSync('npm', ['run', 'build'], { cwd: join(root, w), stdio: 'ignore' })
  }

  const setup = setups({ postgres: false })[0]!
  await setup.prepare()
  const r = await setup.start()
  const p = await platform(r)
  const names = Array.from({ length: 5 }, (_, i) => `@bench/stavily-plugin-p${i}`)
  ctx.progress('publishing 5 plugins through the Git path')
  for (const name of names) {
    await p.publish(name, '1.0.0', echoSource('1'), { permissions: { exec: ['sleep'] } })
    await p.enable('bench', name, '1.0.0')
  }
  const token = await p.token('action', 'bench')

  const baseline = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' })
  // Started as the installed bin is: the file itself, through its #! line (or, to try V8
  // flags on the agent process, `node BENCH_AGENT_NODE_ARGS dist/agent.js`).
  const bin = join(root, 'agent-runtime/dist/agent.js')
  const nodeArgs = process.env.BENCH_AGENT_NODE_ARGS?.split(' ').filter(Boolean)
  const agent = spawn(
    nodeArgs ? process.execPath : bin,
    [
      ...(nodeArgs ? [...nodeArgs, bin] : []),
      '--orchestrator',
      r.url,
      '--registry',
      p.registryUrl,
      '--data-dir',
      join(p.root, 'bench-agent'),
      '--enrollment-token',
      token,
      '--log-level',
      'info',
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      // BENCH_AGENT_NODE_OPTIONS tries V8 flags on the agent and (inherited) its sandbox host.
      env: {
        ...process.env,
        PATH: `${process.execPath.slice(0, process.execPath.lastIndexOf('/'))}:${process.env.PATH ?? ''}`,
        NODE_OPTIONS: process.env.BENCH_AGENT_NODE_OPTIONS ?? '',
      },
    },
  )
  let loaded = 0
  agent.stdout!.setEncoding('utf8')
  agent.stdout!.on('data', (t: string) => {
    loaded += (t.match(/"msg":"plugin loaded"/g) ?? []).length
  })
  try {
    const until = Date.now() + 120_000
    while (loaded < 5) {
      if (Date.now() > until || agent.exitCode !== null)
        throw new Error(`the agent loaded ${loaded} of 5 plugins`)
      await sleep(100)
    }
    // Idle: let startup garbage be collected and the loops settle into their waits.
    ctx.progress('5 plugins loaded; sampling idle RSS')
    await sleep(ctx.quick ? 3_000 : 10_000)
    const samples: { total: number; agent: number; host: number; procs: number }[] = []
    const base: number[] = []
    for (let i = 0; i < (ctx.quick ? 3 : 10); i++) {
      const pids = tree(agent.pid!)
      const sizes = pids.map(rss)
      samples.push({
        total: sizes.reduce((a, b) => a + b, 0),
        agent: sizes[0]!,
        host: sizes.slice(1).reduce((a, b) => a + b, 0),
        procs: pids.length,
      })
      base.push(rss(baseline.pid!))
      await sleep(1_000)
    }
    const mb = (b: number) => round(b / 1024 / 1024, 1)
    const total = median(samples.map((s) => s.total))
    const pids = tree(agent.pid!)
    const agentParts = parts(pids[0]!)
    const hostParts = pids.slice(1).map(parts)
    const sum = (k: 'anon' | 'file' | 'pss') =>
      round(
        hostParts.reduce((a, h) => a + h[k], 0),
        1,
      )
    const baseParts = parts(baseline.pid!)
    return {
      metrics: {
        agent_idle_rss_mb: {
          value: mb(total),
          unit: 'MB',
          target: 100,
          better: 'lower',
          baseline: 'bare node -e process',
          baseline_value: mb(median(base)),
        },
      },
      info: {
        agent_process_rss_mb: mb(median(samples.map((s) => s.agent))),
        sandbox_host_rss_mb: mb(median(samples.map((s) => s.host))),
        agent_process_anon_mb: round(agentParts.anon, 1),
        agent_process_file_mb: round(agentParts.file, 1),
        sandbox_host_anon_mb: sum('anon'),
        sandbox_host_file_mb: sum('file'),
        agent_idle_pss_mb: round(agentParts.pss + sum('pss'), 1),
        baseline_anon_mb: round(baseParts.anon, 1),
        baseline_file_mb: round(baseParts.file, 1),
        processes: samples[0]!.procs,
        plugins: 5,
        node: process.version,
        node_options: process.env.BENCH_AGENT_NODE_OPTIONS ?? '',
        node_args: process.env.BENCH_AGENT_NODE_ARGS ?? '(#! line)',
      },
    }
  } finally {
    agent.kill('SIGTERM')
    baseline.kill('SIGKILL')
    await new Promise((res) => (agent.exitCode !== null ? res(undefined) : agent.once('exit', res)))
    await p.close()
    await setup.cleanup()
  }
}

// Ctrl-C on `npm run dev` (its script, sent SIGINT as a terminal does): the platform stops
// cleanly and soon, both once it runs and in the middle of its start, while a plugin is
// being published — a publish streams for seconds and used to hold the orchestrator's
// graceful shutdown until dev's 15 s grace killed it. No timing assertion beyond a generous
// deadline: the figures are in the commit and the issue notes.
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { type Child, startChild } from '../src/child.ts'
import { dropPlatformData } from '../src/cleanup.ts'
import { freePort } from '../src/net.ts'
import { SOURCE_ROOT } from '../src/source.ts'

const dir = mkdtempSync(join(tmpdir(), 'stavily-e2e-dev-int-'))
// The platform's own temporary folders (a publish cut short by the exit leaves its clone
// behind: the registry's publish cannot be cancelled yet) go under the test's folder.
const tmp = join(dir, 'tmp')
mkdirSync(tmp)
const schema = `e2e_devint_${randomBytes(5).toString('hex')}`
const runs: Child[] = []

afterAll(async () => {
  for (const c of runs) await c.stop(30_000)
  rmSync(dir, { recursive: true, force: true })
  await dropPlatformData(schema)
})

async function dev(): Promise<Child> {
  const child = startChild('dev', process.execPath, [join(SOURCE_ROOT, 'scripts/dev.mjs')], {
    cwd: SOURCE_ROOT,
    env: {
      ...process.env,
      STAVILY_DEV_DIR: dir,
      TMPDIR: tmp,
      STAVILY_PORT: String(await freePort()),
      STAVILY_SCHEMA: schema,
      STAVILY_REDIS_PREFIX: `${schema}:`,
      // The demo never breaks the service on its own here.
      STAVILY_DEMO_FAIL_AFTER: '100000',
    },
  })
  runs.push(child)
  return child
}

/** SIGINT, then the exit (within a deadline far above the 3 s it takes), and what it printed. */
async function interrupt(child: Child): Promise<{ code: number | null; stopped: string[]; output: string }> {
  child.process.kill('SIGINT')
  const exit = await Promise.race([
    child.exited,
    new Promise<undefined>((r) => setTimeout(r, 60_000, undefined)),
  ])
  const output = child.lines.join('\n')
  if (!exit) throw new Error(`dev did not exit within 60 s of SIGINT; output:\n${child.tail()}`)
  const stopped = child.lines.filter((l) => / stopped$/.test(l.trim())).map((l) => l.trim())
  return { code: exit.code, stopped, output }
}

function orchestratorPid(child: Child): number {
  const line = child.lines.find((l) => /up \(pid \d+\)/.test(l))
  return Number(/up \(pid (\d+)\)/.exec(line ?? '')?.[1])
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('Ctrl-C on npm run dev', () => {
  it('stops everything it started, the orchestrator last, while publishing and once running', async () => {
    // 1. In the middle of the start: a plugin is being published.
    const first = await dev()
    await first.waitForLine((l) => /… @stavily\/plugin-[a-z-]+: (clone|install|build)/.test(l), 180_000)
    const pid1 = orchestratorPid(first)
    const during = await interrupt(first)
    expect(during.code, during.output).toBe(0)
    expect(during.stopped.at(-1), during.output).toMatch(/orchestrator stopped/)
    // What was in flight was cut short on purpose: no error is reported for it.
    expect(during.output).not.toMatch(/✗/)
    expect(alive(pid1)).toBe(false)

    // 2. Running: agents enrolled, the demo waiting for its first failure.
    const second = await dev()
    await second.waitForLine((l) => l.includes('Stavily is running.'), 240_000)
    const pid2 = orchestratorPid(second)
    const running = await interrupt(second)
    expect(running.code, running.output).toBe(0)
    for (const name of ['webhook receiver', 'demo service', 'dev-sensor', 'dev-action'])
      expect(running.stopped.join('\n')).toContain(`${name} stopped`)
    expect(running.stopped.at(-1)).toMatch(/orchestrator stopped/)
    expect(alive(pid2)).toBe(false)
  }, 600_000)
})

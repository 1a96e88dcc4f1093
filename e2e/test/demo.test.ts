// The demo scenario as a newcomer runs it: `npm run dev`'s script, the whole platform as
// processes (on PostgreSQL + Redis when DATABASE_URL / REDIS_URL are set, else PGlite and
// in-process fleet state). The demo breaks its web service; http-check notices,
// restart-service brings it back, webhook and log report it; the script stops after the run.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { type Child, startChild } from '../src/child.ts'
import { dropPlatformData } from '../src/cleanup.ts'
import { freePort } from '../src/net.ts'
import { SOURCE_ROOT } from '../src/source.ts'

let dev: Child | undefined
const dir = mkdtempSync(join(tmpdir(), 'stavily-e2e-dev-'))
const schema = `e2e_dev_${randomBytes(5).toString('hex')}`

afterAll(async () => {
  await dev?.stop(30_000)
  rmSync(dir, { recursive: true, force: true })
  await dropPlatformData(schema)
})

describe('npm run dev', () => {
  it('runs the demo: the service fails, is restarted by an action agent, and webhook and log report it', async () => {
    dev = startChild('dev', process.execPath, [join(SOURCE_ROOT, 'scripts/dev.mjs')], {
      cwd: SOURCE_ROOT,
      env: {
        ...process.env,
        STAVILY_DEV_DIR: dir,
        STAVILY_PORT: String(await freePort()),
        STAVILY_SCHEMA: schema,
        STAVILY_REDIS_PREFIX: `${schema}:`,
        STAVILY_DEMO_FAIL_AFTER: '2',
        STAVILY_DEMO_EXIT_AFTER_RUNS: '1',
      },
    })
    const { code } = await dev.exited
    const output = dev.lines.join('\n')
    expect(code, output).toBe(0)
    // Where everything is.
    expect(output).toMatch(/dashboard\s+http:\/\/127\.0\.0\.1:\d+\/\s/)
    expect(output).toMatch(/operator API\s+http:\/\/127\.0\.0\.1:\d+\/api\/v1/)
    expect(output).toMatch(/API docs\s+http:\/\/127\.0\.0\.1:\d+\/docs/)
    expect(output).toMatch(/event stream/)
    // The plugins went through the registry from Git.
    for (const name of ['http-check', 'restart-service', 'webhook', 'log'])
      expect(output).toMatch(
        new RegExp(`@stavily/plugin-${name}@\\d+\\.\\d+\\.\\d+ (published|already published)`),
      )
    // The run as it happened: broken, restarted, reported.
    expect(output).toMatch(/breaking the web service/)
    expect(output).toMatch(/restarted \(restart #1\): healthy again/)
    expect(output).toMatch(/the receiver got: .*demo-web failed/)
    expect(output).toMatch(/run finished \S+ succeeded/)
    expect(output).toMatch(/restart\s+succeeded/)
    expect(output).toMatch(/notify\s+succeeded/)
    expect(output).toMatch(/log\s+succeeded/)
    expect(output).toMatch(/demo-web restarted/)
    // After its first run it says how to point the sensors at real systems, with the grant each needs.
    expect(output).toMatch(/Point it at your own systems/)
    expect(output).toMatch(/log-file\s+config\.path: .*STAVILY_DEV_SENSOR_GRANTS="--allow-read /)
    // Stopped in order: the orchestrator last.
    const stopped = dev.lines.filter((l) => l.includes(' stopped')).map((l) => l.trim())
    expect(stopped.at(-1)).toMatch(/orchestrator stopped/)
  }, 300_000)
})

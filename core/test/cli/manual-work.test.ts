import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { webhookWorkflow } from '../api/helpers.ts'
import { call, enroll, type Running, setups, until } from '../helpers/harness.ts'
import { cli, collect, freshConfig, spawnCli } from './cli-process.ts'
import { writeFiles } from './fixtures.ts'

// `stavily workflow run` and `stavily instruction run --wait` as a user's shell runs them,
// against a real orchestrator; the test itself plays the agent that answers.

const setup = setups({ postgres: false })[0]!
let r: Running
let env: Record<string, string>
let dir: string

beforeAll(async () => {
  await setup.prepare()
  r = await setup.start()
  env = { STAVILY_CONFIG: freshConfig(), STAVILY_URL: r.operatorUrl, STAVILY_TOKEN: r.admin }
  dir = writeFiles({
    'event.json': JSON.stringify({ data: { service: 'api' } }),
    'forged.json': JSON.stringify({ type: 'deploy', data: { service: 'api' } }),
    'input.json': JSON.stringify({ service: 'api' }),
  })
  const applied = await call(r.operatorUrl, 'POST', '/api/v1/workflows', {
    token: r.admin,
    body: { document: webhookWorkflow() },
  })
  expect(applied.status).toBe(201)
}, 60_000)
afterAll(() => setup.cleanup())

describe('manual work from the CLI', () => {
  it('stavily workflow run starts a run with the event from a file', async () => {
    const res = await cli(
      ['workflow', 'run', 'restart-on-hook', '--event', 'event.json', '--priority', '7'],
      {
        env,
        cwd: dir,
      },
    )
    expect(res.stderr).toMatch(/run .* running/)
    expect(res.code).toBe(0)
    const runId = res.stdout.trim()
    const run = await call(r.operatorUrl, 'GET', `/api/v1/runs/${runId}`, { token: r.admin })
    expect(run.body.event).toMatchObject({ source: 'manual', type: 'manual', data: { service: 'api' } })
    // run get and run list show it (a column only while a listed run has a priority).
    const got = await cli(['run', 'get', runId], { env })
    expect(got.stdout).toMatch(/^priority: 7$/m)
    const listed = await cli(['run', 'list'], { env })
    expect(listed.stdout).toMatch(/PRIORITY/)
    expect(listed.stdout.split('\n').find((l) => l.startsWith(runId))).toMatch(/ 7 /)
    const bad = await cli(['workflow', 'run', 'restart-on-hook', '--priority', 'high'], { env, cwd: dir })
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('--priority: expected an integer from -100 to 100')
    const forged = await cli(['workflow', 'run', 'restart-on-hook', '--event', 'forged.json'], {
      env,
      cwd: dir,
    })
    expect(forged.code).toBe(2)
    expect(forged.stderr).toContain('--event: "type" is always "manual" for a manual run')
  })

  it('stavily instruction run --wait follows the instruction until its result', async () => {
    const agent = await enroll(r, 'action', 'adhoc')
    const proc = spawnCli(
      [
        'instruction',
        'run',
        '--pool',
        'adhoc',
        '--plugin',
        '@acme/restart',
        '--input',
        'input.json',
        '--wait',
      ],
      { env, cwd: dir },
    )
    const done = collect(proc)
    const got = await until(async () => {
      const poll = await call(r.url, 'GET', '/agents/v1/instructions?waitMs=1000', {
        token: agent.credential,
      })
      return poll.body.instructions?.[0] as { id: string; attempt: number; input: unknown } | undefined
    })
    expect(got.input).toEqual({ service: 'api' })
    const reported = await call(r.url, 'POST', `/agents/v1/instructions/${got.id}/result`, {
      token: agent.credential,
      body: { attempt: got.attempt, status: 'succeeded', output: { restarted: true } },
    })
    expect(reported.status).toBe(200)
    const res = await done
    expect(res.stderr).toMatch(/queued/)
    expect(res.stderr).toMatch(/succeeded/)
    expect(JSON.parse(res.stdout)).toEqual({ restarted: true })
    expect(res.code).toBe(0)
  })

  it('stavily instruction run names a missing option', async () => {
    const missing = await cli(['instruction', 'run', '--plugin', 'x'], { env, cwd: dir })
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('missing --pool POOL')
  })
})

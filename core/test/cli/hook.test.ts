import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Running, setups } from '../helpers/harness.ts'
import { cli, freshConfig } from './cli-process.ts'
import { WORKFLOW_V1, writeFiles } from './fixtures.ts'

// `stavily hook send` against a real orchestrator: the signature it makes is the one the
// webhook route checks (v2, bound to the workflow id), so a run starts; a wrong secret is
// refused with advice; a secret file's trailing newline is dropped, with a warning.

const setup = setups({ postgres: false })[0]!
const SECRET = 'hook-send-secret-93b2'
let r: Running
let env: Record<string, string>
let dir: string

const stavily = (args: string[], input?: string) =>
  cli(args, { env, cwd: dir, ...(input !== undefined ? { input } : {}) })

beforeAll(async () => {
  await setup.prepare()
  r = await setup.start()
  env = { STAVILY_CONFIG: freshConfig() }
  dir = writeFiles({
    'wf.yaml': WORKFLOW_V1,
    'critical.json': '{"severity": "critical", "service": "nginx"}\n',
    'minor.json': '{"severity":"minor","service":"nginx"}',
    'broken.json': '{"severity":',
    'secret-newline': `${SECRET}\n`,
    'secret-exact': SECRET,
    'secret-wrong': 'not-the-secret',
  })
  expect((await stavily(['login', '--url', r.operatorUrl], `${r.admin}\n`)).code).toBe(0)
  expect((await stavily(['secret', 'set', 'HOOK_SECRET'], `${SECRET}\n`)).code).toBe(0)
  expect((await stavily(['workflow', 'apply', 'wf.yaml'])).code).toBe(0)
}, 60_000)

afterAll(async () => {
  await setup.cleanup()
})

describe('stavily hook send', () => {
  it('signs the file as the trigger expects: a run starts', async () => {
    const sent = await stavily([
      'hook',
      'send',
      'cli-restart',
      '--event',
      'critical.json',
      '--secret-file',
      'secret-exact',
    ])
    expect(sent.stderr).toBe('')
    expect(sent.code).toBe(0)
    const runId = /accepted: run (\S+) started/.exec(sent.stdout)?.[1]
    expect(runId).toBeTruthy()
    const run = await stavily(['run', 'get', runId!])
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('workflow: cli-restart (version 1)')
  })

  it('drops a trailing newline of --secret-file, and says so', async () => {
    const sent = await stavily([
      'hook',
      'send',
      'cli-restart',
      '--event',
      'critical.json',
      '--secret-file',
      'secret-newline',
    ])
    expect(sent.code).toBe(0)
    expect(sent.stderr).toContain('--secret-file secret-newline: dropped the trailing newline')
    expect(sent.stdout).toMatch(/accepted: run \S+ started/)
  })

  it('says when the filter started no run', async () => {
    const sent = await stavily([
      'hook',
      'send',
      'cli-restart',
      '--event',
      'minor.json',
      '--secret-file',
      'secret-exact',
      '--json',
    ])
    expect(sent.code).toBe(0)
    expect(JSON.parse(sent.stdout)).toMatchObject({ accepted: true, runId: null, reason: 'filtered' })
    const human = await stavily(
      ['hook', 'send', 'cli-restart', '--event', '-', '--secret-file', 'secret-exact'],
      '{"severity":"minor"}',
    )
    expect(human.stdout).toBe('accepted: no run started (filtered)\n')
  })

  it('refuses a wrong secret with advice naming the trigger secret, and bad arguments', async () => {
    const wrong = await stavily([
      'hook',
      'send',
      'cli-restart',
      '--event',
      'critical.json',
      '--secret-file',
      'secret-wrong',
    ])
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toContain("refused the signature of cli-restart's hook")
    expect(wrong.stderr).toContain('organization secret HOOK_SECRET')
    const noEvent = await stavily(['hook', 'send', 'cli-restart', '--secret-file', 'secret-exact'])
    expect(noEvent.code).toBe(2)
    expect(noEvent.stderr).toContain('--event FILE is required')
    const broken = await stavily([
      'hook',
      'send',
      'cli-restart',
      '--event',
      'broken.json',
      '--secret-file',
      'secret-exact',
    ])
    expect(broken.code).toBe(2)
    expect(broken.stderr).toContain('--event broken.json: expected JSON')
    const missing = await stavily([
      'hook',
      'send',
      'no-such-flow',
      '--event',
      'critical.json',
      '--secret-file',
      'secret-exact',
    ])
    expect(missing.code).toBe(4)
  })
})

// The plugin developer's inner loop against a real agent process of pool dev. Logs: a
// plugin's own lines (ctx.log) and the stderr of the commands it runs reach the instruction
// and the run detail of the API, `stavily run logs` and `stavily plugin run`, and the
// agent's own log; a call that logs past the per-result budget still succeeds, its logs
// clipped with a marker line. Dev loop: `stavily plugin dev` builds a working tree as a dev
// version, the agent swaps it in, and a save is running on the agent without a commit;
// dev builds stay out of other pools.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { cli, freshConfig, signedHook, spawnCli } from '@stavily/core/testing'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { tempDir } from '../../../test/temp-dir.ts'
import { type AgentProcess, startAgent } from './helpers/agent-process.ts'
import { call, setups, until } from './helpers/platform.ts'

// An agent process and its sandbox host on a shared 2-core box: generous time, no timing assertions.
vi.setConfig({ testTimeout: 180_000 })

const NAME = '@acme/talker'
const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Stavily Test',
  GIT_AUTHOR_EMAIL: 'test@stavily.invalid',
  GIT_COMMITTER_NAME: 'Stavily Test',
  GIT_COMMITTER_EMAIL: 'test@stavily.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
}

/** Logs two lines, runs `ls` on a missing path (stderr); with `flood`, 40 commands of ~30 KB stderr each. */
const SOURCE = `import { defineAction, Type } from '@stavily/sdk'
export default defineAction({
  input: Type.Object({ flood: Type.Optional(Type.Boolean()) }),
  output: Type.Object({ ok: Type.Boolean() }),
  async run(ctx, input) {
    ctx.log.info('checking the disks', { mount: '/' })
    await ctx.exec('ls', ['/stavily-no-such-path'])
    ctx.log.warn('disk almost full')
    if (input.flood) {
      const paths = Array.from({ length: 300 }, (_, i) => '/stavily-missing-' + 'x'.repeat(50) + i)
      for (let i = 0; i < 40; i++) await ctx.exec('ls', paths)
    }
    return { ok: true }
  },
})
`

const PACKAGE = `${JSON.stringify({
  name: NAME,
  version: '1.0.0',
  type: 'module',
  stavily: { kind: 'action', entry: 'src/index.ts', sdk: '^1.0.0', permissions: { exec: ['ls'] } },
  dependencies: { '@stavily/sdk': '^0.1.0' },
})}\n`

/** The plugin's files in a fresh folder (no Git: a working tree as a developer has it). */
function workingTree(name: string): string {
  const work = tempDir(name)
  writeFileSync(join(work, 'package.json'), PACKAGE)
  mkdirSync(join(work, 'src'))
  writeFileSync(join(work, 'src', 'index.ts'), SOURCE)
  return work
}

function pluginRepo(): string {
  const work = workingTree('logs-git')
  const git = (args: string[]) => execFileSync('git', args, { cwd: work, env: GIT_ENV })
  git(['init', '--quiet', '--initial-branch=main'])
  git(['add', '-A'])
  git(['commit', '--quiet', '-m', 'talker'])
  git(['tag', 'v1.0.0'])
  return `file://${work}`
}

const WORKFLOW = `name: talk
trigger:
  webhook:
    secret: HOOK
actions:
  - id: talk
    plugin: "${NAME}"
    version: ^1.0.0
    pool: dev
    input: {}
`

describe.each(setups())('plugin log lines on $name', (setup) => {
  let r: Awaited<ReturnType<typeof setup.start>>
  let env: Record<string, string>
  let dir: string
  const agents: AgentProcess[] = []
  const stavily = (args: string[], input?: string) =>
    cli(args, { env, cwd: dir, ...(input !== undefined ? { input } : {}) })

  beforeAll(async () => {
    await setup.prepare()
    r = await setup.start({ registry: { remotes: { allowFile: true } } })
    env = { STAVILY_CONFIG: freshConfig() }
    dir = tempDir('logs-cli')
    expect((await stavily(['login', '--url', r.operatorUrl, '--token', r.admin])).code).toBe(0)
    const published = await stavily(['plugin', 'publish', '--repo', pluginRepo(), '--ref', 'v1.0.0'])
    expect(published.stderr + published.stdout).toContain(`${NAME}@1.0.0 published`)
    expect((await stavily(['plugin', 'enable', NAME, '--pool', 'dev', '--range', '^1.0.0'])).code).toBe(0)
    const et = await call(r.operatorUrl, 'POST', '/api/v1/enrollment-tokens', {
      token: r.admin,
      body: { kind: 'action', pool: 'dev' },
    })
    const agent = startAgent([
      '--orchestrator',
      r.url,
      '--registry',
      `${r.operatorUrl}/api/v1/registry`,
      '--data-dir',
      join(tempDir('logs-agent'), 'data'),
      '--enrollment-token',
      et.body.token as string,
      '--allow-command',
      'ls',
    ])
    agents.push(agent)
    await agent.waitForLog((l) => l.msg === 'plugin loaded', 90_000, 'plugin loaded')
  }, 180_000)

  afterEach(() => {
    for (const a of agents) if (a.child.exitCode !== null) throw new Error(`the agent exited: ${a.stderr}`)
  })

  afterAll(async () => {
    for (const a of agents.splice(0)) await a.stop('SIGKILL')
    await setup.cleanup()
  })

  it('plugin run prints the result, the ctx.log lines and the command stderr', async () => {
    writeFileSync(join(dir, 'in.json'), '{}')
    const run = await stavily(['plugin', 'run', NAME, '--pool', 'dev', '--input', 'in.json'])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(new RegExp(`^${NAME}@1\\.0\\.0 on pool dev: succeeded in `, 'm'))
    expect(run.stdout).toMatch(/^ {2}\d\d:\d\d:\d\d INFO {2}checking the disks {2}\{"mount":"\/"\}$/m)
    expect(run.stdout).toMatch(
      /^ {2}\d\d:\d\d:\d\d WARN {2}\[exec\] \S*ls: cannot access '\/stavily-no-such-path'/m,
    )
    expect(run.stdout).toMatch(/^ {2}\d\d:\d\d:\d\d WARN {2}disk almost full$/m)
    expect(run.stdout).toContain('output:\n  {\n    "ok": true\n  }')
    // The agent's own log carries the same lines, under the call's instruction id.
    const line = agents[0]!.logs.find((l) => l.msg === 'disk almost full')
    expect(line).toMatchObject({ from: 'plugin', plugin: NAME, level: 40 })
    expect(typeof line?.instructionId).toBe('string')

    // An exact version the pool does not run is refused before anything is queued.
    const wrong = await stavily(['plugin', 'run', `${NAME}@9.9.9`, '--pool', 'dev', '--input', 'in.json'])
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toContain(`pool dev runs ${NAME}@1.0.0, not 9.9.9`)
  })

  it('a run from a webhook shows each step’s lines in the run detail and in run logs', async () => {
    expect((await stavily(['secret', 'set', 'HOOK'], 'hook-secret\n')).code).toBe(0)
    writeFileSync(join(dir, 'talk.yaml'), WORKFLOW)
    expect((await stavily(['workflow', 'apply', 'talk.yaml'])).code).toBe(0)
    const wf = await call(r.operatorUrl, 'GET', '/api/v1/workflows/talk', { token: r.admin })
    const hook = await signedHook(r.operatorUrl, wf.body.id, 'hook-secret', {})
    const runId = hook.body.runId!
    const detail = await until(
      async () => {
        const d = await call(r.operatorUrl, 'GET', `/api/v1/runs/${runId}`, { token: r.admin })
        return d.body.status === 'succeeded' ? d.body : undefined
      },
      60_000,
      'run succeeded',
    )
    const logs = detail.steps[0].logs as { message: string; source: string; attempt: number }[]
    expect(logs.map((l) => [l.source, l.message.split('\n')[0]])).toEqual([
      ['plugin', 'checking the disks'],
      ['exec', expect.stringContaining("ls: cannot access '/stavily-no-such-path'")],
      ['plugin', 'disk almost full'],
    ])
    expect(logs[0]).toMatchObject({ attempt: 1, level: 'info', fields: { mount: '/' } })

    const text = await stavily(['run', 'logs', runId])
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(/^── talk \(succeeded\)$/m)
    expect(text.stdout).toMatch(/^\d\d:\d\d:\d\d WARN {2}disk almost full$/m)
    const one = await stavily(['run', 'logs', runId, 'talk', '--json'])
    expect(JSON.parse(one.stdout)).toHaveLength(3)
    const missing = await stavily(['run', 'logs', runId, 'nope'])
    expect(missing.code).toBe(4)
    expect(missing.stderr).toContain('its steps: talk')
  })

  it('logs past the per-result budget are clipped with a marker, and the call still succeeds', async () => {
    writeFileSync(join(dir, 'flood.json'), '{"flood":true}')
    const run = await stavily(['plugin', 'run', NAME, '--pool', 'dev', '--input', 'flood.json', '--json'])
    expect(run.code).toBe(0)
    const body = JSON.parse(run.stdout) as { status: string; logs: { message: string; fields?: object }[] }
    expect(body.status).toBe('succeeded')
    const marker = body.logs.at(-1)!
    expect(marker.message).toMatch(/^\d+ log lines left out: over the per-result limit/)
    expect(body.logs.length).toBeLessThan(43)
    expect(body.logs[0]!.message).toBe('checking the disks')
    expect(body.logs.find((l) => l.message.includes('more characters]'))).toBeDefined()
  })
  it('plugin dev builds the working tree, swaps it in on the agent and rebuilds on save', async () => {
    const tree = workingTree('dev-tree')
    writeFileSync(join(dir, 'in.json'), '{}')
    const dev = spawnCli(['plugin', 'dev', tree, '--pool', 'dev', '--input', 'in.json'], { env, cwd: dir })
    let seen = ''
    dev.stdout!.on('data', (d: Buffer) => {
      seen += d.toString()
    })
    dev.stderr!.on('data', (d: Buffer) => {
      seen += d.toString()
    })
    const exited = new Promise<number | null>((resolve) => dev.on('close', resolve))
    try {
      const first = await until(
        async () => /@acme\/talker@(1\.0\.0-dev\.\d+) on pool dev: succeeded/.exec(seen)?.[1],
        90_000,
        'the first dev build called',
      )
      expect(seen).toMatch(/WARN {2}disk almost full/)
      await until(async () => seen.includes('watching '), 10_000, 'watching')
      // A save: the next build is a newer dev version, its new line is printed.
      writeFileSync(
        join(tree, 'src', 'index.ts'),
        SOURCE.replace("ctx.log.warn('disk almost full')", "ctx.log.warn('disk nearly full (saved)')"),
      )
      // The call of the saved build prints the new line; the version it names is the newest.
      const second = await until(
        async () => {
          const at = seen.indexOf('disk nearly full (saved)')
          if (at < 0) return undefined
          const m = [
            ...seen.slice(0, at).matchAll(/@acme\/talker@(1\.0\.0-dev\.\d+) on pool dev: succeeded/g),
          ]
          return m.at(-1)?.[1]
        },
        90_000,
        'the saved build called',
      )
      expect(second).not.toBe(first)
      expect(agents[0]!.logs.some((l) => l.msg === 'plugin hot-swapped' && l.to === second)).toBe(true)
      // A save that does not build says where, and the loop goes on watching.
      const before = seen.length
      writeFileSync(join(tree, 'src', 'index.ts'), `${SOURCE}\nexport const broken = (\n`)
      await until(
        async () =>
          /build failed: [\s\S]*src\/index\.ts:18:1: Unexpected end of file/.test(seen.slice(before)) &&
          seen.slice(before).includes('watching '),
        60_000,
        'the build error',
      )
      // Nothing in the working tree changed: no Git folder, the same version.
      expect(existsSync(join(tree, '.git'))).toBe(false)
      expect(readFileSync(join(tree, 'package.json'), 'utf8')).toBe(PACKAGE)

      // A dev build cannot be enabled outside a dev pool, nor can plugin dev run against one.
      const leak = await stavily(['plugin', 'enable', NAME, '--pool', 'web', '--range', second!])
      expect(leak.code).toBe(1)
      expect(leak.stderr).toContain(`${NAME}@${second} is a dev build and pool web is not a dev pool`)
    } finally {
      dev.kill('SIGINT')
    }
    expect(await exited).toBe(0)
    const refused = await stavily(['plugin', 'dev', tree, '--pool', 'web', '--once'])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain('--pool: web is not a dev pool')
  })
})

import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDir } from '../../../test/temp-dir.ts'
import { call, enroll, type Running, setups } from '../helpers/harness.ts'
import { cli, collect, freshConfig, spawnCli } from './cli-process.ts'
import { signedHook } from './fixtures.ts'

// Plugins and live runs through the CLI: publish a first-party plugin from a local Git
// repository (progress on stderr), find it, enable it in a pool, verify its signed bundle;
// then a run that waits for an agent is followed with `run watch` and cancelled.

const setup = setups({ postgres: false })[0]!
const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Stavily Test',
  GIT_AUTHOR_EMAIL: 'test@stavily.invalid',
  GIT_COMMITTER_NAME: 'Stavily Test',
  GIT_COMMITTER_EMAIL: 'test@stavily.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
}
const NAME = '@acme/cli-echo'

let r: Running
let env: Record<string, string>
let repo: string
let dir: string

const stavily = (args: string[], input?: string) =>
  cli(args, { env, cwd: dir, ...(input !== undefined ? { input } : {}) })

/**
 * A Git repository with a small action plugin, tagged v1.0.0. It defines itself without
 * importing @stavily/sdk: the orchestrator's registry builds with no host-provided SDK, so
 * an SDK import would need a lockfile and an npm install from the network.
 */
function pluginRepo(): string {
  const work = tempDir('cli-git')
  writeFileSync(
    join(work, 'package.json'),
    `${JSON.stringify(
      {
        name: NAME,
        version: '1.0.0',
        description: 'Echoes its input (CLI tests)',
        type: 'module',
        stavily: { kind: 'action', entry: 'src/index.ts', sdk: '^1.0.0', permissions: {} },
      },
      null,
      2,
    )}\n`,
  )
  mkdirSync(join(work, 'src'))
  writeFileSync(
    join(work, 'src', 'index.ts'),
    `export default {
  kind: 'action',
  sdkApiVersion: '1.0.0',
  schemas: {},
  async run(_ctx: unknown, input: unknown) {
    return { echoed: input }
  },
}
`,
  )
  const git = (args: string[]) => execFileSync('git', args, { cwd: work, env: GIT_ENV })
  git(['init', '--quiet', '--initial-branch=main'])
  git(['add', '-A'])
  git(['commit', '--quiet', '-m', 'echo plugin'])
  git(['tag', 'v1.0.0'])
  return `file://${work}`
}

/** Resolves once the watcher has shown the run waiting; kills it and fails after 15 s. */
async function shownWaiting(watcher: ReturnType<typeof spawnCli>): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      let seen = ''
      const timer = setTimeout(() => reject(new Error(`watch showed no waiting run:\n${seen}`)), 15_000)
      const onData = (d: Buffer) => {
        seen += d.toString()
        if (/ run (queued|running)/.test(seen)) {
          clearTimeout(timer)
          watcher.stdout!.off('data', onData)
          resolve()
        }
      }
      watcher.stdout!.on('data', onData)
      watcher.stderr!.on('data', onData)
    })
  } catch (err) {
    watcher.kill()
    throw err
  }
}

let workflowId: string

beforeAll(async () => {
  await setup.prepare()
  r = await setup.start({ registry: { remotes: { allowFile: true } } }) // publishes from file://
  env = { STAVILY_CONFIG: freshConfig() }
  dir = tempDir('cli-plugins')
  repo = pluginRepo()
  const login = await cli(['login', '--url', r.operatorUrl, '--token', r.admin], { env })
  expect(login.code).toBe(0)
})

afterAll(async () => {
  await setup.cleanup()
})

describe('stavily plugin and run watch', () => {
  it('publishes from Git with progress, then says unchanged', async () => {
    const p = await stavily(['plugin', 'publish', '--repo', repo, '--ref', 'v1.0.0'])
    expect(p.stderr).toMatch(/\] clone: /)
    expect(p.stderr).toMatch(/\] build: /)
    expect(p.code).toBe(0)
    expect(p.stdout).toMatch(new RegExp(`^${NAME}@1\\.0\\.0 published in `, 'm'))
    expect(p.stdout).toMatch(/^digest: /m)
    const again = await stavily(['plugin', 'publish', '--repo', repo, '--ref', 'v1.0.0', '--json'])
    expect(again.code).toBe(0)
    expect(JSON.parse(again.stdout)).toMatchObject({ status: 'unchanged', version: { name: NAME } })
    const bad = await stavily(['plugin', 'publish', '--repo', repo, '--ref', 'no-such-tag'])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/^error: .*no-such-tag/m)
  })

  it('lists, enables in a pool, and verifies the signed bundle', async () => {
    const list = await stavily(['plugin', 'list', 'echo'])
    expect(list.code).toBe(0)
    expect(list.stdout).toMatch(new RegExp(`^${NAME} +action +1\\.0\\.0 +- `, 'm'))
    const withPermissions = await stavily(['plugin', 'list', 'echo', '--permissions'])
    expect(withPermissions.stdout).toContain(`${NAME}@1.0.0 may use nothing but its log and state`)
    const en = await stavily(['plugin', 'enable', NAME, '--pool', 'web', '--range', '^1.0.0'])
    expect(en.code).toBe(0)
    expect(en.stdout).toContain(`${NAME}@1.0.0 enabled in pool web (range ^1.0.0)`)
    expect((await stavily(['plugin', 'list'])).stdout).toMatch(new RegExp(`^${NAME} .* web=1\\.0\\.0 `, 'm'))
    const missing = await stavily(['plugin', 'enable', '@acme/nothing', '--pool', 'web', '--range', '^1.0.0'])
    expect(missing.code).toBe(4)

    const root = await call(r.operatorUrl, 'GET', '/api/v1/registry/tuf/1.root.json')
    expect(root.status).toBe(200)
    writeFileSync(join(dir, 'root.json'), JSON.stringify(root.body))
    const v = await stavily([
      'plugin',
      'verify',
      `${NAME}@1.0.0`,
      '--root',
      'root.json',
      '--cache',
      join(dir, 'tuf'),
      '--json',
    ])
    expect(v.stderr).toBe('')
    expect(v.code).toBe(0)
    expect(JSON.parse(v.stdout)).toMatchObject({ ok: true, target: { name: NAME, version: '1.0.0' } })
  })

  it('watch follows a waiting run until it is cancelled (exit 1)', async () => {
    await stavily(['secret', 'set', 'HOOK'], 'hook-secret\n')
    writeFileSync(
      join(dir, 'wf.yaml'),
      `name: cli-watch
trigger:
  webhook:
    secret: HOOK
actions:
  - id: restart
    plugin: "${NAME}"
    version: ^1.0.0
    pool: web
    input:
      unit: \${{ trigger.unit }}
`,
    )
    const applied = JSON.parse((await stavily(['workflow', 'apply', 'wf.yaml', '--json'])).stdout)
    expect(applied.warnings).toEqual([])
    workflowId = applied.workflow.id
    const hook = await signedHook(r.operatorUrl, applied.workflow.id, 'hook-secret', {
      unit: 'nginx.service',
    })
    const runId = hook.body.runId!
    expect(runId).toBeTruthy()

    // No agent serves pool web: the run waits, and watch waits with it.
    const watcher = spawnCli(['run', 'watch', runId], { env, cwd: dir })
    const watched = collect(watcher)
    await shownWaiting(watcher)
    const cancel = await stavily(['run', 'cancel', runId])
    expect(cancel.code).toBe(0)
    expect(cancel.stdout).toContain(`run ${runId}: cancelled`)
    // Watch notices the end through the stream or its slow poll; a hang fails here, not at the test timeout.
    const guard = setTimeout(() => watcher.kill(), 20_000)
    const w = await watched
    clearTimeout(guard)
    expect(w.code).toBe(1)
    expect(w.stdout).toMatch(/^\d\d:\d\d:\d\d {2}run cancelled$/m)
    expect(w.stdout).toMatch(/^\d\d:\d\d:\d\d {2}action restart cancelled$/m)
    expect(w.stdout).toContain(`run ${runId}: cancelled`)
    expect(w.stdout).toMatch(/^restart +action +cancelled +/m)
    expect(w.stderr).toContain(`run ${runId} of cli-watch cancelled`)
  })

  it('watch shows each step of a run an agent completes, and exits 0', async () => {
    // An action agent of pool web, simulated at the protocol level.
    const agent = await enroll(r, 'action', 'web')
    const hook = await signedHook(r.operatorUrl, workflowId, 'hook-secret', { unit: 'api.service' })
    const runId = hook.body.runId!
    const watcher = spawnCli(['run', 'watch', runId], { env, cwd: dir })
    const watched = collect(watcher)
    await shownWaiting(watcher)

    const poll = await call(r.url, 'GET', '/agents/v1/instructions?waitMs=10000', { token: agent.credential })
    expect(poll.status).toBe(200)
    const inst = poll.body.instructions[0]
    expect(inst).toMatchObject({ plugin: NAME, input: { unit: 'api.service' } })
    const acc = await call(r.url, 'POST', `/agents/v1/instructions/${inst.id}/accept`, {
      token: agent.credential,
      body: { attempt: inst.attempt },
    })
    expect(acc.status).toBe(200)
    const res = await call(r.url, 'POST', `/agents/v1/instructions/${inst.id}/result`, {
      token: agent.credential,
      body: { attempt: inst.attempt, status: 'succeeded', output: { echoed: { unit: 'api.service' } } },
    })
    expect(res.status).toBe(200)

    const guard = setTimeout(() => watcher.kill(), 20_000)
    const w = await watched
    clearTimeout(guard)
    expect(w.code).toBe(0)
    expect(w.stdout).toMatch(/^\d\d:\d\d:\d\d {2}action restart running$/m)
    expect(w.stdout).toMatch(/^\d\d:\d\d:\d\d {2}action restart succeeded in \S+$/m)
    expect(w.stdout).toMatch(/^\d\d:\d\d:\d\d {2}run succeeded$/m)
    expect(w.stdout).toMatch(/^restart +action +succeeded +1 +/m)
    const json = await stavily(['run', 'watch', runId, '--json'])
    expect(json.code).toBe(0)
    expect(JSON.parse(json.stdout)).toMatchObject({
      id: runId,
      status: 'succeeded',
      steps: [{ stepId: 'restart', output: { echoed: { unit: 'api.service' } } }],
    })
    // Without --json too: the step's output under the steps table, readable.
    const get = await stavily(['run', 'get', runId])
    expect(get.code).toBe(0)
    expect(get.stdout).toContain('\noutputs:\n  restart:\n    echoed:\n      unit: api.service\n')
  })

  it('a release outside the ranges: publish names the pool it missed, enable the workflow step it leaves', async () => {
    const work = repo.replace(/^file:\/\//, '')
    const git = (args: string[]) => execFileSync('git', args, { cwd: work, env: GIT_ENV })
    const pkgFile = join(work, 'package.json')
    writeFileSync(pkgFile, readFileSync(pkgFile, 'utf8').replace('"version": "1.0.0"', '"version": "2.0.0"'))
    git(['commit', '--quiet', '-am', '2.0.0'])
    git(['tag', 'v2.0.0'])
    const p = await stavily(['plugin', 'publish', '--repo', repo, '--ref', 'v2.0.0'])
    expect(p.code).toBe(0)
    expect(p.stderr).toContain(
      `warning: pool web stays on 1.0.0: its range ^1.0.0 does not include 2.0.0; to move it: stavily plugin enable ${NAME} --pool web --range "^2.0.0"`,
    )
    const en = await stavily(['plugin', 'enable', NAME, '--pool', 'web', '--range', '^2.0.0'])
    expect(en.code).toBe(0)
    expect(en.stderr).toContain(
      'warning: workflow cli-watch, step restart: its range ^1.0.0 does not include 2.0.0, so its runs will fail with STAVILY_ERR_PLUGIN_NOT_ENABLED; widen it in the workflow (version: "^2.0.0")',
    )
  })
})

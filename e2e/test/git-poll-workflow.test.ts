// The Git commit trigger without a webhook: git-poll, published from the git daemon, runs on
// a sensor agent whose operator granted it `git` and a mirror folder; it polls a repository
// served by a real `git daemon` on loopback. A push of a commit with a known author and
// message starts a run whose event lists that commit, and whose action echoes it.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startInetdGitDaemon } from '../../test/git-daemon.ts'
import { waitFor } from '../src/net.ts'
import { type Platform, startPlatform } from '../src/platform.ts'

let platform: Platform
let dir: string
let daemon: Awaited<ReturnType<typeof startInetdGitDaemon>>

const git = (cwd: string, args: string[], env: Record<string, string> = {}) =>
  execFileSync('git', args, {
    cwd,
    env: { PATH: process.env.PATH!, HOME: dir, GIT_CONFIG_NOSYSTEM: '1', ...env },
    encoding: 'utf8',
  }).trim()

/** A commit by `name` on the work tree's current branch, pushed; its SHA. */
function commitAndPush(message: string, name: string, email: string): string {
  const work = join(dir, 'work')
  const who = { GIT_AUTHOR_NAME: name, GIT_AUTHOR_EMAIL: email }
  git(work, ['commit', '-q', '--allow-empty', '-m', message], {
    ...who,
    GIT_COMMITTER_NAME: 'CI',
    GIT_COMMITTER_EMAIL: 'ci@example.com',
  })
  git(work, ['push', '-q', 'origin', 'main'])
  return git(work, ['rev-parse', 'HEAD'])
}

/** Whether the sensor's first check has fetched main into its bare mirror (`<mirror>/<id>.git`). */
function mirrored(): boolean {
  const mirror = join(dir, 'mirror')
  return readdirSync(mirror).some((name) => {
    try {
      return (
        git(mirror, [`--git-dir=${join(mirror, name)}`, 'rev-parse', '--verify', '-q', 'refs/heads/main']) !==
        ''
      )
    } catch {
      return false
    }
  })
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stavily-e2e-git-poll-'))
  mkdirSync(join(dir, 'mirror'))
  git(dir, ['init', '-q', '--bare', join(dir, 'served', 'app.git')])
  git(dir, ['init', '-q', '--initial-branch=main', join(dir, 'work')])
  git(join(dir, 'work'), ['remote', 'add', 'origin', join(dir, 'served', 'app.git')])
  commitAndPush('initial', 'Setup', 'setup@example.com')
  daemon = await startInetdGitDaemon(join(dir, 'served'))
  platform = await startPlatform('gitpoll')
  for (const plugin of ['git-poll', 'run-command']) {
    const v = await platform.publish(plugin)
    await platform.enable(v.name, v.version)
  }
  // What the operator grants the sensor agent: the git command and the mirror's folder.
  await platform.agent({
    name: 'git-sensor',
    kind: 'sensor',
    grants: { commands: ['git'], read: [join(dir, 'mirror')] },
  })
  await platform.agent({ name: 'git-action', kind: 'action', grants: { commands: ['echo'] } })
}, 180_000)

afterAll(async () => {
  await platform?.close()
  await daemon?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('git-poll in a workflow', () => {
  it('starts a run for a pushed commit, whose event and action carry its author and message', async () => {
    const { workflow } = await platform.apply(`
name: on-commit
trigger:
  sensor:
    plugin: "@stavily/plugin-git-poll"
    version: ^0.1.0
    interval: 1s
    config:
      url: "${daemon.url('app.git')}"
      branches: [main]
      repository: acme/app
      mirror: "${join(dir, 'mirror')}"
    filter: trigger.branch == 'main' && !trigger.deleted
actions:
  - id: react
    plugin: "@stavily/plugin-run-command"
    version: ^0.1.0
    config: { command: echo }
    input:
      args: ["\${{ trigger.commits[0].author.name }}: \${{ trigger.commits[0].message }}"]
`)
    // The first check records the head (a baseline): wait until the sensor has checked, by
    // the mirror it creates, so the push below is a move it sees.
    await waitFor('the sensor to mirror the repository', () => (mirrored() ? true : undefined), {
      timeoutMs: 90_000,
      intervalMs: 250,
    })
    const before = git(join(dir, 'work'), ['rev-parse', 'HEAD'])
    const after = commitAndPush('Fix the checkout total rounding', 'Ada Lovelace', 'ada@example.com')

    const [started] = await waitFor(
      'a run of on-commit',
      async () => {
        const runs = await platform.runsOf(workflow.id)
        return runs.length > 0 ? runs : undefined
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    )
    const run = await platform.waitForRun(started!.id)
    expect(run.status, platform.logs()).toBe('succeeded')
    expect(run.event.data).toMatchObject({
      provider: 'git-poll',
      repository: 'acme/app',
      branch: 'main',
      before,
      after,
      forced: false,
      totalCommits: 1,
      commits: [
        {
          id: after,
          message: 'Fix the checkout total rounding',
          author: { name: 'Ada Lovelace', email: 'ada@example.com' },
        },
      ],
    })
    expect((run.steps.find((s) => s.stepId === 'react')!.output as { stdout: string }).stdout).toBe(
      'Ada Lovelace: Fix the checkout total rounding\n',
    )
    // One push, one run.
    expect(await platform.runsOf(workflow.id)).toHaveLength(1)
  }, 180_000)
})

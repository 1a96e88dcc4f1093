// Builds this plugin as the registry does and runs it in the agent's real sandbox (see
// ../../bundle-check.ts) against a real `git daemon` on loopback: a real push to the served
// repository is seen by the next check, through the granted `git`.
import { execFileSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type InetdGitDaemon, startInetdGitDaemon } from '../../../test/git-daemon.ts'
import { callIds, inSandbox, itBundlesForTheSandbox } from '../../bundle-check.ts'
import pkg from '../package.json' with { type: 'json' }

let root: string
let daemon: InetdGitDaemon
const env = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
}
const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, { cwd, env, encoding: 'utf8' }).trim()

/** A commit on `branch` of the work tree, pushed to the served repository; its SHA. */
function commitAndPush(work: string, branch: string, message: string): string {
  git(work, 'checkout', '-q', '-B', branch)
  git(work, 'commit', '-q', '--allow-empty', '-m', message)
  git(work, 'push', '-q', 'origin', branch)
  return git(work, 'rev-parse', 'HEAD')
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'git-poll-'))
  git(root, 'init', '-q', '--bare', 'app.git')
  git(root, 'init', '-q', 'work')
  git(join(root, 'work'), 'remote', 'add', 'origin', join(root, 'app.git'))
  daemon = await startInetdGitDaemon(root)
})
afterAll(async () => {
  await daemon?.close()
  if (root) await rm(root, { recursive: true, force: true })
})

describe('git-poll bundle', () => {
  itBundlesForTheSandbox(import.meta.url, pkg, 'sensor')

  it('sees a real push to a branch of a repository served by git daemon, through the granted git', async () => {
    const work = join(root, 'work')
    const first = commitAndPush(work, 'main', 'first')
    await inSandbox(import.meta.url, pkg, { exec: ['git'] }, async (sandbox, name) => {
      const check = () =>
        sandbox.invoke(name, {
          ...callIds(),
          config: { url: daemon.url('app.git'), branches: ['main', 'release'] },
        })
      expect((await check()).events).toEqual([]) // the first check records the heads
      const second = commitAndPush(work, 'main', 'second')
      const moved = await check()
      expect(moved.events).toEqual([
        expect.objectContaining({
          type: 'push',
          data: expect.objectContaining({
            provider: 'git-poll',
            repository: 'app',
            ref: 'refs/heads/main',
            branch: 'main',
            before: first,
            after: second,
            deleted: false,
            commits: [],
          }),
        }),
      ])
      expect((await check()).events).toEqual([]) // nothing new
      const release = commitAndPush(work, 'release', 'cut')
      const created = (await check()).events
      expect(created.map((e) => e.data as { branch: string; after: string; created: boolean })).toEqual([
        expect.objectContaining({ branch: 'release', after: release, created: true }),
      ])
    })
  })

  it('lists the commits of a push from a mirror in the granted folder (the agent checks the cwd)', async () => {
    const work = join(root, 'work')
    const mirror = join(root, 'mirror')
    mkdirSync(mirror)
    commitAndPush(work, 'main', 'before the baseline')
    await inSandbox(
      import.meta.url,
      pkg,
      { exec: ['git'], fs: { read: [mirror], write: [] } },
      async (sandbox, name) => {
        const check = () =>
          sandbox.invoke(name, {
            ...callIds(),
            config: { url: daemon.url('app.git'), branches: ['main'], mirror },
          })
        expect((await check()).events).toEqual([])
        const first = commitAndPush(work, 'main', 'Fix the build')
        const second = commitAndPush(work, 'main', 'Add a test\n\nWith a body.')
        const [push] = (await check()).events
        expect(push?.data).toMatchObject({
          after: second,
          totalCommits: 2,
          forced: false,
          commits: [
            { id: first, message: 'Fix the build', author: { name: 'Test', email: 'test@example.com' } },
            { id: second, message: 'Add a test\n\nWith a body.' },
          ],
        })
      },
    )
    // Outside the grant the agent refuses the cwd before git runs.
    await inSandbox(
      import.meta.url,
      pkg,
      { exec: ['git'], fs: { read: [join(root, 'work')], write: [] } },
      async (sandbox, name) => {
        await expect(
          sandbox.invoke(name, {
            ...callIds(),
            config: { url: daemon.url('app.git'), branches: ['main'], mirror },
          }),
        ).rejects.toMatchObject({
          code: 'STAVILY_ERR_PERMISSION_DENIED',
          message: expect.stringContaining(mirror),
        })
      },
    )
  })

  it('is refused git on an agent whose operator did not grant it, naming the command', async () => {
    await inSandbox(import.meta.url, pkg, {}, async (sandbox, name) => {
      await expect(
        sandbox.invoke(name, { ...callIds(), config: { url: daemon.url('app.git'), branches: ['main'] } }),
      ).rejects.toMatchObject({
        code: 'STAVILY_ERR_PERMISSION_DENIED',
        message: expect.stringContaining('git'),
      })
    })
  })

  it("fails naming git daemon's answer for a repository it does not serve", async () => {
    await inSandbox(import.meta.url, pkg, { exec: ['git'] }, async (sandbox, name) => {
      await expect(
        sandbox.invoke(name, {
          ...callIds(),
          config: { url: daemon.url('missing.git'), branches: ['main'] },
        }),
      ).rejects.toMatchObject({
        code: 'GIT_POLL_LS_REMOTE_FAILED',
        message: expect.stringContaining('missing.git'),
      })
    })
  })
})

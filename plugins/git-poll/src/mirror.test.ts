// git-poll with a mirror, in the SDK harness with the operator's grants, against a real
// repository served by a real `git daemon` on loopback: the harness checks the command and
// the cwd against the grants, and the granted `git` really runs (as the agent would run it:
// a minimal environment), fetching from the daemon into a real bare mirror.
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ErrorCodes, type JsonValue } from '@stavily/sdk'
import { type ExecCall, type FakeExecResult, testSensor } from '@stavily/sdk/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type InetdGitDaemon, startInetdGitDaemon } from '../../../test/git-daemon.ts'
import pkg from '../package.json' with { type: 'json' }
import recorded from '../test/recorded-event.json' with { type: 'json' }
import { fitToBudget, utf8Bytes } from './budget.ts'
import plugin from './index.ts'

let root: string
let daemon: InetdGitDaemon

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'git-poll-mirror-'))
  daemon = await startInetdGitDaemon(join(root, 'served'))
})
afterAll(async () => {
  await daemon?.close()
  if (root) await rm(root, { recursive: true, force: true })
})

interface Author {
  name: string
  email: string
}
const ADA: Author = { name: 'Ada Lovelace', email: 'ada@example.com' }
const LINUS: Author = { name: 'Linus Torvalds', email: 'linus@example.com' }

/** git in the test's own repositories: no system or user config, fixed dates (stable SHAs). */
function git(cwd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      args,
      {
        cwd,
        env: { PATH: process.env.PATH!, HOME: root, GIT_CONFIG_NOSYSTEM: '1', ...env },
        encoding: 'utf8',
        maxBuffer: 16 * 1024 * 1024,
      },
      (err, stdout, stderr) =>
        err ? reject(new Error(`git ${args.join(' ')}: ${stderr}`)) : resolve(stdout.trim()),
    )
  })
}

/** The agent's `git`: the harness has checked command and cwd; it runs with what the host gives. */
async function realGit(call: ExecCall): Promise<FakeExecResult> {
  return new Promise((resolve) => {
    execFile(
      call.command,
      call.args,
      {
        cwd: call.options.cwd ?? '/',
        env: { PATH: process.env.PATH!, LANG: 'C.UTF-8' },
        encoding: 'utf8',
        maxBuffer: 1024 * 1024,
        timeout: call.options.timeoutMs,
      },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1
        resolve({ code, stdout, stderr })
      },
    )
  })
}

/** A bare repository under the daemon's folder and a work tree pushing to it. */
class Served {
  readonly work: string
  private clock = Date.parse('2026-12-07T09:00:00Z') / 1000

  private constructor(
    readonly name: string,
    readonly url: string,
  ) {
    this.work = join(root, 'work', name)
  }

  static async create(name: string): Promise<Served> {
    const repo = new Served(name, daemon.url(`${name}.git`))
    await git(root, ['init', '-q', '--bare', join(root, 'served', `${name}.git`)])
    await git(root, ['init', '-q', '--initial-branch=main', repo.work])
    await git(repo.work, ['remote', 'add', 'origin', join(root, 'served', `${name}.git`)])
    return repo
  }

  /** A commit on the current branch by `author`, a minute after the previous one; its SHA. */
  async commit(message: string, author: Author = ADA): Promise<string> {
    this.clock += 60
    const date = `${this.clock} +0000`
    await git(this.work, ['commit', '-q', '--allow-empty', '--cleanup=verbatim', '-m', message], {
      GIT_AUTHOR_NAME: author.name,
      GIT_AUTHOR_EMAIL: author.email,
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_NAME: 'CI',
      GIT_COMMITTER_EMAIL: 'ci@example.com',
      GIT_COMMITTER_DATE: date,
    })
    return git(this.work, ['rev-parse', 'HEAD'])
  }

  /** Switches to `branch`; with `from`, (re)creates it there. */
  checkout(branch: string, from?: string): Promise<string> {
    return git(this.work, ['checkout', '-q', ...(from ? ['-B', branch, from] : [branch])])
  }

  push(...refspecs: string[]): Promise<string> {
    return git(this.work, ['push', '-q', 'origin', ...refspecs])
  }
}

type Event = { type: string; data: Record<string, unknown>; dedupeKey?: string; occurredAt?: string }

/** Checks carried one after the other, as an agent's sensor loop would, with the operator's grants. */
function poller(config: Record<string, unknown>, mirror: string) {
  let state: Record<string, JsonValue> = {}
  return async (withMirror = true): Promise<Event[]> => {
    const r = await testSensor(plugin, {
      manifest: pkg,
      grants: { exec: ['git'], fs: { read: [mirror] } },
      config: (withMirror ? { mirror, ...config } : config) as never,
      state,
      exec: { git: realGit },
    })
    state = r.state
    return r.events as Event[]
  }
}

const commitsOf = (e: Event) =>
  (e.data.commits as { message: string; author: { name: string; email: string } }[]).map((c) => [
    c.message,
    c.author.name,
  ])

describe('git-poll with a mirror, against a real git daemon', () => {
  it('lists the commits of pushes, new branches, deletions and force-pushes, with their authors', async () => {
    const repo = await Served.create('app')
    const mirror = await mkdtemp(join(root, 'mirror-'))
    const check = poller({ url: repo.url, branches: ['main', 'feature', 'gone'] }, mirror)

    await repo.commit('initial')
    await repo.checkout('gone', 'HEAD')
    await repo.commit('short-lived', LINUS)
    await repo.checkout('main')
    const base = await repo.push('main', 'gone')
    expect(base).toBe('')
    expect(await check()).toEqual([]) // the baseline, fetched into the mirror

    // Three commits by two authors, one push; a message with a record separator and lines.
    const before = await git(repo.work, ['rev-parse', 'HEAD'])
    await repo.commit('Fix the login redirect', ADA)
    await repo.commit('Bump version\n\nWith a body\x1e and a second\nline.', LINUS)
    const after = await repo.commit('Add release notes', ADA)
    await repo.push('main')
    const [push] = await check()
    expect(push).toMatchObject({
      type: 'push',
      data: {
        provider: 'git-poll',
        repository: 'app',
        branch: 'main',
        before,
        after,
        created: false,
        deleted: false,
        forced: false,
        totalCommits: 3,
        truncated: false,
      },
      dedupeKey: `push:app:refs/heads/main:${before}:${after}`,
    })
    expect(commitsOf(push!)).toEqual([
      ['Fix the login redirect', 'Ada Lovelace'],
      ['Bump version\n\nWith a body\x1e and a second\nline.', 'Linus Torvalds'],
      ['Add release notes', 'Ada Lovelace'],
    ])
    const last = (push!.data.commits as Record<string, unknown>[])[2]
    expect(last).toEqual({
      id: after,
      message: 'Add release notes',
      author: { name: 'Ada Lovelace', email: 'ada@example.com' },
      timestamp: expect.stringMatching(/^2026-12-07T09:0\d:00\+00:00$/),
      url: null,
    })
    expect(await check()).toEqual([]) // nothing new

    // A new branch lists only its own commits, not main's history; a deleted one none.
    await repo.checkout('feature', 'main')
    await repo.commit('Feature part 1', LINUS)
    const tip = await repo.commit('Feature part 2', ADA)
    await repo.push('feature', ':gone')
    const moved = await check()
    expect(moved.map((e) => [e.data.branch, e.data.created, e.data.deleted, e.data.totalCommits])).toEqual([
      ['feature', true, false, 2],
      ['gone', false, true, 0],
    ])
    expect(moved[0]!.data.after).toBe(tip)
    expect(commitsOf(moved[0]!)).toEqual([
      ['Feature part 1', 'Linus Torvalds'],
      ['Feature part 2', 'Ada Lovelace'],
    ])
    expect(moved[1]!.data.commits).toEqual([])

    // A force-push: main rewritten to drop its last commit and take another.
    await repo.checkout('main')
    await git(repo.work, ['reset', '-q', '--hard', 'HEAD~1'])
    const rewritten = await repo.commit('Add release notes, reworded', LINUS)
    await repo.push('--force', 'main')
    const [forced] = await check()
    expect(forced!.data).toMatchObject({
      branch: 'main',
      before: after,
      after: rewritten,
      forced: true,
      totalCommits: 1,
    })
    expect(commitsOf(forced!)).toEqual([['Add release notes, reworded', 'Linus Torvalds']])

    // More than the cap: the newest are listed (oldest first), all are counted.
    for (let i = 1; i <= 7; i++) await repo.commit(`Change ${i}`, i % 2 ? ADA : LINUS)
    await repo.push('main')
    const capped = poller({ url: repo.url, branches: ['main', 'feature'], maxCommits: 5 }, mirror)
    // A new config over the same mirror folder: its state is new, so its first check is a baseline.
    expect(await capped()).toEqual([])
    for (let i = 8; i <= 12; i++) await repo.commit(`Change ${i}`)
    await repo.commit('x'.repeat(5000))
    await repo.push('main')
    const [many] = await capped()
    expect(many!.data).toMatchObject({ totalCommits: 6, truncated: true })
    const messages = (many!.data.commits as { message: string }[]).map((c) => c.message)
    expect(messages.slice(0, 4)).toEqual(['Change 9', 'Change 10', 'Change 11', 'Change 12'])
    // A long message is kept to 2048 characters and says it was cut.
    expect(messages[4]).toBe(`${'x'.repeat(2048)}…`)
  }, 60_000)

  it('records the event docs/workflows.md dry-runs against (test/recorded-event.json)', async () => {
    const repo = await Served.create('web')
    const mirror = await mkdtemp(join(root, 'mirror-'))
    const check = poller({ ...recorded.config, url: repo.url }, mirror)
    await repo.commit('initial')
    await repo.push('main')
    expect(await check()).toEqual([])
    await repo.commit('Fix the checkout total rounding', ADA)
    await repo.commit('Retry the payment call once on 503', LINUS)
    await repo.push('main')
    const [event] = await check()
    const { occurredAt, ...rest } = event!
    expect(occurredAt).toMatch(/^\d{4}-/)
    if (process.env.GIT_POLL_PRINT_RECORDED) console.log(JSON.stringify(rest, null, 2))
    expect({ ...rest, data: { ...rest.data, url: recorded.event.data.url } }).toEqual(recorded.event)
  }, 30_000)

  it('lists a push as a new branch would be when its before is not in the mirror (mirror added later)', async () => {
    const repo = await Served.create('late')
    const mirror = await mkdtemp(join(root, 'mirror-'))
    const check = poller({ url: repo.url, branches: ['main'] }, mirror)
    await repo.commit('initial')
    const dropped = await repo.commit('dropped later')
    await repo.push('main')
    expect(await check(false)).toEqual([]) // the heads, seen without a mirror
    // History rewritten before the mirror exists: `before` will never be fetched.
    await git(repo.work, ['reset', '-q', '--hard', 'HEAD~1'])
    await repo.commit('replacement', LINUS)
    await repo.push('--force', 'main')
    const [push] = await check(true)
    expect(push!.data).toMatchObject({ before: dropped, forced: null, totalCommits: 2, truncated: false })
    expect(commitsOf(push!)).toEqual([
      ['initial', 'Ada Lovelace'],
      ['replacement', 'Linus Torvalds'],
    ])
  })

  it('keeps the mirror only where the operator granted, naming the folder', async () => {
    const repo = await Served.create('denied')
    await repo.commit('initial')
    await repo.push('main')
    const mirror = await mkdtemp(join(root, 'mirror-'))
    await expect(
      testSensor(plugin, {
        manifest: pkg,
        grants: { exec: ['git'], fs: { read: [join(root, 'elsewhere')] } },
        config: { url: repo.url, branches: ['main'], mirror },
        exec: { git: realGit },
      }),
    ).rejects.toMatchObject({ code: ErrorCodes.PERMISSION_DENIED, message: expect.stringContaining(mirror) })
  })
})

describe('fitToBudget', () => {
  it("drops the oldest listed commits of the widest push until the check's events fit", () => {
    const commit = (n: number) => ({
      id: String(n).padStart(40, '0'),
      message: `${n} ${'é'.repeat(500)}`,
      author: { name: 'A', email: 'a@example.com' },
      timestamp: null,
      url: null,
    })
    const events = [
      { data: { commits: [1, 2, 3, 4, 5, 6].map(commit), truncated: false } },
      { data: { commits: [7, 8].map(commit), truncated: false } },
    ]
    fitToBudget(events, 5000)
    expect(utf8Bytes(JSON.stringify(events))).toBeLessThanOrEqual(5000)
    expect(events.map((e) => e.data.commits.map((c) => Number(c.message.split(' ')[0])))).toEqual([
      [5, 6],
      [7, 8],
    ])
    expect(events.map((e) => e.data.truncated)).toEqual([true, false])
  })
})

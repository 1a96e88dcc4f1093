import { ErrorCodes, type JsonValue } from '@stavily/sdk'
import { testSensor } from '@stavily/sdk/testing'
import { describe, expect, it } from 'vitest'
import pkg from '../package.json' with { type: 'json' }
import plugin from './index.ts'

const A = 'a'.repeat(40)
const B = 'b'.repeat(40)
const C = 'c'.repeat(40)
const ZERO = '0'.repeat(40)
const url = 'https://git.example.com/acme/app.git'

type Event = { type: string; data: Record<string, unknown>; dedupeKey?: string }

/** Checks one after the other, each seeing the given heads, carrying state along. */
async function checks(readings: Record<string, string>[], config: Record<string, unknown> = {}) {
  let state: Record<string, JsonValue> = {}
  const perCheck: Event[][] = []
  for (const heads of readings) {
    const stdout = Object.entries(heads)
      .map(([branch, sha]) => `${sha}\trefs/heads/${branch}\n`)
      .join('')
    const r = await testSensor(plugin, {
      manifest: pkg,
      config: { url, branches: ['main', 'release'], ...config } as never,
      state,
      exec: { git: { stdout } },
    })
    perCheck.push(r.events as Event[])
    state = r.state
    expect(r.calls.exec[0]).toMatchObject({
      command: 'git',
      args: ['ls-remote', '--heads', '--', url, 'refs/heads/main', 'refs/heads/release'],
    })
  }
  return perCheck
}

describe('git-poll', () => {
  it('records the heads on the first check, then emits one push per branch that moved, shaped as the webhook push', async () => {
    const perCheck = await checks([
      { main: A, release: B },
      { main: A, release: B },
      { main: C, release: B },
    ])
    expect(perCheck.map((events) => events.length)).toEqual([0, 0, 1])
    expect(perCheck[2]![0]).toEqual({
      type: 'push',
      data: {
        provider: 'git-poll',
        repository: 'acme/app',
        url,
        ref: 'refs/heads/main',
        branch: 'main',
        tag: null,
        before: A,
        after: C,
        deleted: false,
        created: false,
        pusher: { name: null, email: null },
        commits: [],
        // Without a mirror: heads only, nothing known about the commits.
        totalCommits: null,
        truncated: false,
        forced: null,
      },
      dedupeKey: `push:acme/app:refs/heads/main:${A}:${C}`,
      occurredAt: expect.stringMatching(/^\d{4}-/),
    })
  })

  it('reports a watched branch that appears as created and one that goes away as deleted (zero SHAs)', async () => {
    const perCheck = await checks([{ main: A }, { main: A, release: B }, { release: B }])
    expect(perCheck[1]!.map((e) => [e.data.branch, e.data.before, e.data.after, e.data.created])).toEqual([
      ['release', ZERO, B, true],
    ])
    expect(perCheck[2]!.map((e) => [e.data.branch, e.data.before, e.data.after, e.data.deleted])).toEqual([
      ['main', A, ZERO, true],
    ])
  })

  it('ignores refs it did not ask for and names the repository from config when given', async () => {
    const perCheck = await checks(
      [
        { main: A, other: B },
        { main: B, other: C },
      ],
      { repository: 'app' },
    )
    expect(perCheck[1]!.map((e) => [e.data.repository, e.data.branch])).toEqual([['app', 'main']])
  })

  it('fails retryably naming git and its message when ls-remote fails', async () => {
    await expect(
      testSensor(plugin, {
        manifest: pkg,
        config: { url, branches: ['main'] },
        exec: {
          git: {
            code: 128,
            stderr: "fatal: unable to access 'https://git.example.com/': Could not resolve host\n",
          },
        },
      }),
    ).rejects.toMatchObject({
      code: 'GIT_POLL_LS_REMOTE_FAILED',
      retryable: true,
      message: expect.stringContaining('Could not resolve host'),
    })
  })

  it('is denied git when the operator did not grant it, naming the command', async () => {
    await expect(
      testSensor(plugin, {
        manifest: pkg,
        grants: { exec: [] },
        config: { url, branches: ['main'] },
        exec: { git: { stdout: '' } },
      }),
    ).rejects.toMatchObject({ code: ErrorCodes.PERMISSION_DENIED, message: expect.stringContaining('git') })
  })

  it('refuses bad config naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ url: 'not a url', branches: ['main'] }, 'config.url'],
      [{ url: 'file:///srv/repo.git', branches: ['main'] }, 'config.url'],
      [{ url: 'https://me:secret@git.example.com/a.git', branches: ['main'] }, 'config.url'],
      [{ url, branches: [] }, 'config.branches'],
      [{ url, branches: ['main', 'a..b'] }, 'config.branches[1]'],
      [{ url, branches: ['-x'] }, 'config.branches[0]'],
      [{ url, branches: ['main', 'main'] }, 'config.branches[1]'],
      [{ url, branches: ['main'], mirror: 'var/lib/git-poll' }, 'config.mirror'],
      [{ url, branches: ['main'], mirror: '/var/lib/../../etc' }, 'config.mirror'],
      [{ url, branches: ['main'], mirror: '/' }, 'config.mirror'],
      [{ url, branches: ['main'], maxCommits: 101 }, 'maxCommits'],
    ]
    for (const [bad, field] of cases) {
      await expect(testSensor(plugin, { manifest: pkg, config: bad as never }), field).rejects.toMatchObject({
        code: ErrorCodes.INVALID_CONFIG,
        message: expect.stringContaining(field),
      })
    }
  })
})

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isRegistryError, type RegistryError } from '../src/errors.ts'
import { checkoutRef } from '../src/git/clone.ts'
import { checkCredentials } from '../src/git/credentials.ts'
import { parseRemoteUrl } from '../src/git/remote-url.ts'
import { type GitDaemon, startGitDaemon } from './helpers/git-daemon.ts'
import { type GitHttpServer, startGitHttpServer } from './helpers/git-http-server.ts'
import { TestRepo } from './helpers/repos.ts'

const root = mkdtempSync(join(tmpdir(), 'stavily-git-'))
let daemon: GitDaemon
let http: GitHttpServer
let repo: TestRepo
const shas: Record<string, string> = {}
let n = 0
const fresh = () => join(root, 'checkouts', String(n++), 'src')

beforeAll(async () => {
  repo = new TestRepo(root, 'plugin')
  shas.first = repo.write({ 'file.txt': 'first\n' }).commit('first')
  repo.tag('v1.0.0')
  shas.second = repo.write({ 'file.txt': 'second\n' }).commit('second')
  repo.tag('v1.1.0', true)
  shas.third = repo.write({ 'file.txt': 'third\n' }).commit('third')
  repo.branch('next')
  shas.next = repo.write({ 'file.txt': 'next\n' }).commit('next')
  daemon = await startGitDaemon(join(root, 'bare'))
  http = await startGitHttpServer(join(root, 'bare'), { username: 'ci', password: 's3cret-pass' })
})
afterAll(async () => {
  await daemon?.close()
  await http?.close()
  rmSync(root, { recursive: true, force: true })
})

const checkout = (url: string, ref: string, credentials: unknown = []) => {
  const dir = fresh()
  return checkoutRef({
    remote: parseRemoteUrl('repo', url),
    ref,
    dir,
    credentials: checkCredentials('credentials', credentials),
    // Every server of this file is on loopback or the local disk.
    policy: { allowFile: true, allowPrivate: true },
  }).then((r) => ({ ...r, dir }))
}
const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as RegistryError,
  )

describe('checkoutRef over git://', () => {
  it('checks out a lightweight tag, an annotated tag, a branch and an older commit, shallowly', async () => {
    const light = await checkout(daemon.url('plugin.git'), 'v1.0.0')
    expect(light).toMatchObject({ commit: shas.first, refKind: 'tag', tag: 'v1.0.0' })
    expect(readFileSync(join(light.dir, 'file.txt'), 'utf8')).toBe('first\n')
    expect(readFileSync(join(light.dir, '.git', 'shallow'), 'utf8').trim()).toBe(shas.first)

    const annotated = await checkout(daemon.url('plugin.git'), 'v1.1.0')
    expect(annotated).toMatchObject({ commit: shas.second, refKind: 'tag', tag: 'v1.1.0' })

    const branch = await checkout(daemon.url('plugin.git'), 'next')
    expect(branch).toMatchObject({ commit: shas.next, refKind: 'branch' })
    expect(readFileSync(join(branch.dir, 'file.txt'), 'utf8')).toBe('next\n')

    const commit = await checkout(daemon.url('plugin.git'), shas.second!)
    expect(commit).toMatchObject({ commit: shas.second, refKind: 'commit' })
    expect(readFileSync(join(commit.dir, 'file.txt'), 'utf8')).toBe('second\n')
  })

  it('names the repository that does not exist, and the ref that does not exist', async () => {
    const noRepo = await failure(checkout(daemon.url('missing.git'), 'v1.0.0'))
    expect(isRegistryError(noRepo, 'STAVILY_ERR_REGISTRY_REPO_NOT_FOUND')).toBe(true)
    expect(noRepo?.message).toMatch(/^repo: no Git repository at git:\/\/127\.0\.0\.1:\d+\/missing\.git/)

    const noRef = await failure(checkout(daemon.url('plugin.git'), 'v9.9.9'))
    expect(isRegistryError(noRef, 'STAVILY_ERR_REGISTRY_REF_NOT_FOUND')).toBe(true)
    expect(noRef?.message).toMatch(/^ref: no tag, branch or commit named "v9.9.9"/)

    const noCommit = await failure(checkout(daemon.url('plugin.git'), 'f'.repeat(40)))
    expect(isRegistryError(noCommit, 'STAVILY_ERR_REGISTRY_REF_NOT_FOUND')).toBe(true)

    const short = await failure(checkout(daemon.url('plugin.git'), shas.first!.slice(0, 8)))
    expect(short?.message).toMatch(/full 40-character SHA/)
  })
})

describe('checkoutRef over file://', () => {
  it('checks out a tag from a local bare repository', async () => {
    const r = await checkout(repo.fileUrl, 'v1.1.0')
    expect(r).toMatchObject({ commit: shas.second, refKind: 'tag' })
    expect(existsSync(join(r.dir, 'file.txt'))).toBe(true)
  })

  it('reports a missing local repository as such', async () => {
    const e = await failure(checkout(`file://${join(root, 'bare', 'nope.git')}`, 'main'))
    expect(isRegistryError(e, 'STAVILY_ERR_REGISTRY_REPO_NOT_FOUND')).toBe(true)
  })
})

describe('checkoutRef from a private HTTP server', () => {
  it('sends configured basic-auth credentials for the host, and never shows them', async () => {
    const url = http.url('plugin.git')
    const host = new URL(url).host
    const r = await checkout(url, 'v1.0.0', [{ host, username: 'ci', password: 's3cret-pass' }])
    expect(r).toMatchObject({ commit: shas.first, refKind: 'tag' })
    expect(http.requests.some((q) => q.authorized)).toBe(true)

    const refused = await failure(checkout(url, 'v1.0.0'))
    expect(isRegistryError(refused, 'STAVILY_ERR_REGISTRY_GIT_FAILED')).toBe(true)
    expect(refused?.message).toMatch(`set a Git credential for host "${host}" for your organization`)

    const wrong = await failure(checkout(url, 'v1.0.0', [{ host, username: 'ci', password: 'wrong-pass' }]))
    expect(isRegistryError(wrong, 'STAVILY_ERR_REGISTRY_GIT_FAILED')).toBe(true)
    expect(wrong?.message).not.toContain('wrong-pass')
    expect(JSON.stringify(wrong)).not.toContain('wrong-pass')
  })

  it('refuses a URL with a password in it, without echoing the password', () => {
    let caught: unknown
    try {
      parseRemoteUrl('repo', 'https://ci:hunter2@git.example.com/p.git')
    } catch (err) {
      caught = err
    }
    expect(isRegistryError(caught, 'STAVILY_ERR_REGISTRY_INVALID_ARGUMENT')).toBe(true)
    expect((caught as Error).message).toMatch(/^repo: the URL contains a password/)
    expect((caught as Error).message).not.toContain('hunter2')
  })
})

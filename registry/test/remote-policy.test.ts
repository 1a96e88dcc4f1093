import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RegistryError } from '../src/errors.ts'
import { isPublicAddress } from '../src/git/remote-policy.ts'
import type { Registry } from '../src/registry.ts'
import type { SqlClient } from '../src/storage/sql-client.ts'
import { backends, dropSchema } from './helpers/backends.ts'
import { type GitDaemon, startGitDaemon } from './helpers/git-daemon.ts'
import { type GitHttpServer, startGitHttpServer } from './helpers/git-http-server.ts'
import { pluginFiles } from './helpers/plugin-fixtures.ts'
import { storedCounts, testRegistry } from './helpers/registry.ts'
import { TestRepo } from './helpers/repos.ts'

// The registry fetches with the orchestrator's network position and disk, for any operator:
// by default neither file:// nor a private or loopback address is fetched, and git is never
// started for them; when an administrator allows them, git's own output is still not echoed.

const root = mkdtempSync(join(tmpdir(), 'stavily-remotes-'))
let daemon: GitDaemon
let http: GitHttpServer
let repo: TestRepo

beforeAll(async () => {
  repo = new TestRepo(root, 'plugin')
  repo.write(pluginFiles()).commit()
  daemon = await startGitDaemon(join(root, 'bare'))
  http = await startGitHttpServer(join(root, 'bare'), { username: 'u', password: 'p' })
})
afterAll(async () => {
  await daemon?.close()
  await http?.close()
  rmSync(root, { recursive: true, force: true })
})

describe('isPublicAddress', () => {
  it('knows the non-public ranges, IPv4-mapped ones included', () => {
    for (const a of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:808:808'])
      expect(isPublicAddress(a), a).toBe(true)
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.20.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      '::',
      'fd00::1',
      'fe80::1',
      '::ffff:127.0.0.1',
      '::ffff:10.0.0.1',
      '::ffff:7f00:1',
      'not-an-ip',
    ])
      expect(isPublicAddress(a), a).toBe(false)
  })
})

describe.each(backends)('remote policy on $name', (backend) => {
  let db: { sql: SqlClient; close(): Promise<void> }
  let strict: Registry
  let lenient: Registry
  beforeAll(async () => {
    db = await backend.open()
    strict = await testRegistry(db.sql, { remotes: {} })
    lenient = await testRegistry(db.sql, { remotes: { allowPrivate: true } })
  })
  afterAll(async () => {
    await dropSchema(db.sql, strict.schema)
    await dropSchema(db.sql, lenient.schema)
    await db.close()
  })

  async function refused(r: Registry, repoUrl: string): Promise<RegistryError> {
    const before = await storedCounts(db.sql, r.schema)
    const err = await r.publish({ repo: repoUrl, ref: 'main' }).then(
      () => {
        throw new Error(`publishing from ${repoUrl} was expected to fail`)
      },
      (e: unknown) => e as RegistryError,
    )
    expect(await storedCounts(db.sql, r.schema)).toEqual(before)
    return err
  }

  it('file:// is off by default', async () => {
    const err = await refused(strict, repo.fileUrl)
    expect(err.code).toBe('STAVILY_ERR_REGISTRY_REMOTE_REFUSED')
    expect(err.statusCode).toBe(403)
    expect(err.message).toMatch(/^repo: file:\/\/ remotes are turned off on this registry/)
  })

  it('loopback and private hosts are refused before git connects, in any spelling', async () => {
    const port = new URL(http.url('x')).port
    // The server is shared by both backends' runs, and the allowed-remote test below
    // reaches it on purpose: count only what this test sends.
    const seenBefore = http.requests.length
    for (const url of [
      http.url('plugin.git'),
      `http://localhost:${port}/plugin.git`,
      `http://2130706433:${port}/plugin.git`,
      `http://[::1]:${port}/plugin.git`,
      `http://[::ffff:127.0.0.1]:${port}/plugin.git`,
      'http://169.254.169.254/latest/meta-data',
      'https://10.0.0.8/acme/plugin.git',
      daemon.url('plugin.git'),
      daemon.url('plugin.git').replace('127.0.0.1', '127.1'),
      'git@127.0.0.1:acme/plugin.git',
    ]) {
      const err = await refused(strict, url)
      expect(err.code, url).toBe('STAVILY_ERR_REGISTRY_REMOTE_REFUSED')
      expect(err.message, url).toMatch(
        /is a private, loopback or link-local address; .*remotes\.allowPrivate/,
      )
    }
    expect(http.requests.slice(seenBefore)).toEqual([])
  })

  it('an allowed internal remote fails without echoing git', async () => {
    const missing = await refused(lenient, daemon.url('nope.git'))
    expect(missing.code).toBe('STAVILY_ERR_REGISTRY_REPO_NOT_FOUND')
    expect(missing.message).toBe(`repo: no Git repository at ${daemon.url('nope.git')}`)
    const denied = await refused(lenient, http.url('plugin.git'))
    expect(denied.code).toBe('STAVILY_ERR_REGISTRY_GIT_FAILED')
    expect(denied.message).not.toMatch(/fatal|HTTP|401|127\.0\.0\.1:\d+\/plugin\.git\/info/)
    // …and a good one publishes.
    expect((await lenient.publish({ repo: daemon.url('plugin.git'), ref: 'main' })).status).toBe('published')
  })

  it('a host name that does not resolve is said so', async () => {
    const err = await refused(strict, 'https://no-such-host.invalid/acme/plugin.git')
    expect(err.code).toBe('STAVILY_ERR_REGISTRY_REPO_NOT_FOUND')
    expect(err.message).toBe('repo: the host "no-such-host.invalid" does not resolve')
  })
})

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runInNewContext } from 'node:vm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SqlClient } from '../src/storage/sql-client.ts'
import { parseTargets } from '../src/tuf/metadata-io.ts'
import type { PublishProgress } from '../src/types.ts'
import { backends, dropSchema } from './helpers/backends.ts'
import { type GitDaemon, startGitDaemon } from './helpers/git-daemon.ts'
import { type GitHttpServer, startGitHttpServer } from './helpers/git-http-server.ts'
import { pluginFiles } from './helpers/plugin-fixtures.ts'
import { testRegistry } from './helpers/registry.ts'
import { TestRepo } from './helpers/repos.ts'

const root = mkdtempSync(join(tmpdir(), 'stavily-publish-'))
let daemon: GitDaemon
let http: GitHttpServer
const commits: Record<string, string> = {}

beforeAll(async () => {
  const restart = new TestRepo(root, 'restart')
  commits.v100 = restart.write(pluginFiles({ version: '1.0.0' })).commit('1.0.0')
  restart.tag('v1.0.0')
  commits.v110 = restart.write(pluginFiles({ version: '1.1.0' })).commit('1.1.0')
  restart.tag('v1.1.0', true)
  restart.branch('next')
  commits.beta = restart.write(pluginFiles({ version: '1.2.0-beta.1' })).commit('beta')

  const mono = new TestRepo(root, 'mono')
  mono.write({
    ...pluginFiles({ name: '@acme/plugin-a', version: '1.0.0' }, 'plugins/a/'),
    ...pluginFiles(
      { name: '@acme/plugin-b', version: '2.0.0', kind: 'sensor', permissions: {}, source: SENSOR },
      'plugins/b/',
    ),
  })
  mono.commit('two plugins')
  mono.tag('@acme/plugin-a@1.0.0').tag('@acme/plugin-b@2.0.0')

  const priv = new TestRepo(root, 'private')
  priv.write(pluginFiles({ name: 'private-plugin', version: '0.3.0' })).commit('private')
  priv.tag('v0.3.0')

  daemon = await startGitDaemon(join(root, 'bare'))
  http = await startGitHttpServer(join(root, 'bare'), { username: 'deploy', password: 'tok-9f8e7d' })
})
afterAll(async () => {
  await daemon?.close()
  await http?.close()
  rmSync(root, { recursive: true, force: true })
})

const SENSOR = `import { defineSensor, Type } from '@stavily/sdk'
export default defineSensor({
  event: Type.Object({ n: Type.Number() }),
  async check(ctx) {
    await ctx.emit({ type: 'tick', data: { n: 1 } })
  },
})
`

describe.each(backends)('publish on $name', (backend) => {
  let db: { sql: SqlClient; close(): Promise<void> }
  const schemas: string[] = []
  const registry = async (extra = {}) => {
    const r = await testRegistry(db.sql, extra)
    schemas.push(r.schema)
    return r
  }
  beforeAll(async () => {
    db = await backend.open()
  })
  afterAll(async () => {
    for (const s of schemas) await dropSchema(db.sql, s)
    await db.close()
  })

  it('publishes a tag from a git daemon: signed, stored, with provenance and progress', async () => {
    const reg = await registry()
    const steps: PublishProgress[] = []
    const url = daemon.url('restart.git')
    const res = await reg.publish({ repo: url, ref: 'v1.0.0' }, { onProgress: (p) => steps.push(p) })
    expect(res.status).toBe('published')
    expect(res.version).toMatchObject({
      name: '@acme/stavily-plugin-restart',
      version: '1.0.0',
      kind: 'action',
      sdk: '^1.0.0',
      yanked: false,
      permissions: { exec: ['systemctl'], net: [], secrets: [] },
      provenance: { repository: url, ref: 'v1.0.0', commit: commits.v100, path: '' },
    })
    expect(res.version.digest).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(res.version.provenance.builder).toMatch(/^@stavily\/registry@\S+ esbuild@\S+$/)
    expect(steps.map((s) => s.step)).toEqual(['clone', 'manifest', 'build', 'sign'])
    expect(res.timings.installMs).toBe(0)

    const { bytes } = await reg.getArtifact('@acme/stavily-plugin-restart', '1.0.0')
    expect(bytes.byteLength).toBe(res.version.size)
    const global: Record<string, unknown> = {}
    runInNewContext(Buffer.from(bytes).toString('utf8'), global)
    expect((global.__stavilyPlugin as { default: { kind: string } }).default.kind).toBe('action')

    // The signed target carries what agents check before they load.
    const targets = parseTargets((await reg.metadata('targets.json'))!)
    const target = targets.signed.targets['@acme/stavily-plugin-restart/1.0.0.js']!
    expect(`sha256:${target.hashes.sha256}`).toBe(res.version.digest)
    expect(target.custom).toMatchObject({
      kind: 'action',
      commit: commits.v100,
      repository: url,
      yanked: false,
    })

    // Same version, same bytes: a no-op that signs nothing new.
    const timestamp = await reg.metadata('timestamp.json')
    const again = await reg.publish({ repo: url, ref: 'v1.0.0' })
    expect(again.status).toBe('unchanged')
    expect(again.version.digest).toBe(res.version.digest)
    expect(await reg.metadata('timestamp.json')).toBe(timestamp)
  })

  it('is reproducible: the same commit from two clones, over two transports, gives the same bytes', async () => {
    const a = await registry()
    const b = await registry()
    const one = await a.publish({ repo: daemon.url('restart.git'), ref: 'v1.1.0' })
    const two = await b.publish({ repo: `file://${join(root, 'bare', 'restart.git')}`, ref: commits.v110! })
    expect(two.version.provenance.commit).toBe(one.version.provenance.commit)
    expect(two.version.digest).toBe(one.version.digest)
    const bytesA = (await a.getArtifact(one.version.name, '1.1.0')).bytes
    const bytesB = (await b.getArtifact(two.version.name, '1.1.0')).bytes
    expect(Buffer.compare(Buffer.from(bytesA), Buffer.from(bytesB))).toBe(0)
  })

  it('publishes two plugins from sub-folders of one repository, and lists and searches them', async () => {
    const reg = await registry()
    const url = daemon.url('mono.git')
    const a = await reg.publish({ repo: url, ref: '@acme/plugin-a@1.0.0', path: 'plugins/a' })
    const b = await reg.publish({ repo: url, ref: '@acme/plugin-b@2.0.0', path: './plugins/b/' })
    expect(a.version).toMatchObject({
      name: '@acme/plugin-a',
      version: '1.0.0',
      provenance: { path: 'plugins/a' },
    })
    expect(b.version).toMatchObject({ name: '@acme/plugin-b', version: '2.0.0', kind: 'sensor' })
    const all = await reg.list()
    expect(all.map((p) => [p.name, p.latest])).toEqual([
      ['@acme/plugin-a', '1.0.0'],
      ['@acme/plugin-b', '2.0.0'],
    ])
    expect((await reg.list({ query: 'plugin-b' })).map((p) => p.name)).toEqual(['@acme/plugin-b'])
    expect(await reg.list({ query: '%' })).toEqual([])
  })

  it('resolves ranges: highest match, prereleases only when asked, yanked skipped but still downloadable', async () => {
    const reg = await registry()
    const url = daemon.url('restart.git')
    await reg.publish({ repo: url, ref: 'v1.0.0' })
    await reg.publish({ repo: url, ref: 'v1.1.0' })
    const beta = await reg.publish({ repo: url, ref: 'next' })
    expect(beta.version).toMatchObject({
      version: '1.2.0-beta.1',
      provenance: { ref: 'next', commit: commits.beta },
    })
    const name = '@acme/stavily-plugin-restart'
    expect((await reg.resolve(name, '^1.0.0')).version).toBe('1.1.0')
    expect((await reg.resolve(name, '^1.0.0', { prerelease: true })).version).toBe('1.2.0-beta.1')
    expect((await reg.versions(name)).map((v) => v.version)).toEqual(['1.2.0-beta.1', '1.1.0', '1.0.0'])

    const yanked = await reg.yank(name, '1.1.0', { reason: 'restarts the wrong unit' })
    expect(yanked).toMatchObject({ yanked: true, yankReason: 'restarts the wrong unit' })
    expect((await reg.resolve(name, '^1.0.0')).version).toBe('1.0.0')
    await expect(reg.resolve(name, '1.1.0')).rejects.toThrow(
      /1\.1\.0 is yanked \(still downloadable by exact version\)/,
    )
    expect((await reg.getArtifact(name, '1.1.0')).version.yanked).toBe(true)
    expect((await reg.list())[0]?.latest).toBe('1.0.0')
    const targets = parseTargets((await reg.metadata('targets.json'))!)
    expect(targets.signed.targets[`${name}/1.1.0.js`]?.custom).toMatchObject({ yanked: true })
    // Yanking again changes nothing.
    const ts = await reg.metadata('timestamp.json')
    await reg.yank(name, '1.1.0')
    expect(await reg.metadata('timestamp.json')).toBe(ts)
  })

  it('signs concurrent publishes one after the other: both versions land in the targets', async () => {
    const reg = await registry()
    const url = daemon.url('mono.git')
    const [a, b] = await Promise.all([
      reg.publish({ repo: url, ref: '@acme/plugin-a@1.0.0', path: 'plugins/a' }),
      reg.publish({ repo: url, ref: '@acme/plugin-b@2.0.0', path: 'plugins/b' }),
    ])
    expect([a.status, b.status]).toEqual(['published', 'published'])
    const targets = parseTargets((await reg.metadata('targets.json'))!)
    expect(targets.signed.version).toBe(3) // the empty first targets, then one per publish
    expect(Object.keys(targets.signed.targets).sort()).toEqual([
      '@acme/plugin-a/1.0.0.js',
      '@acme/plugin-b/2.0.0.js',
    ])
  })

  it('publishes from a private HTTP repository with configured credentials', async () => {
    const url = http.url('private.git')
    const host = new URL(url).host
    const reg = await registry({ credentials: [{ host, username: 'deploy', password: 'tok-9f8e7d' }] })
    const res = await reg.publish({ repo: url, ref: 'v0.3.0' })
    expect(res.version).toMatchObject({
      name: 'private-plugin',
      version: '0.3.0',
      provenance: { repository: url },
    })
    expect(JSON.stringify(res)).not.toContain('tok-9f8e7d')
    const denied = await registry()
    await expect(denied.publish({ repo: url, ref: 'v0.3.0' })).rejects.toMatchObject({
      code: 'STAVILY_ERR_REGISTRY_GIT_FAILED',
    })
  })
})

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RegistryError } from '../src/errors.ts'
import type { Registry } from '../src/registry.ts'
import type { SqlClient } from '../src/storage/sql-client.ts'
import { backends, dropSchema } from './helpers/backends.ts'
import { type GitDaemon, startGitDaemon } from './helpers/git-daemon.ts'
import { pluginFiles, pluginPackageJson } from './helpers/plugin-fixtures.ts'
import { storedCounts, testRegistry } from './helpers/registry.ts'
import { TestRepo } from './helpers/repos.ts'

// Every bad publish fails with its own code and a message that says what to fix, and
// stores nothing: not a plugin row, not a version, not an artifact, not a metadata version.

const root = mkdtempSync(join(tmpdir(), 'stavily-publish-errors-'))
let daemon: GitDaemon

beforeAll(async () => {
  new TestRepo(root, 'no-manifest').write({ 'README.md': '# not a plugin\n' }).commit()
  new TestRepo(root, 'no-stavily')
    .write({ 'package.json': JSON.stringify({ name: 'plain-package', version: '1.0.0' }) })
    .commit()
  new TestRepo(root, 'invalid-manifest')
    .write({
      'package.json': pluginPackageJson({
        kind: 'job' as 'action',
        permissions: { net: ['http://example.com/path'], exec: 'systemctl' },
      }),
      'src/index.ts': 'export default {}\n',
    })
    .commit()
  const mismatch = new TestRepo(root, 'tag-mismatch')
  mismatch.write(pluginFiles({ version: '1.1.0' })).commit()
  mismatch.tag('v1.2.0')
  new TestRepo(root, 'syntax-error')
    .write(
      pluginFiles({
        source: "import { defineAction } from '@stavily/sdk'\nexport default defineAction({ run( })\n",
      }),
    )
    .commit()
  new TestRepo(root, 'builtins')
    .write({
      ...pluginFiles({
        source:
          "import { readFileSync } from 'node:fs'\nimport { run } from './helper.ts'\nexport default { readFileSync, run }\n",
      }),
      'src/helper.ts':
        "import { exec } from 'child_process'\nimport os from 'os'\nexport const run = [exec, os]\n",
    })
    .commit()
  new TestRepo(root, 'no-lockfile')
    .write(pluginFiles({ dependencies: { '@stavily/sdk': '^0.1.0', 'left-pad': '^1.3.0' } }))
    .commit()
  const moving = new TestRepo(root, 'moving')
  moving.write(pluginFiles({ version: '1.0.0' })).commit()
  daemon = await startGitDaemon(join(root, 'bare'))
})
afterAll(async () => {
  await daemon?.close()
  rmSync(root, { recursive: true, force: true })
})

describe.each(backends)('failed publishes on $name store nothing', (backend) => {
  let db: { sql: SqlClient; close(): Promise<void> }
  let reg: Registry
  const schemas: string[] = []
  beforeAll(async () => {
    db = await backend.open()
    reg = await testRegistry(db.sql)
    schemas.push(reg.schema)
  })
  afterAll(async () => {
    for (const s of schemas) await dropSchema(db.sql, s)
    await db.close()
  })

  async function refused(
    input: { repo: string; ref: string; path?: string },
    r: Registry = reg,
  ): Promise<RegistryError> {
    const before = await storedCounts(db.sql, r.schema)
    const err = await r.publish(input).then(
      () => {
        throw new Error('the publish was expected to fail')
      },
      (e: unknown) => e as RegistryError,
    )
    expect(await storedCounts(db.sql, r.schema)).toEqual(before)
    return err
  }

  it('a repository that does not exist', async () => {
    const err = await refused({ repo: daemon.url('nope.git'), ref: 'v1.0.0' })
    expect(err.code).toBe('STAVILY_ERR_REGISTRY_REPO_NOT_FOUND')
    expect(err.message).toMatch(/^repo: no Git repository at git:\/\//)
  })

  it('a ref that does not exist', async () => {
    const err = await refused({ repo: daemon.url('moving.git'), ref: 'v7.0.0' })
    expect(err.code).toBe('STAVILY_ERR_REGISTRY_REF_NOT_FOUND')
    expect(err.message).toMatch(/^ref: no tag, branch or commit named "v7\.0\.0"/)
  })

  it('bad arguments, before anything is fetched', async () => {
    const err = await refused({ repo: daemon.url('moving.git'), ref: '--upload-pack=touch /tmp/x' })
    expect(err.code).toBe('STAVILY_ERR_REGISTRY_INVALID_ARGUMENT')
    expect(err.message).toMatch(/^ref: /)
    const path = await refused({ repo: daemon.url('moving.git'), ref: 'main', path: '../../etc' })
    expect(path.message).toMatch(/^path: expected a relative folder inside the repository/)
    const scheme = await refused({ repo: 'ext::sh -c touch% /tmp/pwned', ref: 'main' })
    expect(scheme.code).toBe('STAVILY_ERR_REGISTRY_INVALID_ARGUMENT')
  })

  it('no package.json, or one without a stavily manifest, or a sub-folder that is not there', async () => {
    const none = await refused({ repo: daemon.url('no-manifest.git'), ref: 'main' })
    expect(none.code).toBe('STAVILY_ERR_REGISTRY_MANIFEST_MISSING')
    expect(none.message).toMatch(/^no package\.json in the repository root/)
    const plain = await refused({ repo: daemon.url('no-stavily.git'), ref: 'main' })
    expect(plain.code).toBe('STAVILY_ERR_REGISTRY_MANIFEST_MISSING')
    expect(plain.message).toMatch(/has no "stavily" field/)
    const folder = await refused({ repo: daemon.url('moving.git'), ref: 'main', path: 'plugins/missing' })
    expect(folder.message).toBe('path: no folder "plugins/missing" in the repository')
  })

  it('an invalid manifest, with every problem and its field', async () => {
    const err = await refused({ repo: daemon.url('invalid-manifest.git'), ref: 'main' })
    expect(err.code).toBe('STAVILY_ERR_REGISTRY_MANIFEST_INVALID')
    expect(err.message).toContain('stavily.kind:')
    expect(err.message).toContain('stavily.permissions.net[0]:')
    expect(err.message).toContain('stavily.permissions.exec:')
    expect((err.data?.problems as unknown[] | undefined)?.length).toBeGreaterThanOrEqual(3)
  })

  it('a tag that disagrees with the manifest version', async () => {
    const err = await refused({ repo: daemon.url('tag-mismatch.git'), ref: 'v1.2.0' })
    expect(err.code).toBe('STAVILY_ERR_REGISTRY_VERSION_MISMATCH')
    expect(err.message).toBe(
      'version: the tag "v1.2.0" releases 1.2.0 but package.json says 1.1.0; set "version" to 1.2.0 in package.json and tag again, or tag the commit v1.1.0',
    )
  })

  it('a build error, with file and line', async () => {
    const err = await refused({ repo: daemon.url('syntax-error.git'), ref: 'main' })
    expect(err.code).toBe('STAVILY_ERR_REGISTRY_BUILD_FAILED')
    expect(err.message).toMatch(/src\/index\.ts:2:\d+: /)
  })

  it('Node built-in imports, every one listed with its importer', async () => {
    const err = await refused({ repo: daemon.url('builtins.git'), ref: 'main' })
    expect(err.code).toBe('STAVILY_ERR_REGISTRY_FORBIDDEN_IMPORT')
    expect(err.message).toContain('node:fs (imported by src/index.ts)')
    expect(err.message).toContain('child_process (imported by src/helper.ts)')
    expect(err.message).toContain('os (imported by src/helper.ts)')
  })

  it('an oversize bundle', async () => {
    const small = await testRegistry(db.sql, { build: { maxBundleBytes: 10_000 } })
    schemas.push(small.schema)
    const err = await refused({ repo: daemon.url('moving.git'), ref: 'main' }, small)
    expect(err.code).toBe('STAVILY_ERR_REGISTRY_BUNDLE_TOO_LARGE')
    expect(err.message).toMatch(/more than the limit of 10000/)
  })

  it('dependencies without a lockfile', async () => {
    const err = await refused({ repo: daemon.url('no-lockfile.git'), ref: 'main' })
    expect(err.code).toBe('STAVILY_ERR_REGISTRY_LOCKFILE_MISSING')
    expect(err.message).toMatch(
      /^package-lock\.json: the plugin depends on left-pad but the repository has no lockfile/,
    )
  })

  it('a republish of a version with another digest', async () => {
    const repo = new TestRepo(root, `moving-${backend.name}`)
    repo.write(pluginFiles({ version: '1.0.0' })).commit()
    const first = await reg.publish({ repo: daemon.url(`moving-${backend.name}.git`), ref: 'main' })
    repo
      .write({ 'src/label.ts': "export const label = (s: string) => 'unit ' + s\n" })
      .commit('changed, same version')
    const err = await refused({ repo: daemon.url(`moving-${backend.name}.git`), ref: 'main' })
    expect(err.code).toBe('STAVILY_ERR_REGISTRY_VERSION_EXISTS')
    expect(err.message).toContain(`already published with digest ${first.version.digest}`)
    expect(err.message).toContain('bump "version" in package.json')
  })

  it('a failure while signing rolls the whole publish back', async () => {
    const r = await testRegistry(db.sql)
    schemas.push(r.schema)
    // Occupy the next targets version, so storing the new targets fails mid-transaction.
    const { rows } = await db.sql.query<{ v: number }>(
      `SELECT max(version)::int AS v FROM ${r.schema}.tuf_metadata WHERE role = 'targets'`,
    )
    await db.sql.query(
      `INSERT INTO ${r.schema}.tuf_metadata (role, version, body, expires) VALUES ('targets', $1, '{}', now())`,
      [rows[0]!.v + 1],
    )
    const err = await refused({ repo: daemon.url('moving.git'), ref: 'main' }, r)
    expect(err).toBeInstanceOf(Error)
    const { rows: versions } = await db.sql.query(`SELECT 1 FROM ${r.schema}.versions`)
    expect(versions).toEqual([])
  })
})

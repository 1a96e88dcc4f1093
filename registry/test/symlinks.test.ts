import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bundlePlugin } from '../src/build/bundle.ts'
import type { RegistryError } from '../src/errors.ts'
import type { Registry } from '../src/registry.ts'
import type { SqlClient } from '../src/storage/sql-client.ts'
import { backends, dropSchema } from './helpers/backends.ts'
import { type GitDaemon, startGitDaemon } from './helpers/git-daemon.ts'
import { ACTION_SOURCE, LABEL_SOURCE, pluginFiles } from './helpers/plugin-fixtures.ts'
import { storedCounts, testRegistry } from './helpers/registry.ts'
import { TestRepo } from './helpers/repos.ts'
import { PROVIDED_SDK } from './helpers/sdk.ts'

// A repository whose files are symlinks to host files (a cloud credential, the CLI's login
// file) must never get those files into a public bundle: the publish fails naming the link.

const root = mkdtempSync(join(tmpdir(), 'stavily-symlinks-'))
const hostSecret = join(root, 'host', 'credentials.ts')
const SECRET = 'AKIA-HOST-SECRET-0123456789'
let daemon: GitDaemon

function withLink(name: string, files: Record<string, string>, link: string, target: string): TestRepo {
  const repo = new TestRepo(root, name).write(files)
  mkdirSync(dirname(join(repo.work, link)), { recursive: true })
  symlinkSync(target, join(repo.work, link))
  repo.commit()
  return repo
}

beforeAll(async () => {
  mkdirSync(dirname(hostSecret), { recursive: true })
  writeFileSync(hostSecret, `export default '${SECRET}'\n`)
  const { 'src/index.ts': _entry, ...rest } = pluginFiles()
  withLink('entry-link', rest, 'src/index.ts', hostSecret)
  const { 'src/label.ts': _label, ...noLabel } = pluginFiles()
  withLink('helper-link', noLabel, 'src/label.ts', hostSecret)
  const { 'package.json': _pkg, ...noManifest } = pluginFiles()
  withLink('manifest-link', noManifest, 'package.json', hostSecret)
  withLink('dir-link', pluginFiles(), 'src/host', dirname(hostSecret))
  withLink('dangling-link', pluginFiles(), 'notes.txt', '../../../../nowhere/else')
  // A link that stays inside the repository is fine.
  withLink(
    'inside-link',
    { ...noLabel, 'shared/label.ts': LABEL_SOURCE },
    'src/label.ts',
    '../shared/label.ts',
  )
  daemon = await startGitDaemon(join(root, 'bare'))
})
afterAll(async () => {
  await daemon?.close()
  rmSync(root, { recursive: true, force: true })
})

describe.each(backends)('symlinks out of the checkout on $name', (backend) => {
  let db: { sql: SqlClient; close(): Promise<void> }
  let reg: Registry
  beforeAll(async () => {
    db = await backend.open()
    reg = await testRegistry(db.sql, { remotes: { allowPrivate: true } })
  })
  afterAll(async () => {
    await dropSchema(db.sql, reg.schema)
    await db.close()
  })

  async function refused(repo: string): Promise<RegistryError> {
    const before = await storedCounts(db.sql, reg.schema)
    const err = await reg.publish({ repo: daemon.url(`${repo}.git`), ref: 'main' }).then(
      () => {
        throw new Error(`publishing ${repo} was expected to fail`)
      },
      (e: unknown) => e as RegistryError,
    )
    expect(await storedCounts(db.sql, reg.schema)).toEqual(before)
    return err
  }

  it.each([
    ['entry-link', 'src/index.ts'],
    ['helper-link', 'src/label.ts'],
    ['manifest-link', 'package.json'],
    ['dir-link', 'src/host'],
    ['dangling-link', 'notes.txt'],
  ])('%s: refused right after the clone, naming %s', async (repo, file) => {
    const err = await refused(repo)
    expect(err.code).toBe('STAVILY_ERR_REGISTRY_SYMLINK_OUTSIDE')
    expect(err.statusCode).toBe(422)
    expect(err.message).toContain(`  ${file} -> `)
    expect(err.message).toMatch(/commit the file itself/)
    expect(err.message).not.toContain(SECRET)
    expect(err.data).toEqual({ files: [file] })
  })

  it('a symlink that stays inside the repository publishes', async () => {
    const r = await reg.publish({ repo: daemon.url('inside-link.git'), ref: 'main' })
    expect(r.status).toBe('published')
  })
})

describe('bundlePlugin realpaths its inputs', () => {
  it('refuses an entry that is a symlink to a host file, naming it', async () => {
    const dir = join(root, 'project')
    mkdirSync(join(dir, 'src'), { recursive: true })
    writeFileSync(join(dir, 'src', 'label.ts'), LABEL_SOURCE)
    symlinkSync(hostSecret, join(dir, 'src', 'index.ts'))
    const err = await bundlePlugin(dir, 'src/index.ts', { provided: PROVIDED_SDK }).then(
      () => undefined,
      (e: unknown) => e as RegistryError,
    )
    expect(err?.code).toBe('STAVILY_ERR_REGISTRY_SYMLINK_OUTSIDE')
    expect(err?.message).toContain(`src/index.ts -> ${hostSecret}`)
  })

  it('refuses a bundled file reached through a symlinked folder', async () => {
    const dir = join(root, 'project-2')
    mkdirSync(join(dir, 'src'), { recursive: true })
    writeFileSync(
      join(dir, 'src', 'index.ts'),
      `${ACTION_SOURCE.replace("'./label.ts'", "'./host/credentials.ts'").replace('import { label }', 'import label')}`,
    )
    symlinkSync(dirname(hostSecret), join(dir, 'src', 'host'))
    const err = await bundlePlugin(dir, 'src/index.ts', { provided: PROVIDED_SDK }).then(
      (b) => Buffer.from(b.bytes).toString('utf8'),
      (e: unknown) => e as RegistryError,
    )
    expect(typeof err).not.toBe('string')
    expect((err as RegistryError).code).toMatch(/SYMLINK_OUTSIDE|FORBIDDEN_IMPORT/)
  })
})

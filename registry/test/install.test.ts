import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { runInNewContext } from 'node:vm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RegistryError } from '../src/errors.ts'
import type { SqlClient } from '../src/storage/sql-client.ts'
import { backends, dropSchema } from './helpers/backends.ts'
import { type NpmRegistry, startNpmRegistry } from './helpers/npm-registry.ts'
import { pluginFiles } from './helpers/plugin-fixtures.ts'
import { testRegistry } from './helpers/registry.ts'
import { TestRepo } from './helpers/repos.ts'

// A plugin with its own runtime dependency: installed from its lockfile with `npm ci
// --ignore-scripts` from a loopback npm registry (no network), bundled, and the install
// script of the dependency never runs. npm gets its own HOME and a minimal environment, the
// checkout's .npmrc is ignored, and a lockfile naming anything but that registry's
// tarballs (git, file:, link:, another host) is refused before npm runs.

const root = mkdtempSync(join(tmpdir(), 'stavily-install-'))
const marker = join(root, 'install-script-ran')
let npm: NpmRegistry

const SOURCE = `import { defineAction, Type } from '@stavily/sdk'
import { shout } from 'tiny-label'
export default defineAction({
  input: Type.Object({ s: Type.String() }),
  output: Type.Object({ s: Type.String() }),
  async run(_ctx, input) {
    return { s: shout(input.s) }
  },
})
`

function lockfile(deps: Record<string, Record<string, unknown>>): string {
  return JSON.stringify({
    name: '@acme/stavily-plugin-restart',
    version: '1.0.0',
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': {
        name: '@acme/stavily-plugin-restart',
        version: '1.0.0',
        dependencies: { 'tiny-label': '^1.0.0' },
      },
      ...deps,
    },
  })
}

beforeAll(async () => {
  const pkg = join(root, 'tiny-label')
  mkdirSync(pkg, { recursive: true })
  writeFileSync(
    join(pkg, 'package.json'),
    JSON.stringify({
      name: 'tiny-label',
      version: '1.0.0',
      type: 'module',
      main: 'index.js',
      scripts: { install: `node -e "require('fs').writeFileSync('${marker}', 'x')"` },
    }),
  )
  writeFileSync(join(pkg, 'index.js'), "export const shout = (s) => s.toUpperCase() + '!'\n")
  const packs = join(root, 'packs')
  mkdirSync(packs)
  npm = await startNpmRegistry([{ dir: pkg, name: 'tiny-label', version: '1.0.0' }], packs)

  const repo = new TestRepo(root, 'with-deps')
  repo.write({
    ...pluginFiles({ version: '1.0.0', dependencies: { 'tiny-label': '^1.0.0' }, source: SOURCE }),
    // Honoured, this would make npm ci install nothing and the build fail.
    '.npmrc': 'dry-run=true\n',
  })
  // Async: the loopback registry answers from this very process.
  await promisify(execFile)(
    'npm',
    [
      'install',
      '--package-lock-only',
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
      `--registry=${npm.url}`,
    ],
    { cwd: repo.work, env: { ...process.env, npm_config_dry_run: 'false' } },
  )
  repo.commit('plugin with a dependency')
  repo.tag('v1.0.0')

  const bad = (name: string, entry: Record<string, unknown>) =>
    new TestRepo(root, name)
      .write({
        ...pluginFiles({ version: '1.0.0', dependencies: { 'tiny-label': '^1.0.0' }, source: SOURCE }),
        'package-lock.json': lockfile({ 'node_modules/tiny-label': entry }),
      })
      .commit()
  bad('git-dep', { version: '1.0.0', resolved: 'git+ssh://git@github.com/acme/tiny-label.git#abc' })
  bad('file-dep', { resolved: 'vendor/tiny-label', link: true })
  bad('other-host', {
    version: '1.0.0',
    resolved: 'http://169.254.169.254/latest/meta-data/tiny-label-1.0.0.tgz',
    integrity: 'sha512-x',
  })
})
afterAll(async () => {
  await npm?.close()
  rmSync(root, { recursive: true, force: true })
})

describe.each(backends)('publish with dependencies on $name', (backend) => {
  let db: { sql: SqlClient; close(): Promise<void> }
  beforeAll(async () => {
    db = await backend.open()
  })
  afterAll(async () => {
    await db.close()
  })

  it('installs registry tarballs from the lockfile without scripts, the checkout .npmrc, the host HOME or environment', async () => {
    const reg = await testRegistry(db.sql, {
      remotes: { allowFile: true },
      build: { npmRegistry: npm.url },
    })
    // The orchestrator's own npm settings (environment and HOME) must not reach npm either.
    const home = join(root, 'host-home')
    mkdirSync(home, { recursive: true })
    writeFileSync(join(home, '.npmrc'), 'dry-run=true\n')
    const saved = { HOME: process.env.HOME, dry: process.env.npm_config_dry_run }
    process.env.HOME = home
    process.env.npm_config_dry_run = 'true'
    try {
      const steps: string[] = []
      const res = await reg.publish(
        { repo: `file://${join(root, 'bare', 'with-deps.git')}`, ref: 'v1.0.0' },
        { onProgress: (p) => steps.push(p.step) },
      )
      expect(steps).toEqual(['clone', 'manifest', 'install', 'build', 'sign'])
      expect(npm.fetched).toContain('tiny-label/-/tiny-label-1.0.0.tgz')
      const { bytes } = await reg.getArtifact(res.version.name, '1.0.0')
      const text = Buffer.from(bytes).toString('utf8')
      expect(text).toContain('toUpperCase()')
      const global: Record<string, unknown> = {}
      runInNewContext(text, global)
      const plugin = (
        global.__stavilyPlugin as { default: { run(ctx: unknown, i: { s: string }): Promise<{ s: string }> } }
      ).default
      expect(await plugin.run({}, { s: 'hi' })).toEqual({ s: 'HI!' })
      expect(existsSync(marker)).toBe(false)
    } finally {
      process.env.HOME = saved.HOME
      if (saved.dry === undefined) delete process.env.npm_config_dry_run
      else process.env.npm_config_dry_run = saved.dry
      await dropSchema(db.sql, reg.schema)
    }
  })

  it.each([
    ['git-dep', /node_modules\/tiny-label: resolved "git\+ssh:.*" is not a tarball on http:\/\/127\.0\.0\.1/],
    ['file-dep', /node_modules\/tiny-label: a link to vendor\/tiny-label/],
    [
      'other-host',
      /node_modules\/tiny-label: resolved "http:\/\/169\.254\.169\.254\/.*" is not a tarball on/,
    ],
  ])('%s: a lockfile entry that is not a registry tarball is refused before npm runs', async (name, why) => {
    const reg = await testRegistry(db.sql, { remotes: { allowFile: true }, build: { npmRegistry: npm.url } })
    const before = npm.fetched.length
    try {
      const err = await reg
        .publish({ repo: `file://${join(root, 'bare', `${name}.git`)}`, ref: 'main' })
        .then(
          () => undefined,
          (e: unknown) => e as RegistryError,
        )
      expect(err?.code).toBe('STAVILY_ERR_REGISTRY_LOCKFILE_INVALID')
      expect(err?.message).toMatch(
        /^package-lock\.json: the registry installs only packages from http:\/\/127\.0\.0\.1:\d+;/,
      )
      expect(err?.message).toMatch(why)
      expect(err?.data).toMatchObject({ field: 'package-lock.json', packages: ['node_modules/tiny-label'] })
      expect(npm.fetched.length).toBe(before)
    } finally {
      await dropSchema(db.sql, reg.schema)
    }
  })
})

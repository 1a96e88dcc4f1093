import { execFileSync, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDir } from '../../../test/temp-dir.ts'
import { call, type Running, setups } from '../helpers/harness.ts'
import { cli, freshConfig } from './cli-process.ts'

// A plugin developer's route before the packages are on npm, as the docs tell it: scaffold
// from this checkout (the SDK is packed into the project's vendor/), `npm install` (nothing
// from npm for @stavily/sdk), `npm test`, `npm run build`; then publish the commit from Git
// and check the registry's bundle is the local build, byte for byte, and that
// `stavily plugin verify ./dist/plugin.js` accepts it. One scaffold; npm uses its cache.

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const TSX = import.meta.resolve('tsx')
const NAME = 'stavily-plugin-local-route'
const setup = setups({ postgres: false })[0]!
const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Stavily Test',
  GIT_AUTHOR_EMAIL: 'test@stavily.invalid',
  GIT_COMMITTER_NAME: 'Stavily Test',
  GIT_COMMITTER_EMAIL: 'test@stavily.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
}
// npm and vitest of the project must not inherit this runner's settings.
const projectEnv = () => {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env))
    if (!/^(npm_|VITEST|NODE_OPTIONS$|NODE_ENV$|TEST$|FORCE_COLOR$)/i.test(k)) env[k] = v
  return { ...env, NO_COLOR: '1' }
}

let r: Running
let work: string
let project: string
let env: Record<string, string>

function run(command: string, args: string[], cwd: string) {
  const res = spawnSync(command, args, { cwd, env: projectEnv(), encoding: 'utf8', timeout: 300_000 })
  if (res.status !== 0)
    throw new Error(`${command} ${args.join(' ')} failed (${res.status}):\n${res.stdout}\n${res.stderr}`)
  return res
}

beforeAll(async () => {
  await setup.prepare()
  r = await setup.start({ registry: { remotes: { allowFile: true } } })
  env = { STAVILY_CONFIG: freshConfig() }
  work = tempDir('local-route')
  expect((await cli(['login', '--url', r.operatorUrl, '--token', r.admin], { env })).code).toBe(0)
}, 60_000)

afterAll(async () => {
  await setup.cleanup()
})

describe('the local route: scaffold from the checkout, install, test, build, publish', () => {
  it('scaffolds with the checkout SDK vendored, and installs, tests and builds without @stavily/sdk from npm', () => {
    const created = run(
      process.execPath,
      ['--import', TSX, join(ROOT, 'templates/src/cli.ts'), NAME, '--kind', 'action', '--yes'],
      work,
    )
    expect(created.stdout).toContain('# @stavily/sdk from vendor/stavily-sdk-0.1.0.tgz, not npm')
    project = join(work, NAME)
    const pkg = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8'))
    expect(pkg.dependencies['@stavily/sdk']).toBe('file:vendor/stavily-sdk-0.1.0.tgz')
    expect(existsSync(join(project, 'vendor/stavily-sdk-0.1.0.tgz'))).toBe(true)

    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], project)
    const lock = JSON.parse(readFileSync(join(project, 'package-lock.json'), 'utf8'))
    // The lockfile names the vendored file, so it can be committed and reinstalled anywhere.
    expect(lock.packages['node_modules/@stavily/sdk'].resolved).toBe('file:vendor/stavily-sdk-0.1.0.tgz')
    expect(run('npm', ['test'], project).stdout).toMatch(/Tests\s+\d+ passed/)
    const built = run('npm', ['run', 'build'], project)
    expect(built.stdout).toMatch(/built dist\/plugin\.js: action plugin .*, sha256 [0-9a-f]{64}/)
  }, 600_000)

  it("the registry's bundle of the same commit is the local build, and plugin verify accepts the local file", async () => {
    if (!project) throw new Error('the project was not built; see the test above')
    const git = (...args: string[]) => execFileSync('git', args, { cwd: project, env: GIT_ENV })
    writeFileSync(join(project, '.gitignore'), 'node_modules/\ndist/\n')
    git('init', '--quiet', '--initial-branch=main')
    git('add', '-A')
    git('commit', '--quiet', '-m', 'scaffolded')
    git('tag', 'v0.1.0')

    const local = createHash('sha256')
      .update(readFileSync(join(project, 'dist/plugin.js')))
      .digest('hex')
    const pub = await cli(['plugin', 'publish', '--repo', `file://${project}`, '--ref', 'v0.1.0', '--json'], {
      env,
      cwd: project,
    })
    expect(pub.code, pub.stderr).toBe(0)
    expect(JSON.parse(pub.stdout).version.digest).toBe(`sha256:${local}`)

    const root = await call(r.operatorUrl, 'GET', '/api/v1/registry/tuf/1.root.json')
    writeFileSync(join(work, 'root.json'), JSON.stringify(root.body))
    const v = await cli(
      [
        'plugin',
        'verify',
        './dist/plugin.js',
        '--root',
        join(work, 'root.json'),
        '--cache',
        join(work, 'tuf'),
      ],
      { env, cwd: project },
    )
    expect(v.stderr).toBe('')
    expect(v.code).toBe(0)
  }, 120_000)
})

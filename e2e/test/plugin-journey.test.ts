// The plugin developer's journey (issue 19), played with the docs' own commands as
// processes: scaffold with create-stavily-plugin from this checkout (the SDK vendored),
// write an action that runs `df` and logs, with its test; `npm install` and `npm test`; run
// the working tree on a dev agent with `stavily plugin dev`, commit and tag, publish from a
// `git daemon` repository, enable, start a run with a signed webhook (`stavily hook send`),
// read the plugin's log lines (`stavily run logs`), then ship the next 0.x version and see
// the next run use it. npm installs the devDependencies from its cache (as the local route
// test in core/test/cli does), nothing of Stavily from npm.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PluginRepo } from '../src/git.ts'
import { type Platform, startPlatform } from '../src/platform.ts'
import { fromSource } from '../src/source.ts'

const NAME = 'journey-df'
const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Plugin Author',
  GIT_AUTHOR_EMAIL: 'author@stavily.invalid',
  GIT_COMMITTER_NAME: 'Plugin Author',
  GIT_COMMITTER_EMAIL: 'author@stavily.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
}

const source = (release: string) => `import { defineAction, Type } from '@stavily/sdk'

export default defineAction({
  input: Type.Object({ path: Type.String() }),
  output: Type.Object({ report: Type.String(), release: Type.String() }),
  async run(ctx, input) {
    const r = await ctx.exec('df', ['-h', input.path])
    ctx.log.info('disk usage read (${release})', { path: input.path, code: r.code })
    return { report: r.stdout, release: '${release}' }
  },
})
`

const TEST = `import { testAction } from '@stavily/sdk/testing'
import { describe, expect, it } from 'vitest'
import pkg from '../package.json' with { type: 'json' }
import plugin from './index.js'

describe('journey-df', () => {
  it('runs df on the path and logs it', async () => {
    const { output, logs } = await testAction(plugin, {
      manifest: pkg,
      input: { path: '/' },
      exec: { df: { code: 0, stdout: 'Filesystem  Use%\\n/dev/sda1   42%\\n' } },
    })
    expect(output.report).toContain('42%')
    expect(logs[0]).toMatchObject({ level: 'info' })
  })
})
`

const WORKFLOW = `name: disk-report
trigger:
  webhook:
    secret: DISK_HOOK
actions:
  - id: df
    plugin: ${NAME}
    version: 0.x
    pool: dev
    input:
      path: \${{ trigger.path }}
`

interface Result {
  code: number | null
  stdout: string
  stderr: string
}

function run(file: string, args: string[], o: { cwd: string; env?: NodeJS.ProcessEnv; input?: string }) {
  const s = fromSource(file)
  return spawnResult(process.execPath, [...s.args, ...args], {
    ...o,
    env: { ...process.env, ...s.env, ...o.env },
  })
}

/** npm in the plugin's folder, as its author runs it: none of this runner's npm or vitest settings. */
function npm(args: string[]) {
  const env: NodeJS.ProcessEnv = { NO_COLOR: '1' }
  for (const [k, v] of Object.entries(process.env))
    if (!/^(npm_|VITEST|NODE_OPTIONS$|NODE_ENV$|TEST$|FORCE_COLOR$|TSX_)/i.test(k)) env[k] = v
  return spawnResult('npm', args, { cwd: project, env })
}

function spawnResult(
  command: string,
  args: string[],
  o: { cwd: string; env: NodeJS.ProcessEnv; input?: string },
) {
  return new Promise<Result>((resolve, reject) => {
    const child: ChildProcess = spawn(command, args, {
      cwd: o.cwd,
      env: o.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString()
    })
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    child.stdin!.end(o.input ?? '')
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

let platform: Platform
let home: string
let project: string
const env = () => ({ STAVILY_CONFIG: join(home, 'stavily.json'), NO_COLOR: '1' })
const stavily = (args: string[], input?: string) =>
  run('core/src/cli/main.ts', args, { cwd: project, env: env(), ...(input === undefined ? {} : { input }) })
const git = (args: string[]) => execFileSync('git', args, { cwd: project, env: GIT_ENV, encoding: 'utf8' })
const ok = (r: Result, what: string) => {
  if (r.code !== 0) throw new Error(`${what}: exit ${r.code}\n${r.stdout}\n${r.stderr}\n${platform.logs()}`)
  return r
}

beforeAll(async () => {
  // plugin dev publishes its builds from a scratch repository on this disk (file://), as npm run dev allows.
  platform = await startPlatform('journey', { orchestratorEnv: { STAVILY_REGISTRY_ALLOW_FILE: '1' } })
  home = join(platform.dir, 'author')
  mkdirSync(home, { recursive: true })
  project = join(home, NAME)
}, 180_000)

afterAll(async () => {
  await platform?.close()
})

describe('a plugin developer, from scaffold to the next 0.x version', () => {
  it('scaffolds, runs the working tree on a dev agent, publishes from git, runs from a webhook, ships 0.2.0', async () => {
    // Scaffold, then write the plugin: df, its log line, the permission it needs.
    ok(
      await run(
        'templates/src/cli.ts',
        [NAME, '--kind', 'action', '--description', 'Reports disk usage', '--yes'],
        {
          cwd: home,
        },
      ),
      'create-stavily-plugin',
    )
    writeFileSync(join(project, 'src', 'index.ts'), source('first'))
    writeFileSync(join(project, 'src', 'index.test.ts'), TEST)
    const pkg = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8'))
    pkg.stavily.permissions = { exec: ['df'] }
    writeFileSync(join(project, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`)
    expect(pkg.version).toBe('0.1.0')
    expect(pkg.dependencies['@stavily/sdk']).toMatch(/^file:vendor\//)
    ok(await npm(['install', '--prefer-offline', '--no-audit', '--no-fund']), 'npm install')
    expect(ok(await npm(['test']), 'npm test').stdout).toMatch(/Tests\s+1 passed/)

    ok(
      await stavily(['login', '--url', platform.orchestrator.operatorUrl], platform.orchestrator.adminToken),
      'login',
    )
    // The dev loop on an agent of pool dev granted df.
    await platform.agent({ name: 'dev', kind: 'action', pool: 'dev', grants: { commands: ['df'] } })
    writeFileSync(join(project, 'input.json'), '{"path":"/"}')
    const dev = ok(await stavily(['plugin', 'dev', '--input', 'input.json', '--once']), 'plugin dev')
    expect(dev.stdout).toMatch(/^journey-df@0\.1\.0-dev\.\d+ on pool dev: succeeded in /m)
    expect(dev.stdout).toMatch(/INFO {2}disk usage read \(first\)/)
    expect(dev.stdout).toContain('"release": "first"')

    // Commit, tag, push to a repository a git daemon serves; publish it and enable it.
    const bare = join(platform.dir, 'git', 'bare', `${NAME}.git`)
    execFileSync('git', ['init', '--quiet', '--bare', bare], { env: GIT_ENV })
    git(['init', '--quiet', '-b', 'main'])
    git(['add', '.'])
    git(['commit', '--quiet', '-m', `${NAME} 0.1.0`])
    git(['tag', 'v0.1.0'])
    git(['remote', 'add', 'origin', bare])
    git(['push', '--quiet', 'origin', 'main', '--tags'])
    const url = platform.daemon.url({ name: NAME } as PluginRepo)
    ok(await stavily(['plugin', 'publish', '--repo', url, '--ref', 'v0.1.0']), 'publish 0.1.0')
    const enabled = ok(await stavily(['plugin', 'enable', NAME, '--pool', 'dev', '--range', '0.x']), 'enable')
    expect(enabled.stdout).toContain(`${NAME}@0.1.0 enabled in pool dev (range 0.x)`)

    // A workflow started by a signed webhook; the plugin's log line in run logs.
    ok(await stavily(['secret', 'set', 'DISK_HOOK'], 'journey-hook-secret'), 'secret set')
    writeFileSync(join(project, 'disk-report.yaml'), WORKFLOW)
    writeFileSync(join(project, 'event.json'), '{"path":"/"}')
    writeFileSync(join(home, 'hook-secret'), 'journey-hook-secret')
    ok(await stavily(['workflow', 'apply', 'disk-report.yaml']), 'workflow apply')
    const send = [
      'hook',
      'send',
      'disk-report',
      '--event',
      'event.json',
      '--secret-file',
      join(home, 'hook-secret'),
    ]
    const first = /run ([0-9a-f-]{36}) started/.exec(ok(await stavily(send), 'hook send').stdout)?.[1]
    expect(first).toBeDefined()
    const run1 = await platform.waitForRun(first!)
    expect(run1.status).toBe('succeeded')
    expect(run1.steps[0]!.output).toMatchObject({ release: 'first' })
    const logs = ok(await stavily(['run', 'logs', first!, 'df']), 'run logs')
    expect(logs.stdout).toMatch(/INFO {2}disk usage read \(first\) {2}\{"code":0,"path":"\/"\}/)

    // The next 0.x version: the pool's range takes it, and the next run runs it.
    writeFileSync(join(project, 'src', 'index.ts'), source('second'))
    writeFileSync(join(project, 'package.json'), `${JSON.stringify({ ...pkg, version: '0.2.0' }, null, 2)}\n`)
    git(['commit', '--quiet', '-am', `${NAME} 0.2.0`])
    git(['tag', 'v0.2.0'])
    git(['push', '--quiet', 'origin', 'main', '--tags'])
    ok(await stavily(['plugin', 'publish', '--repo', url, '--ref', 'v0.2.0']), 'publish 0.2.0')
    const second = /run ([0-9a-f-]{36}) started/.exec(ok(await stavily(send), 'hook send 0.2.0').stdout)?.[1]
    const run2 = await platform.waitForRun(second!)
    expect(run2.status).toBe('succeeded')
    expect(run2.steps[0]!.output).toMatchObject({ release: 'second' })
    expect(ok(await stavily(['run', 'logs', second!]), 'run logs 0.2.0').stdout).toContain(
      'disk usage read (second)',
    )
  }, 600_000)
})

// The packages as a user gets them (docs/deploying-agents.md, "Install"): `npm pack` of each
// published package, installed from those tarballs into an empty folder with no workspace
// around (dependencies from the npm registry or its cache), and the bins run from there:
// `stavily --help`, `stavily-agent --version`, `npm create stavily-plugin`, and the installed
// `stavily server --memory` serving the dashboard at /. A file missing
// from `files`, a bin pointing at nothing or a dependency only the workspace provided fails
// here. Slow (an npm install): one file, one install. Runs the built dist/ (npm test builds).
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../../test/temp-dir.ts'
import { SOURCE_ROOT } from '../src/source.ts'

/** What a user installs, and what those depend on in this repository (core → registry, dashboard). */
const PACKAGES: { name: string; dir: string; built?: string }[] = [
  { name: '@stavily/sdk', dir: 'sdk' },
  { name: '@stavily/protocol', dir: 'protocol' },
  { name: '@stavily/registry', dir: 'registry' },
  { name: '@stavily/agent', dir: 'agent-runtime' },
  { name: '@stavily/core', dir: 'core' },
  // core serves the built dashboard, which it finds as its installed dependency.
  { name: '@stavily/dashboard', dir: 'dashboard', built: 'build/index.html' },
  { name: 'create-stavily-plugin', dir: 'templates' },
]

/** The environment without npm's per-run settings (npm test sets npm_config_* for the workspace). */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)))
}

/** The embedded database and in-process fleet state, whatever the test run was given. */
function withoutBackends(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { DATABASE_URL: _db, REDIS_URL: _redis, ...rest } = env
  return rest
}

function run(command: string, args: string[], cwd: string): string {
  const r = spawnSync(command, args, { cwd, env: cleanEnv(), encoding: 'utf8', timeout: 600_000 })
  if (r.status !== 0)
    throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited ${r.status}:\n${r.stdout}\n${r.stderr}`)
  return r.stdout
}

/** `stavily server --json`'s ready line, within `deadlineMs` (a cold start on a loaded machine). */
function readyLine(proc: ChildProcess, deadlineMs: number): Promise<{ operatorUrl: string }> {
  let out = ''
  let err = ''
  proc.stderr!.on('data', (d: Buffer) => {
    err += d.toString()
  })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`stavily server was not ready in ${deadlineMs} ms:\n${out}\n${err}`)),
      deadlineMs,
    )
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const line = out.split('\n').find((l) => l.startsWith('{') && l.includes('"ready":true'))
      if (line === undefined) return
      clearTimeout(timer)
      resolve(JSON.parse(line))
    })
    proc.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`stavily server exited with ${code}:\n${out}\n${err}`))
    })
  })
}

function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    proc.once('exit', () => resolve())
    proc.kill('SIGTERM')
  })
}

describe('the published packages', () => {
  it('install from their packed tarballs into an empty folder and their bins run', async () => {
    for (const p of PACKAGES)
      if (!existsSync(join(SOURCE_ROOT, p.dir, p.built ?? 'dist')))
        throw new Error(
          `${p.dir}/${p.built ?? 'dist'} is missing: run npm run build (npm test does) before this test`,
        )
    const root = tempDir('packages')
    const tarballs = join(root, 'tarballs')
    mkdirSync(tarballs)
    execFileSync(
      'npm',
      ['pack', '--pack-destination', tarballs, ...PACKAGES.flatMap((p) => ['-w', p.name])],
      {
        cwd: SOURCE_ROOT,
        env: cleanEnv(),
        stdio: 'ignore',
      },
    )
    const files = readdirSync(tarballs).filter((f) => f.endsWith('.tgz'))
    expect(files).toHaveLength(PACKAGES.length)

    // An empty project of its own: npm must not find the repository's workspace above it.
    const prefix = join(root, 'prefix')
    mkdirSync(prefix)
    writeFileSync(join(prefix, 'package.json'), '{ "name": "install-check", "private": true }\n')
    // Install scripts off: isolated-vm's native build is not what this checks (the sandbox
    // tests do), and no bin run here loads it.
    run(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        '--ignore-scripts',
        '--loglevel=error',
        ...files.map((f) => join(tarballs, f)),
      ],
      prefix,
    )
    // Installed copies, not links back into the repository.
    for (const p of PACKAGES)
      expect(realpathSync(join(prefix, 'node_modules', p.name)).startsWith(realpathSync(prefix))).toBe(true)

    const bin = (name: string) => join(prefix, 'node_modules/.bin', name)
    expect(run(bin('stavily'), ['--help'], prefix)).toMatch(/usage: stavily <command>/)
    const agentPkg = JSON.parse(readFileSync(join(SOURCE_ROOT, 'agent-runtime/package.json'), 'utf8'))
    expect(run(bin('stavily-agent'), ['--version'], prefix).trim()).toBe(agentPkg.version)
    expect(run(bin('stavily-agent'), ['--help'], prefix)).toMatch(/--health-listen/)

    // `npm create stavily-plugin` resolves the installed initializer (npm exec finds the
    // project's own bin first), as after `npm install create-stavily-plugin`.
    const work = join(prefix, 'work')
    mkdirSync(work)
    run('npm', ['create', 'stavily-plugin', 'my-check', '--', '--kind', 'sensor', '--yes'], work)
    const created = JSON.parse(readFileSync(join(work, 'my-check/package.json'), 'utf8'))
    expect(created).toMatchObject({ name: 'my-check', stavily: { kind: 'sensor' } })
    expect(existsSync(join(work, 'my-check/src/index.ts'))).toBe(true)

    // The installed orchestrator serves the installed dashboard's page at /, not the
    // "not built" page it shows when @stavily/dashboard is missing.
    const server = spawn(bin('stavily'), ['server', '--memory', '--port', '0', '--json'], {
      cwd: prefix,
      env: withoutBackends(cleanEnv()),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    try {
      const ready = await readyLine(server, 120_000)
      const page = await fetch(`${ready.operatorUrl}/`)
      expect(page.status).toBe(200)
      expect(await page.text()).toBe(readFileSync(join(SOURCE_ROOT, 'dashboard/build/index.html'), 'utf8'))
    } finally {
      await stopProcess(server)
    }
  }, 900_000)
})

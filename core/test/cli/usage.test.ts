import { statSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import { CLI_PROCESS_MS, cli, freshConfig } from './cli-process.ts'

// The command line without a server: help, refusals with suggestions, the config file,
// and what happens when nothing answers at the URL. Exit codes are part of the interface.

/** A loopback port with nothing listening on it. */
async function deadPort(): Promise<number> {
  const srv = createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const { port } = srv.address() as { port: number }
  await new Promise<void>((r) => srv.close(() => r()))
  return port
}

// Each test runs up to three CLI processes, each a cold tsx start: the budget is theirs.
describe('stavily without a server', { timeout: 3 * CLI_PROCESS_MS }, () => {
  it('prints help for everything, a group and a command', async () => {
    const top = await cli(['help'])
    expect(top.code).toBe(0)
    for (const c of [
      'server',
      'login',
      'workflow apply',
      'run watch',
      'agent token',
      'plugin publish',
      'secret set',
      'audit verify',
    ])
      expect(top.stdout).toContain(c)
    expect(top.stdout).toMatch(/5 +the orchestrator cannot be reached/)

    const group = await cli(['workflow', '--help'])
    expect(group.code).toBe(0)
    expect(group.stdout).toContain('workflow dry-run')

    const cmd = await cli(['run', 'list', '--help'])
    expect(cmd.code).toBe(0)
    expect(cmd.stdout).toContain('--status STATUS')
    expect(cmd.stdout).toContain('--json')
  })

  it('refuses an unknown command with exit 2 and a suggestion', async () => {
    const r = await cli(['wrkflow', 'list'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('unknown command "wrkflow"; did you mean "workflow"?')
    expect(r.stdout).toBe('')
    const sub = await cli(['run', 'lst'])
    expect(sub.code).toBe(2)
    expect(sub.stderr).toContain('did you mean "list"?')
  })

  it('refuses an unknown option and a missing argument, naming them', async () => {
    const opt = await cli(['run', 'list', '--stauts', 'failed'])
    expect(opt.code).toBe(2)
    expect(opt.stderr).toContain('unknown option --stauts for `stavily run list`; did you mean "--status"?')
    const arg = await cli(['workflow', 'apply'])
    expect(arg.code).toBe(2)
    expect(arg.stderr).toContain('stavily workflow apply: missing FILE')
    const value = await cli(['run', 'list', '--status', 'exploded'], { env: { STAVILY_TOKEN: 'x' } })
    expect(value.code).toBe(2)
    expect(value.stderr).toContain('--status: expected one of queued, running')
  })

  it('says how to log in when there is no token (exit 3)', async () => {
    const r = await cli(['workflow', 'list'], { env: { STAVILY_CONFIG: freshConfig() } })
    expect(r.code).toBe(3)
    expect(r.stderr).toContain('not logged in')
    expect(r.stderr).toContain('stavily login --url')
  })

  it('exits 5 with the URL and what to check when nothing answers', async () => {
    const url = `http://127.0.0.1:${await deadPort()}`
    const r = await cli(['run', 'list', '--json'], { env: { STAVILY_URL: url, STAVILY_TOKEN: 'stv_x' } })
    expect(r.code).toBe(5)
    expect(r.stderr).toContain(`cannot reach the orchestrator at ${url} (ECONNREFUSED)`)
    expect(r.stderr).toContain('stavily server')
    // --json: scripts get the failure as JSON too.
    expect(JSON.parse(r.stdout).error.exitCode).toBe(5)
    // Options every command takes may also come before the command.
    const first = await cli(['--json', '--url', url, 'agent', 'list'], { env: { STAVILY_TOKEN: 'stv_x' } })
    expect(first.code).toBe(5)
    expect(JSON.parse(first.stdout).error.message).toContain(`cannot reach the orchestrator at ${url}`)
  })

  it('login --no-check stores URL and token (token from stdin) in a 0600 file', async () => {
    const config = freshConfig()
    const r = await cli(['login', '--url', 'http://127.0.0.1:1/', '--no-check'], {
      env: { STAVILY_CONFIG: config },
      input: 'stv_admin_example\n',
    })
    expect(r.code).toBe(0)
    expect(r.stdout + r.stderr).not.toContain('stv_admin_example')
    expect(JSON.parse(await readFile(config, 'utf8'))).toEqual({
      url: 'http://127.0.0.1:1',
      token: 'stv_admin_example',
    })
    expect(statSync(config).mode & 0o777).toBe(0o600)
    const bad = await cli(['login', '--url', 'ftp://x', '--no-check', '--token', 't'], {
      env: { STAVILY_CONFIG: config },
    })
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('--url: expected an http(s) URL')
  })

  it('token generate makes a bootstrap admin token locally', async () => {
    const a = await cli(['token', 'generate'])
    const b = await cli(['token', 'generate'])
    expect(a.code).toBe(0)
    expect(a.stdout).toMatch(/^stv_admin_[A-Za-z0-9_-]{43}\n$/)
    expect(b.stdout).not.toBe(a.stdout)
  })

  it('a config file that is not JSON is named, and login rewrites it', async () => {
    const config = freshConfig()
    await writeFile(config, 'orchestrator: http://x\n')
    const r = await cli(['workflow', 'list'], { env: { STAVILY_CONFIG: config } })
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`the config file ${config} is not valid JSON`)
    expect(r.stderr).toContain('run `stavily login` to rewrite it')
    const login = await cli(['login', '--url', 'http://127.0.0.1:1', '--no-check', '--token', 'stv_x'], {
      env: { STAVILY_CONFIG: config },
    })
    expect(login.code).toBe(0)
    expect(JSON.parse(await readFile(config, 'utf8'))).toEqual({ url: 'http://127.0.0.1:1', token: 'stv_x' })
  })
})

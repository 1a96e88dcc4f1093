import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { tempDir } from '../../../test/temp-dir.ts'
import { CLI_PROCESS_MS, cli, freshConfig, spawnCli } from './cli-process.ts'
import { WORKFLOW_V1, WORKFLOW_V2 } from './fixtures.ts'

// `stavily server` as the user starts it, then the other commands against it: once on the
// embedded database in memory (human output), once on PostgreSQL and Redis (--json), the
// suite where the CLI meets the production backends.

/**
 * How long `stavily server` may take to print its ready line: tsx compiles the whole
 * orchestrator from source on a cold start, then the database is migrated (about 20 s at
 * load 17 on the 2-core CI machine, so a fixed 30 s test timeout failed under load).
 */
const START_MS = 120_000

interface Started {
  proc: ChildProcess
  stdout: () => string
  stderr: () => string
}

function startServer(
  args: string[],
  env: Record<string, string | undefined>,
  ready: RegExp,
): Promise<Started> {
  const proc = spawnCli(['server', '--port', '0', ...args], { env })
  let out = ''
  let err = ''
  proc.stdout!.on('data', (d: Buffer) => {
    out += d.toString()
  })
  proc.stderr!.on('data', (d: Buffer) => {
    err += d.toString()
  })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`stavily server did not start in ${START_MS / 1000} s:\n${out}\n${err}`)),
      START_MS,
    )
    const check = () => {
      if (ready.test(out)) {
        clearTimeout(timer)
        resolve({ proc, stdout: () => out, stderr: () => err })
      }
    }
    proc.stdout!.on('data', check)
    proc.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`stavily server exited with ${code}:\n${out}\n${err}`))
    })
  })
}

function stop(s: Started): Promise<number | null> {
  s.proc.removeAllListeners('exit')
  if (s.proc.exitCode !== null) return Promise.resolve(s.proc.exitCode)
  return new Promise((resolve) => {
    s.proc.on('exit', (code) => resolve(code))
    s.proc.kill('SIGTERM')
  })
}

const running: Started[] = []
const schemas: string[] = []
afterAll(async () => {
  for (const s of running.splice(0)) await stop(s)
  if (schemas.length > 0) {
    const c = new pg.Client({ connectionString: process.env.DATABASE_URL })
    await c.connect()
    for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS ${s}, ${s}_boss, ${s}_registry CASCADE`)
    await c.end()
  }
})

describe('stavily server', () => {
  it(
    'starts on the embedded database, prints its URLs and the admin token once, stops on SIGTERM',
    async () => {
      const s = await startServer(
        ['--memory'],
        { DATABASE_URL: undefined, REDIS_URL: undefined },
        /log in with:/,
      )
      running.push(s)
      const out = s.stdout()
      expect(out).toContain('stavily orchestrator ready')
      const operatorUrl = /operator API: +(http:\/\/127\.0\.0\.1:\d+)\/api\/v1/.exec(out)![1]!
      expect(out).toMatch(/agent API: +http:\/\/127\.0\.0\.1:\d+\/agents\/v1/)
      const token = /^ {2}(stv_admin_\S+)$/m.exec(out)![1]!
      expect(out).toContain(`stavily login --url ${operatorUrl}`)

      const env = { STAVILY_CONFIG: freshConfig() }
      expect((await cli(['login', '--url', operatorUrl], { env, input: token })).code).toBe(0)
      const agents = await cli(['agent', 'list'], { env })
      expect(agents.code).toBe(0)
      expect(agents.stderr).toContain('no agents yet')

      running.splice(running.indexOf(s), 1)
      expect(await stop(s)).toBe(0)
    },
    // The start, login and agent list, then the stop.
    START_MS + 3 * CLI_PROCESS_MS,
  )

  const backends = process.env.DATABASE_URL ? ['postgres'] : []
  for (const backend of backends) {
    it(
      `runs on ${backend}${process.env.REDIS_URL ? ' and Redis' : ''}: apply, get, diff, dry-run, audit verify`,
      async () => {
        const schema = `cli_${randomBytes(5).toString('hex')}`
        schemas.push(schema)
        const s = await startServer(
          ['--json'],
          { STAVILY_SCHEMA: schema, STAVILY_REDIS_PREFIX: `test:${schema}:` },
          /^\{.*"ready":true.*\}$/m,
        )
        running.push(s)
        const ready = JSON.parse(
          s
            .stdout()
            .split('\n')
            .find((l) => l.startsWith('{'))!,
        )
        expect(ready).toMatchObject({ ready: true, pid: expect.any(Number) })
        expect(ready.adminToken).toMatch(/^stv_admin_/)

        const dir = tempDir('cli-pg')
        writeFileSync(join(dir, 'wf.yaml'), WORKFLOW_V1)
        writeFileSync(join(dir, 'wf2.yaml'), WORKFLOW_V2)
        const env = { STAVILY_CONFIG: freshConfig() }
        const run = (args: string[], input?: string) =>
          cli(args, { env, cwd: dir, ...(input !== undefined ? { input } : {}) })
        expect((await run(['login', '--url', ready.operatorUrl], ready.adminToken)).code).toBe(0)

        const applied = await run(['workflow', 'apply', 'wf.yaml', '--json'])
        expect(applied.code).toBe(0)
        expect(JSON.parse(applied.stdout)).toMatchObject({ created: true, version: 1 })
        expect((await run(['workflow', 'get', 'cli-restart'])).stdout).toBe(WORKFLOW_V1)
        const diff = await run(['workflow', 'diff', 'wf2.yaml', '--json'])
        expect(JSON.parse(diff.stdout)).toMatchObject({
          name: 'cli-restart',
          exists: true,
          version: 1,
          changed: true,
        })
        const dry = await run([
          'workflow',
          'dry-run',
          'wf.yaml',
          '--event',
          '{"data":{"severity":"critical","service":"api"}}',
          '--json',
        ])
        expect(JSON.parse(dry.stdout)).toMatchObject({
          triggered: true,
          actions: [{ id: 'restart', input: { service: 'api' } }],
        })
        expect((await run(['secret', 'set', 'HOOK_SECRET'], 'v')).code).toBe(0)
        const audit = await run(['audit', 'verify', '--json'])
        expect(audit.code).toBe(0)
        expect(JSON.parse(audit.stdout)).toMatchObject({ ok: true })
        expect(JSON.parse(audit.stdout).entries).toBeGreaterThanOrEqual(2)

        running.splice(running.indexOf(s), 1)
        expect(await stop(s)).toBe(0)
      },
      // The start, seven commands, then the stop.
      START_MS + 8 * CLI_PROCESS_MS,
    )
  }
})

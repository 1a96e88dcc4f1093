// Issue 15's actions through the whole platform: update-config, run-tests, backup and
// http-request published from Git, enabled, downloaded by an action agent and run in its
// sandbox, in one workflow started by manual runs. The peers are real: a config file checked
// by a real validator, `node --test` on a project whose test reads that file,
// pg_dump/pg_restore against a scratch database of the real PostgreSQL, and a loopback HTTP
// API that asks for a retry first.
import { randomBytes } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Platform, type Run, startPlatform } from '../src/platform.ts'

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const database = `stavily_e2e_ops_${randomBytes(4).toString('hex')}`
const dbUrl = (() => {
  const u = new URL(ADMIN_URL)
  u.pathname = `/${database}`
  u.search = ''
  return u.toString()
})()
// Under /tmp/stavily, which the three manifests declare; the agent's grants narrow it to this folder.
const dir = join('/tmp/stavily', `e2e-ops-${process.pid}-${randomBytes(3).toString('hex')}`)

async function sql(url: string, text: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query(text)).rows
  } finally {
    await client.end()
  }
}

const WORKFLOW = `name: ops-actions
trigger:
  schedule:
    cron: "0 0 1 1 *"
actions:
  - id: config
    plugin: "@stavily/plugin-update-config"
    version: ^0.1.0
    config:
      path: ${dir}/app.json
      validate: [node, -e, 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))', "{file}"]
    input:
      content: |
        {"workers": \${{ trigger.workers }}}
  - id: tests
    plugin: "@stavily/plugin-run-tests"
    version: ^0.1.0
    config:
      command: node
      args: [--test, --test-reporter=junit, "--test-reporter-destination=${dir}/junit.xml", test/config.test.mjs]
      cwd: ${dir}
      junitPath: ${dir}/junit.xml
      allowFailure: true
  - id: backup
    plugin: "@stavily/plugin-backup"
    version: ^0.1.0
    config: { database: "${dbUrl}", destination: "${dir}/backups", name: shop, keep: 2 }
  - id: drill
    plugin: "@stavily/plugin-backup"
    version: ^0.1.0
    config: { database: "${dbUrl}", destination: "${dir}/backups", name: shop }
    input:
      operation: restore
      file: \${{ steps.backup.output.file }}
  - id: report
    plugin: "@stavily/plugin-http-request"
    version: ^0.1.0
    config: { url: "http://127.0.0.1:API_PORT/reports", retryDelayMs: 100 }
    input:
      path: /\${{ run.id }}
      body:
        workers: \${{ trigger.workers }}
        tests: \${{ steps.tests.output.report }}
        sha256: \${{ steps.backup.output.sha256 }}
`

let platform: Platform
/** The reporting API: answers 503 with Retry-After once per run, then 201 with what it got. */
let api: Server
const reports: { path: string; body: Record<string, unknown> }[] = []
const refused = new Set<string>()

beforeAll(async () => {
  mkdirSync(join(dir, 'test'), { recursive: true })
  mkdirSync(join(dir, 'backups'))
  // The project's test reads the config file the workflow's first step writes.
  writeFileSync(
    join(dir, 'test', 'config.test.mjs'),
    `import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
const config = JSON.parse(readFileSync(new URL('../app.json', import.meta.url), 'utf8'))
describe('config', () => {
  it('is an object', () => assert.equal(typeof config, 'object'))
  it('has workers', () => assert.ok(config.workers > 0, 'workers must be positive'))
})
`,
  )
  await sql(ADMIN_URL, `CREATE DATABASE ${database}`)
  await sql(
    dbUrl,
    `CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items VALUES (1, 'one'), (2, 'two')`,
  )
  api = createServer((req, res) => {
    let text = ''
    req.on('data', (c: Buffer) => {
      text += c.toString()
    })
    req.on('end', () => {
      const path = req.url ?? ''
      if (!refused.has(path)) {
        refused.add(path)
        res.writeHead(503, { 'retry-after': '1' }).end('busy')
        return
      }
      reports.push({ path, body: JSON.parse(text) })
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ stored: path }))
    })
  })
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve))
  platform = await startPlatform('ops')
}, 180_000)

afterAll(async () => {
  await platform?.close()
  await new Promise((resolve) => api?.close(resolve))
  await sql(ADMIN_URL, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
  rmSync(dir, { recursive: true, force: true })
})

/** What the steps return, as far as this test reads it. */
interface StepOutput {
  diff: string
  file: string
  sha256: string
  sizeBytes: number
  removed: string[]
  [key: string]: unknown
}
const output = (run: Run, step: string) => run.steps.find((s) => s.stepId === step)?.output as StepOutput

describe('run-tests, backup and update-config in a workflow', () => {
  it('writes the config, tests against it, backs up, restores and reports to an API, as published plugins on an agent', async () => {
    for (const plugin of ['update-config', 'run-tests', 'backup', 'http-request']) {
      const v = await platform.publish(plugin)
      await platform.enable(v.name, v.version)
    }
    const port = (api.address() as { port: number }).port
    const { workflow } = await platform.apply(WORKFLOW.replace('API_PORT', String(port)))
    await platform.agent({
      name: 'ops',
      kind: 'action',
      grants: {
        commands: ['node', 'chmod', 'chown', 'mv', 'rm', 'pg_dump', 'pg_restore', 'sha256sum', 'wc', 'sleep'],
        hosts: ['127.0.0.1'],
        read: [dir],
        write: [dir],
      },
    })
    const start = async (workers: number) => {
      const r = await platform.api.post<{ run: { id: string } }>(`/workflows/${workflow.id}/runs`, {
        event: { data: { workers } },
      })
      const run = await platform.waitForRun(r.run.id, 120_000)
      expect(run.status, `${JSON.stringify(run.steps, null, 1)}\n${platform.logs()}`).toBe('succeeded')
      return run
    }

    const first = await start(4)
    expect(output(first, 'config')).toMatchObject({ changed: true, created: true, validated: true })
    expect(output(first, 'config').diff).toContain('+{"workers": 4}')
    expect(readFileSync(join(dir, 'app.json'), 'utf8')).toBe('{"workers": 4}\n')
    expect(output(first, 'tests')).toMatchObject({
      passed: true,
      code: 0,
      report: { tests: 2, passed: 2, failed: 0, skipped: 0 },
    })
    const backup = output(first, 'backup')
    expect(backup).toMatchObject({ operation: 'backup', format: 'postgres', removed: [] })
    expect(backup.sizeBytes).toBeGreaterThan(0)
    expect(output(first, 'drill')).toMatchObject({
      operation: 'restore',
      file: backup.file,
      sha256: backup.sha256,
    })

    // The same content: nothing written. The data changes; the next backup holds the change.
    await sql(dbUrl, `INSERT INTO items VALUES (3, 'three')`)
    const second = await start(4)
    expect(output(second, 'config')).toMatchObject({ changed: false, diff: '' })

    // A config the test suite rejects: the run goes on (allowFailure) and names the failing test.
    const third = await start(0)
    expect(output(third, 'config')).toMatchObject({ changed: true, previous: `${dir}/app.json.previous` })
    expect(readFileSync(join(dir, 'app.json.previous'), 'utf8')).toBe('{"workers": 4}\n')
    expect(output(third, 'tests')).toMatchObject({
      passed: false,
      code: 1,
      report: { tests: 2, passed: 1, failed: 1, failures: [{ name: 'config > has workers' }] },
    })
    // keep 2: the first run's dump is gone, with its checksum file.
    expect(output(third, 'backup').removed).toEqual([backup.file.split('/').pop()])
    expect(readdirSync(join(dir, 'backups')).filter((f) => f.endsWith('.dump'))).toHaveLength(2)
    expect(await sql(dbUrl, 'SELECT id FROM items ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }])
  }, 300_000)
})

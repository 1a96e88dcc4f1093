// The database and file-change triggers start real runs: postgres and file-watch published
// from the git daemon to a sensor agent whose configuration file grants a PostgreSQL
// connection (the real database, a schema of this test's own) and a folder. A new row, a
// NOTIFY and a file written each start a run whose action sees the event.
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '../src/net.ts'
import { type Platform, type Run, startPlatform } from '../src/platform.ts'

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const schema = `e2e_data_sensors_${randomUUID().slice(0, 8)}`
const admin = new pg.Client({ connectionString: DATABASE_URL })
let platform: Platform
let watched: string

beforeAll(async () => {
  await admin.connect()
  await admin.query(`CREATE SCHEMA ${schema}`)
  await admin.query(`CREATE TABLE ${schema}.orders (id bigserial PRIMARY KEY, total numeric NOT NULL)`)
  platform = await startPlatform('datasensors')
  watched = mkdtempSync(join(tmpdir(), 'stavily-e2e-watched-'))
  for (const dir of ['postgres', 'file-watch', 'run-command']) {
    const v = await platform.publish(dir)
    await platform.enable(v.name, v.version)
  }
  // What the operator grants: a connection by name (the URL never reaches the plugin) and a folder.
  const config = join(platform.dir, 'sensor-agent.json')
  writeFileSync(
    config,
    JSON.stringify({ grants: { fs: { read: [watched] }, sql: { shop: { url: DATABASE_URL } } } }),
  )
  await platform.agent({ name: 'data-sensor', kind: 'sensor', env: { STAVILY_AGENT_CONFIG: config } })
  await platform.agent({ name: 'data-action', kind: 'action', grants: { commands: ['echo'] } })
}, 180_000)

afterAll(async () => {
  await platform?.close()
  if (watched) rmSync(watched, { recursive: true, force: true })
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {})
  await admin.end()
})

const echo = `
actions:
  - id: react
    plugin: "@stavily/plugin-run-command"
    version: ^0.1.0
    config: { command: echo }
`

/** The first run of `workflowId`, finished, and what its echo printed. */
async function firstRun(workflowId: string): Promise<{ run: Run; stdout: string }> {
  const [started] = await waitFor(
    `a run of ${workflowId}`,
    async () => {
      const runs = await platform.runsOf(workflowId)
      return runs.length > 0 ? runs : undefined
    },
    { timeoutMs: 90_000, intervalMs: 500 },
  )
  const run = await platform.waitForRun(started!.id)
  expect(run.status, platform.logs()).toBe('succeeded')
  const react = run.steps.find((s) => s.stepId === 'react')!
  return { run, stdout: (react.output as { stdout: string }).stdout }
}

describe('database and file-change triggers in workflows', () => {
  it('a new row starts a run (postgres, newRows)', async () => {
    await admin.query(`INSERT INTO ${schema}.orders (total) VALUES (5)`) // id 1, at initialCursor: not reported
    const { workflow } = await platform.apply(`
name: new-order
trigger:
  sensor:
    plugin: "@stavily/plugin-postgres"
    version: ^0.1.0
    interval: 1s
    config:
      connection: shop
      mode: newRows
      query: SELECT id, total FROM ${schema}.orders
      cursorColumn: id
      initialCursor: 1
${echo}    input: { args: ["order \${{ trigger.row.id }} total \${{ trigger.row.total }}"] }
`)
    await admin.query(`INSERT INTO ${schema}.orders (total) VALUES (129.90)`)
    const { run, stdout } = await firstRun(workflow.id)
    expect(run.event.data).toMatchObject({
      connection: 'shop',
      cursor: '2',
      row: { id: '2', total: '129.90' },
    })
    expect(stdout).toBe('order 2 total 129.90\n')
    expect(await platform.runsOf(workflow.id)).toHaveLength(1)
  }, 240_000)

  it('a NOTIFY starts a run (postgres, listen as a watch)', async () => {
    const channel = `orders_${randomUUID().slice(0, 8)}`
    const { workflow } = await platform.apply(`
name: order-notified
trigger:
  sensor:
    plugin: "@stavily/plugin-postgres"
    version: ^0.1.0
    watch: true
    config: { connection: shop, mode: listen, channel: ${channel} }
${echo}    input: { args: ["notified \${{ trigger.json.id }}"] }
`)
    // NOTIFY until the watch is listening (a notification before LISTEN reaches no one).
    const { stdout } = await waitFor(
      'a run of order-notified',
      async () => {
        if ((await platform.runsOf(workflow.id)).length > 0) return firstRun(workflow.id)
        await admin.query('SELECT pg_notify($1, $2)', [channel, '{"id":42}'])
        return undefined
      },
      { timeoutMs: 90_000, intervalMs: 1000 },
    )
    expect(stdout).toBe('notified 42\n')
  }, 240_000)

  it('a file written under the watched folder starts a run (file-watch)', async () => {
    const { workflow } = await platform.apply(`
name: config-changed
trigger:
  sensor:
    plugin: "@stavily/plugin-file-watch"
    version: ^0.1.0
    watch: true
    config: { paths: ["${watched}"], include: ["*.conf"], debounceMs: 200 }
${echo}    input: { args: ["\${{ trigger.change }} \${{ trigger.relativePath }}"] }
`)
    // Write until the watch has started (a write before it is not a change it saw).
    let n = 0
    const { run, stdout } = await waitFor(
      'a run of config-changed',
      async () => {
        if ((await platform.runsOf(workflow.id)).length > 0) return firstRun(workflow.id)
        writeFileSync(join(watched, `site-${++n}.conf`), 'listen 80;\n')
        writeFileSync(join(watched, 'ignored.txt'), 'x\n')
        return undefined
      },
      { timeoutMs: 90_000, intervalMs: 1500 },
    )
    expect(run.event.data).toMatchObject({ change: 'created', root: watched })
    expect(stdout).toMatch(/^created site-\d+\.conf\n$/)
  }, 240_000)
})

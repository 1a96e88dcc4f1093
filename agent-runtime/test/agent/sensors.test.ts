// A sensor agent runs the sensor assignments of its pool (from enabled workflows whose
// trigger is a sensor there), reports their events with the assignment's sensorId, and
// restarts a sensor when its workflow changes.
import { readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest'
import type { WireEvent } from '../../src/agent/outbox.ts'
import { type AgentProcess, startAgent } from './helpers/agent-process.ts'
import { gate } from './helpers/gate.ts'
import {
  call,
  ECHO_PERMISSIONS,
  echoSource,
  type Platform,
  platform,
  setups,
  TICKER_SOURCE,
  until,
} from './helpers/platform.ts'

vi.setConfig({ testTimeout: 180_000 })

const TICKER = '@acme/stavily-plugin-ticker'
const ECHO = '@acme/stavily-plugin-echo'

function workflow(label: string, watch = false): string {
  return `name: ${watch ? 'watched-ticks' : 'ticks'}
trigger:
  sensor:
    plugin: "${TICKER}"
    version: 1.0.0
    pool: sense
    ${watch ? 'watch: true' : 'interval: 1s'}
    config:
      label: ${label}
actions:
  - id: echo
    plugin: "${ECHO}"
    version: 1.0.0
    pool: web
    input:
      msg: \${{ trigger.label }}
`
}

describe.each(setups())('sensor agent on $name', (setup) => {
  let p: Platform
  let a: AgentProcess | undefined

  beforeAll(async () => {
    await setup.prepare()
    p = await platform(await setup.start())
    await p.publish(TICKER, '1.0.0', TICKER_SOURCE, { kind: 'sensor' })
    await p.publish(ECHO, '1.0.0', echoSource('1'), { permissions: ECHO_PERMISSIONS })
    await p.enable('sense', TICKER, '1.0.0')
    await p.enable('web', ECHO, '1.0.0')
  }, 180_000)

  afterAll(async () => {
    await a?.stop('SIGKILL')
    await p?.close()
    await setup.cleanup()
  })

  const apply = async (label: string, watch = false) => {
    const res = await call(p.r.operatorUrl, 'POST', '/api/v1/workflows', {
      token: p.r.admin,
      body: { document: workflow(label, watch) },
    })
    if (res.status >= 300) throw new Error(`apply: ${res.status} ${JSON.stringify(res.body)}`)
    return res.body.workflow.id as string
  }

  it('runs the assigned sensor, reports events with its sensorId, and restarts it on a new revision', async () => {
    const id = await apply('first')
    a = startAgent([
      '--orchestrator',
      p.r.url,
      '--registry',
      p.registryUrl,
      '--data-dir',
      join(p.root, 'sensor'),
      '--enrollment-token',
      await p.token('sensor', 'sense'),
      '--plugin-sync-ms',
      '1000',
    ])
    await a.waitForLog((l) => l.msg === 'sensor started' && l.sensorId === id, 60_000, 'sensor started')
    const sql = p.r.o.services.db.sql
    const events = (label: string) =>
      sql.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM events WHERE source = $1 AND data ->> 'label' = $2`,
        [TICKER, label],
      )
    await until(async () => (await events('first')).rows[0]!.n >= 2, 60_000, 'events stored')
    // Events carrying the sensorId start runs of that workflow.
    await until(
      async () => {
        const runs = await call(p.r.operatorUrl, 'GET', `/api/v1/runs?workflow=${id}`, { token: p.r.admin })
        return runs.status === 200 && runs.body.items.length > 0
      },
      60_000,
      'a run of the workflow',
    )

    await apply('second')
    await a.waitForLog(
      (l) => l.msg === 'sensor restarting (new revision)' && l.sensorId === id,
      60_000,
      'restart',
    )
    await until(async () => (await events('second')).rows[0]!.n >= 1, 60_000, 'events of the new revision')

    // A watch sensor runs continuously and streams its events.
    const watched = await apply('watched', true)
    await a.waitForLog(
      (l) => l.msg === 'sensor started' && l.sensorId === watched && l.mode === 'watch',
      60_000,
      'watch',
    )
    await until(async () => (await events('watched')).rows[0]!.n >= 3, 60_000, 'watched events').catch(
      (err) => {
        throw new Error(`${err.message}; agent log: ${JSON.stringify(a?.logs.slice(-12))}`)
      },
    )
    expect(a.count((l) => l.msg === 'sensor check failed' || l.msg.startsWith('sensor watch failed'))).toBe(0)
    expect((await a.stop()).code).toBe(0)
  })

  it("delivers a check's events after a kill -9 right after the check", async () => {
    await apply('durable')
    const dataDir = join(p.root, 'sensor')
    // The agent starts the sensors it cached (the first test's 'second' revision) before it
    // hears from the orchestrator: under load that check came first and took the kill, so
    // the outbox held 'second' events and no 'durable' one. Start from the served revision.
    rmSync(join(dataDir, 'desired.json'), { force: true })
    // The sender is held (429, which costs an entry nothing) until the kill: otherwise a batch
    // window that closes before the check returns (the watch sensor's events opened the
    // journal) lets the sender deliver and remove the check's events before the kill.
    const g = await gate(p.r.url)
    onTestFinished(() => g.close())
    g.rule('hold events', (m, path) => m === 'POST' && path.endsWith('/events'), 429)
    const crashing = startAgent(
      [
        '--orchestrator',
        g.url,
        '--registry',
        p.registryUrl,
        '--data-dir',
        dataDir,
        '--plugin-sync-ms',
        '1000',
      ],
      {},
      { fault: 'after-check' },
    )
    a = crashing
    expect((await crashing.exited).signal).toBe('SIGKILL')
    // The check's events were on disk before the kill, and not yet sent.
    const pending = readdirSync(join(dataDir, 'outbox'))
      .filter((f) => f.endsWith('.json'))
      .flatMap(
        (f) => (JSON.parse(readFileSync(join(dataDir, 'outbox', f), 'utf8')).events ?? []) as WireEvent[],
      )
      .filter((e) => (e.data as { label?: string }).label === 'durable')
    expect(pending.length).toBeGreaterThan(0)

    a = startAgent(['--orchestrator', p.r.url, '--registry', p.registryUrl, '--data-dir', dataDir])
    const sql = p.r.o.services.db.sql
    // The very events written before the kill arrive (by their timestamps), once each.
    await until(
      async () => {
        const { rows } = await sql.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM events WHERE source = $1 AND occurred_at = ANY($2::timestamptz[])`,
          [TICKER, pending.map((e) => e.occurredAt)],
        )
        return rows[0]!.n === pending.length
      },
      60_000,
      'the events written before the kill',
    )
    expect((await a.stop()).code).toBe(0)
  })
})

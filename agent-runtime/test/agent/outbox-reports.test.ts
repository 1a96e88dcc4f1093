// One bad report never stops the agent's reports: values are made safe and checked with the
// orchestrator's own rules before the outbox, batches stay under the body limit, a refused
// event is isolated and quarantined while the rest arrive, the outbox has a size cap, and a
// watch's streamed events survive a kill -9. Real agents, a real orchestrator on loopback.
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import type { WireEvent } from '../../src/agent/outbox.ts'
import { type AgentProcess, startAgent } from './helpers/agent-process.ts'
import { type Gate, gate } from './helpers/gate.ts'
import {
  call,
  ECHO_PERMISSIONS,
  echoSource,
  enqueue,
  type Platform,
  platform,
  setups,
  TICKER_SOURCE,
  until,
} from './helpers/platform.ts'

vi.setConfig({ testTimeout: 180_000 })

const ECHO = '@acme/stavily-plugin-echo'
const TICKER = '@acme/stavily-plugin-ticker'
const NUL_ACTION = '@acme/stavily-plugin-nul-action'
const MIXED = '@acme/stavily-plugin-mixed'
const NUL = String.fromCharCode(0)

// An action whose output and log carry a NUL, as http-check copies a response body.
const NUL_ACTION_SOURCE = `import { defineAction, Type } from '@stavily/sdk'
export default defineAction({
  input: Type.Object({ msg: Type.String() }),
  output: Type.Object({ text: Type.String() }),
  async run(ctx, input) {
    const nul = String.fromCharCode(0)
    ctx.log.info('body' + nul + 'seen', { body: input.msg + nul })
    return { text: input.msg + nul + 'end' }
  },
})
`

// Each check emits an event with a NUL in its data, one with an impossible date, and a plain one.
const MIXED_SOURCE = `import { defineSensor, Type } from '@stavily/sdk'
export default defineSensor({
  config: Type.Object({ label: Type.String() }),
  event: Type.Object({ label: Type.String(), text: Type.Optional(Type.String()) }),
  async check(ctx) {
    const label = ctx.config.label
    await ctx.emit({ type: 'nul', data: { label, text: 'x' + String.fromCharCode(0) + 'y' } })
    await ctx.emit({ type: 'bad-date', data: { label }, occurredAt: '2024-02-30T00:00:00Z' })
    await ctx.emit({ type: 'plain', data: { label } })
  },
})
`

function workflow(name: string, plugin: string, pool: string, label: string, watch: boolean): string {
  return `name: ${name}
trigger:
  sensor:
    plugin: "${plugin}"
    version: 1.0.0
    pool: ${pool}
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

/** An events entry as an agent of an earlier version may have left it in its outbox. */
function seedOutbox(dataDir: string, id: number, events: WireEvent[]): void {
  mkdirSync(join(dataDir, 'outbox'), { recursive: true })
  writeFileSync(
    join(dataDir, 'outbox', `${String(id).padStart(12, '0')}.json`),
    JSON.stringify({ type: 'events', events }),
  )
}

// The agent removes delivered files while this reads the folder: a file listed and then gone
// counts as empty, as it is by the time the next poll looks.
function outboxBytes(dataDir: string): number {
  const dir = join(dataDir, 'outbox')
  return readdirSync(dir).reduce(
    (n, f) => n + (statSync(join(dir, f), { throwIfNoEntry: false })?.size ?? 0),
    0,
  )
}

describe.each(setups())('agent reports on $name', (setup) => {
  let p: Platform
  const agents: AgentProcess[] = []
  const gates: Gate[] = []

  beforeAll(async () => {
    await setup.prepare()
    p = await platform(await setup.start())
    await p.publish(ECHO, '1.0.0', echoSource('1'), { permissions: ECHO_PERMISSIONS })
    await p.publish(TICKER, '1.0.0', TICKER_SOURCE, { kind: 'sensor' })
    await p.publish(NUL_ACTION, '1.0.0', NUL_ACTION_SOURCE)
    await p.publish(MIXED, '1.0.0', MIXED_SOURCE, { kind: 'sensor' })
    await p.enable('web', ECHO, '1.0.0')
    await p.enable('nul-web', NUL_ACTION, '1.0.0')
    for (const pool of ['mixed', 'capped', 'streamed']) {
      await p.enable(pool, TICKER, '1.0.0')
      await p.enable(pool, MIXED, '1.0.0')
    }
  }, 180_000)

  afterEach(async () => {
    for (const a of agents.splice(0)) await a.stop('SIGKILL')
    for (const g of gates.splice(0)) await g.close()
  })

  afterAll(async () => {
    await p?.close()
    if (p) rmSync(p.root, { recursive: true, force: true })
    await setup.cleanup()
  })

  function agent(
    dataDir: string,
    extra: string[] = [],
    env: Record<string, string> = {},
    url = p.r.url,
    fault?: string,
  ) {
    const a = startAgent(
      [
        '--orchestrator',
        url,
        '--registry',
        p.registryUrl,
        '--data-dir',
        dataDir,
        '--plugin-sync-ms',
        '1000',
        ...extra,
      ],
      env,
      fault ? { fault } : {},
    )
    agents.push(a)
    return a
  }

  const apply = async (document: string) => {
    const res = await call(p.r.operatorUrl, 'POST', '/api/v1/workflows', {
      token: p.r.admin,
      body: { document },
    })
    if (res.status >= 300) throw new Error(`apply: ${res.status} ${JSON.stringify(res.body)}`)
    return res.body.workflow.id as string
  }

  const sql = () => p.r.o.services.db.sql
  const eventsOf = async (label: string) =>
    (
      await sql().query<{ type: string; data: { text?: string; n?: number } }>(
        `SELECT type, data FROM events WHERE data ->> 'label' = $1`,
        [label],
      )
    ).rows

  it('a NUL in an output, a log and event data arrives as U+FFFD; an impossible date is refused before the outbox', async () => {
    const action = agent(join(p.root, 'nul-action'), [
      '--enrollment-token',
      await p.token('action', 'nul-web'),
    ])
    await action.waitForLog(
      (l) => l.msg === 'plugin loaded' && l.plugin === NUL_ACTION,
      60_000,
      'plugin loaded',
    )
    const first = await enqueue(p.r, { pool: 'nul-web', plugin: NUL_ACTION, input: { msg: 'one' } })
    const second = await enqueue(p.r, { pool: 'nul-web', plugin: NUL_ACTION, input: { msg: 'two' } })
    for (const [id, msg] of [
      [first.id, 'one'],
      [second.id, 'two'],
    ]) {
      const done = await until(
        async () => {
          const res = await call(p.r.operatorUrl, 'GET', `/api/v1/instructions/${id}`, { token: p.r.admin })
          return res.body.status === 'succeeded' ? res.body : undefined
        },
        60_000,
        `instruction ${msg} succeeded`,
      ).catch((err) => {
        throw new Error(`${err.message}; agent log: ${JSON.stringify(action.logs.slice(-10))}`)
      })
      expect(done.output).toEqual({ text: `${msg}\uFFFDend` })
    }
    expect(action.count((l) => /^outbox: (the orchestrator refused|report quarantined)/.test(l.msg))).toBe(0)

    await apply(workflow('mixed-events', MIXED, 'mixed', 'mixed', false))
    const sensor = agent(join(p.root, 'mixed'), ['--enrollment-token', await p.token('sensor', 'mixed')])
    await until(
      async () => {
        const rows = await eventsOf('mixed')
        return (
          rows.filter((r) => r.type === 'plain').length >= 2 &&
          rows.filter((r) => r.type === 'nul').length >= 2
        )
      },
      60_000,
      'events of two checks',
    ).catch((err) => {
      throw new Error(`${err.message}; agent log: ${JSON.stringify(sensor.logs.slice(-10))}`)
    })
    const rows = await eventsOf('mixed')
    expect(rows.find((r) => r.type === 'nul')?.data.text).toBe('x\uFFFDy')
    expect(rows.some((r) => r.type === 'bad-date')).toBe(false)
    const refused = sensor.logs.find((l) => l.msg.startsWith('sensor event refused before the outbox'))
    expect(refused).toMatchObject({ field: 'event.occurredAt', plugin: MIXED })
    expect(refused?.msg).toContain('date-time')
    expect(sensor.count((l) => /^outbox: (the orchestrator refused|report quarantined)/.test(l.msg))).toBe(0)
    expect(JSON.stringify(rows)).not.toContain(NUL)
  })

  it('delivers every other event of a batch the orchestrator refuses, and quarantines the refused one', async () => {
    const dataDir = join(p.root, 'seeded-refused')
    const events: WireEvent[] = Array.from({ length: 10 }, (_v, n) => ({
      source: TICKER,
      type: 'seeded',
      data: { label: 'seeded-refused', n },
      occurredAt: n === 6 ? '2024-02-30T00:00:00Z' : new Date().toISOString(),
    }))
    seedOutbox(dataDir, 1, events)
    const a = agent(dataDir, ['--enrollment-token', await p.token('sensor', 'seeded')])
    await until(
      async () => (await eventsOf('seeded-refused')).length === 9,
      60_000,
      'the nine good events',
    ).catch((err) => {
      throw new Error(`${err.message}; agent log: ${JSON.stringify(a.logs.slice(-10))}`)
    })
    const quarantined = await a.waitForLog((l) => l.msg.startsWith('outbox: report quarantined'))
    expect(quarantined).toMatchObject({ reason: 'refused', status: 400, quarantined: 1 })
    const dir = join(dataDir, 'outbox-quarantine')
    const files = readdirSync(dir)
    expect(files).toHaveLength(1)
    const kept = JSON.parse(readFileSync(join(dir, files[0]!), 'utf8'))
    expect(kept.entry.events).toEqual([events[6]])
    expect(kept.error).toContain('occurredAt')
    expect((await eventsOf('seeded-refused')).map((r) => r.data.n).sort()).toEqual([
      0, 1, 2, 3, 4, 5, 7, 8, 9,
    ])
    await until(async () => outboxBytes(dataDir) === 0, 10_000, 'an empty outbox')
  })

  it('splits events over the orchestrator body limit into requests it takes', async () => {
    const dataDir = join(p.root, 'seeded-large')
    // 300 events of 8 KB: about 2.4 MB in one entry, well over the 1 MiB body limit.
    const pad = 'p'.repeat(8_000)
    seedOutbox(
      dataDir,
      1,
      Array.from({ length: 300 }, (_v, n) => ({
        source: TICKER,
        type: 'large',
        data: { label: 'seeded-large', n, pad },
        occurredAt: new Date().toISOString(),
      })),
    )
    const a = agent(dataDir, ['--enrollment-token', await p.token('sensor', 'seeded')])
    await until(async () => (await eventsOf('seeded-large')).length === 300, 60_000, 'all 300 events').catch(
      (err) => {
        throw new Error(`${err.message}; agent log: ${JSON.stringify(a.logs.slice(-10))}`)
      },
    )
    // Sized to fit: no request was refused on the way, nothing quarantined.
    expect(a.count((l) => /^outbox: (the orchestrator refused|report quarantined)/.test(l.msg))).toBe(0)
    await until(async () => outboxBytes(dataDir) === 0, 10_000, 'an empty outbox')
  })

  it('records a refused result as failed (the original quarantined) instead of letting its lease run out', async () => {
    const g = await gate(p.r.url)
    gates.push(g)
    // A server stricter than this agent: it refuses results that carry this output.
    g.rule(
      'stricter',
      (m, path, body) => m === 'POST' && /\/result(\?|$)/.test(path) && body.includes('refuse-me'),
      400,
    )
    const dataDir = join(p.root, 'refused-result')
    const a = agent(dataDir, ['--enrollment-token', await p.token('action', 'web')], {}, g.url)
    await a.waitForLog((l) => l.msg === 'plugin loaded' && l.plugin === ECHO, 60_000, 'plugin loaded')
    const refused = await enqueue(p.r, { pool: 'web', plugin: ECHO, input: { msg: 'refuse-me' } })
    const done = await until(
      async () => {
        const res = await call(p.r.operatorUrl, 'GET', `/api/v1/instructions/${refused.id}`, {
          token: p.r.admin,
        })
        return res.body.status === 'failed' ? res.body : undefined
      },
      60_000,
      'the refused result recorded as failed',
    ).catch((err) => {
      throw new Error(`${err.message}; agent log: ${JSON.stringify(a.logs.slice(-10))}`)
    })
    expect(done.attempt).toBe(1)
    expect(done.error.code).toBe('STAVILY_ERR_AGENT_REPORT_REFUSED')
    const kept = readdirSync(join(dataDir, 'outbox-quarantine'))
    expect(kept).toHaveLength(1)
    const record = JSON.parse(readFileSync(join(dataDir, 'outbox-quarantine', kept[0]!), 'utf8'))
    expect(record).toMatchObject({ reason: 'refused', status: 400, entry: { instructionId: refused.id } })
    expect(record.entry.body.output.echo).toBe('refuse-me')
    // The queue moved on: the next result is reported as usual.
    const next = await enqueue(p.r, { pool: 'web', plugin: ECHO, input: { msg: 'fine' } })
    await a.waitForLog(
      (l) => l.msg === 'result reported' && l.instructionId === next.id,
      60_000,
      'next result',
    )
  })

  it('moves aside an event the server keeps failing on while it takes the others', async () => {
    const g = await gate(p.r.url)
    gates.push(g)
    // A server bug that fails (500) on one report, whatever the agent does.
    g.rule(
      'poison',
      (m, path, body) => m === 'POST' && path.endsWith('/events') && body.includes('"type":"poison"'),
      500,
    )
    const dataDir = join(p.root, 'seeded-poison')
    const event = (n: number, poison = false): WireEvent => ({
      source: TICKER,
      type: poison ? 'poison' : 'seeded',
      data: { label: 'seeded-poison', n },
      occurredAt: new Date().toISOString(),
    })
    seedOutbox(dataDir, 1, [event(0), event(1, true), event(2)])
    seedOutbox(dataDir, 2, [event(3), event(4)])
    const a = agent(dataDir, ['--enrollment-token', await p.token('sensor', 'seeded')], {}, g.url)
    const moved = await a.waitForLog(
      (l) => l.msg.startsWith('outbox: report quarantined'),
      60_000,
      'quarantined',
    )
    expect(moved).toMatchObject({ reason: 'server-errors', type: 'poison' })
    await until(async () => (await eventsOf('seeded-poison')).length === 4, 30_000, 'the four other events')
    expect((await eventsOf('seeded-poison')).map((r) => r.data.n).sort()).toEqual([0, 2, 3, 4])
    await until(async () => outboxBytes(dataDir) === 0, 10_000, 'an empty outbox')
    // It was tried entryRetryLimit (5) times as a batch, then alone once: no endless resending.
    const tries = g.answered.get('poison') ?? 0
    await a.waitForLog((l) => l.msg === 'events reported', 1_000).catch(() => undefined)
    expect(g.answered.get('poison')).toBe(tries)
    expect(tries).toBeLessThan(10)
  })

  it('caps the outbox while the orchestrator takes no events, then delivers what it kept', async () => {
    await apply(workflow('capped-ticks', TICKER, 'capped', 'capped', true))
    const g = await gate(p.r.url)
    gates.push(g)
    g.rule('events down', (m, path) => m === 'POST' && path.endsWith('/events'), 503)
    const dataDir = join(p.root, 'capped')
    const cap = 2_000
    const a = agent(
      dataDir,
      ['--enrollment-token', await p.token('sensor', 'capped'), '--outbox-max-bytes', String(cap)],
      {},
      g.url,
    )
    const full = await a.waitForLog((l) => l.msg.startsWith('outbox full'), 60_000, 'outbox full')
    expect(full.outboxBytes).toBeGreaterThanOrEqual(cap)
    // Past the cap nothing more is written: one event's worth of slack at most.
    expect(outboxBytes(dataDir)).toBeLessThan(cap + 1_000)
    await a.waitForLog((l) => l.msg === 'outbox: send failed; will retry' && Number(l.failures) >= 2)
    expect(outboxBytes(dataDir)).toBeLessThan(cap + 1_000)
    g.clear('events down')
    // What was kept arrives, and new events flow again once there is room.
    const kept = Math.floor(cap / 250)
    await until(async () => (await eventsOf('capped')).length >= kept, 60_000, 'the kept events')
    expect(g.answered.get('events down')).toBeGreaterThan(0)
  })

  it("keeps a watch's streamed events through a kill -9 inside its batch window", async () => {
    await apply(workflow('streamed-ticks', TICKER, 'streamed', 'streamed', true))
    const dataDir = join(p.root, 'streamed')
    const crashing = agent(
      dataDir,
      ['--enrollment-token', await p.token('sensor', 'streamed')],
      {},
      p.r.url,
      'after-streamed:3',
    )
    expect((await crashing.exited).signal).toBe('SIGKILL')
    // The third event came 200 ms after the second, inside a batch window: every event the
    // agent took is either delivered already or on disk.
    const delivered = (await eventsOf('streamed')).length
    const dir = join(dataDir, 'outbox')
    const onDisk = readdirSync(dir).flatMap((f) => {
      const text = readFileSync(join(dir, f), 'utf8')
      if (f.endsWith('.jsonl'))
        return text
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as WireEvent)
      return (JSON.parse(text).events ?? []) as WireEvent[]
    })
    const taken = onDisk.filter((e) => (e.data as { label?: string }).label === 'streamed')
    expect(delivered + taken.length).toBe(3)

    agent(dataDir)
    await until(
      async () => {
        const { rows } = await sql().query<{ n: number }>(
          'SELECT count(*)::int AS n FROM events WHERE source = $1 AND occurred_at = ANY($2::timestamptz[])',
          [TICKER, taken.map((e) => e.occurredAt)],
        )
        return rows[0]!.n === taken.length
      },
      60_000,
      'the three events taken before the kill',
    )
  })
})

// The agent as a real child process against a real orchestrator: enrollment, heartbeat, an
// instruction run by a plugin from the registry, the durable outbox across kill -9,
// graceful SIGTERM, and a revoked credential.
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'

// Each test starts agent processes (and their sandbox hosts) on a 2-core box shared with
// other suites: generous time, no timing assertions.
vi.setConfig({ testTimeout: 180_000 })

import { type AgentProcess, startAgent } from './helpers/agent-process.ts'
import {
  call,
  ECHO_PERMISSIONS,
  echoSource,
  enqueue,
  type Platform,
  platform,
  setups,
  until,
} from './helpers/platform.ts'

const ECHO = '@acme/stavily-plugin-echo'

describe.each(setups())('agent lifecycle on $name', (setup) => {
  let p: Platform
  const agents: AgentProcess[] = []

  beforeAll(async () => {
    await setup.prepare()
    p = await platform(await setup.start())
    await p.publish(ECHO, '1.0.0', echoSource('1'), { permissions: ECHO_PERMISSIONS })
    await p.enable('web', ECHO, '1.0.0')
  }, 120_000)

  // A test that fails half-way must not leave its agents running: they would lease the
  // next tests' instructions in the same pool.
  afterEach(async () => {
    for (const a of agents.splice(0)) await a.stop('SIGKILL')
  })

  afterAll(async () => {
    await p?.close()
    await setup.cleanup()
  })

  function agent(
    dataDir: string,
    extra: string[] = [],
    env: Record<string, string> = {},
    fault?: string,
  ): AgentProcess {
    const a = startAgent(
      [
        '--orchestrator',
        p.r.url,
        '--registry',
        p.registryUrl,
        '--data-dir',
        dataDir,
        '--name',
        'test-agent',
        '--allow-command',
        'sleep',
        ...extra,
      ],
      env,
      fault ? { fault } : {},
    )
    agents.push(a)
    return a
  }

  async function instruction(id: string) {
    const res = await call(p.r.operatorUrl, 'GET', `/api/v1/instructions/${id}`, { token: p.r.admin })
    return res.body
  }

  it('enrolls (credential stored 0600), heartbeats, runs an enqueued instruction and reports its result', async () => {
    const dataDir = join(p.root, 'a1')
    const a = agent(dataDir, ['--enrollment-token', await p.token('action', 'web'), '--kind', 'action'])
    await a.waitForLog((l) => l.msg === 'plugin loaded' && l.plugin === ECHO, 60_000, 'plugin loaded')
    const mode = statSync(join(dataDir, 'credential.json')).mode & 0o777
    expect(mode).toBe(0o600)
    const seen = await p.r.o.services.db.sql.query<{ last_seen_at: Date | null }>(
      "SELECT last_seen_at FROM agents WHERE name = 'test-agent'",
    )
    expect(seen.rows[0]?.last_seen_at).toBeTruthy()

    const { id } = await enqueue(p.r, { pool: 'web', plugin: ECHO, input: { msg: 'hello' } })
    const done = await until(
      async () => {
        const i = await instruction(id)
        return i.status === 'succeeded' ? i : undefined
      },
      30_000,
      'instruction succeeded',
    )
    expect(done.output).toMatchObject({ version: '1', echo: 'hello', key: id })
    // The report went through the outbox, which is empty again.
    await a.waitForLog((l) => l.msg === 'result reported' && l.instructionId === id)
    expect(readdirSync(join(dataDir, 'outbox')).filter((f) => f.endsWith('.json'))).toEqual([])

    // SIGTERM while a call is in flight: the call finishes, its result is sent, exit 0.
    const slow = await enqueue(p.r, { pool: 'web', plugin: ECHO, input: { msg: 'slow', sleepMs: 1500 } })
    await a.waitForLog((l) => l.msg === 'instruction started' && l.instructionId === slow.id)
    const exit = await a.stop('SIGTERM')
    expect(exit.code).toBe(0)
    const slowDone = await instruction(slow.id)
    expect(slowDone.status, JSON.stringify({ slowDone, logs: a.logs.slice(-12) })).toBe('succeeded')
    expect(a.count((l) => l.msg === 'result reported' && l.instructionId === slow.id)).toBe(1)
  })

  it('delivers a result written to the outbox before kill -9 exactly once after a restart', async () => {
    const dataDir = join(p.root, 'a2')
    const a = agent(dataDir, ['--enrollment-token', await p.token('action', 'web')], {}, 'after-outbox')
    await a.waitForLog((l) => l.msg === 'plugin loaded', 60_000, 'plugin loaded')
    const { id } = await enqueue(p.r, { pool: 'web', plugin: ECHO, input: { msg: 'durable' } })
    const exit = await a.exited
    expect(exit.signal).toBe('SIGKILL')
    // The plugin finished and its result is on disk; the orchestrator has not heard of it.
    const files = readdirSync(join(dataDir, 'outbox')).filter((f) => f.endsWith('.json'))
    expect(files).toHaveLength(1)
    expect((await instruction(id)).status).not.toBe('succeeded')

    const b = agent(dataDir)
    await b.waitForLog(
      (l) => l.msg === 'result reported' && l.instructionId === id,
      30_000,
      'replayed result',
    )
    const i = await instruction(id)
    expect(i.status).toBe('succeeded')
    expect(i.attempt).toBe(1)
    expect(i.output).toMatchObject({ echo: 'durable', key: id })
    expect(b.count((l) => l.msg === 'result reported' && l.instructionId === id)).toBe(1)
    expect(readdirSync(join(dataDir, 'outbox')).filter((f) => f.endsWith('.json'))).toEqual([])
    await b.stop()
  })

  it('follows a cancel, and hands back what it cannot finish at shutdown', async () => {
    const a = agent(join(p.root, 'a6'), [
      '--enrollment-token',
      await p.token('action', 'web'),
      '--shutdown-grace-ms',
      '300',
    ])
    await a.waitForLog((l) => l.msg === 'plugin loaded', 60_000, 'plugin loaded')
    // The cancel reaches the agent on its next heartbeat (15 s) or lease renewal (10 s): the
    // call must outlast both, or it may finish before the agent hears of the cancel.
    const c = await enqueue(p.r, { pool: 'web', plugin: ECHO, input: { msg: 'cancel me', sleepMs: 25_000 } })
    await a.waitForLog((l) => l.msg === 'instruction started' && l.instructionId === c.id)
    const res = await call(p.r.operatorUrl, 'POST', `/api/v1/instructions/${c.id}/cancel`, {
      token: p.r.admin,
    })
    expect(res.status).toBeLessThan(300)
    await a.waitForLog(
      (l) => l.msg === 'result reported' && l.instructionId === c.id,
      60_000,
      'cancel reported',
    )
    expect((await instruction(c.id)).status).toBe('cancelled')
    // The cancel ended the running command: the report came before its 25 s sleep was over.
    const started = a.logs.find((l) => l.msg === 'instruction started' && l.instructionId === c.id)
    const reported = a.logs.find((l) => l.msg === 'result reported' && l.instructionId === c.id)
    expect(Date.parse(String(reported?.time)) - Date.parse(String(started?.time))).toBeLessThan(25_000)

    const h = await enqueue(p.r, { pool: 'web', plugin: ECHO, input: { msg: 'too slow', sleepMs: 8000 } })
    await a.waitForLog((l) => l.msg === 'instruction started' && l.instructionId === h.id)
    expect((await a.stop('SIGTERM')).code).toBe(0)
    const handedBack = a.logs.find((l) => l.msg === 'result reported' && l.instructionId === h.id)
    expect(handedBack).toMatchObject({ status: 'failed', willRetry: true })
    const i = await instruction(h.id)
    expect(i.error?.code ?? 'STAVILY_ERR_AGENT_SHUTDOWN').toBe('STAVILY_ERR_AGENT_SHUTDOWN')
    expect(['queued', 'retrying', 'pending']).toContain(i.status)
  }, 90_000)

  it('stops at once on a second SIGINT; the interrupted call is left to its lease', async () => {
    const a = agent(join(p.root, 'a7'), ['--enrollment-token', await p.token('action', 'web')])
    await a.waitForLog((l) => l.msg === 'plugin loaded', 60_000, 'plugin loaded')
    const h = await enqueue(p.r, { pool: 'web', plugin: ECHO, input: { msg: 'interrupted', sleepMs: 8000 } })
    await a.waitForLog((l) => l.msg === 'instruction started' && l.instructionId === h.id)
    a.child.kill('SIGINT')
    await a.waitForLog((l) => l.msg.startsWith('signal received'))
    a.child.kill('SIGINT')
    const exit = await a.exited
    expect(exit.code).toBe(130)
    expect(a.count((l) => l.msg.startsWith('second SIGINT'))).toBe(1)
    expect(a.count((l) => l.msg === 'result reported' && l.instructionId === h.id)).toBe(0)
  })

  it('stops with a message telling the operator to enroll again when its credential is revoked', async () => {
    const dataDir = join(p.root, 'a3')
    const a = agent(dataDir, ['--enrollment-token', await p.token('action', 'web'), '--name', 'to-revoke'])
    await a.waitForLog((l) => l.msg === 'enrolled')
    const { rows } = await p.r.o.services.db.sql.query<{ id: string }>(
      "SELECT id FROM agents WHERE name = 'to-revoke'",
    )
    await p.r.o.services.agents.revoke(p.orgId, rows[0]!.id)
    const exit = await a.exited
    expect(exit.code).toBe(3)
    const fatal = a.logs.find((l) => l.level === 60)
    expect(fatal?.msg).toMatch(/Enroll again/)
    expect(fatal?.msg).toContain('--enrollment-token')
  })

  it('refuses bad configuration with the field named and exit code 2', async () => {
    const a = agent(join(p.root, 'a4'), ['--concurrency', 'lots'])
    expect((await a.exited).code).toBe(2)
    expect(a.stderr).toMatch(/--concurrency: expected a positive integer, got "lots"/)
    const b = agent(join(p.root, 'a5'))
    expect((await b.exited).code).toBe(2)
    expect(b.stderr + JSON.stringify(b.logs)).toMatch(/enrollmentToken: required on the first start/)
    expect(existsSync(join(p.root, 'a5', 'credential.json'))).toBe(false)
  })
})

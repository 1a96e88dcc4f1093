// Next work in a result's reply, with a real agent process and a real orchestrator: the
// agent runs what a result's reply carries at once instead of polling for it, and a reply
// lost on the way loses nothing (its work comes back when its lease ends and runs once).
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
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

vi.setConfig({ testTimeout: 180_000 })

const ECHO = '@acme/stavily-plugin-echo'

/**
 * A loopback proxy in front of the orchestrator that records every request and, for the
 * requests `lose` matches, forwards them and then hangs up instead of passing the answer on:
 * the orchestrator did the work, the agent never hears of it.
 */
async function proxy(target: string) {
  const to = new URL(target)
  const seen: { method: string; path: string }[] = []
  let lose: ((method: string, path: string) => boolean) | undefined
  const server: Server = createServer((req, res) => {
    const method = req.method ?? 'GET'
    const path = req.url ?? '/'
    seen.push({ method, path })
    const dropAnswer = lose?.(method, path) === true
    if (dropAnswer) lose = undefined
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const fwd = request(
        { host: to.hostname, port: to.port, method, path, headers: { ...req.headers, host: to.host } },
        (up) => {
          if (dropAnswer) {
            up.resume()
            up.on('end', () => res.socket?.destroy())
            return
          }
          res.writeHead(up.statusCode ?? 502, up.headers)
          up.pipe(res)
        },
      )
      fwd.on('error', () => {
        res.writeHead(502)
        res.end()
      })
      fwd.end(Buffer.concat(chunks))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    loseNext(match: (method: string, path: string) => boolean) {
      lose = match
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

describe.each(setups())('next work in result replies on $name', (setup) => {
  let p: Platform
  const agents: AgentProcess[] = []
  const proxies: { close(): Promise<void> }[] = []

  beforeAll(async () => {
    await setup.prepare()
    // A short lease, so work whose reply was lost comes back within the test.
    p = await platform(await setup.start({ tuning: { leaseTtlMs: 3_000 } }))
    await p.publish(ECHO, '1.0.0', echoSource('1'), { permissions: ECHO_PERMISSIONS })
    for (const pool of ['chain', 'lost', 'wide']) await p.enable(pool, ECHO, '1.0.0')
  }, 120_000)

  afterEach(async () => {
    for (const a of agents.splice(0)) await a.stop('SIGKILL')
    for (const x of proxies.splice(0)) await x.close()
  })

  afterAll(async () => {
    await p?.close()
    await setup.cleanup()
  })

  async function agentBehindProxy(name: string, pool: string, concurrency = 1) {
    const px = await proxy(p.r.url)
    proxies.push(px)
    const a = startAgent([
      '--orchestrator',
      px.url,
      '--registry',
      p.registryUrl,
      '--data-dir',
      join(p.root, name),
      '--name',
      name,
      '--allow-command',
      'sleep',
      '--concurrency',
      String(concurrency),
      '--enrollment-token',
      await p.token('action', pool),
      '--kind',
      'action',
    ])
    agents.push(a)
    await a.waitForLog((l) => l.msg === 'plugin loaded' && l.plugin === ECHO, 60_000, 'plugin loaded')
    return { a, px }
  }

  async function results(id: string) {
    return (
      await p.r.o.services.db.sql.query<{ attempt: number; status: string }>(
        'SELECT attempt, status FROM results WHERE instruction_id = $1 ORDER BY attempt',
        [id],
      )
    ).rows
  }

  async function finished(id: string) {
    return until(
      async () => {
        const i = (await call(p.r.operatorUrl, 'GET', `/api/v1/instructions/${id}`, { token: p.r.admin }))
          .body
        return i.status === 'succeeded' ? i : undefined
      },
      60_000,
      `instruction ${id} succeeded`,
    )
  }

  it('runs the work a result reply carries at once, instead of polling for it', async () => {
    const { a, px } = await agentBehindProxy('chain-agent', 'chain')
    // The first one is being run (one slot), so the others wait in the queue for its result.
    const first = await enqueue(p.r, { pool: 'chain', plugin: ECHO, input: { msg: 'm0', sleepMs: 500 } })
    await a.waitForLog((l) => l.msg === 'instruction started' && l.instructionId === first.id)
    const rest = []
    for (let n = 1; n <= 5; n++)
      rest.push(await enqueue(p.r, { pool: 'chain', plugin: ECHO, input: { msg: `m${n}` } }))
    const pollsBefore = px.seen.filter(
      (r) => r.method === 'GET' && r.path.startsWith('/agents/v1/instructions'),
    ).length
    for (const i of [first, ...rest]) {
      await finished(i.id)
      expect(await results(i.id)).toEqual([{ attempt: 1, status: 'succeeded' }])
      expect(a.count((l) => l.msg === 'instruction started' && l.instructionId === i.id)).toBe(1)
    }
    // Each result asked for one (its own slot), and the five queued ones came in the replies:
    // the agent polled at most once more (after the last, empty, reply).
    const asks = px.seen.filter((r) => r.method === 'POST' && /\/result\?next=1$/.test(r.path))
    expect(asks.length).toBeGreaterThanOrEqual(5)
    const polls = px.seen.filter(
      (r) => r.method === 'GET' && r.path.startsWith('/agents/v1/instructions'),
    ).length
    expect(polls - pollsBefore).toBeLessThanOrEqual(1)
  })

  it('with several slots, polls and result replies together never hand out more than the slots, and each instruction runs once', async () => {
    const { a, px } = await agentBehindProxy('wide-agent', 'wide', 4)
    const all = []
    for (let n = 0; n < 12; n++)
      all.push(await enqueue(p.r, { pool: 'wide', plugin: ECHO, input: { msg: `w${n}`, sleepMs: 200 } }))
    for (const i of all) {
      await finished(i.id)
      expect(await results(i.id)).toEqual([{ attempt: 1, status: 'succeeded' }])
      expect(a.count((l) => l.msg === 'instruction started' && l.instructionId === i.id)).toBe(1)
    }
    // Never more at once than its slots: a poll and a result's reply never share one.
    let running = 0
    let most = 0
    for (const l of a.logs) {
      if (l.msg === 'instruction started') most = Math.max(most, ++running)
      else if (l.msg === 'instruction succeeded' || l.msg === 'instruction failed') running--
    }
    expect(most).toBeLessThanOrEqual(4)
    expect(px.seen.some((r) => r.method === 'POST' && /\/result\?next=\d+$/.test(r.path))).toBe(true)
  })

  it('a lost result reply: its work comes back when its lease ends and runs once', async () => {
    const { a, px } = await agentBehindProxy('lost-agent', 'lost')
    const first = await enqueue(p.r, { pool: 'lost', plugin: ECHO, input: { msg: 'a', sleepMs: 500 } })
    await a.waitForLog((l) => l.msg === 'instruction started' && l.instructionId === first.id)
    const second = await enqueue(p.r, { pool: 'lost', plugin: ECHO, input: { msg: 'b' } })
    // The first result's reply (which carries `second`) never reaches the agent.
    px.loseNext((method, path) => method === 'POST' && path.includes(`/${first.id}/result?next=`))
    const done = await finished(second.id)
    // Handed out in the lost reply (attempt 1, never run), then again after its lease.
    expect(done.attempt).toBeGreaterThan(1)
    expect(await results(second.id)).toEqual([{ attempt: done.attempt, status: 'succeeded' }])
    expect(a.count((l) => l.msg === 'instruction started' && l.instructionId === second.id)).toBe(1)
    // The first result was sent again (asking for nothing) and recorded once.
    await finished(first.id)
    expect(await results(first.id)).toEqual([{ attempt: 1, status: 'succeeded' }])
    const sends = px.seen.filter((r) => r.method === 'POST' && r.path.includes(`/${first.id}/result`))
    expect(sends.length).toBeGreaterThanOrEqual(2)
    expect(sends[0]!.path).toMatch(/\?next=1$/)
    for (const s of sends.slice(1)) expect(s.path).not.toContain('next=')
  })
})

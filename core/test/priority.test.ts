import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, enqueue, enroll, type Running, setups } from './helpers/harness.ts'

// Priorities on instructions: a real agent poll takes the highest first within its pool,
// and the fairness rule (every priorityFairEvery-th claim oldest first) keeps low
// priorities moving under a stream of high ones. Sensor instructions are refused: no
// sensor agent ever polls for them.

describe.each(setups())('instruction priority ($name)', (setup) => {
  beforeAll(() => setup.prepare(), 60_000)
  afterAll(() => setup.cleanup())

  async function takeOneByOne(r: Running, credential: string, n: number): Promise<string[]> {
    const ids: string[] = []
    for (let i = 0; i < n; i++) {
      const got = await call(r.url, 'GET', '/agents/v1/instructions?max=1&waitMs=5000', { token: credential })
      expect(got.body.instructions).toHaveLength(1)
      ids.push(got.body.instructions[0].id)
    }
    return ids
  }

  it('an agent is handed the highest priority first', async () => {
    const r = await setup.start({ tuning: { priorityFairEvery: 1_000 } })
    const agent = await enroll(r, 'action', 'prio')
    const low = await enqueue(r, { pool: 'prio', priority: -5 })
    const normal = await enqueue(r, { pool: 'prio' })
    const high = await enqueue(r, { pool: 'prio', priority: 10 })
    expect(await takeOneByOne(r, agent.credential, 3)).toEqual([high.id, normal.id, low.id])
    const read = await call(r.operatorUrl, 'GET', `/api/v1/instructions/${high.id}`, { token: r.admin })
    expect(read.body.priority).toBe(10)
  })

  it('low priority is not starved: every third claim takes the oldest work', async () => {
    const r = await setup.start({ tuning: { priorityFairEvery: 3 } })
    const agent = await enroll(r, 'action', 'fair')
    const low = await enqueue(r, { pool: 'fair', priority: -100 })
    const highs = []
    for (let i = 0; i < 4; i++) highs.push((await enqueue(r, { pool: 'fair', priority: 100 })).id)
    const order = await takeOneByOne(r, agent.credential, 5)
    expect(order).toEqual([highs[0], highs[1], low.id, highs[2], highs[3]])
  })

  it('a priority out of range is a 400 naming the field', async () => {
    const r = await setup.start()
    for (const priority of [101, -101, 1.5]) {
      const res = await call(r.operatorUrl, 'POST', '/api/v1/instructions', {
        token: r.admin,
        body: { kind: 'action', operation: 'run', plugin: '@acme/x', pool: 'web', priority },
      })
      expect(res.status, String(priority)).toBe(400)
      expect(res.body.error.field).toBe('body.priority')
    }
  })

  it('sensor instructions are refused with a 400 that says why; nothing is enqueued', async () => {
    const r = await setup.start()
    const sensor = await call(r.operatorUrl, 'POST', '/api/v1/instructions', {
      token: r.admin,
      body: { kind: 'sensor', operation: 'check', plugin: '@acme/probe', pool: 'mon' },
    })
    expect(sensor.status).toBe(400)
    expect(sensor.body.error.field).toBe('body.kind')
    expect(sensor.body.error.message).toMatch(/sensor agents do not take instructions/)
    const watch = await call(r.operatorUrl, 'POST', '/api/v1/instructions', {
      token: r.admin,
      body: { kind: 'action', operation: 'watch', plugin: '@acme/probe', pool: 'web' },
    })
    expect(watch.status).toBe(400)
    expect(watch.body.error.field).toBe('body.operation')
    const { rows } = await r.o.services.db.sql.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM instructions',
    )
    expect(rows[0]!.n).toBe(0)
  })
})

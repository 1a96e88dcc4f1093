import { ErrorCodes, type JsonValue } from '@stavily/sdk'
import { type SqlCall, testSensor } from '@stavily/sdk/testing'
import { describe, expect, it } from 'vitest'
import pkg from '../package.json' with { type: 'json' }
import plugin from './index.ts'

const grants = { sql: ['main'] }
type Event = { type: string; data: Record<string, unknown>; dedupeKey?: string }

describe('postgres, mode threshold', () => {
  const config = {
    connection: 'main',
    mode: 'threshold' as const,
    name: 'failed-jobs',
    query: 'SELECT queue, count(*) AS value FROM jobs WHERE state = $1 GROUP BY queue',
    params: ['failed'],
    operator: '>' as const,
    threshold: 10,
  }
  const answer = (rows: Record<string, JsonValue>[]) => ({
    main: { rows, fields: rows[0] ? Object.keys(rows[0]) : ['queue', 'value'] },
  })

  async function checks(results: Record<string, JsonValue>[][], extra: Record<string, unknown> = {}) {
    let state: Record<string, JsonValue> = {}
    const perCheck: Event[][] = []
    const calls: SqlCall[] = []
    for (const rows of results) {
      const r = await testSensor(plugin, {
        manifest: pkg,
        grants,
        config: { ...config, ...extra } as never,
        state,
        sql: answer(rows),
      })
      perCheck.push(r.events as Event[])
      calls.push(...r.calls.sql)
      state = r.state
    }
    return { perCheck, calls }
  }

  it('emits postgres.threshold once per series that crosses, and postgres.resolved when it is back', async () => {
    const { perCheck, calls } = await checks([
      [{ queue: 'mail', value: '3' }],
      [
        { queue: 'mail', value: '12' },
        { queue: 'billing', value: '40' },
      ],
      [
        { queue: 'mail', value: '15' },
        { queue: 'billing', value: '41' },
      ],
      [{ queue: 'mail', value: '2' }], // billing left the result
    ])
    expect(calls[0]).toMatchObject({
      connection: 'main',
      text: config.query,
      params: ['failed'],
      readOnly: true,
    })
    expect(perCheck.map((events) => events.map((e) => [e.type, e.data.key]))).toEqual([
      [],
      [
        ['postgres.threshold', { queue: 'mail' }],
        ['postgres.threshold', { queue: 'billing' }],
      ],
      [],
      [
        ['postgres.resolved', { queue: 'mail' }],
        ['postgres.resolved', { queue: 'billing' }],
      ],
    ])
    expect(perCheck[1]![0]!.data).toMatchObject({
      name: 'failed-jobs',
      connection: 'main',
      value: 12,
      operator: '>',
      threshold: 10,
      row: { queue: 'mail', value: '12' },
    })
    expect(perCheck[3]!.map((e) => e.data.value)).toEqual([2, null])
    expect(perCheck[1]![0]!.dedupeKey).toMatch(/^postgres:[0-9a-f]{16}:[0-9a-f]{16}:over:\d{4}-/)
  })

  it('reads the value from valueColumn, and stays quiet on resolution with notifyResolved: false', async () => {
    const { perCheck } = await checks([[{ lag_seconds: 90 }], [{ lag_seconds: 1 }]], {
      query: 'SELECT extract(epoch FROM now() - last_seen) AS lag_seconds FROM replication',
      params: undefined,
      valueColumn: 'lag_seconds',
      notifyResolved: false,
    })
    expect(perCheck.map((events) => events.map((e) => e.type))).toEqual([['postgres.threshold'], []])
    expect(perCheck[0]![0]!.data).toMatchObject({ key: {}, value: 90 })
  })

  it('says which column is missing when the rows have no value column', async () => {
    await expect(checks([[{ queue: 'mail', n: 3 }]])).rejects.toMatchObject({
      code: 'POSTGRES_NO_VALUE_COLUMN',
      message: expect.stringContaining(
        'config.query: the rows have no column "value" (they have "queue", "n")',
      ),
    })
  })
})

describe('postgres, mode newRows', () => {
  const config = {
    connection: 'main',
    mode: 'newRows' as const,
    name: 'orders',
    query: 'SELECT id, total FROM orders WHERE region = $1',
    params: ['eu'],
    cursorColumn: 'id',
  }
  /** A fake table: the query with a cursor answers the rows whose id is greater. */
  const table = (ids: number[]) => ({
    main: (call: SqlCall) => {
      if (call.text.startsWith('SELECT max(')) {
        return { rows: [{ cursor: ids.length ? String(Math.max(...ids)) : null }], fields: ['cursor'] }
      }
      const after = call.params.length > 1 ? Number(call.params[1]) : Number.NEGATIVE_INFINITY
      const rows = ids.filter((id) => id > after).map((id) => ({ id: String(id), total: id * 10 }))
      return { rows: rows.slice(0, 2), fields: ['id', 'total'] }
    },
  })

  async function checks(tables: number[][], extra: Record<string, unknown> = {}) {
    let state: Record<string, JsonValue> = {}
    const perCheck: Event[][] = []
    const calls: SqlCall[] = []
    for (const ids of tables) {
      const r = await testSensor(plugin, {
        manifest: pkg,
        grants,
        config: { ...config, maxRows: 2, ...extra } as never,
        state,
        sql: table(ids),
      })
      perCheck.push(r.events as Event[])
      calls.push(...r.calls.sql)
      state = r.state
    }
    return { perCheck, calls }
  }

  it('starts after the rows there are, then reports each new row once, maxRows per check', async () => {
    const { perCheck, calls } = await checks([
      [1, 2],
      [1, 2, 3, 4, 5],
      [1, 2, 3, 4, 5],
      [1, 2, 3, 4, 5],
    ])
    expect(perCheck.map((events) => events.map((e) => e.data.cursor))).toEqual([[], ['3', '4'], ['5'], []])
    expect(perCheck[1]![0]).toMatchObject({
      type: 'postgres.row',
      data: { name: 'orders', connection: 'main', row: { id: '3', total: 30 } },
      dedupeKey: expect.stringMatching(/^postgres:[0-9a-f]{16}:row:3$/),
    })
    expect(calls[0]?.text).toBe(
      `SELECT max(stavily_rows."id") AS cursor FROM (${config.query}) AS stavily_rows`,
    )
    expect(calls[1]).toMatchObject({
      text: `SELECT * FROM (${config.query}) AS stavily_rows WHERE stavily_rows."id" > $2 ORDER BY stavily_rows."id" LIMIT 2`,
      params: ['eu', '2'],
      readOnly: true,
    })
  })

  it('starts after initialCursor when given, and on an empty table reports every row that comes', async () => {
    const given = await checks([[1, 2, 3]], { initialCursor: 1 })
    expect(given.perCheck[0]!.map((e) => e.data.cursor)).toEqual(['2', '3'])
    const empty = await checks([[], [7]])
    expect(empty.perCheck.map((events) => events.map((e) => e.data.cursor))).toEqual([[], ['7']])
  })
})

describe('postgres, mode listen', () => {
  it('emits postgres.notification for each NOTIFY on the channel, the payload parsed when JSON', async () => {
    const r = await testSensor(plugin, {
      manifest: pkg,
      grants,
      operation: 'watch',
      maxEvents: 2,
      config: { connection: 'main', mode: 'listen', channel: 'orders' },
      sqlNotifications: {
        main: [
          { channel: 'orders', payload: '{"id":7}', processId: 42 },
          { channel: 'other', payload: 'not for us' },
          { channel: 'orders', payload: 'plain text' },
        ],
      },
    })
    expect(r.events).toEqual([
      {
        type: 'postgres.notification',
        data: {
          name: 'LISTEN orders',
          connection: 'main',
          channel: 'orders',
          payload: '{"id":7}',
          json: { id: 7 },
          processId: 42,
        },
      },
      expect.objectContaining({ data: expect.objectContaining({ payload: 'plain text', json: null }) }),
    ])
  })

  it('refuses listen on a schedule and a query mode as a watch, saying what to change', async () => {
    await expect(
      testSensor(plugin, {
        manifest: pkg,
        grants,
        config: { connection: 'main', mode: 'listen', channel: 'x' },
      }),
    ).rejects.toMatchObject({
      code: ErrorCodes.INVALID_CONFIG,
      message: expect.stringContaining('watch: true'),
    })
    await expect(
      testSensor(plugin, {
        manifest: pkg,
        grants,
        operation: 'watch',
        config: {
          connection: 'main',
          mode: 'threshold',
          query: 'SELECT 1 AS value',
          operator: '>',
          threshold: 0,
        },
      }),
    ).rejects.toMatchObject({
      code: ErrorCodes.INVALID_CONFIG,
      message: expect.stringContaining('config.mode'),
    })
  })
})

describe('postgres config and permissions', () => {
  it('fails the check for a connection the operator did not grant', async () => {
    await expect(
      testSensor(plugin, {
        manifest: pkg,
        grants: { sql: ['reporting'] },
        config: {
          connection: 'main',
          mode: 'threshold',
          query: 'SELECT 1 AS value',
          operator: '>',
          threshold: 0,
        },
        sql: { main: { rows: [] } },
      }),
    ).rejects.toMatchObject({ code: ErrorCodes.PERMISSION_DENIED })
  })

  it('rejects bad config, naming the field', async () => {
    const base = {
      connection: 'main',
      mode: 'threshold',
      query: 'SELECT 1 AS value',
      operator: '>',
      threshold: 0,
    }
    const cases: [Record<string, unknown>, string][] = [
      [{ ...base, connection: 'Main DB' }, 'connection'],
      [{ ...base, mode: 'poll' }, 'mode'],
      [{ ...base, operator: undefined }, 'config.operator: is required'],
      [{ ...base, query: 'SELECT $2 AS value', params: [1] }, 'config.query: uses $2'],
      [{ ...base, query: ' ; ' }, 'config.query'],
      [{ ...base, cursorColumn: 'id' }, 'config.cursorColumn: is not used with mode "threshold"'],
      [
        { connection: 'main', mode: 'newRows', query: 'SELECT id FROM t' },
        'config.cursorColumn: is required',
      ],
      [
        { ...base, mode: 'newRows', cursorColumn: 'id"; drop', operator: undefined, threshold: undefined },
        'cursorColumn',
      ],
      [{ connection: 'main', mode: 'listen' }, 'config.channel: is required'],
      [{ ...base, querry: 'x' }, 'querry'],
    ]
    for (const [bad, field] of cases) {
      await expect(
        testSensor(plugin, { manifest: pkg, grants, config: bad as never, sql: { main: { rows: [] } } }),
        field,
      ).rejects.toMatchObject({ code: ErrorCodes.INVALID_CONFIG, message: expect.stringContaining(field) })
    }
  })
})

describe('postgres, the recorded event docs/workflows.md dry-runs against', () => {
  it('is what the sensor emits for that row', async () => {
    const recorded = (await import('../test/recorded-event.json', { with: { type: 'json' } })).default
    const { events } = await testSensor(plugin, {
      manifest: pkg,
      grants: { sql: ['shop'] },
      config: recorded.config as never,
      sql: { shop: recorded.answer },
    })
    expect(events).toEqual([{ ...recorded.event, occurredAt: expect.any(String) }])
  })
})

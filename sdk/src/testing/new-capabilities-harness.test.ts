import { describe, expect, it } from 'vitest'
import { ErrorCodes, isPluginError } from '../index.ts'
import { createTestContext } from './index.ts'

async function rejection(promise: Promise<unknown>) {
  try {
    await promise
  } catch (error) {
    if (!isPluginError(error)) throw error
    return error
  }
  throw new Error('expected a PluginError')
}

describe('harness: ctx.sql', () => {
  it('answers granted connections from the fake, read-only unless sqlWritable, and records the query', async () => {
    const { ctx, recorded } = createTestContext({
      kind: 'action',
      permissions: { sql: ['$granted'] },
      grants: { sql: ['main'] },
      sql: { main: (q) => ({ rows: [{ n: q.params[0] as number }] }) },
      sqlWritable: ['main'],
    })
    const r = await ctx.sql.query('main', 'SELECT $1::int AS n', [7])
    expect(r).toEqual({ rows: [{ n: 7 }], rowCount: 1, fields: ['n'], command: 'SELECT' })
    expect(recorded().calls.sql).toEqual([
      { connection: 'main', text: 'SELECT $1::int AS n', params: [7], readOnly: false },
    ])
  })

  it('denies ungranted connections and bad arguments as the agent does', async () => {
    const { ctx } = createTestContext({
      kind: 'sensor',
      permissions: { sql: ['$granted'] },
      grants: { sql: ['main'] },
      sql: { main: { rows: [{ a: 1 }, { a: 2 }] } },
    })
    expect((await rejection(ctx.sql.query('other', 'SELECT 1'))).data).toEqual({
      permission: 'sql',
      value: 'other',
      reason: 'ungranted',
    })
    expect((await rejection(ctx.sql.query('main', 'SELECT $1', [{ x: 1 }] as never))).message).toContain(
      'sql.query params[0]: expected a string, number, boolean or null',
    )
    expect((await rejection(ctx.sql.query('main', ''))).code).toBe(ErrorCodes.INVALID_ARGUMENT)
    expect((await rejection(ctx.sql.query('main', 'SELECT a', [], { maxRows: 1 }))).message).toContain(
      'more than 1 rows',
    )
    const sensorQuery = await ctx.sql.query('main', 'SELECT a')
    expect(sensorQuery.rowCount).toBe(2)
  })

  it('hands listen notifications of the channel to a sensor, and refuses listen to an action', async () => {
    const { ctx, recorded } = createTestContext({
      kind: 'sensor',
      permissions: { sql: ['main'] },
      sqlNotifications: {
        main: [
          { channel: 'jobs', payload: '1' },
          { channel: 'other', payload: 'x' },
        ],
      },
    })
    const listener = await ctx.sql.listen('main', 'jobs')
    expect(await listener.next()).toEqual({
      items: [{ channel: 'jobs', payload: '1', processId: 0 }],
      dropped: 0,
    })
    expect(await listener.next()).toEqual({ items: [], dropped: 0 })
    expect((await rejection(ctx.sql.listen('main', 'jobs; DROP TABLE x'))).message).toContain(
      'sql.listen channel',
    )
    expect(recorded().calls.listens).toEqual([{ connection: 'main', channel: 'jobs' }])
    const action = createTestContext({ kind: 'action', permissions: { sql: ['main'] } })
    const listen = (action.ctx.sql as unknown as { listen?: unknown }).listen
    expect(listen).toBeUndefined()
  })
})

describe('harness: ctx.fs.watch', () => {
  it('hands changes under the watched path to a sensor, recursively only when asked', async () => {
    const { ctx } = createTestContext({
      kind: 'sensor',
      permissions: { fs: { read: ['$granted'] } },
      grants: { fs: { read: ['/etc/app'] } },
      fsChanges: [
        { type: 'modified', path: '/etc/app/a.yaml' },
        { type: 'created', path: '/etc/app/conf.d/b.yaml' },
        { type: 'deleted', path: '/etc/other' },
      ],
    })
    expect((await (await ctx.fs.watch('/etc/app')).next()).items).toEqual([
      { type: 'modified', path: '/etc/app/a.yaml' },
    ])
    expect((await (await ctx.fs.watch('/etc/app', { recursive: true })).next()).items).toHaveLength(2)
    expect((await rejection(ctx.fs.watch('/etc'))).data).toMatchObject({
      permission: 'fs.read',
      reason: 'ungranted',
    })
  })
})

describe('harness: ctx.smtp', () => {
  it('sends through a granted relay, checks the message, and records it', async () => {
    const { ctx, recorded } = createTestContext({
      kind: 'output',
      permissions: { smtp: ['$granted'] },
      grants: { smtp: ['mail'] },
      smtp: { mail: {} },
    })
    const sent = await ctx.smtp.send('mail', { to: 'ops@example.com', subject: 'run failed', text: 'r1' })
    expect(sent.accepted).toEqual(['ops@example.com'])
    expect(recorded().calls.smtp).toEqual([
      { relay: 'mail', message: { to: 'ops@example.com', subject: 'run failed', text: 'r1' } },
    ])
    expect(
      (await rejection(ctx.smtp.send('other', { to: 'a@b.c', subject: 's', text: 't' }))).data,
    ).toMatchObject({
      permission: 'smtp',
      reason: 'ungranted',
    })
    expect(
      (
        await rejection(
          ctx.smtp.send('mail', { to: 'a@b.c', subject: 'x\r\nBcc: evil@example.com', text: 't' }),
        )
      ).message,
    ).toContain('smtp.send message.subject: expected one line')
  })
})

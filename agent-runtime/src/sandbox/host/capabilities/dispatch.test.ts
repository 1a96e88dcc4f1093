import { randomInt } from 'node:crypto'
import { getEventListeners } from 'node:events'
import { mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { tempDir } from '../../../../../test/temp-dir.ts'
import { type HostPluginOptions, hostCall, hostPlugin } from '../../../../test/helpers/host-plugin.ts'
import { waitForProcess } from '../../../../test/helpers/processes.ts'
import { SandboxErrorCodes as C } from '../../../errors.ts'
import type { InvokeRequest, PluginEvent, PluginKind, StateOp } from '../../protocol.ts'
import type { CallState } from '../call-state.ts'
import type { PluginInstance } from '../plugin-instance.ts'
import { createDispatch } from './dispatch.ts'
import { COUNTED_OPERATIONS } from './operation-limits.ts'

// The capability dispatch, called as the isolate's host calls call it: which kinds may use
// which capability, secrets, state, sleep, and that each capability reaches its host side
// with the plugin's grants, limits, deadline and the call's signal.

const KINDS: PluginKind[] = ['action', 'output', 'sensor']
const DAY_MS = 24 * 3600_000

/** The agent side of state and streamed events, as the dispatch sees it. */
function agent() {
  const stateCalls: unknown[][] = []
  const events: [number, PluginEvent][] = []
  let answer: (op: StateOp) => Promise<unknown> = (op) => Promise.resolve(`answer to ${op}`)
  const dispatch = createDispatch({
    state: (...args) => {
      stateCalls.push(args)
      return answer(args[1])
    },
    event: (callId, event) => {
      events.push([callId, event])
    },
  })
  return {
    dispatch,
    stateCalls,
    events,
    answerWith(f: (op: StateOp) => Promise<unknown>) {
      answer = f
    },
  }
}

type Outcome = { value: unknown } | { code: string; message: string; data: unknown }

/** What a host call gives the plugin: a value (now or later) or an error (thrown or rejected). */
async function outcome(f: () => unknown): Promise<Outcome> {
  try {
    return { value: await f() }
  } catch (err) {
    const e = err as { code: string; message: string; data?: unknown }
    return { code: e.code, message: e.message, data: e.data }
  }
}

/** Throws synchronously, as a refusal the isolate gets at once. */
function thrown(f: () => unknown): Outcome {
  try {
    const value = f()
    if (value instanceof Promise) {
      value.catch(() => {})
      return { value: 'a promise' }
    }
    return { value }
  } catch (err) {
    const e = err as { code: string; message: string; data?: unknown }
    return { code: e.code, message: e.message, data: e.data }
  }
}

const plugin = (kind: PluginKind, o: Omit<HostPluginOptions, 'kind'> = {}) => hostPlugin({ kind, ...o })
const callOf = (p: PluginInstance, req: Partial<InvokeRequest> = {}) =>
  hostCall({
    operation: p.info.kind === 'sensor' ? 'check' : p.info.kind === 'output' ? 'send' : 'run',
    ...req,
  })

describe('capabilities by kind', () => {
  // Each with arguments that fail after the kind check, so an allowed kind shows as that failure.
  const cases: [string, PluginKind[], unknown[], RegExp][] = [
    ['exec', ['action', 'sensor'], [7], /^exec command: expected a non-empty string/],
    ['fs.writeText', ['action', 'output'], [7, 'x'], /^fs\.writeText path: expected a non-empty string/],
    ['smtp.send', ['action', 'output'], [7, {}], /^smtp\.send relay: expected a non-empty string/],
    ['sql.listen', ['sensor'], [7, 'ch'], /^sql\.listen connection: expected a non-empty string/],
    ['fs.watch', ['sensor'], ['relative'], /^fs\.watch path: expected an absolute path/],
    ['emit', ['sensor'], [7], /^emit event: expected an object/],
    ['sleep', ['sensor'], [-1], /^sleep ms: expected a number/],
  ]

  for (const [cap, allowed, args, afterKindCheck] of cases) {
    for (const kind of KINDS) {
      if (allowed.includes(kind)) {
        it(`${cap} is available to ${kind} plugins`, async () => {
          const p = plugin(kind)
          expect(await outcome(() => agent().dispatch.handle(p, callOf(p), cap, args))).toMatchObject({
            code: C.CAPABILITY_FAILED,
            message: expect.stringMatching(afterKindCheck),
          })
        })
      } else {
        it(`${cap} is refused to ${kind} plugins, at once, without holding an operation`, () => {
          const p = plugin(kind)
          const call = callOf(p)
          expect(thrown(() => agent().dispatch.handle(p, call, cap, args))).toEqual({
            code: C.PERMISSION_DENIED,
            message: `permission denied: ${cap} ${JSON.stringify(kind)}: ${cap} is not available to ${kind} plugins`,
            data: { permission: cap, value: kind, reason: 'kind' },
          })
          expect([call.operationsInFlight, p.operationsInFlight]).toEqual([0, 0])
        })
      }
    }
  }

  it('isStopping is for sensors only, and tells whether the call is being stopped', () => {
    const sensor = plugin('sensor')
    const call = callOf(sensor, { operation: 'watch' })
    const { dispatch } = agent()
    expect(dispatch.handle(sensor, call, 'isStopping', [])).toBe(false)
    call.stopping = true
    expect(dispatch.handle(sensor, call, 'isStopping', [])).toBe(true)
    for (const kind of ['action', 'output'] as const) {
      const p = plugin(kind)
      expect(thrown(() => dispatch.handle(p, callOf(p), 'isStopping', []))).toEqual({
        code: C.PERMISSION_DENIED,
        message: `permission denied: isStopping "${kind}": isStopping is not available to ${kind} plugins`,
        data: { permission: 'isStopping', value: kind, reason: 'kind' },
      })
    }
  })

  it('refuses a capability it does not know', () => {
    const p = plugin('action')
    expect(thrown(() => agent().dispatch.handle(p, callOf(p), 'process.exit', []))).toEqual({
      code: C.CAPABILITY_FAILED,
      message: 'unknown capability "process.exit"',
      data: undefined,
    })
  })
})

describe('secrets.get', () => {
  const withSecrets = () =>
    plugin('action', {
      permissions: {
        secrets: ['API_TOKEN', 'DECLARED_ONLY', 'PG_PASSWORD', 'SMTP_PASSWORD', 'UNSUPPLIED'],
        sql: ['main'],
        smtp: ['mail'],
      },
      grants: {
        secrets: ['API_TOKEN', 'PG_PASSWORD', 'SMTP_PASSWORD', 'UNSUPPLIED'],
        sql: ['main'],
        smtp: ['mail'],
        connections: {
          sql: { main: { url: 'postgres://reader@db.internal:5432/app', passwordSecret: 'PG_PASSWORD' } },
          smtp: { mail: { url: 'smtp://stavily@mail.internal:587', passwordSecret: 'SMTP_PASSWORD' } },
        },
      },
    })
  const secrets = {
    API_TOKEN: 't0k3n',
    DECLARED_ONLY: 'x',
    PG_PASSWORD: 'pg',
    SMTP_PASSWORD: 'mail',
    NOPE: 'n',
  }

  it('gives a declared and granted secret the caller supplied, at once', () => {
    const p = withSecrets()
    expect(agent().dispatch.handle(p, callOf(p, { secrets }), 'secrets.get', ['API_TOKEN'])).toBe('t0k3n')
  })

  it('refuses a secret not declared, or not granted, even when supplied', () => {
    const p = withSecrets()
    const { dispatch } = agent()
    expect(thrown(() => dispatch.handle(p, callOf(p, { secrets }), 'secrets.get', ['NOPE']))).toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'secrets', value: 'NOPE', reason: 'undeclared' },
    })
    expect(
      thrown(() => dispatch.handle(p, callOf(p, { secrets }), 'secrets.get', ['DECLARED_ONLY'])),
    ).toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'secrets', value: 'DECLARED_ONLY', reason: 'ungranted' },
    })
  })

  it("never gives plugin code a connection's or relay's password, though declared, granted and supplied", () => {
    const p = withSecrets()
    const { dispatch } = agent()
    expect(thrown(() => dispatch.handle(p, callOf(p, { secrets }), 'secrets.get', ['PG_PASSWORD']))).toEqual({
      code: C.PERMISSION_DENIED,
      message:
        'permission denied: secrets "PG_PASSWORD": it is the password of the sql connection "main" the agent grants; the host uses it to connect, plugin code never reads it',
      data: { permission: 'secrets', value: 'PG_PASSWORD', reason: 'credential' },
    })
    expect(
      thrown(() => dispatch.handle(p, callOf(p, { secrets }), 'secrets.get', ['SMTP_PASSWORD'])),
    ).toMatchObject({
      message: expect.stringContaining('it is the password of the smtp relay "mail" the agent grants'),
      data: { permission: 'secrets', value: 'SMTP_PASSWORD', reason: 'credential' },
    })
  })

  it('fails a granted secret the caller did not supply with SECRET_MISSING naming it', () => {
    const p = withSecrets()
    expect(
      thrown(() => agent().dispatch.handle(p, callOf(p, { secrets }), 'secrets.get', ['UNSUPPLIED'])),
    ).toEqual({
      code: C.SECRET_MISSING,
      message: 'secret UNSUPPLIED is granted but was not supplied for this call',
      data: { name: 'UNSUPPLIED' },
    })
  })

  it('takes a name of up to 256 characters to the permission check, and refuses longer', () => {
    const p = withSecrets()
    const { dispatch } = agent()
    expect(thrown(() => dispatch.handle(p, callOf(p), 'secrets.get', ['A'.repeat(256)]))).toMatchObject({
      code: C.PERMISSION_DENIED,
    })
    expect(thrown(() => dispatch.handle(p, callOf(p), 'secrets.get', ['A'.repeat(257)]))).toEqual({
      code: C.CAPABILITY_FAILED,
      message:
        'secrets.get name: expected a non-empty string of at most 256 characters, got a string of 257 characters',
      data: undefined,
    })
  })
})

describe('state', () => {
  const p = () => plugin('sensor', { name: '@acme/stateful', limits: { stateValueBytes: 10 } })

  it("runs get and delete in the agent process with the plugin's name and the key, and answers with its value", async () => {
    const a = agent()
    const sensor = p()
    expect(await a.dispatch.handle(sensor, callOf(sensor), 'state.get', ['cursor'])).toBe('answer to get')
    expect(await a.dispatch.handle(sensor, callOf(sensor), 'state.delete', ['cursor'])).toBe(
      'answer to delete',
    )
    expect(a.stateCalls).toEqual([
      ['@acme/stateful', 'get', 'cursor'],
      ['@acme/stateful', 'delete', 'cursor'],
    ])
  })

  it('sets a value, and null for no value', async () => {
    const a = agent()
    const sensor = p()
    expect(await a.dispatch.handle(sensor, callOf(sensor), 'state.set', ['cursor', { at: 1 }])).toBe(
      'answer to set',
    )
    await a.dispatch.handle(sensor, callOf(sensor), 'state.set', ['gone'])
    expect(a.stateCalls).toEqual([
      ['@acme/stateful', 'set', 'cursor', { at: 1 }],
      ['@acme/stateful', 'set', 'gone', null],
    ])
  })

  it('sets a value of exactly stateValueBytes as JSON, and refuses one byte more', async () => {
    const a = agent()
    const sensor = p()
    const call = callOf(sensor)
    // '"abcdefgh"' and '"éééé"' are 10 bytes; the second is 6 characters.
    await a.dispatch.handle(sensor, call, 'state.set', ['k', 'abcdefgh'])
    await a.dispatch.handle(sensor, call, 'state.set', ['k', 'éééé'])
    expect(thrown(() => a.dispatch.handle(sensor, call, 'state.set', ['k', 'abcdefghi']))).toEqual({
      code: C.STATE_TOO_LARGE,
      message: 'state.set k: 11 bytes as JSON; the limit per value is 10',
      data: undefined,
    })
    expect(thrown(() => a.dispatch.handle(sensor, call, 'state.set', ['k', 'ééééa']))).toMatchObject({
      message: 'state.set k: 11 bytes as JSON; the limit per value is 10',
    })
    expect(a.stateCalls).toHaveLength(2)
    expect(call.operationsInFlight).toBe(0)
  })

  it('counts no value as null against the limit', () => {
    const sensor = plugin('sensor', { limits: { stateValueBytes: 3 } })
    expect(thrown(() => agent().dispatch.handle(sensor, callOf(sensor), 'state.set', ['k']))).toMatchObject({
      code: C.STATE_TOO_LARGE,
      message: 'state.set k: 4 bytes as JSON; the limit per value is 3',
    })
  })

  for (const op of ['state.get', 'state.set', 'state.delete']) {
    it(`${op} takes keys of 1 to 256 characters`, async () => {
      const a = agent()
      const sensor = p()
      const call = callOf(sensor)
      await a.dispatch.handle(sensor, call, op, ['k'.repeat(256), 1])
      expect(a.stateCalls[0]![2]).toBe('k'.repeat(256))
      const refused: [unknown, string][] = [
        ['', 'got ""'],
        ['k'.repeat(257), 'got a string of 257 characters'],
        [42, 'got number'],
        [undefined, 'got undefined'],
      ]
      for (const [key, got] of refused) {
        expect(thrown(() => a.dispatch.handle(sensor, call, op, [key, 1]))).toEqual({
          code: C.CAPABILITY_FAILED,
          message: `${op} key: expected a non-empty string of at most 256 characters, ${got}`,
          data: undefined,
        })
      }
      expect(a.stateCalls).toHaveLength(1)
    })
  }
})

describe('operations in flight', () => {
  it('counts exec, fetch, fs, state, sql and smtp calls, and refuses one past operationsPerCall', async () => {
    const counted = [
      'exec',
      'fetch',
      'fs.readText',
      'fs.list',
      'fs.writeText',
      'state.get',
      'state.set',
      'state.delete',
      'sql.query',
      'sql.listen',
      'fs.watch',
      'smtp.send',
    ]
    expect([...COUNTED_OPERATIONS].sort()).toEqual([...counted].sort())
    for (const cap of counted) {
      const kind: PluginKind = cap === 'fs.writeText' || cap === 'smtp.send' ? 'action' : 'sensor'
      const p = plugin(kind, { limits: { operationsPerCall: 2 } })
      const call = callOf(p)
      call.operationsInFlight = 2
      expect(
        thrown(() => agent().dispatch.handle(p, call, cap, ['k'])),
        cap,
      ).toEqual({
        code: C.TOO_MANY_OPERATIONS,
        message: `${cap}: this call already has 2 exec/fetch/fs/state operations in flight; the limit is 2 (limits.operationsPerCall); wait for some to finish`,
        data: undefined,
      })
    }
  })

  it('does not count log, secrets, emit, sleep, isStopping or streams', () => {
    const p = plugin('sensor', {
      permissions: { secrets: ['API_TOKEN'] },
      grants: { secrets: ['API_TOKEN'] },
      limits: { operationsPerCall: 1 },
    })
    const call = callOf(p, { secrets: { API_TOKEN: 't' }, operation: 'watch' })
    call.operationsInFlight = 1
    call.stopping = true
    const { dispatch } = agent()
    expect(dispatch.handle(p, call, 'log', ['info', 'still logs'])).toBeUndefined()
    expect(dispatch.handle(p, call, 'secrets.get', ['API_TOKEN'])).toBe('t')
    expect(dispatch.handle(p, call, 'emit', [{ type: 'x', data: 1 }])).toBeUndefined()
    expect(dispatch.handle(p, call, 'isStopping', [])).toBe(true)
    expect(dispatch.handle(p, call, 'sleep', [1])).toBeInstanceOf(Promise)
    for (const cap of ['stream.next', 'stream.close']) {
      expect(
        thrown(() => dispatch.handle(p, call, cap, ['s-none'])),
        cap,
      ).toMatchObject({
        code: C.CAPABILITY_FAILED,
        message: 'stream: expected a stream opened by this call and not closed, got "s-none"',
      })
    }
  })

  it('holds a state operation until the agent answers, then frees it', async () => {
    const a = agent()
    let answer!: () => void
    a.answerWith(() => new Promise<unknown>((resolve) => (answer = () => resolve('v'))))
    const p = plugin('sensor', { limits: { operationsPerCall: 1 } })
    const call = callOf(p)
    const first = a.dispatch.handle(p, call, 'state.get', ['a'])
    expect([call.operationsInFlight, p.operationsInFlight]).toEqual([1, 1])
    expect(thrown(() => a.dispatch.handle(p, call, 'state.get', ['b']))).toMatchObject({
      code: C.TOO_MANY_OPERATIONS,
    })
    answer()
    expect(await first).toBe('v')
    expect([call.operationsInFlight, p.operationsInFlight]).toEqual([0, 0])
    a.answerWith(() => Promise.resolve('w'))
    expect(await a.dispatch.handle(p, call, 'state.get', ['b'])).toBe('w')
  })
})

describe('sleep', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: Date.UTC(2030, 0, 1) })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  /** Whether `p` has settled once pending callbacks have run. */
  const settled = (p: unknown) =>
    Promise.race([
      (p as Promise<unknown>).then(() => true),
      new Promise<boolean>((resolve) => setImmediate(() => resolve(false))),
    ])

  const sensor = (wallMs = 30_000) => plugin('sensor', { limits: { wallMs } })
  const sleep = (p: PluginInstance, call: CallState, ms: unknown) =>
    agent().dispatch.handle(p, call, 'sleep', [ms]) as Promise<void>

  it.each<[string, unknown]>([
    ['negative', -1],
    ['NaN', Number.NaN],
    ['infinite', Number.POSITIVE_INFINITY],
    ['over a day', DAY_MS + 1],
    ['a string', '10'],
    ['missing', undefined],
  ])('refuses a duration %s', (_, ms) => {
    const p = sensor()
    expect(thrown(() => sleep(p, callOf(p), ms))).toEqual({
      code: C.CAPABILITY_FAILED,
      message: 'sleep ms: expected a number from 0 to 86400000',
      data: undefined,
    })
  })

  it('sleeps for the time asked', async () => {
    const p = sensor()
    const call = callOf(p, { operation: 'watch', deadline: Date.now() + 60_000 })
    const zero = sleep(p, call, 0)
    await vi.advanceTimersByTimeAsync(0)
    expect(await settled(zero)).toBe(true)
    const slept = sleep(p, call, 1_000)
    await vi.advanceTimersByTimeAsync(999)
    expect(await settled(slept)).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(await settled(slept)).toBe(true)
  })

  it("accepts a whole day, and ends at the watch's deadline, not at wallMs", async () => {
    const p = sensor(1_000)
    const call = callOf(p, { operation: 'watch', deadline: Date.now() + 5_000 })
    const slept = sleep(p, call, DAY_MS)
    await vi.advanceTimersByTimeAsync(4_999)
    expect(await settled(slept)).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(await settled(slept)).toBe(true)
  })

  it('ends at wallMs in a call other than a watch', async () => {
    const p = sensor(1_000)
    const call = callOf(p, { operation: 'check', deadline: Date.now() + 5_000 })
    const slept = sleep(p, call, DAY_MS)
    await vi.advanceTimersByTimeAsync(999)
    expect(await settled(slept)).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(await settled(slept)).toBe(true)
  })

  it('ends at the deadline when it comes before wallMs, and at once when it has passed', async () => {
    const p = sensor(1_000)
    const soon = sleep(p, callOf(p, { operation: 'check', deadline: Date.now() + 300 }), 10_000)
    await vi.advanceTimersByTimeAsync(299)
    expect(await settled(soon)).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(await settled(soon)).toBe(true)
    const late = sleep(p, callOf(p, { operation: 'watch', deadline: Date.now() - 50 }), 10_000)
    await vi.advanceTimersByTimeAsync(0)
    expect(await settled(late)).toBe(true)
  })

  it('is woken by stop(), and leaves no timer, waker or listener behind', async () => {
    const p = sensor()
    const call = callOf(p, { operation: 'watch' })
    const slept = sleep(p, call, 10_000)
    expect(call.wakers.size).toBe(1)
    expect(vi.getTimerCount()).toBe(1)
    for (const wake of call.wakers) wake()
    expect(await settled(slept)).toBe(true)
    expect(call.wakers.size).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
    expect(getEventListeners(call.abort!.signal, 'abort')).toHaveLength(0)
  })

  it('ends when the call ends, and leaves nothing behind', async () => {
    const p = sensor()
    const call = callOf(p, { operation: 'check' })
    const slept = sleep(p, call, 10_000)
    call.abort!.abort()
    expect(await settled(slept)).toBe(true)
    expect(call.wakers.size).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('returns at once in a call already being stopped, watch or not', async () => {
    for (const operation of ['watch', 'check'] as const) {
      const p = sensor()
      const call = callOf(p, { operation })
      call.stopping = true
      const slept = sleep(p, call, 10_000)
      expect(await settled(slept), operation).toBe(true)
      expect(call.wakers.size).toBe(0)
      expect(vi.getTimerCount()).toBe(0)
    }
  })
})

describe('routing to the host side', () => {
  const root = realpathSync(tempDir('caps-dispatch'))
  const readable = join(root, 'readable')
  const writable = join(root, 'writable')
  mkdirSync(readable)
  mkdirSync(writable)
  writeFileSync(join(readable, 'small.txt'), '12345678')
  writeFileSync(join(readable, 'large.txt'), '123456789')
  const fs = { read: [readable], write: [writable] }

  it('log adds a line to the call', () => {
    const p = plugin('action')
    const call = callOf(p)
    expect(agent().dispatch.handle(p, call, 'log', ['warn', 'careful', { n: 1 }])).toBeUndefined()
    expect(call.logs).toMatchObject([{ level: 'warn', message: 'careful', fields: { n: 1 } }])
  })

  it("fs.readText, fs.list and fs.writeText use the plugin's grants and limits", async () => {
    const p = plugin('action', { permissions: { fs }, grants: { fs }, limits: { fsReadBytes: 8 } })
    const { dispatch } = agent()
    const call = callOf(p)
    expect(await dispatch.handle(p, call, 'fs.readText', [join(readable, 'small.txt')])).toBe('12345678')
    expect(
      await outcome(() => dispatch.handle(p, call, 'fs.readText', [join(readable, 'large.txt')])),
    ).toMatchObject({
      message: expect.stringMatching(/larger than the limit of 8 bytes$/),
    })
    expect(await dispatch.handle(p, call, 'fs.list', [readable])).toEqual(['large.txt', 'small.txt'])
    expect(
      await dispatch.handle(p, call, 'fs.writeText', [join(writable, 'w.txt'), 'written']),
    ).toBeUndefined()
    expect(readFileSync(join(writable, 'w.txt'), 'utf8')).toBe('written')
    expect(await outcome(() => dispatch.handle(p, call, 'fs.list', [root]))).toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'fs.read', value: root },
    })
  })

  it('exec runs a granted command in a cwd checked against the read grant, and logs its stderr', async () => {
    const p = plugin('action', {
      permissions: { exec: ['sh', 'pwd'], fs },
      grants: { exec: ['sh', 'pwd'], fs },
    })
    const { dispatch } = agent()
    const call = callOf(p)
    expect(await dispatch.handle(p, call, 'exec', ['pwd', [], { cwd: readable }])).toMatchObject({
      code: 0,
      stdout: `${readable}\n`,
    })
    expect(
      await outcome(() => dispatch.handle(p, call, 'exec', ['pwd', [], { cwd: writable }])),
    ).toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'fs.read', value: writable },
    })
    expect(await dispatch.handle(p, call, 'exec', ['sh', ['-c', 'echo oops >&2; exit 2']])).toMatchObject({
      code: 2,
      stderr: 'oops\n',
    })
    expect(call.logs).toMatchObject([
      { level: 'warn', message: 'oops', fields: { command: 'sh', code: 2 }, source: 'exec' },
    ])
    expect(await outcome(() => dispatch.handle(p, call, 'exec', ['env', []]))).toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'exec', value: 'env', reason: 'undeclared' },
    })
  })

  it('exec is bounded by wallMs in a call other than a watch', async () => {
    const p = plugin('action', {
      permissions: { exec: ['sleep'] },
      grants: { exec: ['sleep'] },
      limits: { wallMs: 100 },
    })
    expect(await agent().dispatch.handle(p, callOf(p), 'exec', ['sleep', ['10']])).toMatchObject({
      signal: 'SIGTERM',
      timedOut: true,
    })
  })

  it("exec's command is killed when the call ends", async () => {
    const p = plugin('sensor', { permissions: { exec: ['sleep'] }, grants: { exec: ['sleep'] } })
    const call = callOf(p, { operation: 'watch' })
    const seconds = `20.${randomInt(1e6)}`
    const running = agent().dispatch.handle(p, call, 'exec', ['sleep', [seconds]])
    await waitForProcess(['sleep', seconds])
    call.abort!.abort()
    expect(await running).toMatchObject({ signal: 'SIGTERM', timedOut: false })
  })

  it('fetch checks the URL against the net grant', async () => {
    const p = plugin('action')
    expect(
      await outcome(() => agent().dispatch.handle(p, callOf(p), 'fetch', ['https://api.example.com/'])),
    ).toMatchObject({ code: C.PERMISSION_DENIED, data: { permission: 'net', value: 'api.example.com:443' } })
  })

  it("sql and smtp find the operator's connection and relay definitions", async () => {
    const defined = {
      permissions: { sql: ['main'], smtp: ['mail'] },
      grants: {
        sql: ['main'],
        smtp: ['mail'],
        connections: {
          sql: { main: { url: 'postgres://reader@db.internal:5432/app' } },
          smtp: { mail: { url: 'smtp://stavily@mail.internal:587' } },
        },
      },
    }
    const undefinedOnes = { permissions: defined.permissions, grants: { sql: ['main'], smtp: ['mail'] } }
    const { dispatch } = agent()
    const bare = plugin('action', undefinedOnes)
    expect(
      await outcome(() => dispatch.handle(bare, callOf(bare), 'sql.query', ['main', 'select 1'])),
    ).toEqual({
      code: C.CAPABILITY_FAILED,
      message:
        'sql.query: connection "main" is granted but the agent defines no such connection (grants.sql.main.url)',
      data: undefined,
    })
    expect(await outcome(() => dispatch.handle(bare, callOf(bare), 'smtp.send', ['mail', {}]))).toEqual({
      code: C.CAPABILITY_FAILED,
      message:
        'smtp.send: relay "mail" is granted but the agent defines no such relay (grants.smtp.mail.url)',
      data: undefined,
    })
    // Defined: the definition is found, and the next check (the arguments) speaks.
    const p = plugin('action', defined)
    expect(await outcome(() => dispatch.handle(p, callOf(p), 'sql.query', ['main', 7]))).toMatchObject({
      code: C.CAPABILITY_FAILED,
      message: expect.stringMatching(/^sql\.query text: expected a non-empty SQL statement/),
    })
    expect(await outcome(() => dispatch.handle(p, callOf(p), 'smtp.send', ['mail', {}]))).toMatchObject({
      code: C.CAPABILITY_FAILED,
      message: expect.stringMatching(/^smtp\.send message\.to: expected an address/),
    })
    const s = plugin('sensor', { permissions: { sql: ['main'] }, grants: { sql: ['main'] } })
    expect(await outcome(() => dispatch.handle(s, callOf(s), 'sql.listen', ['main', 'ch']))).toMatchObject({
      message:
        'sql.listen: connection "main" is granted but the agent defines no such connection (grants.sql.main.url)',
    })
  })

  it("sql and smtp take a connection's password from the call's secrets", async () => {
    const p = plugin('action', {
      permissions: { sql: ['main'], smtp: ['mail'] },
      grants: {
        sql: ['main'],
        smtp: ['mail'],
        connections: {
          // Port 1 on loopback: refused at once, after the password was found.
          sql: { main: { url: 'postgres://reader@127.0.0.1:1/app', passwordSecret: 'PG_PASSWORD' } },
          smtp: { mail: { url: 'smtp://stavily@127.0.0.1:1', passwordSecret: 'SMTP_PASSWORD' } },
        },
      },
    })
    const { dispatch } = agent()
    const message = { from: 'a@example.com', to: 'b@example.com', subject: 's', text: 't' }
    expect(
      await outcome(() => dispatch.handle(p, callOf(p), 'sql.query', ['main', 'select 1'])),
    ).toMatchObject({
      code: C.SECRET_MISSING,
      data: { name: 'PG_PASSWORD' },
    })
    expect(await outcome(() => dispatch.handle(p, callOf(p), 'smtp.send', ['mail', message]))).toMatchObject({
      code: C.SECRET_MISSING,
      data: { name: 'SMTP_PASSWORD' },
    })
    const secrets = { PG_PASSWORD: 'pg', SMTP_PASSWORD: 'mail' }
    expect(
      await outcome(() => dispatch.handle(p, callOf(p, { secrets }), 'sql.query', ['main', 'select 1'])),
    ).toMatchObject({ code: C.CAPABILITY_FAILED, message: expect.stringContaining('ECONNREFUSED') })
    expect(
      await outcome(() => dispatch.handle(p, callOf(p, { secrets }), 'smtp.send', ['mail', message])),
    ).toMatchObject({ code: C.CAPABILITY_FAILED, message: expect.stringContaining('ECONNREFUSED') })
  })

  it('emit collects an event in the call, or streams it to the agent with the call id', () => {
    const p = plugin('sensor')
    const a = agent()
    const collected = callOf(p)
    a.dispatch.handle(p, collected, 'emit', [{ type: 'changed', data: { n: 1 } }])
    expect(collected.events).toEqual([{ type: 'changed', data: { n: 1 } }])
    expect(a.events).toEqual([])
    const streamed = callOf(p, { operation: 'watch', streamEvents: true })
    a.dispatch.handle(p, streamed, 'emit', [{ type: 'changed', data: 2 }])
    expect(streamed.events).toEqual([])
    expect(a.events).toEqual([[streamed.req.id, { type: 'changed', data: 2 }]])
  })

  it('fs.watch opens a stream on a granted folder, which stream.close releases', async () => {
    const p = plugin('sensor', {
      permissions: { fs: { read: [readable], write: [] } },
      grants: { fs: { read: [readable], write: [] } },
    })
    const { dispatch } = agent()
    const call = callOf(p, { operation: 'watch' })
    const id = await dispatch.handle(p, call, 'fs.watch', [readable])
    expect(id).toMatch(/^s\d+$/)
    expect(dispatch.handle(p, call, 'stream.close', [id])).toBeUndefined()
    expect(thrown(() => dispatch.handle(p, call, 'stream.next', [id]))).toMatchObject({
      message: expect.stringContaining('a stream opened by this call and not closed'),
    })
  })
})

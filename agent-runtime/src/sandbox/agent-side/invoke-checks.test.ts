import { describe, expect, it } from 'vitest'
import { manifest } from '../../../test/helpers/build-fixture.ts'
import { DEFAULT_LIMITS } from '../../defaults.ts'
import { SandboxErrorCodes as C } from '../../errors.ts'
import type { PluginKind } from '../protocol.ts'
import type { InvokeOptions } from './api.ts'
import { checkInvoke } from './invoke-checks.ts'
import { checkSpec } from './load-spec.ts'
import type { Route } from './routes.ts'

// One invoke()'s options, checked on the agent side and turned into the host's request:
// each refusal names the option; what passes is the exact payload the plugin parses.

const route = (kind: PluginKind = 'action', over: Partial<Route> = {}): Route => ({
  key: '@acme/inv@1.0.0#1',
  spec: checkSpec(
    { manifest: manifest('@acme/inv', { kind }), bundle: 'x', limits: { concurrency: 2, wallMs: 5_000 } },
    DEFAULT_LIMITS,
  ),
  info: { kind, sdkApiVersion: '1', schemas: {}, operations: [] },
  inFlight: 0,
  draining: false,
  loadMs: 0,
  counters: { calls: 0, failures: 0, cpuUs: 0 },
  ...over,
})

const ok = { invocationId: 'inv-1', idempotencyKey: 'run/1:step@a_b-c' }

const message = (r: Route, o: unknown) => {
  try {
    checkInvoke(r, o as InvokeOptions, 1)
  } catch (err) {
    const e = err as { code: string; message: string }
    return `${e.code} ${e.message}`
  }
  return 'accepted'
}

describe('checkInvoke', () => {
  it('builds the request: default operation per kind, deadline from the wall limit, the payload', () => {
    for (const [kind, operation] of [
      ['action', 'run'],
      ['output', 'send'],
      ['sensor', 'check'],
    ] as const) {
      expect(checkInvoke(route(kind), ok, 7).operation).toBe(operation)
    }
    const before = Date.now()
    const req = checkInvoke(route(), { ...ok, input: { a: 1 }, config: { b: 'x' } }, 7)
    expect(req).toMatchObject({
      id: 7,
      key: '@acme/inv@1.0.0#1',
      name: '@acme/inv',
      secrets: {},
      streamEvents: false,
    })
    expect(req.deadline).toBeGreaterThanOrEqual(before + 5_000)
    expect(req.deadline).toBeLessThanOrEqual(Date.now() + 5_000)
    expect(JSON.parse(req.payload)).toEqual({
      input: { a: 1 },
      config: { b: 'x' },
      invocationId: 'inv-1',
      idempotencyKey: 'run/1:step@a_b-c',
      deadline: req.deadline,
    })
  })

  it('leaves out an undefined input, gives an empty config, and keeps a given deadline and operation', () => {
    const req = checkInvoke(route(), { ...ok, deadline: 1234, operation: 'run' }, 1)
    expect(JSON.parse(req.payload)).toEqual({
      config: {},
      invocationId: 'inv-1',
      idempotencyKey: ok.idempotencyKey,
      deadline: 1234,
    })
    expect(req.deadline).toBe(1234)
  })

  it('gives a watch without a deadline no end, and streams events when asked', () => {
    const req = checkInvoke(route('sensor'), { ...ok, operation: 'watch', onEvent: () => {} }, 1)
    expect(req.deadline).toBe(Number.MAX_SAFE_INTEGER)
    expect(req.streamEvents).toBe(true)
    expect(checkInvoke(route('sensor'), { ...ok, operation: 'check' }, 1).deadline).toBeLessThan(
      Number.MAX_SAFE_INTEGER,
    )
  })

  it('passes secrets that are strings, and refuses any other', () => {
    expect(checkInvoke(route(), { ...ok, secrets: { T: 'v' } }, 1).secrets).toEqual({ T: 'v' })
    for (const secrets of [{ T: 1 }, 'T', { T: 'v', U: null }]) {
      expect(message(route(), { ...ok, secrets })).toMatch(
        new RegExp(`^${C.INVALID_ARGUMENT} invoke secrets: expected an object of strings, got `),
      )
    }
  })

  it('refuses options that are not an object', () => {
    expect(message(route(), null)).toBe(`${C.INVALID_ARGUMENT} invoke options: expected an object, got null`)
    expect(message(route(), 'x')).toBe(`${C.INVALID_ARGUMENT} invoke options: expected an object, got "x"`)
  })

  it('refuses ids that are not 1-200 characters of the allowed set, naming each', () => {
    const expected = 'a string of 1-200 characters from A-Z a-z 0-9 . _ : @ / -'
    for (const id of ['', 'a b', 'x'.repeat(201), 'é', 'ok\n', 5]) {
      const shown = typeof id === 'string' ? JSON.stringify(id.slice(0, 80)) : typeof id
      expect(message(route(), { ...ok, invocationId: id })).toBe(
        `${C.INVALID_ARGUMENT} invoke invocationId: expected ${expected}, got ${shown}`,
      )
      expect(message(route(), { ...ok, idempotencyKey: id })).toBe(
        `${C.INVALID_ARGUMENT} invoke idempotencyKey: expected ${expected}, got ${shown}`,
      )
    }
    expect(message(route(), { ...ok, invocationId: 'x'.repeat(200) })).toBe('accepted')
  })

  it('refuses a deadline that is not a finite number', () => {
    for (const deadline of ['soon', Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(message(route(), { ...ok, deadline })).toMatch(
        new RegExp(`^${C.INVALID_ARGUMENT} invoke deadline: expected epoch milliseconds, got `),
      )
    }
  })

  it('refuses a call past the concurrency limit, saying which limit', () => {
    expect(message(route('action', { inFlight: 1 }), ok)).toBe('accepted')
    expect(message(route('action', { inFlight: 2 }), ok)).toBe(
      `${C.TOO_MANY_CALLS} @acme/inv already has 2 calls in flight; its limit is 2 (limits.concurrency)`,
    )
  })

  it('refuses an input or config JSON cannot carry, naming it', () => {
    const loop: Record<string, unknown> = {}
    loop.self = loop
    expect(message(route(), { ...ok, input: loop })).toMatch(
      new RegExp(
        `^${C.INVALID_ARGUMENT} invoke input: expected a value JSON can carry, but it does not serialize \\(`,
      ),
    )
    expect(message(route(), { ...ok, config: { big: 10n } })).toMatch(
      /invoke config: expected a value JSON can carry/,
    )
  })
})

import { describe, expect, it } from 'vitest'
import { hostCall, hostPlugin } from '../../../../test/helpers/host-plugin.ts'
import type { PluginLimits } from '../../../defaults.ts'
import { SandboxErrorCodes as C } from '../../../errors.ts'
import type { PluginEvent } from '../../protocol.ts'
import { hostEmit, hostLog, logExecStderr } from './log-emit.ts'

// ctx.log and ctx.emit on the host: each checked, counted and capped per call (a watch: per
// budget window); a limit the call passes fails it (limitHit) whatever the plugin does next.
// A command's stderr joins the logs without counting against the plugin's limits.

function thrown(f: () => unknown) {
  try {
    f()
  } catch (err) {
    const e = err as { code: string; message: string }
    return { code: e.code, message: e.message }
  }
  throw new Error('expected a throw')
}

const logger = (limits: Partial<PluginLimits> = {}) => {
  const plugin = hostPlugin({ limits })
  const call = hostCall()
  return { plugin, call, log: (...args: unknown[]) => hostLog(plugin, call, args) }
}

describe('hostLog', () => {
  it('keeps each line with its level, message, fields and time', () => {
    const { call, log } = logger()
    const before = Date.now()
    for (const level of ['debug', 'info', 'warn', 'error']) log(level, `at ${level}`)
    log('info', 'with fields', { host: 'web-1', n: 2 })
    log('info', 'null fields', null)
    expect(call.logs.map(({ at: _, ...rest }) => rest)).toStrictEqual([
      { level: 'debug', message: 'at debug' },
      { level: 'info', message: 'at info' },
      { level: 'warn', message: 'at warn' },
      { level: 'error', message: 'at error' },
      { level: 'info', message: 'with fields', fields: { host: 'web-1', n: 2 } },
      { level: 'info', message: 'null fields' },
    ])
    for (const entry of call.logs) {
      expect(entry.at).toBeGreaterThanOrEqual(before)
      expect(entry.at).toBeLessThanOrEqual(Date.now())
    }
  })

  it('writes a message that is not a string as text', () => {
    const { call, log } = logger()
    log('info', 42)
    log('info', undefined)
    log('info', { a: 1 })
    expect(call.logs.map((e) => e.message)).toEqual(['42', 'undefined', '[object Object]'])
  })

  it('refuses an unknown level and fields that are no object', () => {
    const { call, log } = logger()
    expect(thrown(() => log('trace', 'x'))).toEqual({
      code: C.CAPABILITY_FAILED,
      message: 'log level: expected debug, info, warn or error, got "trace"',
    })
    expect(thrown(() => log(7, 'x')).message).toBe(
      'log level: expected debug, info, warn or error, got number',
    )
    expect(thrown(() => log('info', 'x', ['a']))).toEqual({
      code: C.CAPABILITY_FAILED,
      message: 'log fields: expected an object, got an array',
    })
    expect(call.logs).toEqual([])
  })

  it('counts bytes of message and fields, up to limits.logBytes exactly', () => {
    // "é" is 2 bytes; {"k":"v"} is 9.
    const { call, log } = logger({ logBytes: 20 })
    log('info', 'é', { k: 'v' })
    expect(call.logBytes).toBe(11)
    log('info', 'x'.repeat(9))
    expect(call.logBytes).toBe(20)
    expect(thrown(() => log('info', 'y'))).toEqual({
      code: C.LOG_LIMIT,
      message: '@acme/caps logged more than 1000 lines or 20 bytes in one call',
    })
    expect(call.logs).toHaveLength(2)
    expect(call.logBytes).toBe(20)
  })

  it('keeps up to limits.logLines lines, and fails the call past them', () => {
    const { call, log } = logger({ logLines: 2 })
    log('info', 'one')
    log('info', 'two')
    const error = {
      code: C.LOG_LIMIT,
      message: '@acme/caps logged more than 2 lines or 262144 bytes in one call',
    }
    expect(thrown(() => log('info', 'three'))).toEqual(error)
    expect(call.logs.map((e) => e.message)).toEqual(['one', 'two'])
    expect(call.limitHit).toEqual({ ...error, retryable: false, data: undefined })
    // The first limit passed is the one the call fails with.
    const { call: other, log: log2 } = logger({ logLines: 0, logBytes: 1 })
    expect(thrown(() => log2('info', 'x')).code).toBe(C.LOG_LIMIT)
    expect(other.limitHit?.code).toBe(C.LOG_LIMIT)
  })
})

describe('logExecStderr', () => {
  it('adds a command’s stderr as one line: info when it succeeded, warn otherwise', () => {
    const call = hostCall()
    const ok = { code: 0, stderr: 'progress 100%\n\n', stdout: 'x' }
    expect(logExecStderr(call, 'df', ok)).toBe(ok)
    logExecStderr(call, 'false', { code: 1, stderr: '  failed  \n' })
    logExecStderr(call, 'killed', { code: null, stderr: 'terminated' })
    expect(call.logs.map(({ at: _, ...rest }) => rest)).toStrictEqual([
      { level: 'info', message: 'progress 100%', fields: { command: 'df', code: 0 }, source: 'exec' },
      { level: 'warn', message: '  failed', fields: { command: 'false', code: 1 }, source: 'exec' },
      { level: 'warn', message: 'terminated', fields: { command: 'killed', code: null }, source: 'exec' },
    ])
    expect(typeof call.logs[0]!.at).toBe('number')
    // Not the plugin's lines: not counted against its limits.
    expect(call.logBytes).toBe(0)
  })

  it('adds nothing for an empty or blank stderr', () => {
    const call = hostCall()
    logExecStderr(call, 'true', { code: 0, stderr: '' })
    logExecStderr(call, 'true', { code: 1, stderr: '\n \n' })
    expect(call.logs).toEqual([])
  })
})

const sensor = (
  limits: Partial<PluginLimits> = {},
  operation: 'check' | 'watch' = 'check',
  streamEvents = false,
) => {
  const plugin = hostPlugin({ kind: 'sensor', limits })
  const call = hostCall({ operation, streamEvents })
  const streamed: PluginEvent[] = []
  return {
    plugin,
    call,
    streamed,
    emit: (event: unknown) => hostEmit(plugin, call, [event], (e) => streamed.push(e)),
  }
}

const size = (event: unknown) => Buffer.byteLength(JSON.stringify(event))

describe('hostEmit', () => {
  it('collects checked events with their optional fields', () => {
    const { call, emit } = sensor()
    emit({ type: 'disk.full', data: { host: 'web-1' } })
    emit({ type: 'disk.full', data: 1, dedupeKey: 'web-1', occurredAt: '2026-01-02T03:04:05Z' })
    emit({ type: 'x', data: null, dedupeKey: null, occurredAt: null })
    emit({ type: 'x', occurredAt: '2026-01-02T03:04:05.123+02:00' })
    expect(call.events).toStrictEqual([
      { type: 'disk.full', data: { host: 'web-1' } },
      { type: 'disk.full', data: 1, dedupeKey: 'web-1', occurredAt: '2026-01-02T03:04:05Z' },
      { type: 'x', data: null },
      { type: 'x', data: undefined, occurredAt: '2026-01-02T03:04:05.123+02:00' },
    ])
    expect(call.eventsEmitted).toBe(4)
    expect(call.eventBytesEmitted).toBe(call.events.reduce((n, e) => n + size(e), 0))
  })

  it('streams events to the caller when the call asks for it', () => {
    const { call, streamed, emit } = sensor({}, 'watch', true)
    emit({ type: 'item', data: 1 })
    expect(streamed).toEqual([{ type: 'item', data: 1 }])
    expect(call.events).toEqual([])
    expect(call.eventsEmitted).toBe(1)
  })

  it('refuses an event that is no object, or whose fields are wrong, naming the field', () => {
    const { call, emit } = sensor()
    const refusal = (event: unknown) => thrown(() => emit(event))
    expect(refusal(null)).toEqual({
      code: C.CAPABILITY_FAILED,
      message: 'emit event: expected an object { type, data, dedupeKey?, occurredAt? }, got null',
    })
    expect(refusal(undefined).message).toBe(
      'emit event: expected an object { type, data, dedupeKey?, occurredAt? }, got undefined',
    )
    expect(refusal('x').message).toBe('emit event: expected an object, got "x"')
    expect(refusal({ type: '' }).message).toBe(
      'emit event.type: expected a non-empty string of at most 200 characters, got ""',
    )
    expect(refusal({ type: 't'.repeat(201) }).message).toMatch(
      /^emit event\.type: expected a non-empty string of at most 200/,
    )
    expect(refusal({ type: 't', dedupeKey: 'k'.repeat(513) }).message).toMatch(
      /^emit event\.dedupeKey: expected a non-empty string of at most 512 characters/,
    )
    expect(refusal({ type: 't', dedupeKey: 7 }).message).toMatch(/^emit event\.dedupeKey: expected/)
    for (const at of [
      '2026-01-02',
      '2026-01-02 03:04:05Z',
      '2026-01-02T03:04:05',
      'x2026-01-02T03:04:05Z',
      '2026-01-02T03:04:05Zx',
    ])
      expect(refusal({ type: 't', occurredAt: at }).message).toBe(
        `emit event.occurredAt: expected an ISO 8601 date-time, got ${JSON.stringify(at)}`,
      )
    // An expanded year parses as a date, but is not the form events carry.
    expect(refusal({ type: 't', occurredAt: '+002026-01-02T03:04:05Z' }).message).toBe(
      'emit event.occurredAt: expected an ISO 8601 date-time, got "+002026-01-02T03:04:05Z"',
    )
    // Shaped like a date, but no date.
    expect(refusal({ type: 't', occurredAt: '2026-13-45T00:00:00Z' }).message).toBe(
      'emit event.occurredAt: expected an ISO 8601 date-time, got "2026-13-45T00:00:00Z"',
    )
    expect(refusal({ type: 't', occurredAt: `2026-01-02T03:04:05.${'1'.repeat(20)}Z` }).message).toMatch(
      /^emit event\.occurredAt: expected a non-empty string of at most 40 characters/,
    )
    expect(call.events).toEqual([])
    expect(call.eventsEmitted).toBe(0)
  })

  it('checks the event’s data against the plugin’s event schema', () => {
    const { plugin, call, emit } = sensor()
    plugin.info.schemas = {
      event: { type: 'object', properties: { id: { type: 'number' } }, required: ['id'] },
    }
    emit({ type: 't', data: { id: 1 } })
    expect(thrown(() => emit({ type: 't', data: { id: 'one' } }))).toMatchObject({
      code: C.INVALID_EVENT,
      message: expect.stringContaining('id'),
    })
    expect(call.events).toHaveLength(1)
  })

  it('refuses one event larger than limits.eventBytes', () => {
    const event = { type: 't', data: 'x'.repeat(20) }
    const { call, emit } = sensor({ eventBytes: size(event) })
    emit(event)
    const bigger = { type: 't', data: 'x'.repeat(21) }
    expect(thrown(() => emit(bigger))).toEqual({
      code: C.INVALID_EVENT,
      message: `emit event: ${size(bigger)} bytes as JSON; the limit is ${size(event)}`,
    })
    // Refused, not a limit of the call.
    expect(call.limitHit).toBeUndefined()
  })

  it('caps the bytes of a call’s events at limits.eventsBytes, and fails the call past them', () => {
    const event = { type: 't', data: 1 }
    const { call, emit } = sensor({ eventsBytes: size(event) * 2 })
    emit(event)
    emit(event)
    const error = {
      code: C.EVENT_LIMIT,
      message: `@acme/caps emitted more than ${size(event) * 2} bytes of events in one call (limits.eventsBytes)`,
    }
    expect(thrown(() => emit(event))).toEqual(error)
    expect(call.events).toHaveLength(2)
    expect(call.eventBytesEmitted).toBe(size(event) * 2)
    expect(call.limitHit).toEqual({ ...error, retryable: false, data: undefined })
  })

  it('caps the number of a call’s events at limits.events, and fails the call past them', () => {
    const { call, emit } = sensor({ events: 2 })
    emit({ type: 't' })
    emit({ type: 't' })
    const error = { code: C.EVENT_LIMIT, message: '@acme/caps emitted more than 2 events in one call' }
    expect(thrown(() => emit({ type: 't' }))).toEqual(error)
    expect(call.eventsEmitted).toBe(2)
    expect(call.limitHit).toEqual({ ...error, retryable: false, data: undefined })
  })

  it('words the caps of a watch per budget window', () => {
    const bytes = sensor({ eventsBytes: 10, watchWindowMs: 5000 }, 'watch', true)
    expect(thrown(() => bytes.emit({ type: 'item', data: 'long enough' }))).toEqual({
      code: C.EVENT_LIMIT,
      message:
        "@acme/caps's watch emitted more than 10 bytes of events within 5000 ms (limits.eventsBytes, limits.watchWindowMs)",
    })
    expect(bytes.streamed).toEqual([])
    const count = sensor({ events: 1, watchWindowMs: 5000 }, 'watch', true)
    count.emit({ type: 'item' })
    expect(thrown(() => count.emit({ type: 'item' }))).toEqual({
      code: C.EVENT_LIMIT,
      message:
        "@acme/caps's watch emitted more than 1 events within 5000 ms (limits.events, limits.watchWindowMs)",
    })
    expect(count.streamed).toHaveLength(1)
  })

  it('counts on from what the call (or the watch’s window) already emitted', () => {
    const { call, emit } = sensor({ events: 5 })
    call.eventsEmitted = 4
    emit({ type: 't' })
    expect(thrown(() => emit({ type: 't' })).code).toBe(C.EVENT_LIMIT)
  })
})

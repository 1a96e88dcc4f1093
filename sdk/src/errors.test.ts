import { describe, expect, it } from 'vitest'
import { deserializeError, ErrorCodes, isPluginError, PluginError, serializeError } from './errors.ts'
import { toPlainJson } from './plain-json.ts'

describe('PluginError wire form', () => {
  it('round-trips code, message, retryable and data', () => {
    const original = new PluginError('ACME_DOWN', 'the API is down', {
      retryable: true,
      data: { status: 503, hosts: ['a'] },
    })
    const wire = serializeError(original)
    expect(wire).toEqual({
      code: 'ACME_DOWN',
      message: 'the API is down',
      retryable: true,
      data: { status: 503, hosts: ['a'] },
    })
    const back = deserializeError(JSON.parse(JSON.stringify(wire)))
    expect(back).toBeInstanceOf(PluginError)
    expect(back).toMatchObject({
      code: 'ACME_DOWN',
      message: 'the API is down',
      retryable: true,
      data: wire.data,
    })
    expect(JSON.parse(JSON.stringify(original))).toEqual(wire)
  })

  it('defaults to not retryable and omits absent data', () => {
    expect(serializeError(new PluginError('X', 'y'))).toEqual({ code: 'X', message: 'y', retryable: false })
  })

  it('recognises a PluginError from another realm or SDK copy by shape, not instanceof', () => {
    const foreign = { name: 'PluginError', code: 'A', message: 'b', retryable: false }
    expect(isPluginError(foreign)).toBe(true)
    expect(isPluginError({ ...foreign, retryable: 'yes' })).toBe(false)
    expect(isPluginError(new Error('plain'))).toBe(false)
    expect(isPluginError(null)).toBe(false)
    expect(isPluginError('PluginError')).toBe(false)
  })
})

describe('serializeError with weird throws', () => {
  it('turns non-PluginErrors into PLUGIN_FAILED, never retryable, without stacks', () => {
    const cases: [unknown, string][] = [
      [new TypeError('x is undefined'), 'TypeError: x is undefined'],
      ['just a string', 'just a string'],
      [42, 'plugin threw number 42'],
      [undefined, 'plugin threw undefined'],
      [null, 'plugin threw null'],
      [{ some: 'object' }, 'plugin threw an object that is not an Error'],
      [Symbol('s'), 'plugin threw a symbol'],
      [10n, 'plugin threw bigint 10'],
    ]
    for (const [thrown, message] of cases) {
      const wire = serializeError(thrown)
      expect(wire).toEqual({ code: ErrorCodes.PLUGIN_FAILED, message, retryable: false })
      expect(JSON.stringify(wire)).not.toContain('    at ')
    }
  })

  it('survives getters that throw and Proxies that throw on every access', () => {
    const hostile = {
      get message(): string {
        throw new Error('gotcha')
      },
    }
    expect(serializeError(hostile).code).toBe(ErrorCodes.PLUGIN_FAILED)
    const proxy = new Proxy(
      {},
      {
        get() {
          throw new Error('no')
        },
        ownKeys() {
          throw new Error('no')
        },
      },
    )
    expect(serializeError(proxy)).toEqual({
      code: ErrorCodes.PLUGIN_FAILED,
      message: 'plugin threw an object that is not an Error',
      retryable: false,
    })
  })

  it('coerces error data to plain JSON: cycles, functions, dates, bigints, NaN, throwing getters', () => {
    const data: Record<string, unknown> = {
      ok: 1,
      when: new Date('2024-01-02T03:04:05Z'),
      big: 12n,
      nan: Number.NaN,
    }
    data.self = data
    data.fn = () => 1
    data.list = [1, undefined, () => 2]
    Object.defineProperty(data, 'bad', {
      enumerable: true,
      get() {
        throw new Error('nope')
      },
    })
    const error = new PluginError('X', 'y', { data: data as never })
    const wire = serializeError(error)
    expect(wire.data).toEqual({
      ok: 1,
      when: '2024-01-02T03:04:05.000Z',
      big: '12',
      nan: null,
      self: '[Circular]',
      list: [1, null, null],
    })
    expect(() => JSON.stringify(wire)).not.toThrow()
  })

  it('bounds deep and huge data and long messages', () => {
    let deep: Record<string, unknown> = {}
    const root = deep
    for (let i = 0; i < 50; i++) {
      deep.next = {}
      deep = deep.next as Record<string, unknown>
    }
    expect(JSON.stringify(toPlainJson(root))).toContain('[Truncated]')
    const huge = Array.from({ length: 5000 }, (_, i) => i)
    expect((toPlainJson(huge) as unknown[]).length).toBeLessThanOrEqual(1000)
    const long = serializeError(new PluginError('X', 'm'.repeat(10_000)))
    expect(long.message.length).toBeLessThanOrEqual(4096)
  })

  it('copies shared (non-cyclic) references twice instead of calling them cycles', () => {
    const shared = { a: 1 }
    expect(toPlainJson({ x: shared, y: shared })).toEqual({ x: { a: 1 }, y: { a: 1 } })
  })
})

describe('deserializeError', () => {
  it('turns a malformed wire object into PLUGIN_FAILED naming the bad field', () => {
    const cases: [unknown, string][] = [
      [null, 'expected an object { code, message, retryable, data? }, got null'],
      ['boom', 'expected an object { code, message, retryable, data? }, got string'],
      [{ message: 'm', retryable: false }, 'code: expected a non-empty string'],
      [{ code: '', message: 'm', retryable: false }, 'code: expected a non-empty string'],
      [{ code: 'X', message: 3, retryable: false }, 'message: expected a string, got number'],
      [{ code: 'X', message: 'm', retryable: 'no' }, 'retryable: expected a boolean, got string'],
    ]
    for (const [wire, problem] of cases) {
      const error = deserializeError(wire)
      expect(error.code).toBe(ErrorCodes.PLUGIN_FAILED)
      expect(error.message).toContain(`plugin failed with a malformed error: ${problem}`)
      expect(error.data).toEqual({ malformed: true })
    }
  })
})

describe('PluginError subclasses', () => {
  it('are recognised and keep their code even with their own name', () => {
    class RateLimited extends PluginError {
      constructor() {
        super('ACME_RATE_LIMITED', 'slow down', { retryable: true })
        this.name = 'RateLimited'
      }
    }
    const error = new RateLimited()
    expect(isPluginError(error)).toBe(true)
    expect(serializeError(error)).toEqual({
      code: 'ACME_RATE_LIMITED',
      message: 'slow down',
      retryable: true,
    })
    // A look-alike without the name or the mark is not a PluginError.
    expect(isPluginError({ name: 'Other', code: 'X', message: 'm', retryable: true })).toBe(false)
  })
})

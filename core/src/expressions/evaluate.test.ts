import { describe, expect, it } from 'vitest'
import { ExpressionError } from './errors.ts'
import { evaluate } from './evaluate.ts'
import { parseExpression } from './parser.ts'

const context = {
  trigger: {
    labels: { service: 'web', severity: 'critical' },
    value: '0.93',
    hosts: ['a', 'b'],
    count: 3,
    none: null,
  },
  steps: { restart: { status: 'succeeded', output: { restarted: true, took: 1.5 }, error: null } },
  event: { type: 'alert.firing', source: 'prometheus' },
}

const run = (src: string, ctx: Record<string, unknown> = context) => evaluate(parseExpression(src), ctx)

function failure(src: string, ctx: Record<string, unknown> = context): ExpressionError {
  try {
    run(src, ctx)
  } catch (err) {
    expect(err).toBeInstanceOf(ExpressionError)
    return err as ExpressionError
  }
  throw new Error(`expected "${src}" to fail`)
}

describe('evaluate', () => {
  it('reads paths through objects and arrays', () => {
    expect(run('trigger.labels.service')).toBe('web')
    expect(run("trigger['labels']['severity']")).toBe('critical')
    expect(run('trigger.hosts[1]')).toBe('b')
    expect(run('steps.restart.output.restarted')).toBe(true)
    expect(run('trigger.labels')).toEqual({ service: 'web', severity: 'critical' })
    expect(run('trigger.none')).toBeNull()
  })

  it('compares without coercion and combines with boolean logic', () => {
    expect(run("trigger.labels.severity == 'critical' && !(trigger.count < 2)")).toBe(true)
    expect(run("trigger.count == '3'")).toBe(false)
    expect(run('trigger.count != 3 || trigger.count >= 3')).toBe(true)
    expect(run("'b' > 'a'")).toBe(true)
    expect(run('trigger.hosts == fromJSON(\'["a","b"]\')')).toBe(true)
    expect(run('null == trigger.none')).toBe(true)
    expect(run('number(trigger.value) > 0.9')).toBe(true)
    // Short-circuit: the right side is never evaluated, so its missing key is no error.
    expect(run('false && trigger.nope')).toBe(false)
    expect(run('true || trigger.nope')).toBe(true)
  })

  it('refuses ordering across types and says how to convert', () => {
    const e = failure('trigger.value > 0.9')
    expect(e.code).toBe('STAVILY_ERR_EXPRESSION_TYPE')
    expect(e.message).toMatch(
      /">" compares two numbers or two strings, got string "0.93" and number 0.9; convert text with number/,
    )
    expect(e.column).toBe(1)
  })

  it('names the missing segment and the keys that exist there', () => {
    const e = failure('trigger.labels.servce')
    expect(e.code).toBe('STAVILY_ERR_EXPRESSION_UNKNOWN_PATH')
    expect(e.message).toBe(
      'trigger.labels has no key "servce"; keys there: service, severity (in expression "trigger.labels.servce" at column 16)',
    )
    expect(e.data).toMatchObject({
      path: 'trigger.labels.servce',
      missing: 'servce',
      available: ['service', 'severity'],
    })
    expect(failure('trigger.hosts[5]').message).toMatch(
      /trigger.hosts\[5\] does not exist: trigger.hosts has 2 items/,
    )
    expect(failure('trigger.none.x').message).toMatch(
      /trigger.none is null, so trigger.none.x does not exist/,
    )
    expect(failure('nope.x').message).toMatch(/unknown name "nope"; available: event, steps, trigger/)
    expect(failure('trigger.count.x').message).toMatch(/cannot read "x" of trigger.count: it is a number 3/)
    expect(failure("trigger.hosts['length']").message).toMatch(
      /trigger.hosts is an array: index it with a whole number/,
    )
    expect(failure('trigger.labels[0]').message).toMatch(/its keys are strings, got number 0/)
  })

  it('reads own properties only: inherited and prototype members are not there', () => {
    const inherited = Object.create({ secret: 'from-prototype' }) as Record<string, unknown>
    inherited.own = 1
    // An object with a prototype of its own is not JSON data: nothing is read through it.
    expect(failure('x.wrap.secret', { x: { wrap: inherited } }).code).toBe('STAVILY_ERR_EXPRESSION_TYPE')
    expect(failure('x.toString', { x: {} }).message).toMatch(/has no key "toString"; it has no keys/)
    expect(failure('x.hasOwnProperty', { x: { a: 1 } }).code).toBe('STAVILY_ERR_EXPRESSION_UNKNOWN_PATH')
    // A key computed at run time is checked too.
    expect(failure('x[y]', { x: {}, y: '__proto__' }).code).toBe('STAVILY_ERR_EXPRESSION_REFERENCE')
    // Class instances are not data.
    expect(failure('x.getTime', { x: new Date() }).code).toBe('STAVILY_ERR_EXPRESSION_TYPE')
    // Data that has a key called like a prototype member is read as data.
    expect(run("x['valueOf']", { x: { valueOf: 'v' } })).toBe('v')
  })

  it('refuses secrets with a pointer to the right mechanism', () => {
    const e = failure('secrets.TOKEN', { secrets: { TOKEN: 'x' } })
    expect(e.code).toBe('STAVILY_ERR_EXPRESSION_REFERENCE')
    expect(e.message).toMatch(/ctx.secrets.get/)
  })

  it('runs the built-in functions', () => {
    expect(run("contains(trigger.hosts, 'b')")).toBe(true)
    expect(run("contains(trigger.labels.service, 'e')")).toBe(true)
    expect(run("startsWith(event.type, 'alert.')")).toBe(true)
    expect(run("endsWith(event.type, '.resolved')")).toBe(false)
    expect(run('upper(trigger.labels.service)')).toBe('WEB')
    expect(run("lower('ABC')")).toBe('abc')
    expect(run("trim('  x ')")).toBe('x')
    expect(run('length(trigger.hosts)')).toBe(2)
    expect(run('length(trigger.labels)')).toBe(2)
    expect(run("length('abcd')")).toBe(4)
    expect(run('toJSON(trigger.labels)')).toBe('{"service":"web","severity":"critical"}')
    expect(run("join(trigger.hosts, ' ')")).toBe('a b')
    expect(run('string(trigger.count)')).toBe('3')
    expect(run("number('12')")).toBe(12)
  })

  it('default() falls back on missing keys and null, and keeps other errors', () => {
    expect(run("default(trigger.labels.team, 'ops')")).toBe('ops')
    expect(run("default(trigger.none, 'x')")).toBe('x')
    expect(run("default(trigger.labels.service, 'x')")).toBe('web')
    expect(run('default(trigger.count, 0)')).toBe(3)
    expect(failure("default(lower(trigger.count), 'x')").code).toBe('STAVILY_ERR_EXPRESSION_TYPE')
  })

  it('reports bad function arguments with the function and the value', () => {
    expect(failure('lower(trigger.count)').message).toMatch(
      /lower\(\) expects a string as argument 1, got number 3/,
    )
    expect(failure("number('12abc')").message).toMatch(/number\(\) cannot convert string "12abc" to a number/)
    expect(failure("number('')").code).toBe('STAVILY_ERR_EXPRESSION_TYPE')
    expect(failure("fromJSON('{')").message).toMatch(/fromJSON\(\) got text that is not JSON/)
    expect(failure('contains(trigger.count, 1)').message).toMatch(/contains\(\) expects a string or an array/)
  })
})

describe('values nested deeper than the stack', () => {
  let deep: unknown = 1
  let twin: unknown = 1
  for (let i = 0; i < 200_000; i++) {
    deep = [deep]
    twin = [twin]
  }

  it('compares them without overflowing', () => {
    expect(run('x == y', { x: deep, y: twin })).toBe(true)
    expect(run('x != y', { x: deep, y: [twin] })).toBe(true)
    expect(run('contains(x, y)', { x: [deep], y: twin })).toBe(true)
  })

  it('refuses to print them with a limit error, not a crash', () => {
    expect(failure('toJSON(x)', { x: deep }).code).toBe('STAVILY_ERR_EXPRESSION_LIMIT')
  })
})

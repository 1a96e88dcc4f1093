import { expect, describe as group, it } from 'vitest'
import { SandboxErrorCodes as C } from '../../../errors.ts'
import { bad, describe, optionalNumber, plainObject, str, stringRecord } from './args.ts'

// Every capability argument comes from plugin code: a bad one fails with
// STAVILY_ERR_SANDBOX_CAPABILITY_FAILED and a message naming the argument, what was
// expected and what it got (never the whole value: it may be megabytes).

/** `code message` of what `f` throws, or 'accepted'. */
const refusal = (f: () => unknown): string => {
  try {
    f()
  } catch (err) {
    const e = err as { code: string; message: string }
    return `${e.code} ${e.message}`
  }
  return 'accepted'
}

group('describe', () => {
  it.each<[unknown, string]>([
    [null, 'null'],
    [undefined, 'undefined'],
    [[1, 2], 'an array'],
    [[], 'an array'],
    [{ a: 1 }, 'object'],
    [7, 'number'],
    [Number.NaN, 'number'],
    [true, 'boolean'],
    ['', '""'],
    ['say "hi"', '"say \\"hi\\""'],
    ['x'.repeat(60), `"${'x'.repeat(60)}"`],
    ['x'.repeat(61), 'a string of 61 characters'],
  ])('%j is shown as %s', (value, shown) => {
    expect(describe(value)).toBe(shown)
  })
})

group('bad', () => {
  it('names the place, what was expected and what came', () => {
    const e = bad('exec args', 'an array', 'ls -l')
    expect(e).toMatchObject({
      code: C.CAPABILITY_FAILED,
      message: 'exec args: expected an array, got "ls -l"',
      retryable: false,
    })
  })
})

group('str', () => {
  it('accepts a string up to the maximum length, and returns it', () => {
    expect(str('k', 'abc', 3)).toBe('abc')
    expect(str('k', 'a', 3)).toBe('a')
  })

  it('refuses one character over the maximum', () => {
    expect(refusal(() => str('state.get key', 'abcd', 3))).toBe(
      `${C.CAPABILITY_FAILED} state.get key: expected a non-empty string of at most 3 characters, got "abcd"`,
    )
  })

  it('refuses an empty string unless empty is allowed', () => {
    expect(refusal(() => str('k', '', 3))).toBe(
      `${C.CAPABILITY_FAILED} k: expected a non-empty string of at most 3 characters, got ""`,
    )
    expect(str('k', '', 3, { empty: true })).toBe('')
    expect(refusal(() => str('k', '', 3, { empty: false }))).toMatch(/non-empty/)
  })

  it('says "a string" (not non-empty) where empty is allowed', () => {
    expect(refusal(() => str('text', 'abcd', 3, { empty: true }))).toBe(
      `${C.CAPABILITY_FAILED} text: expected a string of at most 3 characters, got "abcd"`,
    )
  })

  it.each<[unknown, string]>([
    [5, 'number'],
    [null, 'null'],
    [undefined, 'undefined'],
    [['a'], 'an array'],
    [{ toString: () => 'a' }, 'object'],
  ])('refuses %j, saying it got %s', (value, got) => {
    expect(refusal(() => str('name', value, 10))).toBe(
      `${C.CAPABILITY_FAILED} name: expected a non-empty string of at most 10 characters, got ${got}`,
    )
  })

  it('refuses a NUL character anywhere, even in a string of allowed length', () => {
    expect(refusal(() => str('path', 'a\0b', 10))).toBe(
      `${C.CAPABILITY_FAILED} path: expected a string without NUL characters, got "a\\u0000b"`,
    )
    expect(refusal(() => str('path', '\0', 10, { empty: true }))).toMatch(/without NUL characters/)
  })
})

group('optionalNumber', () => {
  it('passes undefined and null through as undefined', () => {
    expect(optionalNumber('t', undefined, 1, 10)).toBeUndefined()
    expect(optionalNumber('t', null, 1, 10)).toBeUndefined()
  })

  it('accepts the bounds and what lies between, fractions included', () => {
    expect(optionalNumber('t', 1, 1, 10)).toBe(1)
    expect(optionalNumber('t', 10, 1, 10)).toBe(10)
    expect(optionalNumber('t', 2.5, 1, 10)).toBe(2.5)
  })

  it.each<[unknown, string]>([
    [0, 'number'],
    [0.999, 'number'],
    [11, 'number'],
    [10.001, 'number'],
    [Number.NaN, 'number'],
    [Number.POSITIVE_INFINITY, 'number'],
    [Number.NEGATIVE_INFINITY, 'number'],
    ['5', '"5"'],
    [false, 'boolean'],
  ])('refuses %s', (value, got) => {
    expect(refusal(() => optionalNumber('exec options.timeoutMs', value, 1, 10))).toBe(
      `${C.CAPABILITY_FAILED} exec options.timeoutMs: expected a number from 1 to 10, got ${got}`,
    )
  })

  it('refuses an infinity even when the range is unbounded', () => {
    expect(
      refusal(() =>
        optionalNumber('t', Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY),
      ),
    ).toMatch(/^\S+ t: expected a number from -Infinity to Infinity/)
  })
})

group('plainObject', () => {
  it('returns the object itself, and undefined for undefined or null', () => {
    const o = { a: 1 }
    expect(plainObject('o', o)).toBe(o)
    expect(plainObject('o', undefined)).toBeUndefined()
    expect(plainObject('o', null)).toBeUndefined()
  })

  it.each<[unknown, string]>([
    [[], 'an array'],
    ['x', '"x"'],
    [3, 'number'],
    [true, 'boolean'],
  ])('refuses %j', (value, got) => {
    expect(refusal(() => plainObject('exec options', value))).toBe(
      `${C.CAPABILITY_FAILED} exec options: expected an object, got ${got}`,
    )
  })
})

group('stringRecord', () => {
  it('is empty for undefined and null', () => {
    expect(stringRecord('env', undefined, 2, 5)).toEqual({})
    expect(stringRecord('env', null, 2, 5)).toEqual({})
  })

  it('copies up to the maximum of entries, values up to the maximum length, empty values too', () => {
    const input = { A: '12345', B: '' }
    const out = stringRecord('env', input, 2, 5)
    expect(out).toEqual({ A: '12345', B: '' })
    expect(out).not.toBe(input)
  })

  it('refuses one entry over the maximum', () => {
    expect(refusal(() => stringRecord('exec options.env', { A: 'a', B: 'b', C: 'c' }, 2, 5))).toBe(
      `${C.CAPABILITY_FAILED} exec options.env: expected at most 2 entries, got "3 entries"`,
    )
  })

  it('names the entry whose value is too long or not a string', () => {
    expect(refusal(() => stringRecord('exec options.env', { A: 'a', LONG: '123456' }, 2, 5))).toBe(
      `${C.CAPABILITY_FAILED} exec options.env.LONG: expected a string of at most 5 characters, got "123456"`,
    )
    expect(refusal(() => stringRecord('exec options.env', { N: 1 }, 2, 5))).toBe(
      `${C.CAPABILITY_FAILED} exec options.env.N: expected a string of at most 5 characters, got number`,
    )
    expect(refusal(() => stringRecord('exec options.env', { Z: 'a\0' }, 2, 5))).toMatch(
      /exec options\.env\.Z: expected a string without NUL characters/,
    )
  })

  it('refuses what is not an object', () => {
    expect(refusal(() => stringRecord('exec options.env', ['A=1'], 2, 5))).toBe(
      `${C.CAPABILITY_FAILED} exec options.env: expected an object, got an array`,
    )
  })
})

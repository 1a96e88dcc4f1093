import { assertValid } from '@stavily/sdk/manifest'
import { Type } from 'typebox'
import { describe, expect, it } from 'vitest'
import { findRiskyPattern, patternRisk, withLinearPatterns } from './schema-patterns.ts'

/** Time of `fn` in ms. */
function timed(fn: () => void): number {
  const started = performance.now()
  fn()
  return performance.now() - started
}

/** The error `fn` throws (and fails the test if it throws none). */
function thrown(fn: () => void): { code?: string; message: string } {
  try {
    fn()
  } catch (err) {
    return err as { code?: string; message: string }
  }
  throw new Error('expected a throw')
}

describe('patternRisk', () => {
  it.each([
    '^[a-z0-9-]+$',
    '^\\d{4}-\\d{2}-\\d{2}$',
    '^(foo|bar)$',
    '^[A-Z_]{1,64}$',
    '^(?:[a-z]+\\.)?example\\.com$',
    // Nested quantifiers are harmless on a linear-time engine.
    '^((a)+)+$',
    '^\\d*\\d*\\d*\\d*\\d*z$',
    '^(a|aa)+$',
    '^\\u00e9\\u{1F600}$',
  ])('accepts %s', (p) => {
    expect(patternRisk(p)).toBeUndefined()
  })

  it.each([
    ['(a)\\1', /linear-time engine/],
    ['(?=a)a', /linear-time engine/],
    ['(?<!x)a', /linear-time engine/],
    ['x'.repeat(1001), /longer than 1000/],
    ['(unclosed', /not a valid regular expression/],
  ])('refuses %s', (p, reason) => {
    expect(patternRisk(p)).toMatch(reason)
  })
})

describe('findRiskyPattern', () => {
  it('finds a refused pattern anywhere in a schema, with its path', () => {
    const schema = {
      output: { type: 'object', properties: { id: { type: 'string', pattern: '^(a)\\1$' } } },
    }
    expect(findRiskyPattern(schema, 'schemas')).toMatch(
      /^schemas\.output\.properties\.id\.pattern "\^\(a\)\\\\1\$" cannot run on a linear-time engine/,
    )
    expect(findRiskyPattern({ event: { patternProperties: { '(?=x)': {} } } }, 'schemas')).toMatch(
      /patternProperties/,
    )
    expect(findRiskyPattern({ input: { type: 'string', pattern: '^((a)+)+$' } }, 'schemas')).toBeUndefined()
  })
})

describe('validation with linear patterns', () => {
  // Each of these takes seconds to minutes on a backtracking engine (2 s for the first at 25
  // characters, over 20 s for the second at 200).
  const nested = Type.Object({ id: Type.String({ pattern: '^((a)+)+$' }) })
  const stars = Type.Object({ n: Type.String({ pattern: '^\\d*\\d*\\d*\\d*\\d*z$' }) })
  const keys = Type.Object({
    m: Type.Record(Type.String({ pattern: '^((a)+)+$' }), Type.Number(), { additionalProperties: false }),
  })

  it('refuses a near miss of ^((a)+)+$ on a long string fast, and accepts a match', () => {
    const ms = timed(() => {
      const err = thrown(() =>
        withLinearPatterns(() => assertValid('output', nested, { id: `${'a'.repeat(100_000)}!` })),
      )
      expect(err).toMatchObject({ code: 'STAVILY_ERR_INVALID_OUTPUT' })
      expect(err.message).toContain('output.id')
      withLinearPatterns(() => assertValid('output', nested, { id: 'a'.repeat(100_000) }))
    })
    expect(ms).toBeLessThan(2_000)
  })

  it('refuses a near miss of ^\\d*\\d*\\d*\\d*\\d*z$ on a long string fast, and accepts a match', () => {
    const ms = timed(() => {
      expect(
        thrown(() => withLinearPatterns(() => assertValid('input', stars, { n: '1'.repeat(100_000) }))),
      ).toMatchObject({ code: 'STAVILY_ERR_INVALID_INPUT' })
      withLinearPatterns(() => assertValid('input', stars, { n: `${'1'.repeat(100_000)}z` }))
    })
    expect(ms).toBeLessThan(2_000)
  })

  it('runs patternProperties keys (and the additionalProperties check built from them) on the linear engine too', () => {
    const ms = timed(() => {
      const err = thrown(() =>
        withLinearPatterns(() => assertValid('config', keys, { m: { [`${'a'.repeat(50_000)}!`]: 'x' } })),
      )
      expect(err).toMatchObject({ code: 'STAVILY_ERR_INVALID_CONFIG' })
      withLinearPatterns(() => assertValid('config', keys, { m: { ['a'.repeat(50_000)]: 1 } }))
    })
    expect(ms).toBeLessThan(2_000)
  })

  it('puts the global RegExp back, also when validation throws', () => {
    const before = globalThis.RegExp
    thrown(() => withLinearPatterns(() => assertValid('output', nested, { id: '!' })))
    expect(globalThis.RegExp).toBe(before)
    expect(/^(a)\1$/.test('aa')).toBe(true)
  })
})

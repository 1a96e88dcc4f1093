import { describe, expect, it } from 'vitest'
import { findRiskyPattern, patternRisk } from './schema-patterns.ts'

describe('patternRisk', () => {
  it.each([
    '^[a-z0-9-]+$',
    '^\\d{4}-\\d{2}-\\d{2}$',
    '^(foo|bar)$',
    '^[A-Z_]{1,64}$',
    '^(?:[a-z]+\\.)?example\\.com$',
  ])('accepts %s', (p) => {
    expect(patternRisk(p)).toBeUndefined()
  })

  it.each([
    '^(a+)+$',
    '(x*)*y',
    '^(\\w+\\s?)*$',
    '(a{2,})+',
    '^(a|aa)+$',
    '(a)\\1',
    'x'.repeat(1001),
    '(unclosed',
  ])('refuses %s', (p) => {
    expect(patternRisk(p)).toBeTypeOf('string')
  })
})

describe('findRiskyPattern', () => {
  it('finds a risky pattern anywhere in a schema, with its path', () => {
    const schema = {
      output: { type: 'object', properties: { id: { type: 'string', pattern: '^(a+)+$' } } },
    }
    expect(findRiskyPattern(schema, 'schemas')).toMatch(
      /^schemas\.output\.properties\.id\.pattern "\^\(a\+\)\+\$" repeats/,
    )
    expect(findRiskyPattern({ event: { patternProperties: { '(x*)*': {} } } }, 'schemas')).toMatch(
      /patternProperties/,
    )
    expect(findRiskyPattern({ input: { type: 'string', pattern: '^ok$' } }, 'schemas')).toBeUndefined()
  })
})

import { describe, expect, it } from 'vitest'
import { ExpressionError } from './errors.ts'
import { parseExpression } from './parser.ts'
import { EXPRESSION_POLICY } from './policy.ts'

function syntaxError(source: string): ExpressionError {
  try {
    parseExpression(source)
  } catch (err) {
    expect(err).toBeInstanceOf(ExpressionError)
    return err as ExpressionError
  }
  throw new Error(`expected "${source}" to be refused`)
}

describe('parseExpression', () => {
  it('binds && tighter than || and comparisons tighter than both', () => {
    const { ast } = parseExpression('a || b && c == 1')
    expect(ast).toMatchObject({
      kind: 'logical',
      operator: '||',
      left: { kind: 'identifier', name: 'a' },
      right: { kind: 'logical', operator: '&&', right: { kind: 'binary', operator: '==' } },
    })
    const paren = parseExpression('(a || b) && c').ast
    expect(paren).toMatchObject({
      kind: 'logical',
      operator: '&&',
      left: { kind: 'logical', operator: '||' },
    })
  })

  it('reads literals: strings with escapes, numbers, booleans, null', () => {
    expect(parseExpression(`'it\\'s\\n'`).ast).toMatchObject({ kind: 'literal', value: "it's\n" })
    expect(parseExpression('"\\u00e9"').ast).toMatchObject({ value: 'é' })
    expect(parseExpression('-1.5e2').ast).toMatchObject({ value: -150 })
    expect(parseExpression('true').ast).toMatchObject({ value: true })
    expect(parseExpression('null').ast).toMatchObject({ value: null })
  })

  it('reads dotted, bracketed and indexed paths, and names with dashes', () => {
    expect(parseExpression(`steps.restart-web.output['x y'][0]`).ast).toMatchObject({
      kind: 'member',
      computed: true,
      property: { value: 0 },
      object: { kind: 'member', computed: true, property: { value: 'x y' } },
    })
  })

  it('refuses prototype keys however they are written', () => {
    for (const src of ['a.__proto__', "a['constructor']", 'a.prototype', 'constructor', 'a["__proto__"].b']) {
      expect(syntaxError(src).message).toMatch(/not accessible/)
    }
  })

  it('names the column and what was expected', () => {
    const e = syntaxError('a == (b')
    expect(e.code).toBe('STAVILY_ERR_EXPRESSION_SYNTAX')
    expect(e.column).toBe(8)
    expect(e.message).toBe(
      'expected ")" to close "(", got end of expression (in expression "a == (b" at column 8)',
    )
    expect(syntaxError('a = b').message).toMatch(/unexpected character "=" \(use == to compare\)/)
    expect(syntaxError('a & b').column).toBe(3)
    expect(syntaxError("'open").message).toMatch(/unterminated string literal/)
    expect(syntaxError('a b').message).toMatch(/unexpected "b" after the end of the expression/)
    expect(syntaxError('').message).toMatch(/empty expression/)
    expect(syntaxError('a.').message).toMatch(/expected a property name after "."/)
    expect(syntaxError('1 + 2').message).toMatch(/there is no arithmetic/)
  })

  it('checks function names and argument counts when parsing', () => {
    expect(syntaxError('eval("x")').message).toMatch(
      /unknown function "eval"; available: .*contains.*default/,
    )
    expect(syntaxError('constructor(1)').message).toMatch(/unknown function "constructor"/)
    expect(syntaxError('lower()').message).toMatch(/lower\(\) takes 1 argument, got 0/)
    expect(syntaxError('default(a)').message).toMatch(/default\(\) takes 2 arguments, got 1/)
    expect(syntaxError('join(a, b, c)').message).toMatch(/join\(\) takes 1 to 2 arguments, got 3/)
  })

  it('limits length and depth', () => {
    const long = `'${'x'.repeat(EXPRESSION_POLICY.maxExpressionLength)}'`
    expect(syntaxError(long).code).toBe('STAVILY_ERR_EXPRESSION_LIMIT')
    const deep = `${'('.repeat(40)}a${')'.repeat(40)}`
    expect(syntaxError(deep).code).toBe('STAVILY_ERR_EXPRESSION_LIMIT')
    const bangs = `${'!'.repeat(100)}a`
    expect(syntaxError(bangs).code).toBe('STAVILY_ERR_EXPRESSION_LIMIT')
    const chain = `a${'.b'.repeat(60)}`
    expect(syntaxError(chain).message).toMatch(/nested more than 32 levels/)
    // Just within the limits parses.
    expect(() => parseExpression(`a${'.b'.repeat(10)}`)).not.toThrow()
  })
})

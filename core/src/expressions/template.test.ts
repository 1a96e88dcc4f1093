// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is this language's template syntax, not a mistaken JS template literal
import { describe, expect, it } from 'vitest'
import { ExpressionError } from './errors.ts'
import { EXPRESSION_POLICY } from './policy.ts'
import {
  collectExpressions,
  evaluateCondition,
  parseCondition,
  parseTemplate,
  renderTemplate,
  renderValue,
} from './template.ts'

const context = {
  trigger: { labels: { service: 'web' }, count: 3, tags: ['a', 'b'], none: null },
  steps: { restart: { status: 'succeeded', output: { restarted: true, pid: 42 }, error: null } },
}

function failure(fn: () => unknown): ExpressionError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(ExpressionError)
    return err as ExpressionError
  }
  throw new Error('expected a failure')
}

describe('templates', () => {
  it('keeps the type of a value when the string is exactly one expression', () => {
    expect(renderTemplate('${{ trigger.count }}', context)).toBe(3)
    expect(renderTemplate('${{steps.restart.output.restarted}}', context)).toBe(true)
    expect(renderTemplate('${{ trigger.tags }}', context)).toEqual(['a', 'b'])
    expect(renderTemplate('${{ trigger.none }}', context)).toBeNull()
  })

  it('interpolates mixed text as strings', () => {
    expect(renderTemplate('restart ${{ trigger.labels.service }} (${{ trigger.count }}x)', context)).toBe(
      'restart web (3x)',
    )
    expect(renderTemplate(' ${{ trigger.count }}', context)).toBe(' 3')
    expect(renderTemplate('tags=${{ trigger.tags }} none=[${{ trigger.none }}]', context)).toBe(
      'tags=["a","b"] none=[]',
    )
    expect(renderTemplate('no expressions', context)).toBe('no expressions')
  })

  it('finds the end of an expression outside string literals', () => {
    expect(renderTemplate("${{ '}}' }}", context)).toBe('}}')
    expect(renderTemplate("a ${{ '${{' }} b", context)).toBe('a ${{ b')
  })

  it('renders step inputs recursively, without templating keys', () => {
    const input = {
      service: '${{ trigger.labels.service }}',
      '${{ key }}': 'kept',
      nested: { pid: '${{ steps.restart.output.pid }}', list: ['${{ trigger.count }}', 7, false, null] },
    }
    expect(renderValue(input, context)).toEqual({
      service: 'web',
      '${{ key }}': 'kept',
      nested: { pid: 42, list: [3, 7, false, null] },
    })
  })

  it('keeps a "__proto__" key in an input as a plain key', () => {
    const input = JSON.parse('{"__proto__": {"polluted": "${{ trigger.count }}"}}')
    const out = renderValue(input, context) as Record<string, unknown>
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype)
    expect(Object.hasOwn(out, '__proto__')).toBe(true)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('names the field, the expression and the column when rendering fails', () => {
    const e = failure(() => renderValue({ headers: { 'x-svc': 'svc=${{ trigger.labels.svc }}' } }, context))
    expect(e.code).toBe('STAVILY_ERR_EXPRESSION_UNKNOWN_PATH')
    expect(e.message).toBe(
      'headers.x-svc: trigger.labels has no key "svc"; keys there: service (in expression "trigger.labels.svc" at column 16)',
    )
    expect(e.data).toMatchObject({ field: 'headers.x-svc' })
  })

  it('refuses an unclosed ${{ with its column', () => {
    const e = failure(() => parseTemplate('abc ${{ trigger.count'))
    expect(e.column).toBe(5)
    expect(e.message).toMatch(/never closed/)
  })

  it('limits the number of expressions and the rendered length', () => {
    const many = '${{ 1 }}'.repeat(EXPRESSION_POLICY.maxExpressionsPerTemplate + 1)
    expect(failure(() => parseTemplate(many)).code).toBe('STAVILY_ERR_EXPRESSION_LIMIT')
    const big = { trigger: { s: 'x'.repeat(EXPRESSION_POLICY.maxRenderedLength) } }
    expect(failure(() => renderTemplate('a${{ trigger.s }}', big)).code).toBe('STAVILY_ERR_EXPRESSION_LIMIT')
    let deep: unknown = 'leaf'
    for (let i = 0; i < EXPRESSION_POLICY.maxRenderDepth + 2; i++) deep = [deep]
    expect(failure(() => renderValue(deep, context)).message).toMatch(
      /^(\[0\])+ is nested more than 32 levels deep$/,
    )
  })

  it('reads conditions bare or wrapped, and refuses text around them', () => {
    expect(evaluateCondition(parseCondition("trigger.labels.service == 'web'"), context)).toBe(true)
    expect(evaluateCondition(parseCondition('${{ trigger.count < 2 }}'), context)).toBe(false)
    expect(evaluateCondition(parseCondition(false), context)).toBe(false)
    expect(evaluateCondition(parseCondition('trigger.tags'), context)).toBe(true)
    expect(evaluateCondition(parseCondition('trigger.none'), context)).toBe(false)
    expect(failure(() => parseCondition('x ${{ true }}')).message).toMatch(/a condition is one expression/)
  })

  it('collects every expression in a value with its path', () => {
    const found = collectExpressions({ a: '${{ x }} and ${{ y.z }}', b: ['${{ w }}'], c: 1 }, 'input')
    expect(found.map((f) => [f.path, f.expression.source])).toEqual([
      ['input.a', 'x'],
      ['input.a', 'y.z'],
      ['input.b[0]', 'w'],
    ])
  })
})

describe('templates over values nested deeper than the stack', () => {
  it('fail with a limit error when interpolated', () => {
    let deep: unknown = 1
    for (let i = 0; i < 200_000; i++) deep = [deep]
    const e = failure(() => renderTemplate('v=${{ x }}', { x: deep }))
    expect(e.code).toBe('STAVILY_ERR_EXPRESSION_LIMIT')
    expect(e.column).toBe(7)
  })
})

// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is this language's template syntax, not a mistaken JS template literal
import type { Expression } from './ast.ts'
import { ExpressionError } from './errors.ts'
import { type ExpressionContext, evaluate } from './evaluate.ts'
import { parseExpression } from './parser.ts'
import { EXPRESSION_POLICY } from './policy.ts'
import { isPlainObject, toText, truthy, UnprintableValueError } from './values.ts'

// Templates are strings with `${{ expression }}` parts. A string that is exactly one
// `${{ }}` keeps the value's type (a number stays a number, an object an object); mixed
// text interpolates each value as text. Step inputs are rendered recursively.

export interface TemplatePart {
  expression: Expression
  /** 0-based offset of the expression's first character in the template. */
  offset: number
}

export interface Template {
  source: string
  /** Literal text and expressions, in order. */
  parts: (string | TemplatePart)[]
}

const OPEN = '${{'
const CLOSE = '}}'

export function isTemplate(text: string): boolean {
  return text.includes(OPEN)
}

export function parseTemplate(source: string): Template {
  const parts: (string | TemplatePart)[] = []
  let i = 0
  let count = 0
  while (i < source.length) {
    const open = source.indexOf(OPEN, i)
    if (open < 0) {
      parts.push(source.slice(i))
      break
    }
    if (open > i) parts.push(source.slice(i, open))
    const close = findClose(source, open + OPEN.length)
    if (close < 0) {
      throw new ExpressionError(
        'STAVILY_ERR_EXPRESSION_SYNTAX',
        source,
        open + 1,
        `"${OPEN}" at column ${open + 1} is never closed with "${CLOSE}"`,
      )
    }
    if (++count > EXPRESSION_POLICY.maxExpressionsPerTemplate) {
      throw new ExpressionError(
        'STAVILY_ERR_EXPRESSION_LIMIT',
        source,
        open + 1,
        `a template may hold at most ${EXPRESSION_POLICY.maxExpressionsPerTemplate} expressions`,
      )
    }
    const raw = source.slice(open + OPEN.length, close)
    const lead = raw.length - raw.trimStart().length
    const inner = raw.trim()
    const offset = open + OPEN.length + lead
    parts.push({ expression: parseExpression(inner), offset })
    i = close + CLOSE.length
  }
  return { source, parts }
}

// The first `}}` outside a string literal: `${{ '}}' }}` is one expression.
function findClose(source: string, from: number): number {
  let quote: string | undefined
  for (let i = from; i < source.length; i++) {
    const c = source[i]
    if (quote) {
      if (c === '\\') i++
      else if (c === quote) quote = undefined
    } else if (c === "'" || c === '"') quote = c
    else if (c === '}' && source[i + 1] === '}') return i
  }
  return -1
}

export function renderTemplate(template: Template | string, context: ExpressionContext): unknown {
  const t = typeof template === 'string' ? parseTemplate(template) : template
  const [only] = t.parts
  if (t.parts.length === 1 && typeof only !== 'string' && only !== undefined)
    return evaluate(only.expression, context)
  let out = ''
  for (const part of t.parts) {
    out += typeof part === 'string' ? part : textOf(t.source, part, evaluate(part.expression, context))
    if (out.length > EXPRESSION_POLICY.maxRenderedLength) {
      const at = typeof part === 'string' ? 1 : part.offset + 1
      throw new ExpressionError(
        'STAVILY_ERR_EXPRESSION_LIMIT',
        t.source,
        at,
        `rendered text is longer than ${EXPRESSION_POLICY.maxRenderedLength} characters`,
      )
    }
  }
  return out
}

function textOf(source: string, part: TemplatePart, value: unknown): string {
  try {
    return toText(value)
  } catch (err) {
    if (!(err instanceof UnprintableValueError)) throw err
    throw new ExpressionError('STAVILY_ERR_EXPRESSION_LIMIT', source, part.offset + 1, err.message)
  }
}

/**
 * Renders a step's input: strings are templates, arrays and objects are rendered item by
 * item (keys are never templated), other values are kept. Errors carry the path inside the
 * value (`data.path`, e.g. `headers.x-service`) in their message.
 */
export function renderValue(value: unknown, context: ExpressionContext): unknown {
  return renderAt(value, context, '', 0)
}

function renderAt(value: unknown, context: ExpressionContext, path: string, depth: number): unknown {
  if (depth > EXPRESSION_POLICY.maxRenderDepth) {
    throw new ExpressionError(
      'STAVILY_ERR_EXPRESSION_LIMIT',
      '',
      1,
      `${path || 'value'} is nested more than ${EXPRESSION_POLICY.maxRenderDepth} levels deep`,
    )
  }
  if (typeof value === 'string') {
    if (!isTemplate(value)) return value
    try {
      return renderTemplate(value, context)
    } catch (err) {
      throw at(err, path)
    }
  }
  if (Array.isArray(value)) return value.map((v, i) => renderAt(v, context, `${path}[${i}]`, depth + 1))
  if (isPlainObject(value)) {
    // A null-prototype result: a key such as "__proto__" in the input stays a plain key.
    const out: Record<string, unknown> = Object.create(null)
    for (const [k, v] of Object.entries(value)) out[k] = renderAt(v, context, joinPath(path, k), depth + 1)
    return { ...out }
  }
  return value
}

export function joinPath(base: string, key: string): string {
  const seg = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? key : `[${JSON.stringify(key)}]`
  if (seg.startsWith('[')) return `${base}${seg}`
  return base ? `${base}.${seg}` : seg
}

function at(err: unknown, path: string): unknown {
  if (!(err instanceof ExpressionError) || !path) return err
  return new ExpressionError(err.code, err.expression, err.column, `${path}: ${err.detail}`, {
    ...err.data,
    field: path,
  })
}

/** A `when` or `filter`: a constant, or one expression (bare, or wrapped in `${{ }}`). */
export type Condition = boolean | Expression

export function parseCondition(value: boolean | string): Condition {
  if (typeof value === 'boolean') return value
  if (!isTemplate(value)) return parseExpression(value.trim())
  const t = parseTemplate(value.trim())
  const [only] = t.parts
  if (t.parts.length !== 1 || only === undefined || typeof only === 'string') {
    throw new ExpressionError(
      'STAVILY_ERR_EXPRESSION_SYNTAX',
      value,
      1,
      'a condition is one expression: write it bare (a == b) or as exactly one ${{ a == b }}, without text around it',
    )
  }
  return only.expression
}

export function evaluateCondition(condition: Condition, context: ExpressionContext): boolean {
  return typeof condition === 'boolean' ? condition : truthy(evaluate(condition, context))
}

/** Every expression in a value (strings anywhere inside it), with where it was found. */
export function collectExpressions(value: unknown, path = ''): { path: string; expression: Expression }[] {
  const out: { path: string; expression: Expression }[] = []
  const walk = (v: unknown, p: string, depth: number) => {
    if (depth > EXPRESSION_POLICY.maxRenderDepth) return
    if (typeof v === 'string' && isTemplate(v)) {
      for (const part of parseTemplate(v).parts)
        if (typeof part !== 'string') out.push({ path: p, expression: part.expression })
    } else if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) walk(x, `${p}[${i}]`, depth + 1)
    } else if (isPlainObject(v)) for (const [k, x] of Object.entries(v)) walk(x, joinPath(p, k), depth + 1)
  }
  walk(value, path, 0)
  return out
}

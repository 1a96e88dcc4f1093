import type { TSchema } from 'typebox'
import { Value } from 'typebox/value'
import { isPlainObject } from '../expressions/values.ts'
import { type PathSegment, type RawIssue, shown } from './issues.ts'

// Checks a value against the workflow's TypeBox schema and reports EVERY problem, each at
// its own path. TypeBox's Value.Errors stops inside a failing object or list, and its
// messages are JSON Schema's ("must be integer"); this walk covers the subset of JSON Schema
// that schema.ts uses (objects, records, arrays, unions of literals, scalars) and says each
// schema's `expected` text. Leaves are still checked by TypeBox itself (Value.Check).

interface SchemaNode {
  type?: string
  expected?: string
  properties?: Record<string, SchemaNode>
  required?: string[]
  additionalProperties?: boolean | SchemaNode
  patternProperties?: Record<string, SchemaNode>
  items?: SchemaNode
  maxItems?: number
  minItems?: number
  anyOf?: SchemaNode[]
}

export function checkSchema(schema: TSchema, value: unknown): RawIssue[] {
  const out: RawIssue[] = []
  walk(schema as SchemaNode, value, [], out)
  return out
}

function expectedOf(s: SchemaNode): string {
  return s.expected ?? (s.type ? `a ${s.type}` : 'a valid value')
}

function walk(s: SchemaNode, value: unknown, path: PathSegment[], out: RawIssue[]): void {
  const mismatch = () => out.push({ path, message: `expected ${expectedOf(s)}, got ${shown(value)}` })
  if (s.anyOf) {
    if (!Value.Check(s as TSchema, value)) mismatch()
    return
  }
  if (s.type === 'object') {
    if (!isPlainObject(value)) return void mismatch()
    if (s.patternProperties) {
      const [inner] = Object.values(s.patternProperties)
      if (inner) for (const [k, v] of Object.entries(value)) walk(inner, v, [...path, k], out)
      return
    }
    const props = s.properties ?? {}
    for (const name of s.required ?? []) {
      if (!Object.hasOwn(value, name)) {
        out.push({
          path: [...path, name],
          message: `is required: expected ${expectedOf(props[name]!)}`,
          pointAt: 'parent',
        })
      }
    }
    for (const [k, v] of Object.entries(value)) {
      const inner = Object.hasOwn(props, k) ? props[k] : undefined
      if (inner) walk(inner, v, [...path, k], out)
      else if (s.additionalProperties === false) {
        const known = Object.keys(props)
        const near = closest(k, known)
        const hint = near ? `did you mean "${near}"? ` : ''
        out.push({
          path: [...path, k],
          message: `unknown field; ${hint}expected one of: ${known.join(', ')}`,
          pointAt: 'key',
        })
      }
    }
    return
  }
  if (s.type === 'array') {
    if (!Array.isArray(value)) return void mismatch()
    if (s.maxItems !== undefined && value.length > s.maxItems) {
      out.push({ path, message: `expected ${expectedOf(s)}, got ${value.length} items` })
    }
    if (s.minItems !== undefined && value.length < s.minItems) {
      out.push({ path, message: `expected ${expectedOf(s)}, got ${value.length} items` })
    }
    if (s.items) for (const [i, v] of value.entries()) walk(s.items, v, [...path, i], out)
    return
  }
  if (!Value.Check(s as TSchema, value)) mismatch()
}

/** The known name within edit distance 2 of a misspelt one, for "did you mean". */
function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined
  let bestDistance = 3
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase())
    if (d < bestDistance) {
      best = c
      bestDistance = d
    }
  }
  return best
}

function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    prev = cur
  }
  return prev[b.length]!
}

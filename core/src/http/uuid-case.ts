import type { TSchema } from 'typebox'
import { UUID_PATTERN } from './schemas/common.ts'

// A UUID is accepted in either case (RFC 4122 says so, and the schemas allow it), but ids
// are stored and compared lower-case: PostgreSQL's uuid type ignores case, in-memory maps,
// Redis keys and `===` do not, so an upper-case sensor id got 403 "not bound". Every field
// whose schema is a UUID is lower-cased once, here, after it validated.

type Node = Record<string, unknown>

/** Returns the value with every string that its schema calls a UUID lower-cased. */
export function lowerUuids(schema: TSchema, value: unknown): unknown {
  return walk(schema as unknown as Node, value)
}

function walk(s: Node | undefined, v: unknown): unknown {
  if (!s || typeof s !== 'object') return v
  if (typeof v === 'string') {
    if (s.pattern === UUID_PATTERN) return v.toLowerCase()
    return unionOf(s) ? walkUnion(s, v) : v
  }
  if (Array.isArray(v)) {
    const items = s.items as Node | undefined
    if (items && typeof items === 'object' && !Array.isArray(items)) {
      for (let i = 0; i < v.length; i++) v[i] = walk(items, v[i])
    }
    return unionOf(s) ? walkUnion(s, v) : v
  }
  if (v !== null && typeof v === 'object') {
    const props = s.properties as Record<string, Node> | undefined
    if (props) {
      const o = v as Record<string, unknown>
      for (const k of Object.keys(props)) if (Object.hasOwn(o, k)) o[k] = walk(props[k], o[k])
    }
    return unionOf(s) ? walkUnion(s, v) : v
  }
  return v
}

const unionOf = (s: Node) => (s.anyOf ?? s.oneOf ?? s.allOf) as Node[] | undefined

// A union member that is a UUID (Type.Union([Uuid, Type.Null()])) or holds one.
function walkUnion(s: Node, v: unknown): unknown {
  let out = v
  for (const m of unionOf(s) ?? []) out = walk(m, out)
  return out
}

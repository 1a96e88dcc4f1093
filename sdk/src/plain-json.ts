import type { JsonValue } from './json.ts'
import { POLICY } from './policy.ts'

/**
 * A plain-JSON copy of `value`: cycles become `"[Circular]"`, too-deep values `"[Truncated]"`,
 * non-finite numbers `null`, bigints strings, dates ISO strings; functions, symbols,
 * `undefined` and properties whose getter throws are dropped. Never throws. `serializeError`
 * uses it for error data.
 *
 * @example
 * ```ts
 * import { toPlainJson } from '@stavily/sdk'
 * const node: Record<string, unknown> = { id: 1n, at: new Date(0) }
 * node.self = node
 * toPlainJson(node) // { id: '1', at: '1970-01-01T00:00:00.000Z', self: '[Circular]' }
 * ```
 */
export function toPlainJson(value: unknown): JsonValue | undefined {
  const budget = { entries: POLICY.maxErrorDataEntries }
  return copy(value, 0, new Set(), budget)
}

function copy(
  value: unknown,
  depth: number,
  seen: Set<object>,
  budget: { entries: number },
): JsonValue | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value
    case 'number':
      return Number.isFinite(value) ? value : null
    case 'bigint':
      return value.toString()
    case 'object':
      break
    default:
      return undefined
  }
  if (value === null) return null
  if (seen.has(value)) return '[Circular]'
  if (depth >= POLICY.maxErrorDataDepth) return '[Truncated]'
  if (value instanceof Date) {
    const time = value.getTime()
    return Number.isFinite(time) ? value.toISOString() : null
  }
  seen.add(value)
  try {
    if (Array.isArray(value)) {
      const out: JsonValue[] = []
      for (let i = 0; i < value.length && budget.entries-- > 0; i++) {
        const item = copy(safeRead(value, String(i)), depth + 1, seen, budget)
        out.push(item === undefined ? null : item)
      }
      return out
    }
    const out: Record<string, JsonValue> = {}
    let keys: string[]
    try {
      keys = Object.keys(value)
    } catch {
      return {}
    }
    for (const key of keys) {
      if (budget.entries-- <= 0) break
      const item = copy(safeRead(value, key), depth + 1, seen, budget)
      if (item !== undefined) out[key] = item
    }
    return out
  } finally {
    // Only ancestors count as cycles; the same object twice side by side is copied twice.
    seen.delete(value)
  }
}

function safeRead(target: object, key: string): unknown {
  try {
    return (target as Record<string, unknown>)[key]
  } catch {
    return undefined
  }
}

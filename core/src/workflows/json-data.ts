import { isPlainObject } from '../expressions/values.ts'
import type { PathSegment, RawIssue } from './issues.ts'

// A workflow is stored as JSON and its values travel to plugins as JSON, so the document
// must be JSON data. YAML can say more (`!!binary`, `!!set`, numbers beyond a double's
// range); those are refused here, each at its own field, rather than silently changed.

export function checkJsonData(
  value: unknown,
  path: PathSegment[] = [],
  out: RawIssue[] = [],
  depth = 0,
): RawIssue[] {
  if (depth > 64) {
    out.push({ path, message: 'nested more than 64 levels deep' })
    return out
  }
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return out
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      out.push({ path, message: `expected a number a double can hold, got ${String(value)}` })
    return out
  }
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) checkJsonData(v, [...path, i], out, depth + 1)
    return out
  }
  if (isPlainObject(value)) {
    for (const [k, v] of Object.entries(value)) checkJsonData(v, [...path, k], out, depth + 1)
    return out
  }
  const what =
    value instanceof Uint8Array
      ? 'binary data'
      : value instanceof Map || value instanceof Set
        ? 'a YAML set or ordered map'
        : typeof value
  out.push({
    path,
    message: `expected JSON data (text, number, true/false, null, list or mapping), got ${what}`,
  })
  return out
}

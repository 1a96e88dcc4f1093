// Argument checks of the harness's capabilities: a plugin that passes a wrong argument gets
// STAVILY_ERR_SANDBOX_INVALID_ARGUMENT naming the argument, as it would from the sandbox.
import { ErrorCodes, PluginError } from '../errors.ts'
import type { JsonValue } from '../json.ts'

export function invalid(where: string, expected: string, got: unknown): PluginError {
  return new PluginError(
    ErrorCodes.INVALID_ARGUMENT,
    `${where}: expected ${expected}, got ${describe(got)}`,
    {
      data: { argument: where },
    },
  )
}

export function string(where: string, value: unknown, { empty = false } = {}): string {
  if (typeof value !== 'string' || (!empty && value === '')) {
    throw invalid(where, empty ? 'a string' : 'a non-empty string', value)
  }
  return value
}

export function optionalNumber(where: string, value: unknown): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw invalid(where, 'a positive number', value)
  return value
}

export function optionalObject(where: string, value: unknown): Record<string, unknown> {
  if (value === undefined) return {}
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid(where, 'an object', value)
  return value as Record<string, unknown>
}

export function stringRecord(where: string, value: unknown): Record<string, string> {
  const record = optionalObject(where, value)
  const out: Record<string, string> = {}
  for (const [key, item] of Object.entries(record))
    out[key] = string(`${where}.${key}`, item, { empty: true })
  return out
}

/** A deep copy of `value` when it is plain JSON; throws naming the first non-JSON part. */
export function jsonCopy(where: string, value: unknown, depth = 0): JsonValue {
  if (depth > 64) throw invalid(where, 'JSON nested at most 64 levels', 'a deeper value')
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw invalid(where, 'JSON (a finite number)', value)
    return value
  }
  if (Array.isArray(value)) return value.map((item, i) => jsonCopy(`${where}[${i}]`, item, depth + 1))
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, JsonValue> = {}
    for (const [key, item] of Object.entries(value)) {
      if (item !== undefined) out[key] = jsonCopy(`${where}.${key}`, item, depth + 1)
    }
    return out
  }
  throw invalid(where, 'JSON (null, boolean, number, string, array or plain object)', value)
}

export function describe(value: unknown): string {
  if (value === undefined) return 'nothing'
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string')
    return value === '' ? 'an empty string' : `the string ${JSON.stringify(value)}`
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`
  if (typeof value === 'object') {
    const name = Object.getPrototypeOf(value)?.constructor?.name
    return name && name !== 'Object' ? `a ${name}` : 'an object'
  }
  return typeof value
}

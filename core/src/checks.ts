import { invalid } from './errors.ts'
import type { AgentKind, Role } from './types.ts'

// Argument checks for the programmatic API (the HTTP routes check the same rules through
// their schemas, http/schemas/*). Each message names the field and what was expected.

export const POOL_PATTERN = '^[a-z0-9][a-z0-9-]{0,62}$'
export const LABEL_KEY_PATTERN = '^[a-z0-9][a-z0-9._/-]{0,62}$'
const POOL = new RegExp(POOL_PATTERN)
const LABEL_KEY = new RegExp(LABEL_KEY_PATTERN)

export function checkKind(field: string, v: unknown): AgentKind {
  if (v !== 'sensor' && v !== 'action') throw invalid(field, 'one of "sensor", "action"', v)
  return v
}

export function checkRole(field: string, v: unknown): Role {
  if (v !== 'admin' && v !== 'operator' && v !== 'viewer')
    throw invalid(field, 'one of "admin", "operator", "viewer"', v)
  return v
}

export function checkPool(field: string, v: unknown): string {
  if (typeof v !== 'string' || !POOL.test(v))
    throw invalid(field, 'a pool name (a-z, 0-9, -; at most 63 characters)', v)
  return v
}

export function checkName(field: string, v: unknown, max = 200): string {
  if (typeof v !== 'string' || v.trim().length === 0 || v.length > max)
    throw invalid(field, `a non-empty string of at most ${max} characters`, v)
  return v
}

export function checkLabels(field: string, v: unknown): Record<string, string> {
  if (v === undefined) return {}
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw invalid(field, 'an object of string labels', v)
  const entries = Object.entries(v)
  if (entries.length > 64) throw invalid(field, 'at most 64 labels')
  for (const [k, val] of entries) {
    if (!LABEL_KEY.test(k))
      throw invalid(`${field}.${k}`, 'a label key (a-z, 0-9, . _ / -; at most 63 characters)')
    if (typeof val !== 'string' || val.length > 256)
      throw invalid(`${field}.${k}`, 'a string of at most 256 characters', val)
  }
  return v as Record<string, string>
}

export function checkInt(field: string, v: unknown, min: number, max: number): number {
  if (!Number.isInteger(v) || (v as number) < min || (v as number) > max)
    throw invalid(field, `an integer from ${min} to ${max}`, v)
  return v as number
}

/** An ISO 8601 time with a zone, later than now (an expiry). */
export function checkFutureTime(field: string, v: unknown): Date {
  const d = typeof v === 'string' && /(Z|[+-]\d\d:\d\d)$/i.test(v) ? new Date(v) : undefined
  if (!d || Number.isNaN(d.getTime()))
    throw invalid(field, 'an ISO 8601 time with a zone, e.g. 2027-01-31T00:00:00Z', v)
  if (d.getTime() <= Date.now()) throw invalid(field, 'a time in the future', v)
  return d
}

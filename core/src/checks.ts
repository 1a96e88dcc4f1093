import { LABEL_KEY_PATTERN, POOL_PATTERN } from '@stavily/protocol'
import { invalid, type StavilyError } from './errors.ts'
import type { AgentKind, Role } from './types.ts'

// Argument checks for the programmatic API (the HTTP routes check the same rules through
// their schemas, http/schemas/*), and the one place for the checks every module shares:
// ids (UUIDs), organization ids and times. Each message names the field and what was
// expected. A module with its own error class passes it as `as` (see `invalid()`).

type ErrorClass = Parameters<typeof invalid>[3]

// Pool names and label keys cross the agent API: their rules are the protocol's.
export { LABEL_KEY_PATTERN, POOL_PATTERN }

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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Whether `v` is a UUID (any case: the HTTP schemas lower-case, programmatic callers may not). */
export function isUuid(v: unknown): v is string {
  return typeof v === 'string' && UUID.test(v)
}

/** A UUID, lower-cased as PostgreSQL prints it (so it compares equal to ids the database returns). */
export function checkUuid(field: string, v: unknown, as?: ErrorClass): string {
  if (!isUuid(v)) throw invalid<StavilyError>(field, 'a UUID', v, as)
  return v.toLowerCase()
}

/** An organization id: a UUID, lower-cased. */
export function checkOrg(v: unknown, as?: ErrorClass, field = 'org'): string {
  if (!isUuid(v)) throw invalid<StavilyError>(field, 'an organization id (a UUID)', v, as)
  return v.toLowerCase()
}

const EPOCH = new Date(0).toISOString()

/**
 * A time as ISO 8601 UTC: one the database returned (a Date, or text from PGlite / a JSON
 * column) or one an agent reported (milliseconds since the epoch). A time no Date can hold
 * (an agent's clock past year 275760) reads as the epoch: shown, never a 500.
 */
export function isoTime(v: unknown): string {
  const d = new Date(v as string)
  return Number.isNaN(d.getTime()) ? EPOCH : d.toISOString()
}

/** As isoTime, keeping a missing time (null or undefined) as null. */
export function isoTimeOrNull(v: unknown): string | null {
  return v === null || v === undefined ? null : isoTime(v)
}

// The times PostgreSQL stores and a filter or cursor may name: years 1 to 9999. Date.parse
// also takes year 0 and years past 9999 (±YYYYYY), which the database refuses or reads
// differently: such a time is refused, never passed on.
const FIRST_TIME = Date.UTC(1, 0, 1)
const LAST_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999)

/** `text` as an ISO time PostgreSQL stores (years 1 to 9999), or undefined. */
export function storableTime(text: string): string | undefined {
  const ms = Date.parse(text)
  if (Number.isNaN(ms) || ms < FIRST_TIME || ms > LAST_TIME) return undefined
  return new Date(ms).toISOString()
}

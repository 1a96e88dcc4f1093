import { invalid } from '../errors.ts'

// Lists of the operator API: `?limit=&cursor=` → `{ items, nextCursor }`. A cursor is
// opaque to clients (base64url of a small JSON key); a tampered or stale one is a 400
// naming `query.cursor`, never a silently wrong page.

export const DEFAULT_LIMIT = 50
export const MAX_LIMIT = 500

export interface Page<T> {
  items: T[]
  nextCursor: string | null
}

export function encodeCursor(key: unknown): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url')
}

/** The key inside a cursor, checked by `valid`; undefined without a cursor. */
export function decodeCursor<K>(cursor: string | undefined, valid: (v: unknown) => v is K): K | undefined {
  if (cursor === undefined) return undefined
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    value = undefined
  }
  if (!valid(value)) throw invalid('query.cursor', 'a nextCursor value from an earlier page', cursor)
  return value
}

const isString = (v: unknown): v is string => typeof v === 'string'

/**
 * One page of a list the service returns whole (workflows, agents, secrets, tokens: small
 * per organization). The list is ordered by `key` (unique); the cursor is the last key.
 */
export function pageOf<T>(
  all: readonly T[],
  key: (t: T) => string,
  q: { limit?: number; cursor?: string },
): Page<T> {
  const limit = q.limit ?? DEFAULT_LIMIT
  const after = decodeCursor(q.cursor, isString)
  const sorted = [...all].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
  const rest = after === undefined ? sorted : sorted.filter((t) => key(t) > after)
  const items = rest.slice(0, limit)
  return { items, nextCursor: rest.length > limit ? encodeCursor(key(items[items.length - 1]!)) : null }
}

// The one policy for values that cross the agent API and the operator API.
//
// PostgreSQL cannot store a NUL (U+0000) in text or jsonb, nor a lone UTF-16 surrogate,
// and a value nested thousands of levels deep overflows recursive serializers. So:
// - the orchestrator refuses such a value at its boundary with a 400 that names the
//   field (`findWireProblem`), in every part of a request;
// - free-form values an agent reports (step outputs, logs, event data, error data) are
//   made safe by the agent before they are written to its outbox (`toWireSafe`): NUL and
//   lone surrogates become U+FFFD, the same way every time, so a remote server that puts
//   a NUL into a response body cannot stall an agent's reports;
// - depth is never repaired: a value deeper than `WIRE_LIMITS.maxDepth` is refused on
//   both sides (a plugin's own error on the agent, a 400 on the orchestrator).

export const WIRE_LIMITS = {
  /** Nesting of arrays and objects; the workflow YAML loader's limit, for the same reason. */
  maxDepth: 64,
} as const

export type WireProblem = {
  /** Dotted path from the root, `[i]` for array items: `output.rows[3].name`. */
  path: string
  kind: 'depth' | 'nul' | 'surrogate'
  message: string
}

// A lone surrogate: a high one not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** What is wrong with one string, if anything. */
export function stringProblem(value: string): 'nul' | 'surrogate' | null {
  if (value.includes('\u0000')) return 'nul'
  if (LONE_SURROGATE.test(value)) return 'surrogate'
  return null
}

const MESSAGES = {
  nul: 'must not contain a NUL character (U+0000)',
  surrogate: 'must be well-formed Unicode (found a lone UTF-16 surrogate)',
  depth: `nests deeper than ${WIRE_LIMITS.maxDepth} levels`,
} as const

// String.prototype.toWellFormed is in Node 20+, but not in the ES2023 lib this project compiles against.
const wellFormed = (s: string): string => (s as unknown as { toWellFormed(): string }).toWellFormed()

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`
  const safe = /^[A-Za-z_$][\w$-]*$/.test(key) ? key : JSON.stringify(wellFormed(key))
  if (safe !== key) return `${path}[${safe}]`
  return path === '' ? key : `${path}.${key}`
}

/**
 * The first problem in a JSON-like value (strings, keys, nesting), or null. Iterative, so
 * a hostile depth cannot overflow this function's own stack.
 */
export function findWireProblem(
  value: unknown,
  root = '',
  maxDepth: number = WIRE_LIMITS.maxDepth,
): WireProblem | null {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: root, depth: 0 }]
  while (stack.length > 0) {
    const item = stack.pop() as { value: unknown; path: string; depth: number }
    const v = item.value
    if (typeof v === 'string') {
      const kind = stringProblem(v)
      if (kind) return { path: item.path, kind, message: MESSAGES[kind] }
      continue
    }
    if (v === null || typeof v !== 'object') continue
    if (item.depth >= maxDepth) return { path: item.path, kind: 'depth', message: MESSAGES.depth }
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--)
        stack.push({ value: v[i], path: join(item.path, i), depth: item.depth + 1 })
      continue
    }
    const keys = Object.keys(v)
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i] as string
      const path = join(item.path, key)
      const kind = stringProblem(key)
      if (kind) return { path, kind, message: `key ${MESSAGES[kind]}` }
      stack.push({ value: (v as Record<string, unknown>)[key], path, depth: item.depth + 1 })
    }
  }
  return null
}

/** One string made safe: NUL and lone surrogates become U+FFFD. */
export function toWireSafeString(value: string): string {
  if (stringProblem(value) === null) return value
  return wellFormed(value).replaceAll('\u0000', '\uFFFD')
}

/**
 * A copy of a JSON-like value whose strings and keys are safe (see `toWireSafeString`).
 * Returns the value itself when nothing needed changing. Does not repair depth: check
 * `findWireProblem` for that first. Keys that become equal keep the later value, as
 * `JSON.parse` does with duplicate keys.
 */
export function toWireSafe<T>(value: T): T {
  if (findWireProblem(value, '', Number.POSITIVE_INFINITY) === null) return value
  return rewrite(value) as T
}

function rewrite(value: unknown): unknown {
  if (typeof value === 'string') return toWireSafeString(value)
  if (value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return value.map(rewrite)
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) out[toWireSafeString(k)] = rewrite(v)
  return out
}

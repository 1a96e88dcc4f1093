import fc from 'fast-check'
import { hostileCursor } from './cursors.ts'
import { encodeHostile, hostileJson, hostileRawBody, hostileSegment } from './hostile.ts'

// Requests generated from the served OpenAPI document: every operation, every parameter and
// body field, each either a plausible value (from its schema, or an id that exists, so the
// request gets past the first checks) or a hostile one.

// biome-ignore lint/suspicious/noExplicitAny: JSON Schema as served
type Schema = Record<string, any>

export interface Operation {
  method: string
  /** OpenAPI path, `{id}` for parameters. */
  path: string
  params: { name: string; schema: Schema }[]
  query: { name: string; schema: Schema }[]
  body: Schema | undefined
}

export type TokenKind =
  | 'none'
  | 'admin'
  | 'operator'
  | 'viewer'
  | 'otherAdmin'
  | 'agent'
  | 'sensor'
  | 'forged'
  | 'mangled'
  | 'mangledAgent'

export interface FuzzRequest {
  op: Operation
  url: string
  body: string | Buffer | undefined
  token: TokenKind
}

/** Values that exist in the world under test, so generated requests reach past lookups. */
export interface Known {
  ids: string[]
  names: string[]
}

export function operationsOf(doc: { paths: Record<string, Record<string, Schema>> }): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, byMethod]) =>
    Object.entries(byMethod).map(([method, op]) => {
      const ps = (op.parameters ?? []) as { in: string; name: string; schema: Schema }[]
      return {
        method: method.toUpperCase(),
        path,
        params: ps.filter((p) => p.in === 'path'),
        query: ps.filter((p) => p.in === 'query'),
        body: op.requestBody?.content?.['application/json']?.schema as Schema | undefined,
      }
    }),
  )
}

const UUID = /0-9a-fA-F\]\{8\}/

/**
 * A value for `schema`: valid by the schema, so the request gets past validation, except
 * (half the time) one leaf or key replaced by a hostile value. Free-form JSON fields take
 * hostile strings and nesting while staying valid: those are what reach the database.
 */
export function arbitraryFor(schema: Schema | undefined, known: Known): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 1, arbitrary: plausibleOf(schema ?? {}, known, 0) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(plausibleOf(schema ?? {}, known, 0), fc.nat(), hostileJson, fc.boolean())
        .map(([v, n, bad, asKey]) => mutateOne(v, n, bad, asKey)),
    },
  )
}

/** Replaces the n-th leaf (modulo their number) with `bad`, or gives its object a hostile key. */
function mutateOne(value: unknown, n: number, bad: unknown, asKey: boolean): unknown {
  const spots: { parent: Record<string, unknown> | unknown[] | null; key: string | number }[] = []
  const walk = (v: unknown, parent: Record<string, unknown> | unknown[] | null, key: string | number) => {
    spots.push({ parent, key })
    if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) walk(x, v, i)
    } else if (v !== null && typeof v === 'object')
      for (const [k, x] of Object.entries(v as Record<string, unknown>))
        walk(x, v as Record<string, unknown>, k)
  }
  const root = structuredClone(value)
  walk(root, null, '')
  const spot = spots[n % spots.length]!
  if (spot.parent === null) return bad
  const target = (spot.parent as Record<string | number, unknown>)[spot.key]
  if (
    asKey &&
    target !== null &&
    typeof target === 'object' &&
    !Array.isArray(target) &&
    typeof bad === 'string'
  ) {
    ;(target as Record<string, unknown>)[bad] = 1
  } else (spot.parent as Record<string | number, unknown>)[spot.key] = bad
  return root
}

function stringFor(s: Schema, known: Known): fc.Arbitrary<string> {
  if (typeof s.pattern === 'string' && UUID.test(s.pattern))
    return fc.oneof(fc.constantFrom(...known.ids), fc.uuid())
  if (s.format === 'date-time') return fc.date({ noInvalidDate: true }).map((d) => d.toISOString())
  const min = Number(s.minLength ?? 0)
  const max = Number(s.maxLength ?? 200)
  const fits = (x: string) => x.length >= min && x.length <= max
  if (typeof s.pattern === 'string') {
    const re = new RegExp(s.pattern)
    const names = known.names.filter((x) => re.test(x) && fits(x))
    const matching = fc.stringMatching(re).filter(fits)
    return names.length > 0 ? fc.oneof(fc.constantFrom(...names), matching) : matching
  }
  const names = known.names.filter(fits)
  // Text with no pattern may hold anything valid: hostile but storable strings belong here.
  const text = fc
    .oneof(
      fc.string({ maxLength: 20 }),
      fc.constantFrom('../../etc/passwd', "'; DROP TABLE runs; --", '$(id)', '\u202Etxt'),
    )
    .filter(fits)
  return names.length > 0 ? fc.oneof(fc.constantFrom(...names), text) : text
}

function plausibleOf(s: Schema, known: Known, depth: number): fc.Arbitrary<unknown> {
  if (depth > 5) return fc.constant(null)
  const alts = (s.anyOf ?? s.oneOf) as Schema[] | undefined
  if (alts) return fc.oneof(...alts.map((a) => plausibleOf(a, known, depth + 1)))
  if ('const' in s) return fc.constant(s.const)
  if (Array.isArray(s.enum)) return fc.constantFrom(...(s.enum as unknown[]))
  switch (s.type) {
    case 'object': {
      const props = (s.properties ?? {}) as Record<string, Schema>
      if (Object.keys(props).length === 0 && s.patternProperties) {
        const [pattern, item] = Object.entries(s.patternProperties as Record<string, Schema>)[0]!
        return fc.dictionary(
          stringFor({ pattern, maxLength: 63 }, known),
          plausibleOf(item, known, depth + 1),
          {
            maxKeys: 2,
          },
        )
      }
      return fc.record(
        Object.fromEntries(Object.entries(props).map(([k, v]) => [k, plausibleOf(v, known, depth + 1)])),
        { requiredKeys: ((s.required ?? []) as string[]).filter((k) => k in props) },
      )
    }
    case 'array':
      return fc.array(plausibleOf(s.items as Schema, known, depth + 1), {
        minLength: Number(s.minItems ?? 0),
        maxLength: Math.max(Number(s.minItems ?? 0), 2),
      })
    case 'string':
      return stringFor(s, known)
    case 'integer':
      return fc.integer({
        min: Math.max(Number(s.minimum ?? 0), -(2 ** 31)),
        max: Math.min(Number(s.maximum ?? 1_000), 2 ** 31 - 1),
      })
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true, min: 0, max: 1e6 })
    case 'boolean':
      return fc.boolean()
    default:
      // Free-form JSON (event data, outputs, logs, inputs): valid whatever it holds.
      return hostileJson
  }
}

// A paging cursor is mostly a forged base64url JSON key (cursors.ts); otherwise the
// schema's string, which rarely decodes at all.
const queryValue = (q: { name: string; schema: Schema }, known: Known): fc.Arbitrary<unknown> =>
  q.name === 'cursor'
    ? fc.oneof(
        { weight: 3, arbitrary: hostileCursor(known.ids) },
        { weight: 1, arbitrary: arbitraryFor(q.schema, known) },
      )
    : arbitraryFor(q.schema, known)

// Query values arrive as strings: a JSON value is sent as its text, a string as itself.
const asText = (v: unknown) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? 'undefined'))

/** Operations that page with `?cursor=`: the list routes that decode a client's cursor. */
export const pagesByCursor = (op: Operation) => op.query.some((q) => q.name === 'cursor')

/**
 * Requests to one operation, at `base`, with each kind of credential. `cursorOnly` sends the
 * forged cursor alone, so no other hostile field is refused first and it reaches the
 * route's decoding (a mixed request is mostly stopped by another field's 400).
 */
export function requestsTo(
  op: Operation,
  base: string,
  known: Known,
  cursorOnly = false,
): fc.Arbitrary<FuzzRequest> {
  const segment = (p: { schema: Schema }) =>
    fc.oneof(
      { weight: 6, arbitrary: arbitraryFor(p.schema, known).map((v) => encodeHostile(asText(v))) },
      { weight: 1, arbitrary: hostileSegment },
    )
  const path = fc.tuple(...op.params.map(segment)).map((values) => {
    let i = 0
    return op.path.replace(/\{[^}]+\}/g, () => values[i++] as string)
  })
  const anyQuery = fc
    .tuple(
      ...op.query.map((q) =>
        fc.option(
          queryValue(q, known).map((v) => `${q.name}=${encodeHostile(asText(v))}`),
          // A paging cursor is worth sending: it is what the list routes decode.
          q.name === 'cursor' ? { freq: 1 } : {},
        ),
      ),
      fc.oneof(
        { weight: 6, arbitrary: fc.constant(null) },
        {
          weight: 1,
          arbitrary: fc.constantFrom('bogus=1', 'limit=%E0%A4%A', '%ZZ=1', 'a=%00', 'limit=1&limit=2'),
        },
      ),
    )
    .map((parts) => parts.filter((p): p is string => typeof p === 'string').join('&'))
  const query = cursorOnly ? hostileCursor(known.ids).map((c) => `cursor=${c}`) : anyQuery
  const bodiless = op.method === 'GET' || op.method === 'HEAD'
  const body: fc.Arbitrary<string | Buffer | undefined> = bodiless
    ? fc.constant(undefined)
    : op.body
      ? fc.oneof(
          { weight: 8, arbitrary: arbitraryFor(op.body, known).map((v) => JSON.stringify(v) ?? 'null') },
          { weight: 1, arbitrary: hostileRawBody },
          { weight: 1, arbitrary: hostileJson.map((v) => JSON.stringify(v) ?? 'null') },
        )
      : fc.oneof({ weight: 9, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: hostileRawBody })
  // Mostly credentials that may call the route, so the values reach the handlers.
  const token = op.path.startsWith('/agents/')
    ? fc.constantFrom<TokenKind>(
        'agent',
        'agent',
        'agent',
        'sensor',
        'sensor',
        'none',
        'forged',
        'mangledAgent',
        'admin',
      )
    : fc.constantFrom<TokenKind>(
        'admin',
        'admin',
        'admin',
        'admin',
        'operator',
        'operator',
        'viewer',
        'otherAdmin',
        'none',
        'forged',
        'mangled',
        'agent',
      )
  return fc.record({ path, query, body, token }).map((r) => ({
    op,
    url: `${base}${r.path}${r.query ? `?${r.query}` : ''}`,
    body: r.body,
    token: r.token,
  }))
}

import fc from 'fast-check'
import { HOSTILE_NUMBERS, hostileJson, hostileString } from './hostile.ts'

// Paging cursors as a hostile client forges them. A cursor is opaque to clients but is
// base64url of a small JSON key, and the JSON inside it passes neither the wire policy nor
// the schemas: only the route's own check stands between it and PostgreSQL. Sending only
// opaque strings never reaches that check (they fail to decode), so the generator also
// encodes JSON keys with hostile values: times PostgreSQL has no room for (year 0, six-digit
// years, loose text Date.parse takes), integers past int4 and bigint, and wrong shapes.

const HOSTILE_TIMES: readonly string[] = [
  '0000-01-01T00:00:00Z',
  '0000-01-01',
  '+275760-09-13T00:00:00Z',
  '-000001-01-01T00:00:00Z',
  '1',
  'x 2020',
  '2024-02-30T00:00:00Z',
  '2024-01-01T00:00:00.0000001Z',
  '9999-12-31T23:59:59.999Z',
]

const time = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_TIMES) },
  { weight: 1, arbitrary: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()) },
  { weight: 1, arbitrary: hostileString },
)

const id = (known: string[]) =>
  fc.oneof(
    fc.constantFrom(...(known.length > 0 ? known : ['00000000-0000-4000-8000-000000000000'])),
    hostileString,
  )

const integer = fc.oneof(
  fc.constantFrom(1e20, 2 ** 63, 2 ** 53 + 2, 2 ** 31, 1, ...HOSTILE_NUMBERS),
  fc.integer({ min: 1, max: 1_000 }),
)

/** A cursor's JSON key: the shapes routes write (time + id, an integer, a string), hostile inside, or the wrong shape. */
export function cursorKey(knownIds: string[]): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.record({ createdAt: time, id: id(knownIds) }) },
    { weight: 3, arbitrary: integer },
    { weight: 1, arbitrary: fc.oneof(time, hostileString) },
    { weight: 1, arbitrary: hostileJson },
  )
}

/** A cursor: base64url of a hostile JSON key. */
export function hostileCursor(knownIds: string[]): fc.Arbitrary<string> {
  return cursorKey(knownIds).map((k) => Buffer.from(JSON.stringify(k) ?? 'null').toString('base64url'))
}

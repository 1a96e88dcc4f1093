import fc from 'fast-check'

// The classes of hostile input the issue lists, as fast-check arbitraries: each one has
// made some API answer 500, write garbage or misbehave somewhere.

/** Strings an attacker tries in every field. */
export const HOSTILE_STRINGS: readonly string[] = [
  '\u0000',
  'a\u0000b',
  '\uD800',
  'x\uDC00y',
  '\uDBFF\uDBFF',
  '../../../../etc/passwd',
  '..%2F..%2Fetc%2Fpasswd',
  "'; DROP TABLE agents; --",
  "' OR '1'='1",
  '$(touch /tmp/pwned)',
  '`id`',
  '| cat /etc/shadow',
  '; rm -rf / #',
  '\u202Egnp.exe',
  '\u200F\u202B\u2066rtl',
  '\r\nX-Injected: 1',
  '%00',
  '%E0%A4%A',
  '%',
  '{{ secrets.db }}',
  // A workflow expression, as text: the server must never evaluate it.
  // biome-ignore lint/suspicious/noTemplateCurlyInString: an expression sent as text on purpose
  '${{ steps.a.output }}',
  '__proto__',
  'constructor',
  'x'.repeat(10_000),
  '\uFFFF\uFFFE',
  '😀'.repeat(300),
  '',
  ' ',
  '-1',
  '1e400',
  'NaN',
  'null',
  'true',
]

export const HOSTILE_NUMBERS: readonly number[] = [
  2 ** 31,
  2 ** 31 - 1,
  -(2 ** 31) - 1,
  2 ** 53 + 2,
  2 ** 63,
  1e300,
  -1e300,
  -1,
  0,
  -0,
  0.5,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
]

export const hostileString = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  // Valid-looking text with a hostile piece inside.
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.string({ maxLength: 10 }), fc.constantFrom(...HOSTILE_STRINGS))
      .map(([a, b]) => `${a}${b}`),
  },
)

export const hostileNumber = fc.oneof(
  fc.constantFrom(...HOSTILE_NUMBERS),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
)

/** A value nested `depth` levels (arrays or objects). */
export function nested(depth: number, object: boolean): unknown {
  let v: unknown = 1
  for (let i = 0; i < depth; i++) v = object ? { a: v } : [v]
  return v
}

/** Any JSON value, with hostile strings, keys, numbers and nesting. */
export const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  { weight: 2, arbitrary: hostileNumber },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(null, true, false, [], {}) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(63, 64, 65, 200).chain((d) => fc.boolean().map((o) => nested(d, o))),
  },
  {
    weight: 2,
    arbitrary: fc.dictionary(hostileString, fc.oneof(hostileString, hostileNumber), { maxKeys: 3 }),
  },
  { weight: 1, arbitrary: fc.array(fc.oneof(hostileString, hostileNumber), { maxLength: 3 }) },
)

/** Raw bodies no JSON value can express. */
export const hostileRawBody = fc.oneof(
  fc.constant('{"a":1,"a":2}'),
  fc.constant(`${'['.repeat(5_000)}${']'.repeat(5_000)}`),
  fc.constant(`{"x":${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}}`),
  fc.constant('{"__proto__":{"admin":true}}'),
  fc.constant('{"constructor":{"prototype":{"admin":true}}}'),
  fc.constant('{"a":'),
  fc.constant(''),
  fc.constant('null'),
  fc.constant('"\\ud800"'),
  fc.constant('{"a":"\\u0000"}'),
  fc.constant(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])),
  fc.constant(Buffer.from([0x7b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x3a, 0x31, 0x7d])),
)

// encodeURIComponent throws on a lone surrogate; a hostile client sends its UTF-8-ish bytes
// anyway, so it is encoded by hand (as WTF-8) rather than skipped.
export function encodeHostile(s: string): string {
  let out = ''
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number
    if (cp >= 0xd800 && cp <= 0xdfff) {
      out += [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)]
        .map((b) => `%${b.toString(16).toUpperCase()}`)
        .join('')
    } else out += encodeURIComponent(ch)
  }
  return out
}

/** Path segments as a hostile client writes them: encoded, or raw malformed escapes. */
export const hostileSegment = fc.oneof(
  hostileString.map(encodeHostile),
  fc.constantFrom('%E0%A4%A', '%', '%ZZ', '%25E0', '..', '%2e%2e', '..%2F..', '%00'),
)

import { describe, expect, it } from 'vitest'
import { findWireProblem, toWireSafe, WIRE_LIMITS } from './wire-value.ts'

function nested(depth: number): unknown {
  let v: unknown = 1
  for (let i = 0; i < depth; i++) v = [v]
  return v
}

describe('findWireProblem', () => {
  it('accepts ordinary JSON, including astral characters and U+FFFD', () => {
    expect(findWireProblem({ a: [1, 'x', null, { b: '😀\uFFFD' }], c: true })).toBeNull()
  })

  it('names the path of a NUL in a value and in a key', () => {
    expect(findWireProblem({ output: { rows: ['ok', 'a\u0000b'] } })).toMatchObject({
      path: 'output.rows[1]',
      kind: 'nul',
    })
    expect(findWireProblem({ data: { 'k\u0000': 1 } })).toMatchObject({
      kind: 'nul',
      path: 'data["k\\u0000"]',
    })
  })

  it('finds lone high and low surrogates but not pairs', () => {
    expect(findWireProblem({ s: 'x\uD800' })).toMatchObject({ path: 's', kind: 'surrogate' })
    expect(findWireProblem({ s: '\uDC00x' })).toMatchObject({ path: 's', kind: 'surrogate' })
    expect(findWireProblem({ s: '\uD83D\uDE00' })).toBeNull()
  })

  it('refuses nesting past the limit without overflowing its own stack', () => {
    expect(findWireProblem(nested(WIRE_LIMITS.maxDepth))).toBeNull()
    expect(findWireProblem(nested(WIRE_LIMITS.maxDepth + 1))).toMatchObject({ kind: 'depth' })
    expect(findWireProblem(nested(200_000), 'body')).toMatchObject({ kind: 'depth' })
  })

  it('prefixes the root it is given', () => {
    expect(findWireProblem(['\u0000'], 'body.logs')).toMatchObject({ path: 'body.logs[0]' })
  })
})

describe('toWireSafe', () => {
  it('returns the same value when nothing needs changing', () => {
    const v = { a: ['x', 1] }
    expect(toWireSafe(v)).toBe(v)
  })

  it('replaces NUL and lone surrogates with U+FFFD, the same way every time', () => {
    const v = { 'k\u0000': ['a\u0000b', 'c\uD800', '\uD83D\uDE00'] }
    const safe = toWireSafe(v)
    expect(safe).toEqual({ 'k\uFFFD': ['a\uFFFDb', 'c\uFFFD', '\uD83D\uDE00'] })
    expect(findWireProblem(safe)).toBeNull()
    expect(toWireSafe(v)).toEqual(safe)
  })
})

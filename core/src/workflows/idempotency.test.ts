import { describe, expect, it } from 'vitest'
import { stepIdempotencyKey } from './idempotency.ts'

describe('stepIdempotencyKey', () => {
  it('is stable for the same step of the same run (every retry), and URL-safe', () => {
    const a = stepIdempotencyKey('8f0c3a52-0000-4000-8000-000000000001', 'restart')
    expect(stepIdempotencyKey('8f0c3a52-0000-4000-8000-000000000001', 'restart')).toBe(a)
    expect(a).toMatch(/^stv1_[A-Za-z0-9_-]{43}$/)
  })

  it('differs between runs, between steps, and cannot be forged by moving a separator', () => {
    const keys = new Set([
      stepIdempotencyKey('run-1', 'restart'),
      stepIdempotencyKey('run-2', 'restart'),
      stepIdempotencyKey('run-1', 'notify'),
      stepIdempotencyKey('ab', 'c'),
      stepIdempotencyKey('a', 'bc'),
      stepIdempotencyKey('a|1:b', 'c'),
      stepIdempotencyKey('a', 'b|1:c'),
    ])
    expect(keys.size).toBe(7)
  })
})

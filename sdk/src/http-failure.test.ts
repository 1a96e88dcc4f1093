import { describe, expect, it } from 'vitest'
import { bodyExcerpt, isRetryableStatus } from './http-failure.ts'

describe('isRetryableStatus', () => {
  it('retries 5xx, 408 and 429, and nothing else', () => {
    for (const status of [500, 502, 503, 504, 599, 408, 429])
      expect(isRetryableStatus(status), String(status)).toBe(true)
    for (const status of [400, 401, 403, 404, 409, 410, 413, 422, 499, 200, 302])
      expect(isRetryableStatus(status), String(status)).toBe(false)
  })
})

describe('bodyExcerpt', () => {
  it('trims the body and cuts it to max characters, marking the cut', () => {
    expect(bodyExcerpt('  no such channel \n')).toBe('no such channel')
    expect(bodyExcerpt('')).toBe('')
    expect(bodyExcerpt('   ')).toBe('')
    expect(bodyExcerpt('x'.repeat(300))).toBe('x'.repeat(300))
    expect(bodyExcerpt('x'.repeat(301))).toBe(`${'x'.repeat(300)}…`)
    expect(bodyExcerpt('abcdef', 3)).toBe('abc…')
  })
})

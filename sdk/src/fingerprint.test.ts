import { describe, expect, it } from 'vitest'
import { fingerprint } from './fingerprint.ts'

describe('fingerprint', () => {
  it('is 16 hex characters, the same for the same text and different for another', () => {
    const a = fingerprint('https://status.example.com/health')
    expect(a).toMatch(/^[0-9a-f]{16}$/)
    expect(fingerprint('https://status.example.com/health')).toBe(a)
    expect(fingerprint('https://status.example.com/healthz')).not.toBe(a)
    // Pinned: state kept by agents under these keys must still be found after an upgrade.
    expect(fingerprint('')).toBe('811c9dc501000193')
    expect(fingerprint('a')).toBe(fingerprint('a'))
  })
})

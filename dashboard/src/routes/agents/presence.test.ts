import { describe, expect, it } from 'vitest'
import { isPresence, presenceOf } from './presence.ts'

describe('agent presence', () => {
  it('is revoked, then lost, then draining or online', () => {
    expect(presenceOf({ status: 'revoked', online: false, drain: true })).toBe('revoked')
    expect(presenceOf({ status: 'lost', online: false, drain: false })).toBe('lost')
    // A drained agent that stopped answering is lost: nothing of it drains any more.
    expect(presenceOf({ status: 'online', online: false, drain: true })).toBe('lost')
    expect(presenceOf({ status: 'online', online: true, drain: true })).toBe('draining')
    expect(presenceOf({ status: 'online', online: true, drain: false })).toBe('online')
  })

  it('accepts only known presences from the address', () => {
    expect(isPresence('draining')).toBe(true)
    expect(isPresence('asleep')).toBe(false)
    expect(isPresence(null)).toBe(false)
  })
})

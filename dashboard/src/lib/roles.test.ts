import { describe, expect, it } from 'vitest'
import { canAdminister, canMutate, hasRole, isRole, needsRoleHint } from './roles.ts'

describe('role rules', () => {
  it('lets operators and admins change things, not viewers or the signed out', () => {
    expect(canMutate('viewer')).toBe(false)
    expect(canMutate('operator')).toBe(true)
    expect(canMutate('admin')).toBe(true)
    expect(canMutate(null)).toBe(false)
    expect(canMutate(undefined)).toBe(false)
  })

  it('keeps token management to admins', () => {
    expect(canAdminister('operator')).toBe(false)
    expect(canAdminister('admin')).toBe(true)
    expect(hasRole('admin', 'viewer')).toBe(true)
    expect(hasRole('viewer', 'viewer')).toBe(true)
  })

  it('explains a disabled control', () => {
    expect(needsRoleHint('viewer')).toBe('needs the operator role; you are viewer')
    expect(needsRoleHint('operator')).toBeUndefined()
    expect(needsRoleHint('operator', 'admin')).toBe('needs the admin role; you are operator')
  })

  it('recognises only the three roles', () => {
    expect(['viewer', 'operator', 'admin'].every(isRole)).toBe(true)
    expect(isRole('root')).toBe(false)
    expect(isRole(undefined)).toBe(false)
  })
})

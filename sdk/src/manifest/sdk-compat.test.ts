import { describe, expect, it } from 'vitest'
import { ErrorCodes } from '../errors.ts'
import { assertSdkCompatible, isSdkCompatible, SDK_API_VERSION } from './index.ts'

describe('SDK compatibility', () => {
  it('checks the plugin range against the host API version with semver', () => {
    expect(SDK_API_VERSION).toBe('1.0.0')
    expect(isSdkCompatible('^1.0.0')).toBe(true)
    expect(isSdkCompatible('>=1.0.0 <2')).toBe(true)
    expect(isSdkCompatible('^1.2.0')).toBe(false)
    expect(isSdkCompatible('^1.2.0', '1.4.1')).toBe(true)
    expect(isSdkCompatible('^2.0.0', '1.4.0')).toBe(false)
    expect(isSdkCompatible('not a range')).toBe(false)
    expect(isSdkCompatible('^1.0.0', 'garbage')).toBe(false)
  })

  it('throws SDK_INCOMPATIBLE naming both versions', () => {
    expect(() => assertSdkCompatible('^1.0.0')).not.toThrow()
    try {
      assertSdkCompatible('^2.0.0', '1.0.0')
      throw new Error('expected SDK_INCOMPATIBLE')
    } catch (error) {
      expect(error).toMatchObject({
        code: ErrorCodes.SDK_INCOMPATIBLE,
        data: { range: '^2.0.0', apiVersion: '1.0.0' },
      })
      expect((error as Error).message).toContain(
        'requires SDK API "^2.0.0" but this host implements SDK API 1.0.0',
      )
    }
  })
})

import { describe, expect, it } from 'vitest'
import { isRegistryError } from '../errors.ts'
import { checkTagMatches, versionFromTag } from './version-tag.ts'

describe('versionFromTag', () => {
  it('reads the version out of the usual release tag forms', () => {
    expect(versionFromTag('1.2.0')).toBe('1.2.0')
    expect(versionFromTag('v1.2.0')).toBe('1.2.0')
    expect(versionFromTag('v2.0.0-rc.1')).toBe('2.0.0-rc.1')
    expect(versionFromTag('@acme/restart@1.2.0')).toBe('1.2.0')
    expect(versionFromTag('restart@1.2.0')).toBe('1.2.0')
    expect(versionFromTag('plugins/restart/v1.2.0')).toBe('1.2.0')
  })

  it('finds no version in tags that do not name one exactly', () => {
    for (const tag of ['stable', 'v1.2', 'release-1.2.0x', 'v01.2.0', '1.2.0.1'])
      expect(versionFromTag(tag)).toBeUndefined()
  })
})

describe('checkTagMatches', () => {
  it('accepts the matching version and explains a mismatch', () => {
    expect(() => checkTagMatches('v1.2.0', '1.2.0')).not.toThrow()
    let err: unknown
    try {
      checkTagMatches('stable', '1.2.0')
    } catch (e) {
      err = e
    }
    expect(isRegistryError(err, 'STAVILY_ERR_REGISTRY_VERSION_MISMATCH')).toBe(true)
    expect((err as Error).message).toMatch(
      /^ref: the tag "stable" does not name a version; tag releases v1\.2\.0/,
    )
  })
})

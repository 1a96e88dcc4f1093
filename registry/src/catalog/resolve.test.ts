import { describe, expect, it } from 'vitest'
import type { PluginVersion } from '../types.ts'
import { latestStable } from './latest.ts'
import { resolveRange } from './resolve.ts'

const v = (version: string, yanked = false) => ({ version, yanked }) as PluginVersion
const versions = [v('1.0.0'), v('1.1.0', true), v('1.2.0-beta.1'), v('2.0.0-rc.1'), v('0.9.0')]

describe('resolveRange', () => {
  it('picks the highest non-yanked stable match', () => {
    expect(resolveRange('p', versions, '^1.0.0').version).toBe('1.0.0')
    expect(resolveRange('p', versions, '*').version).toBe('1.0.0')
    expect(resolveRange('p', versions, '<1.0.0').version).toBe('0.9.0')
  })

  it('lets prereleases match only when asked', () => {
    expect(resolveRange('p', versions, '^1.0.0', { prerelease: true }).version).toBe('1.2.0-beta.1')
    expect(resolveRange('p', versions, '>=2.0.0-0').version).toBe('2.0.0-rc.1') // a range naming a prerelease
  })

  it('says when the only match is yanked', () => {
    expect(() => resolveRange('p', versions, '1.1.0')).toThrow(
      'range: no version of p satisfies "1.1.0"; 1.1.0 is yanked (still downloadable by exact version)',
    )
    expect(() => resolveRange('p', versions, '^3.0.0')).toThrow(/published versions: 1\.0\.0/)
  })

  it('computes latest as the highest non-yanked stable version', () => {
    expect(latestStable(versions)).toBe('1.0.0')
    expect(latestStable([v('1.0.0-alpha')])).toBeNull()
  })
})

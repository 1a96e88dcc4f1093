import { describe, expect, it } from 'vitest'
import {
  checkBuildOptions,
  checkExpiry,
  checkListParams,
  checkName,
  checkPluginPath,
  checkRange,
  checkVersion,
} from './checks.ts'

// Each refusal names the field and says what was expected.
const message = (fn: () => unknown): string => {
  try {
    fn()
  } catch (err) {
    return (err as Error).message
  }
  return 'accepted'
}

describe('argument checks', () => {
  it('normalises plugin paths and refuses any way out of the repository', () => {
    expect(checkPluginPath('path', undefined)).toBe('')
    expect(checkPluginPath('path', './plugins/a/')).toBe('plugins/a')
    for (const bad of ['../x', 'a/../../b', '/etc', 'a//b', 'a b'])
      expect(message(() => checkPluginPath('path', bad))).toMatch(
        /^path: expected a relative folder inside the repository/,
      )
  })

  it('checks names, exact versions and ranges', () => {
    expect(checkName('name', '@acme/restart')).toBe('@acme/restart')
    expect(message(() => checkName('name', 'Bad Name'))).toMatch(
      /^name: expected a plugin \(npm package\) name/,
    )
    expect(message(() => checkVersion('version', '1.0'))).toMatch(
      /^version: expected an exact semver version/,
    )
    expect(message(() => checkVersion('version', 'v1.0.0'))).toMatch(/^version: /)
    expect(checkRange('range', '^1.2.0 || 2.x')).toBe('^1.2.0 || 2.x')
    expect(message(() => checkRange('range', '>>1'))).toMatch(/^range: expected a semver range/)
  })

  it('bounds list parameters', () => {
    expect(checkListParams(undefined)).toEqual({ query: '', limit: 50, offset: 0 })
    expect(message(() => checkListParams({ limit: 1000 }))).toMatch(
      /^limit: expected an integer from 1 to 200/,
    )
    expect(message(() => checkListParams({ offset: -1 }))).toMatch(/^offset: /)
  })

  it('checks the registry options that configure builds and metadata lifetimes', () => {
    expect(message(() => checkBuildOptions({ maxBundleBytes: 0 }))).toMatch(
      /^build\.maxBundleBytes: expected a positive integer/,
    )
    expect(message(() => checkBuildOptions({ provided: { '@stavily/sdk': 'relative.ts' } }))).toMatch(
      /^build\.provided\["@stavily\/sdk"\]: expected the absolute path/,
    )
    expect(message(() => checkExpiry({ timestamp: -5 }))).toMatch(
      /^expiry\.timestamp: expected a positive integer/,
    )
    expect(message(() => checkExpiry({ snapshots: 5 }))).toMatch(/^expiry\.snapshots: unknown role/)
    expect(message(() => checkBuildOptions({ maxBundleBytes: 1000, provided: { x: '/a.ts' } }))).toBe(
      'accepted',
    )
  })
})

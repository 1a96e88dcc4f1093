import { describe, expect, it } from 'vitest'
import { isDevPool, isDevVersion } from './dev-versions.ts'

describe('dev pools and dev versions', () => {
  it('names dev pools dev or dev-*, nothing else', () => {
    expect(['dev', 'dev-alice', 'dev-1'].every(isDevPool)).toBe(true)
    expect(['devops', 'web', 'prod-dev', 'dev-', 'Dev'].some(isDevPool)).toBe(false)
  })

  it('tells dev builds from releases and other prereleases', () => {
    expect(isDevVersion('0.1.0-dev.1733580000000')).toBe(true)
    expect(isDevVersion('1.2.3-dev.4+build.5')).toBe(true)
    expect(['0.1.0', '1.0.0-beta.1', '1.0.0-devel.1', '1.0.0-dev'].some(isDevVersion)).toBe(false)
  })
})

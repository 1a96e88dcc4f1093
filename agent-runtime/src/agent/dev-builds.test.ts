import { describe, expect, it } from 'vitest'
import { devBuildRefusal } from './dev-builds.ts'

describe('devBuildRefusal', () => {
  it('refuses a dev build outside a dev pool, naming the pool', () => {
    expect(devBuildRefusal('web', '@acme/x', '0.1.0-dev.17')).toContain('pool web is not a dev pool')
    expect(devBuildRefusal(undefined, '@acme/x', '0.1.0-dev.17')).toContain('(unknown)')
  })

  it('lets a dev pool run dev builds, and every pool run releases and other prereleases', () => {
    expect(devBuildRefusal('dev', '@acme/x', '0.1.0-dev.17')).toBeUndefined()
    expect(devBuildRefusal('dev-alice', '@acme/x', '0.1.0-dev.17')).toBeUndefined()
    expect(devBuildRefusal('web', '@acme/x', '0.1.0')).toBeUndefined()
    expect(devBuildRefusal('web', '@acme/x', '1.0.0-beta.1')).toBeUndefined()
  })
})

import { readFile } from 'node:fs/promises'
import { SDK_API_VERSION } from '@stavily/sdk'
import { describe, expect, it } from 'vitest'
import { SDK_API_RANGE, SDK_PACKAGE_RANGE } from '../src/sdk-version.js'

/** `^x.y.z` semantics, enough for the ranges sdk-version.ts uses (semver is not a dependency here). */
function caretIncludes(range: string, version: string): boolean {
  const match = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(range)
  if (!match) throw new Error(`sdk-version.ts ranges must look like ^1.2.3, got ${range}`)
  const low = match.slice(1).map(Number) as [number, number, number]
  const v = version.split('.').map(Number) as [number, number, number]
  // The leftmost non-zero part is fixed by a caret; below it, anything not older.
  const fixed = low[0] > 0 ? 1 : low[1] > 0 ? 2 : 3
  for (let i = 0; i < fixed; i++) if (v[i] !== low[i]) return false
  for (let i = 0; i < 3; i++) if (v[i] !== low[i]) return v[i]! > low[i]!
  return true
}

describe('sdk-version.ts, the one coupling of the templates to the SDK', () => {
  it('asks for the SDK package version in this repository', async () => {
    const sdkPackage = JSON.parse(await readFile(new URL('../../sdk/package.json', import.meta.url), 'utf8'))
    expect(
      caretIncludes(SDK_PACKAGE_RANGE, sdkPackage.version),
      `${SDK_PACKAGE_RANGE} vs ${sdkPackage.version}`,
    ).toBe(true)
  })

  it("names an SDK API range that includes this SDK's API version", () => {
    expect(caretIncludes(SDK_API_RANGE, SDK_API_VERSION), `${SDK_API_RANGE} vs ${SDK_API_VERSION}`).toBe(true)
  })

  it('the caret check itself rejects what it should', () => {
    expect(caretIncludes('^0.1.0', '0.1.5')).toBe(true)
    expect(caretIncludes('^0.1.0', '0.2.0')).toBe(false)
    expect(caretIncludes('^1.0.0', '1.4.0')).toBe(true)
    expect(caretIncludes('^1.2.0', '1.1.9')).toBe(false)
    expect(caretIncludes('^1.0.0', '2.0.0')).toBe(false)
  })
})

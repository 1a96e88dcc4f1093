import semver from 'semver'
import { ErrorCodes, PluginError } from '../errors.ts'
import { SDK_API_VERSION } from '../version.ts'

/**
 * Whether a plugin written for the SDK range `range` (its manifest's `stavily.sdk`) runs on
 * a host implementing SDK API `apiVersion` (default: this SDK's). An invalid range is not
 * compatible.
 *
 * @example
 * ```ts
 * import { isSdkCompatible } from '@stavily/sdk/manifest'
 * isSdkCompatible('^1.0.0') // true with SDK API 1.0.0
 * isSdkCompatible('^2.0.0', '1.4.0') // false
 * ```
 */
export function isSdkCompatible(range: string, apiVersion: string = SDK_API_VERSION): boolean {
  if (typeof range !== 'string' || semver.validRange(range) === null) return false
  if (semver.valid(apiVersion) === null) return false
  return semver.satisfies(apiVersion, range)
}

/**
 * Throws `PluginError` `STAVILY_ERR_SDK_INCOMPATIBLE` naming both versions unless
 * {@link isSdkCompatible}.
 *
 * @example
 * ```ts
 * import { assertSdkCompatible, parseManifest } from '@stavily/sdk/manifest'
 * assertSdkCompatible(parseManifest(pkg).sdk)
 * ```
 */
export function assertSdkCompatible(range: string, apiVersion: string = SDK_API_VERSION): void {
  if (isSdkCompatible(range, apiVersion)) return
  throw new PluginError(
    ErrorCodes.SDK_INCOMPATIBLE,
    `the plugin requires SDK API ${JSON.stringify(range)} but this host implements SDK API ${apiVersion}; ` +
      'rebuild the plugin against a compatible @stavily/sdk or run a host that supports it',
    { data: { range: String(range), apiVersion } },
  )
}

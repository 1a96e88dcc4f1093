/**
 * The plugin API version this SDK implements. A plugin's manifest names the SDK range it
 * was written for (`stavily.sdk`, e.g. `"^1.0.0"`); hosts load it only when this version
 * satisfies that range. It changes major only when the contract breaks.
 *
 * @example
 * ```ts
 * import { SDK_API_VERSION } from '@stavily/sdk'
 * console.log(`built against the Stavily plugin API ${SDK_API_VERSION}`)
 * ```
 */
export const SDK_API_VERSION = '1.0.0' as const

/**
 * The one place that couples the templates to the SDK. The scaffolder writes these into
 * every generated package.json, whatever the template folders say, so a release of this
 * package only has to change this file. `test/sdk-version.test.ts` fails when they drift
 * from the SDK in this repository.
 */

/** The npm range for the `@stavily/sdk` dependency: the SDK package version this release was built against. */
export const SDK_PACKAGE_RANGE = '^0.1.0'

/** The `stavily.sdk` manifest range: which SDK API versions (`SDK_API_VERSION`) the plugin works with. */
export const SDK_API_RANGE = '^1.0.0'

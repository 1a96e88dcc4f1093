// Builds a fixture plugin (test/fixtures/NAME.ts) into a bundle with the SDK's one plugin
// build (bundlePluginSource, what the registry and `npm run build` run); the SDK resolves
// to its sources, as in the tests.
import { fileURLToPath } from 'node:url'
import { SDK_API_VERSION } from '@stavily/sdk'
import { bundlePluginSource } from '@stavily/sdk/build'
import { PLUGIN_BUNDLE_OPTIONS } from '@stavily/sdk/manifest'
import { type BuildOptions, build, type Plugin } from 'esbuild'

const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url))
const sdkSource = fileURLToPath(new URL('../../../sdk/src/index.ts', import.meta.url))
const cache = new Map<string, Promise<string>>()

/** Resolves `@stavily/sdk` to its sources instead of a build in node_modules. */
const sdkFromSource: Plugin = {
  name: 'sdk-from-source',
  setup(build) {
    build.onResolve({ filter: /^@stavily\/sdk$/ }, () => ({ path: sdkSource }))
  },
}

export function buildFixture(name: string): Promise<string> {
  let bundle = cache.get(name)
  if (!bundle) {
    bundle = bundlePluginSource({ root: fixtures, entry: `${name}.ts`, plugins: [sdkFromSource] }).then(
      (r) => r.code,
    )
    cache.set(name, bundle)
  }
  return bundle
}

/**
 * The fixture as SDKs before the slim schema builders bundled every plugin (all of TypeBox
 * inside, UTF-8): the format of plugins already published.
 */
export async function buildFixtureWithTypebox(name: string): Promise<string> {
  const r = await build({
    ...(PLUGIN_BUNDLE_OPTIONS as unknown as BuildOptions),
    write: false,
    entryPoints: [`${fixtures}${name}.ts`],
    absWorkingDir: fixtures,
    plugins: [sdkFromSource],
  })
  return r.outputFiles![0]!.text
}

export interface ManifestOptions {
  kind?: 'action' | 'output' | 'sensor'
  version?: string
  sdk?: string
  permissions?: Record<string, unknown>
}

/** A plugin package.json (name, version, stavily manifest). */
export function manifest(name: string, o: ManifestOptions = {}): Record<string, unknown> {
  return {
    name,
    version: o.version ?? '1.0.0',
    stavily: {
      kind: o.kind ?? 'action',
      entry: 'src/index.ts',
      sdk: o.sdk ?? `^${SDK_API_VERSION}`,
      permissions: o.permissions ?? {},
    },
  }
}

let seq = 0
/** Unique ids for a call. */
export function ids(): { invocationId: string; idempotencyKey: string } {
  seq++
  return { invocationId: `inv-${seq}`, idempotencyKey: `key-${seq}` }
}

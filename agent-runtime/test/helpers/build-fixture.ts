// Builds a fixture plugin (test/fixtures/NAME.ts) into a bundle exactly as the registry
// would, with the SDK's esbuild options; the SDK resolves to its sources, as in the tests.
import { fileURLToPath } from 'node:url'
import { SDK_API_VERSION } from '@stavily/sdk'
import { PLUGIN_BUNDLE_OPTIONS } from '@stavily/sdk/manifest'
import { type BuildOptions, build } from 'esbuild'

const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url))
const sdkSource = fileURLToPath(new URL('../../../sdk/src/index.ts', import.meta.url))
const cache = new Map<string, Promise<string>>()

export function buildFixture(name: string): Promise<string> {
  let bundle = cache.get(name)
  if (!bundle) {
    // The SDK's options are deeply readonly (`as const`); esbuild's type wants mutable arrays.
    const options = { ...PLUGIN_BUNDLE_OPTIONS } as unknown as BuildOptions
    bundle = build({
      ...options,
      write: false,
      entryPoints: [`${fixtures}${name}.ts`],
      absWorkingDir: fixtures,
      alias: { '@stavily/sdk': sdkSource },
    }).then((r) => r.outputFiles![0]!.text)
    cache.set(name, bundle)
  }
  return bundle
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

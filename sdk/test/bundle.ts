// Test helper: bundles an entry exactly as plugins are bundled (PLUGIN_BUNDLE_OPTIONS plus the
// built-ins guard) and evaluates bundles in an empty ECMAScript realm (node:vm).
import { fileURLToPath } from 'node:url'
import vm from 'node:vm'
import { build } from 'esbuild'
import { nodeBuiltinsGuard, PLUGIN_BUNDLE_GLOBAL, PLUGIN_BUNDLE_OPTIONS } from '../src/manifest/index.ts'

export const sdkRoot = fileURLToPath(new URL('..', import.meta.url))

export async function bundle(entry: string): Promise<{ text: string; inputs: string[] }> {
  const result = await build({
    ...PLUGIN_BUNDLE_OPTIONS,
    entryPoints: [entry],
    absWorkingDir: sdkRoot,
    metafile: true,
    plugins: [nodeBuiltinsGuard()],
  })
  return { text: result.outputFiles[0]!.text, inputs: Object.keys(result.metafile.inputs) }
}

/** Evaluates a bundle in a fresh realm that has only ECMAScript's globals; returns that realm's global. */
export function evaluateInEmptyRealm(text: string): Record<string, unknown> {
  const context = vm.createContext(Object.create(null))
  vm.runInContext(text, context, { filename: 'plugin.js' })
  return context as Record<string, unknown>
}

export function pluginExports(realm: Record<string, unknown>): Record<string, unknown> {
  return realm[PLUGIN_BUNDLE_GLOBAL] as Record<string, unknown>
}

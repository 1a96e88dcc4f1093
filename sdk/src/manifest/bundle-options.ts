// How every plugin is bundled: the registry's publish and a scaffolded plugin's
// `npm run build` pass these to esbuild (with `entryPoints` and `absWorkingDir` added), so
// the same commit always gives the same bytes, loadable in an empty ECMAScript global.
import { TEXT_ENCODER_SHIM, TEXT_ENCODER_SHIM_END } from './text-encoder-shim.ts'

/**
 * The global a plugin bundle assigns: evaluating the bundle defines
 * `globalThis.__stavilyPlugin`, whose `default` is the plugin definition.
 *
 * @example
 * ```ts
 * import { PLUGIN_BUNDLE_GLOBAL } from '@stavily/sdk/manifest'
 * const plugin = (context.global as Record<string, { default: unknown }>)[PLUGIN_BUNDLE_GLOBAL].default
 * ```
 */
export const PLUGIN_BUNDLE_GLOBAL = '__stavilyPlugin' as const

/**
 * The type of {@link PLUGIN_BUNDLE_OPTIONS}: literal where esbuild's result type depends on
 * it (`write: false` gives `outputFiles`), mutable arrays so it spreads into esbuild's
 * `BuildOptions`.
 *
 * @example
 * ```ts
 * const options: PluginBundleOptions = { ...PLUGIN_BUNDLE_OPTIONS, minify: false }
 * ```
 */
export interface PluginBundleOptions {
  bundle: true
  format: 'iife'
  globalName: typeof PLUGIN_BUNDLE_GLOBAL
  platform: 'neutral'
  target: string
  mainFields: string[]
  conditions: string[]
  resolveExtensions: string[]
  sourcemap: false
  minify: false
  legalComments: 'none'
  charset: 'utf8'
  treeShaking: true
  write: false
  define: Record<string, string>
  banner: { js: string }
  footer: { js: string }
  logLevel: 'silent'
}

/**
 * esbuild build options for a plugin bundle (a plain object: this package does not import
 * esbuild). Add `entryPoints: [manifest.entry]` and `absWorkingDir: <plugin root>`; the
 * working directory matters for determinism, because the bundle's path comments are relative
 * to it. Use {@link nodeBuiltinsGuard} as a plugin to fail with every Node built-in import.
 *
 * @example
 * ```ts
 * import { build } from 'esbuild'
 * import { nodeBuiltinsGuard, PLUGIN_BUNDLE_OPTIONS } from '@stavily/sdk/manifest'
 * const result = await build({
 *   ...PLUGIN_BUNDLE_OPTIONS,
 *   entryPoints: ['src/index.ts'],
 *   absWorkingDir: process.cwd(),
 *   plugins: [nodeBuiltinsGuard()],
 * })
 * const bundle = result.outputFiles[0].text
 * ```
 */
export const PLUGIN_BUNDLE_OPTIONS: Readonly<PluginBundleOptions> = Object.freeze({
  bundle: true,
  // One script, no module loader: the sandbox evaluates it as a classic script.
  format: 'iife',
  globalName: PLUGIN_BUNDLE_GLOBAL,
  // Neutral: no Node or browser assumptions; built-ins fail to resolve instead of being kept.
  platform: 'neutral',
  target: 'es2022',
  mainFields: ['module', 'main'],
  conditions: ['module'],
  resolveExtensions: ['.ts', '.mts', '.tsx', '.js', '.mjs', '.jsx', '.cjs', '.json'],
  // Source maps and minification would add absolute paths or names that vary between builds.
  sourcemap: false,
  minify: false,
  legalComments: 'none',
  charset: 'utf8',
  treeShaking: true,
  // The caller digests and stores the bytes; nothing is written next to the sources.
  write: false,
  // Libraries that branch on NODE_ENV get one fixed answer instead of a missing `process`.
  define: { 'process.env.NODE_ENV': '"production"' },
  // TypeBox needs a TextEncoder at load; an empty ECMAScript global has none. The bundle is
  // wrapped in a block that binds one, so the sandbox's global is left alone.
  banner: { js: TEXT_ENCODER_SHIM },
  footer: { js: TEXT_ENCODER_SHIM_END },
  logLevel: 'silent',
})

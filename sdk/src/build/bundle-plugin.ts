import { build, type Metafile, type Plugin } from 'esbuild'
import { PLUGIN_BUNDLE_OPTIONS } from '../manifest/bundle-options.ts'
import { canonicalizePackagePaths } from './canonical-paths.ts'

/**
 * What {@link bundlePluginSource} builds: the plugin's folder (or the checkout root, for a
 * plugin in a monorepo) and its entry relative to it.
 *
 * @example
 * ```ts
 * const options: BundlePluginSourceOptions = { root: '/src/my-plugin', entry: 'src/index.ts' }
 * ```
 */
export interface BundlePluginSourceOptions {
  /** The working directory: the bundle's path comments are relative to it. */
  root: string
  entry: string
  /** esbuild plugins: guards that refuse imports, or map a package to a host copy. */
  plugins?: Plugin[]
}

/**
 * The bundle's text and esbuild's metafile (which files it took in).
 *
 * @example
 * ```ts
 * const { code, metafile } = await bundlePluginSource({ root, entry: 'src/index.ts' })
 * console.log(code.length, Object.keys(metafile.inputs))
 * ```
 */
export interface PluginSourceBundle {
  code: string
  metafile: Metafile
}

/**
 * Bundles a plugin into the one sandbox script: the build both a plugin's `npm run build`
 * and the registry's publish run, so the same commit with the same package versions gives
 * the same bytes (and the same sha256) on a laptop and on the registry. The esbuild options
 * are {@link PLUGIN_BUNDLE_OPTIONS}; each package file is named `package@version/path`
 * whatever folder it was installed in. Throws esbuild's error (with `errors`) on failure.
 *
 * @example
 * ```ts
 * import { bundlePluginSource } from '@stavily/sdk/build'
 * import { nodeBuiltinsGuard } from '@stavily/sdk/manifest'
 * const { code } = await bundlePluginSource({ root: process.cwd(), entry: 'src/index.ts', plugins: [nodeBuiltinsGuard()] })
 * ```
 */
export async function bundlePluginSource(opts: BundlePluginSourceOptions): Promise<PluginSourceBundle> {
  const result = await build({
    ...PLUGIN_BUNDLE_OPTIONS,
    // ASCII output (non-ASCII characters as \u escapes): V8 keeps a script's source for as
    // long as the script lives, and one character above U+00FF anywhere in the bundle (the
    // SDK's own "…" did it) makes the whole text two bytes a character, in every isolate
    // that loads it and in the agent's copies: 0.46 instead of 0.23 MB for a TypeBox bundle.
    charset: 'ascii',
    define: { ...PLUGIN_BUNDLE_OPTIONS.define },
    mainFields: [...PLUGIN_BUNDLE_OPTIONS.mainFields],
    conditions: [...PLUGIN_BUNDLE_OPTIONS.conditions],
    resolveExtensions: [...PLUGIN_BUNDLE_OPTIONS.resolveExtensions],
    absWorkingDir: opts.root,
    entryPoints: [opts.entry],
    metafile: true,
    plugins: opts.plugins ?? [],
  })
  const text = result.outputFiles[0]?.text ?? ''
  return { code: canonicalizePackagePaths(text, result.metafile, opts.root), metafile: result.metafile }
}

import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { build, type Metafile, type Plugin } from 'esbuild'
import { PLUGIN_BUNDLE_OPTIONS } from '../manifest/bundle-options.ts'
import { canonicalizePackagePaths } from './canonical-paths.ts'
import { SLIM_TYPE_BUILDERS, SLIM_TYPE_GLOBAL_NAME, SLIM_TYPE_SOURCE } from './slim-type.ts'

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
 * are {@link PLUGIN_BUNDLE_OPTIONS} (with ASCII output); each package file is named
 * `package@version/path` whatever folder it was installed in. A plugin that uses TypeBox
 * only through the SDK's `Type` builders the slim set has (slim-type.ts) gets those instead
 * of TypeBox (a bundle of about 15 KB instead of 230 KB); any other use of TypeBox gets
 * TypeBox, as before. That takes a second esbuild run, so `plugins` may run twice and must
 * tolerate it. Throws esbuild's error (with `errors`) on failure.
 *
 * @example
 * ```ts
 * import { bundlePluginSource } from '@stavily/sdk/build'
 * import { nodeBuiltinsGuard } from '@stavily/sdk/manifest'
 * const { code } = await bundlePluginSource({ root: process.cwd(), entry: 'src/index.ts', plugins: [nodeBuiltinsGuard()] })
 * ```
 */
export async function bundlePluginSource(opts: BundlePluginSourceOptions): Promise<PluginSourceBundle> {
  // First with the SDK's `Type` as the slim schema builders (slim-type.ts); if the plugin
  // uses anything else of TypeBox, again with TypeBox bundled. Both are decided from the
  // sources alone, so the same commit still gives the same bytes everywhere.
  const slim = { typeboxElsewhere: false, typeboxMajor: undefined as string | undefined }
  const first = await esbuildPlugin(opts, [slimTypebox(slim), ...(opts.plugins ?? [])])
  const bundle =
    !slim.typeboxElsewhere && slim.typeboxMajor === '1' && usesOnlySlimBuilders(first.code)
      ? first
      : await esbuildPlugin(opts, opts.plugins ?? [])
  return {
    code: canonicalizePackagePaths(bundle.code, bundle.metafile, opts.root),
    metafile: bundle.metafile,
  }
}

async function esbuildPlugin(
  opts: BundlePluginSourceOptions,
  plugins: Plugin[],
): Promise<{ code: string; metafile: Metafile }> {
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
    plugins,
  })
  return { code: result.outputFiles[0]?.text ?? '', metafile: result.metafile }
}

const SLIM_NAMESPACE = 'stavily-slim-type'
const SDK_PACKAGE = '@stavily/sdk'

/**
 * Gives the SDK entry's `import { Type } from 'typebox'` the slim builders, and notes what
 * would make them wrong: TypeBox imported by anything else (the plugin or a dependency
 * using TypeBox itself), or a TypeBox other than 1.x behind the SDK (whose schemas the
 * slim builders copy).
 */
function slimTypebox(state: { typeboxElsewhere: boolean; typeboxMajor: string | undefined }): Plugin {
  return {
    name: 'stavily-slim-type',
    setup(b) {
      b.onResolve({ filter: /^typebox(?:\/|$)/ }, async (args) => {
        if (args.pluginData === SLIM_NAMESPACE) return undefined
        if (args.path !== 'typebox' || packageNameOf(args.importer) !== SDK_PACKAGE) {
          state.typeboxElsewhere = true
          return undefined
        }
        const real = await b.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          importer: args.importer,
          pluginData: SLIM_NAMESPACE,
        })
        state.typeboxMajor = real.errors.length === 0 ? packageVersionOf(real.path)?.split('.')[0] : undefined
        return { path: 'typebox', namespace: SLIM_NAMESPACE }
      })
      b.onLoad({ filter: /.*/, namespace: SLIM_NAMESPACE }, () => ({
        contents: SLIM_TYPE_SOURCE,
        loader: 'js',
      }))
    },
  }
}

/**
 * Whether the bundle touches the slim `Type` only as `Type.<builder>(` with builders it has:
 * any other use (Type passed around, `Type[name]`, a builder it lacks) needs TypeBox.
 */
function usesOnlySlimBuilders(code: string): boolean {
  const uses = new RegExp(`${SLIM_TYPE_GLOBAL_NAME}([^A-Za-z0-9_$])(?:([A-Za-z_$][A-Za-z0-9_$]*)\\()?`, 'g')
  let declarations = 0
  for (const m of code.matchAll(uses)) {
    const before = code.slice(Math.max(0, m.index - 6), m.index)
    if (/(?:const|var|let) $/.test(before)) {
      declarations++
      continue
    }
    if (m[1] !== '.' || m[2] === undefined || !SLIM_TYPE_BUILDERS.includes(m[2])) return false
    if (m[2] === 'Record' && !code.startsWith(`${SLIM_TYPE_GLOBAL_NAME}.String(`, m.index + m[0].length))
      return false
  }
  return declarations === 1
}

/** The `name` of the package.json nearest above `file`, if any. */
function packageNameOf(file: string): string | undefined {
  const pkg = nearestPackageJson(file)
  return pkg?.name
}

function packageVersionOf(file: string): string | undefined {
  return nearestPackageJson(file)?.version
}

function nearestPackageJson(file: string): { name?: string; version?: string } | undefined {
  let dir = dirname(file)
  for (;;) {
    try {
      return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string
        version?: string
      }
    } catch {
      const up = dirname(dir)
      if (up === dir) return undefined
      dir = up
    }
  }
}

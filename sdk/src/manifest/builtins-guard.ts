import { builtinModules } from 'node:module'
import { isAbsolute, relative, sep } from 'node:path'

// Names Node resolves as built-ins, with and without the `node:` prefix (some, like
// `node:test`, exist only prefixed).
const BUILTINS = new Set<string>([...builtinModules, ...builtinModules.map((name) => `node:${name}`)])

/**
 * Whether `specifier` names a Node built-in module (`fs`, `node:fs`, `fs/promises`).
 *
 * @example
 * ```ts
 * import { isNodeBuiltin } from '@stavily/sdk/manifest'
 * isNodeBuiltin('node:fs') // true
 * isNodeBuiltin('typebox') // false
 * ```
 */
export function isNodeBuiltin(specifier: string): boolean {
  if (specifier.startsWith('node:')) return true
  return BUILTINS.has(specifier) || BUILTINS.has(specifier.split('/')[0]!)
}

/**
 * One Node built-in import found in a plugin's sources.
 *
 * @example
 * ```ts
 * const found: BuiltinImport = { specifier: 'node:fs', importer: 'src/index.ts' }
 * ```
 */
export interface BuiltinImport {
  specifier: string
  importer: string
}

interface ResolveArgs {
  path: string
  importer: string
}
interface BuildLike {
  initialOptions: { absWorkingDir?: string }
  onStart(callback: () => void): void
  onResolve(
    options: { filter: RegExp },
    callback: (args: ResolveArgs) => { path: string; external: boolean } | undefined,
  ): void
  onEnd(callback: () => { errors: { text: string }[] } | undefined): void
}

/**
 * An esbuild plugin (structurally typed; no esbuild import) that collects every import of a
 * Node built-in in the bundle and fails the build once, with one error listing all of them
 * and their importers, instead of stopping at the first. Plugins run in a sandbox with no
 * Node APIs; `ctx` offers what they need.
 *
 * @example
 * ```ts
 * import { build } from 'esbuild'
 * import { nodeBuiltinsGuard, PLUGIN_BUNDLE_OPTIONS } from '@stavily/sdk/manifest'
 * await build({ ...PLUGIN_BUNDLE_OPTIONS, entryPoints: ['src/index.ts'], plugins: [nodeBuiltinsGuard()] })
 * // ✘ plugin imports Node built-ins, which do not exist in the Stavily sandbox:
 * //     node:fs (imported by src/index.ts)
 * ```
 */
export function nodeBuiltinsGuard(): { name: string; setup(build: BuildLike): void } {
  return {
    name: 'stavily-node-builtins-guard',
    setup(build) {
      let found: BuiltinImport[] = []
      build.onStart(() => {
        found = []
      })
      const root = build.initialOptions.absWorkingDir ?? process.cwd()
      build.onResolve({ filter: /.*/ }, (args) => {
        if (!isNodeBuiltin(args.path)) return undefined
        found.push({ specifier: args.path, importer: relativeTo(root, args.importer) })
        // Keep going (as an external) so the one error lists every offending import.
        return { path: args.path, external: true }
      })
      // Returned (not pushed onto result.errors) so that esbuild fails the build with it.
      build.onEnd(() => (found.length === 0 ? undefined : { errors: [{ text: builtinsMessage(found) }] }))
    },
  }
}

/**
 * The message {@link nodeBuiltinsGuard} fails with, listing every import and what to do.
 *
 * @example
 * ```ts
 * builtinsMessage([{ specifier: 'node:fs', importer: 'src/index.ts' }])
 * ```
 */
export function builtinsMessage(found: readonly BuiltinImport[]): string {
  const lines = found.map((f) => `    ${f.specifier} (imported by ${f.importer})`).join('\n')
  return (
    'plugin imports Node built-ins, which do not exist in the Stavily sandbox:\n' +
    `${lines}\n` +
    'Use the capabilities on ctx instead (ctx.fetch, ctx.fs, ctx.exec, ctx.secrets, ctx.state), ' +
    'and dependencies that do not need Node.'
  )
}

function relativeTo(root: string, file: string): string {
  if (!isAbsolute(file)) return file
  return relative(root, file).split(sep).join('/')
}

import { createHash } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runInNewContext } from 'node:vm'
import { nodeBuiltinsGuard } from '../manifest/builtins-guard.ts'
import { PLUGIN_BUNDLE_GLOBAL } from '../manifest/bundle-options.ts'
import { isSdkCompatible } from '../manifest/sdk-compat.ts'
import { validateManifest } from '../manifest/validate-manifest.ts'
import { SDK_API_VERSION } from '../version.ts'
import { bundlePluginSource } from './bundle-plugin.ts'

/**
 * A plugin build that failed: every line says where and what (a manifest field, a source
 * line, the bundle failing to load).
 *
 * @example
 * ```ts
 * try { await buildPlugin(dir) } catch (e) { if (e instanceof PluginBuildError) console.error(e.lines.join('\n')) }
 * ```
 */
export class PluginBuildError extends Error {
  readonly lines: string[]
  constructor(lines: string[]) {
    super(`build failed:\n${lines.map((l) => `  ${l}`).join('\n')}`)
    this.name = 'PluginBuildError'
    this.lines = lines
  }
}

/**
 * What {@link buildPlugin} wrote.
 *
 * @example
 * ```ts
 * const built: BuiltPlugin = await buildPlugin(process.cwd())
 * console.log(`${built.file}: sha256 ${built.sha256}`)
 * ```
 */
export interface BuiltPlugin {
  /** Relative to the plugin folder: `dist/plugin.js`. */
  file: string
  name: string
  version: string
  kind: string
  bytes: number
  /** Hex sha256 of the file: the digest the registry signs for the same commit. */
  sha256: string
}

/**
 * A scaffolded plugin's `npm run build`: checks the manifest (the `stavily` field of
 * package.json) as the registry will, bundles the entry with {@link bundlePluginSource} —
 * the registry's own build — into `dist/plugin.js`, then loads it in an empty JavaScript
 * global as the agent's sandbox will, so what the registry or the sandbox would refuse
 * fails here first. Throws {@link PluginBuildError}.
 *
 * @example
 * ```ts
 * // build.mjs
 * import { buildPlugin } from '@stavily/sdk/build'
 * const built = await buildPlugin(new URL('.', import.meta.url))
 * ```
 */
export async function buildPlugin(folder: string | URL, outfile = 'dist/plugin.js'): Promise<BuiltPlugin> {
  const root = typeof folder === 'string' ? folder : fileURLToPath(folder)
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
    name?: string
    version?: string
  }
  const checked = validateManifest(pkg)
  if (!checked.ok)
    throw new PluginBuildError(checked.problems.map((p) => `package.json ${p.path}: ${p.message}`))
  const { kind, entry, sdk } = checked.manifest
  if (!isSdkCompatible(sdk))
    throw new PluginBuildError([
      `package.json stavily.sdk: "${sdk}" does not include the installed SDK's API ${SDK_API_VERSION}`,
    ])

  let code: string
  try {
    code = (await bundlePluginSource({ root, entry, plugins: [nodeBuiltinsGuard()] })).code
  } catch (error) {
    const errors = (
      error as {
        errors?: { text: string; location?: { file: string; line: number; column: number } | null }[]
      }
    ).errors
    if (!errors || errors.length === 0)
      throw new PluginBuildError([String((error as Error).message ?? error)])
    throw new PluginBuildError(
      errors.map(
        (e) =>
          `${e.location ? `${e.location.file}:${e.location.line}:${e.location.column + 1}: ` : ''}${e.text}`,
      ),
    )
  }
  const path = join(root, outfile)
  await mkdir(dirname(path), { recursive: true })
  await writeFile(path, code)

  const sandbox: Record<string, { default?: { kind?: string } } | undefined> = {}
  try {
    runInNewContext(code, sandbox, { filename: outfile, timeout: 5000 })
  } catch (error) {
    throw new PluginBuildError([
      `${outfile} throws when loaded in an empty JavaScript global: ${(error as Error)?.message ?? error}`,
    ])
  }
  const definition = sandbox[PLUGIN_BUNDLE_GLOBAL]?.default
  if (definition?.kind !== kind) {
    const found = definition?.kind ? `kind "${definition.kind}"` : 'no plugin definition'
    throw new PluginBuildError([
      `${entry} must export default the result of define${kind[0]!.toUpperCase()}${kind.slice(1)}(...); found ${found}`,
    ])
  }
  const bytes = Buffer.from(code, 'utf8')
  return {
    file: outfile,
    name: pkg.name ?? '',
    version: pkg.version ?? '',
    kind,
    bytes: bytes.byteLength,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  }
}

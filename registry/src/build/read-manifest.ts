import { readFile, realpath, stat } from 'node:fs/promises'
import { join, sep } from 'node:path'
import {
  isSdkCompatible,
  type PluginManifest,
  SDK_API_VERSION,
  validateManifest,
} from '@stavily/sdk/manifest'
import { DEFAULTS } from '../defaults.ts'
import { RegistryError } from '../errors.ts'

// Reads and validates the plugin's package.json with the SDK's validator, which reports
// every problem with its field path. The folder and the file must be inside the checkout
// (a symlink out of the repository is refused).

export interface PluginSource {
  /** Real path of the plugin folder inside the checkout. */
  dir: string
  packageJson: Record<string, unknown>
  manifest: PluginManifest
}

export async function readPluginSource(checkoutRoot: string, path: string): Promise<PluginSource> {
  const root = await realpath(checkoutRoot)
  const where = path === '' ? 'the repository root' : `"${path}"`
  const inside = (p: string) => p === root || p.startsWith(root + sep)
  let dir: string
  try {
    dir = await realpath(join(root, path))
  } catch {
    throw missing(`path: no folder ${where} in the repository`, 'path')
  }
  if (!inside(dir)) throw missing(`path: ${where} leads outside the repository`, 'path')
  let file: string
  try {
    file = await realpath(join(dir, 'package.json'))
  } catch {
    throw missing(
      `no package.json in ${where}; a plugin is an npm package with a "stavily" manifest field`,
      'package.json',
    )
  }
  if (!inside(file)) throw missing(`package.json in ${where} leads outside the repository`, 'package.json')
  const { size } = await stat(file)
  if (size > DEFAULTS.maxManifestBytes)
    throw invalid(
      `package.json: ${size} bytes, more than the ${DEFAULTS.maxManifestBytes} a manifest may have`,
      [],
    )
  let packageJson: unknown
  try {
    packageJson = JSON.parse(await readFile(file, 'utf8'))
  } catch (err) {
    throw invalid(`package.json: not valid JSON (${(err as Error).message})`, [])
  }
  if (!packageJson || typeof packageJson !== 'object' || Array.isArray(packageJson))
    throw invalid('package.json: expected a JSON object', [])
  if (!('stavily' in packageJson))
    throw missing(
      `package.json in ${where} has no "stavily" field; add { "kind", "entry", "sdk", "permissions" } (see docs/publishing.md)`,
      'stavily',
    )
  const result = validateManifest(packageJson)
  if (!result.ok)
    throw invalid(
      `package.json: the plugin manifest is invalid:\n${result.problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n')}`,
      result.problems,
    )
  if (!isSdkCompatible(result.manifest.sdk))
    throw new RegistryError(
      'STAVILY_ERR_REGISTRY_SDK_INCOMPATIBLE',
      `stavily.sdk: the plugin requires SDK API "${result.manifest.sdk}" but this registry serves SDK API ${SDK_API_VERSION}; build against a compatible @stavily/sdk`,
      { data: { field: 'stavily.sdk', range: result.manifest.sdk, apiVersion: SDK_API_VERSION } },
    )
  return { dir, packageJson: packageJson as Record<string, unknown>, manifest: result.manifest }
}

function missing(message: string, field: string): RegistryError {
  return new RegistryError('STAVILY_ERR_REGISTRY_MANIFEST_MISSING', message, { data: { field } })
}

function invalid(message: string, problems: readonly { path: string; message: string }[]): RegistryError {
  return new RegistryError('STAVILY_ERR_REGISTRY_MANIFEST_INVALID', message, { data: { problems } })
}

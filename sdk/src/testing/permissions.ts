import { ErrorCodes, PluginError } from '../errors.ts'
import { assertSdkCompatible } from '../manifest/sdk-compat.ts'
import type { Permissions, PluginKind, PluginManifest } from '../manifest/types.ts'
import { parseManifest } from '../manifest/validate-manifest.ts'
import type { HarnessOptions, PartialPermissions } from './options.ts'

/** The declared permissions and grants a harness run uses, from its options. */
export function resolvePermissions(
  options: HarnessOptions,
  kind: PluginKind,
): { declared: Permissions; granted: Permissions } {
  let declared: Permissions
  if (options.manifest !== undefined) {
    if (options.permissions !== undefined) {
      throw new PluginError(
        ErrorCodes.INVALID_ARGUMENT,
        'harness: pass either manifest or permissions, not both (the manifest already declares permissions)',
      )
    }
    const manifest = toManifest(options.manifest)
    if (manifest.kind !== kind) {
      throw new PluginError(
        ErrorCodes.MANIFEST_INVALID,
        `harness: the manifest declares kind "${manifest.kind}" but the plugin is defined as ${kind === 'action' ? 'an' : 'a'} ${kind}`,
      )
    }
    assertSdkCompatible(manifest.sdk)
    declared = manifest.permissions
  } else {
    declared = complete(options.permissions)
  }
  const granted = options.grants === undefined ? declared : complete(options.grants)
  return { declared, granted }
}

function toManifest(value: unknown): PluginManifest {
  const record = value as Record<string, unknown> | null
  // A parsed manifest has `kind` at the top; a package.json has it under `stavily`.
  if (record !== null && typeof record === 'object' && 'stavily' in record) return parseManifest(record)
  if (record !== null && typeof record === 'object' && 'kind' in record) {
    const { name, version, description, ...stavily } = record
    return parseManifest({
      name,
      version,
      stavily: description === undefined ? stavily : { ...stavily, description },
    })
  }
  return parseManifest(value)
}

function complete(partial: PartialPermissions | undefined): Permissions {
  return {
    net: [...(partial?.net ?? [])],
    exec: [...(partial?.exec ?? [])],
    secrets: [...(partial?.secrets ?? [])],
    fs: { read: [...(partial?.fs?.read ?? [])], write: [...(partial?.fs?.write ?? [])] },
    ...(partial?.env === undefined ? {} : { env: [...partial.env] }),
  }
}

import { ErrorCodes, PluginError } from '../errors.ts'
import { looksGranted } from '../manifest/granted.ts'
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
  // Without a test grant, everything the manifest names is granted; what it leaves to the
  // operator ("$granted") is not, as on an agent whose operator granted nothing: the test
  // passes `grants` with the targets it uses, and the same rules apply to them.
  const granted = options.grants === undefined ? withoutGranted(declared) : complete(options.grants)
  return { declared, granted }
}

function withoutGranted(declared: Permissions): Permissions {
  const named = (list: string[]) => list.filter((entry) => !looksGranted(entry))
  const out: Permissions = {
    net: named(declared.net),
    exec: named(declared.exec),
    secrets: [...declared.secrets],
    fs: { read: named(declared.fs.read), write: named(declared.fs.write) },
  }
  if (declared.env !== undefined) out.env = [...declared.env]
  if (declared.sql !== undefined) out.sql = named(declared.sql)
  if (declared.smtp !== undefined) out.smtp = named(declared.smtp)
  return out
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
    ...(partial?.sql === undefined ? {} : { sql: [...partial.sql] }),
    ...(partial?.smtp === undefined ? {} : { smtp: [...partial.smtp] }),
  }
}

import { TargetFile } from '@tufjs/models'
import { RegistryError } from '../errors.ts'
import { insertArtifact } from '../storage/plans/artifacts.ts'
import { setLatest, upsertPlugin } from '../storage/plans/plugins.ts'
import {
  getVersion,
  insertVersion,
  listVersions,
  type NewVersion,
  type VersionRow,
} from '../storage/plans/versions.ts'
import { run, type SqlClient } from '../storage/sql-client.ts'
import type { TufRepository } from '../tuf/repository.ts'
import { targetPath } from '../tuf/target-path.ts'
import type { PluginVersion } from '../types.ts'
import { targetCustom, toPluginVersion } from '../version-record.ts'
import { latestStable } from './latest.ts'

// Stores a built version: artifact, version with provenance, plugin row and the re-signed
// TUF chain, all in ONE transaction under the TUF lock. Any failure rolls everything back.

export interface BuiltVersion extends Omit<NewVersion, 'digest' | 'size'> {
  description: string
  bytes: Uint8Array
  sha256: string
  /** Claims (or checks) the name for the publisher inside the storing transaction. */
  claim?: (name: string, tx: SqlClient) => Promise<void>
}

export async function recordVersion(
  sql: SqlClient,
  schema: string,
  tuf: TufRepository,
  built: BuiltVersion,
): Promise<{ status: 'published' | 'unchanged'; version: PluginVersion }> {
  const digest = `sha256:${built.sha256}`
  return sql.transaction(async (tx) => {
    // The lock first: two publishes of one version (or of two versions) are serialised here.
    await tuf.lock(tx)
    await built.claim?.(built.name, tx)
    const [existing] = await run<VersionRow>(tx, getVersion(schema, built.name, built.version))
    if (existing) {
      if (existing.digest === digest)
        return { status: 'unchanged' as const, version: toPluginVersion(existing) }
      throw new RegistryError(
        'STAVILY_ERR_REGISTRY_VERSION_EXISTS',
        `version: ${built.name}@${built.version} is already published with digest ${existing.digest} (commit ${existing.commit}); published versions are immutable, so bump "version" in package.json and publish again`,
        { data: { field: 'version', name: built.name, version: built.version, digest: existing.digest } },
      )
    }
    await run(tx, insertArtifact(schema, digest, built.bytes))
    await run(
      tx,
      upsertPlugin(schema, {
        name: built.name,
        kind: built.kind,
        description: built.description,
        repository: built.repository,
      }),
    )
    const [row] = await run<VersionRow>(
      tx,
      insertVersion(schema, { ...built, digest, size: built.bytes.byteLength }),
    )
    const version = toPluginVersion(row!)
    const all = (await run<VersionRow>(tx, listVersions(schema, built.name))).map(toPluginVersion)
    await run(tx, setLatest(schema, built.name, latestStable(all)))
    await tuf.updateTargets(tx, (targets) => {
      const path = targetPath(version.name, version.version)
      targets[path] = targetFileFor(version, built.sha256)
    })
    return { status: 'published' as const, version }
  })
}

export function targetFileFor(version: PluginVersion, sha256: string): TargetFile {
  const path = targetPath(version.name, version.version)
  return new TargetFile({
    path,
    length: version.size,
    hashes: { sha256 },
    unrecognizedFields: { custom: targetCustom(version) as unknown as Record<string, string> },
  })
}

import { RegistryError } from '../errors.ts'
import { getArtifact } from '../storage/plans/artifacts.ts'
import { getPlugin, type PluginRow, searchPlugins } from '../storage/plans/plugins.ts'
import { getVersion, listVersions, type VersionRow } from '../storage/plans/versions.ts'
import { run, type SqlClient } from '../storage/sql-client.ts'
import type { PluginSummary, PluginVersion } from '../types.ts'
import { toPluginSummary, toPluginVersion } from '../version-record.ts'
import { sortVersions } from './latest.ts'

// Reads of the catalogue: plugins, their versions, artifacts.

export async function searchCatalog(
  sql: SqlClient,
  schema: string,
  params: { query: string; limit: number; offset: number },
): Promise<PluginSummary[]> {
  return (await run<PluginRow>(sql, searchPlugins(schema, params))).map(toPluginSummary)
}

export async function pluginVersions(sql: SqlClient, schema: string, name: string): Promise<PluginVersion[]> {
  const [plugin] = await run<PluginRow>(sql, getPlugin(schema, name))
  if (!plugin)
    throw new RegistryError(
      'STAVILY_ERR_REGISTRY_PLUGIN_NOT_FOUND',
      `name: no plugin named ${name} is published`,
      {
        data: { field: 'name', name },
      },
    )
  return sortVersions((await run<VersionRow>(sql, listVersions(schema, name))).map(toPluginVersion))
}

export async function findVersion(
  sql: SqlClient,
  schema: string,
  name: string,
  version: string,
): Promise<PluginVersion | undefined> {
  const [row] = await run<VersionRow>(sql, getVersion(schema, name, version))
  return row ? toPluginVersion(row) : undefined
}

export async function pluginVersion(
  sql: SqlClient,
  schema: string,
  name: string,
  version: string,
): Promise<PluginVersion> {
  const found = await findVersion(sql, schema, name, version)
  if (found) return found
  await pluginVersions(sql, schema, name) // a missing plugin gets its own error
  throw new RegistryError(
    'STAVILY_ERR_REGISTRY_VERSION_NOT_FOUND',
    `version: ${name} has no version ${version}`,
    {
      data: { field: 'version', name, version },
    },
  )
}

export async function artifactBytes(sql: SqlClient, schema: string, digest: string): Promise<Uint8Array> {
  const [row] = await run<{ body: Uint8Array }>(sql, getArtifact(schema, digest))
  if (!row)
    throw new RegistryError(
      'STAVILY_ERR_REGISTRY_ARTIFACT_NOT_FOUND',
      `no artifact with digest ${digest} is stored`,
      {
        data: { digest },
      },
    )
  // pg returns a Buffer, PGlite a Uint8Array: hand out one type.
  return new Uint8Array(row.body.buffer, row.body.byteOffset, row.body.byteLength)
}

import { join } from 'node:path'
import { tempDir } from '../../../test/temp-dir.ts'
import { createRegistry, type Registry, type RegistryOptions } from '../../src/registry.ts'
import type { SqlClient } from '../../src/storage/sql-client.ts'
import { freshSchema } from './backends.ts'
import { PROVIDED_SDK } from './sdk.ts'

/**
 * A registry on its own schema and key folder, building against the workspace SDK. Its
 * remotes may be file:// and loopback (the test git servers) unless `extra.remotes` says otherwise.
 */
export async function testRegistry(
  sql: SqlClient,
  extra: Partial<RegistryOptions> = {},
): Promise<Registry & { keysDir: string }> {
  // Outlives the registry object (tests reopen one on the same keys): removed after the file.
  const keysDir = join(tempDir('keys'), 'keys')
  const registry = await createRegistry({
    sql,
    schema: freshSchema(),
    keysDir,
    remotes: { allowFile: true, allowPrivate: true },
    ...extra,
    build: { provided: PROVIDED_SDK, ...extra.build },
  })
  return Object.assign(registry, { keysDir })
}

/** Row counts that must not move when a publish fails. */
export async function storedCounts(sql: SqlClient, schema: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  for (const table of ['plugins', 'versions', 'artifacts', 'tuf_metadata']) {
    const { rows } = await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${schema}.${table}`)
    out[table] = rows[0]!.n
  }
  return out
}

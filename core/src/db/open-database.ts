import { openPostgres } from './pg-client.ts'
import { openPglite } from './pglite-client.ts'
import type { Database } from './sql-client.ts'

export type DatabaseConfig =
  | { backend: 'postgres'; url: string; schema: string; poolSize: number }
  | { backend: 'pglite'; dataDir: string | undefined; schema: string; seed?: Blob }

export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  if (config.backend === 'postgres') {
    return openPostgres({ connectionString: config.url, schema: config.schema, poolSize: config.poolSize })
  }
  return openPglite({
    dataDir: config.dataDir,
    schema: config.schema,
    ...(config.seed ? { loadDataDir: config.seed } : {}),
  })
}

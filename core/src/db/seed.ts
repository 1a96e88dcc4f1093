import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { DEFAULTS } from '../defaults.ts'
import { startBoss } from '../queue/boss.ts'
import { DEAD_LETTER_QUEUE } from '../queue/queue-names.ts'
import { migrate } from './migrate.ts'
import { openPglite } from './pglite-client.ts'

// The embedded default's first start, made fast: PGlite's initdb, Stavily's migrations and
// pg-boss's schema are done once at build time (`npm run build -w core` writes
// dist/seed.tar.gz), and a new data folder starts as a copy of that. Whatever the seed
// lacks (a newer migration) is applied at start as usual.

const SEED_NAME = 'seed.tar.gz'

// Bundled (dist/main.js, dist/index.js) the seed sits beside the module; from source
// (src/db/seed.ts) it is in ../../dist.
function seedCandidates(): string[] {
  return [
    new URL(`./${SEED_NAME}`, import.meta.url),
    new URL(`../../dist/${SEED_NAME}`, import.meta.url),
  ].map((u) => fileURLToPath(u))
}

/** The seed for a data folder about to be created, or undefined (folder exists, other schema, no seed built). */
export function seedFor(dataDir: string | undefined, schema: string): Blob | undefined {
  if (dataDir === undefined || schema !== DEFAULTS.schema) return undefined
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) return undefined
  const file = seedCandidates().find((f) => existsSync(f))
  return file ? new Blob([readFileSync(file)]) : undefined
}

/** Builds the seed: a gzipped PGlite data folder with the default schema migrated. */
export async function buildSeed(outFile: string): Promise<number> {
  const db = await openPglite({ dataDir: undefined, schema: DEFAULTS.schema })
  await migrate(db)
  const boss = await startBoss(db, { supervise: false, schedule: true })
  await boss.createQueue(DEAD_LETTER_QUEUE, { name: DEAD_LETTER_QUEUE })
  await boss.stop({ graceful: false, wait: true })
  const dump = await db.pglite.dumpDataDir('gzip')
  const bytes = Buffer.from(await dump.arrayBuffer())
  writeFileSync(outFile, bytes)
  await db.close()
  return bytes.length
}

import { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import { runName } from '../../../test/run-names.ts'
import { openPostgres } from '../../src/db/pg-client.ts'
import { openPglite } from '../../src/db/pglite-client.ts'
import type { Database } from '../../src/db/sql-client.ts'

// Every storage suite runs on PGlite always and on PostgreSQL when DATABASE_URL is set.
// Each test gets its own schema (pg-boss: `<schema>_boss`), dropped afterwards; one PGlite
// instance is shared per test file because starting one costs seconds and hundreds of MB.

export interface Backend {
  name: 'pglite' | 'postgres'
  /** Opens what the backend shares (PGlite): call it in beforeAll. */
  prepare(): Promise<void>
  /** A fresh database in a schema of its own. */
  open(): Promise<Database>
  url?: string
  /** Drops every schema this backend created. */
  cleanup(): Promise<void>
}

/** A schema of this test run (the leak check counts those left at the end). */
export function uniqueSchema(prefix = 't'): string {
  return runName(prefix)
}

export function backends(): Backend[] {
  const list: Backend[] = []
  let shared: PGlite | undefined
  list.push({
    name: 'pglite',
    async prepare() {
      shared ??= await PGlite.create()
    },
    async open() {
      shared ??= await PGlite.create()
      return openPglite({ dataDir: undefined, schema: uniqueSchema(), shared })
    },
    async cleanup() {
      await shared?.close()
      shared = undefined
    },
  })
  const url = process.env.DATABASE_URL
  if (url) {
    const schemas: string[] = []
    list.push({
      name: 'postgres',
      url,
      async prepare() {},
      async open() {
        const schema = uniqueSchema()
        schemas.push(schema)
        return openPostgres({ connectionString: url, schema, poolSize: 5 })
      },
      async cleanup() {
        if (schemas.length === 0) return
        const c = new pg.Client({ connectionString: url })
        await c.connect()
        for (const s of schemas.splice(0)) await c.query(dropSchemas(s))
        await c.end()
      },
    })
  }
  return list
}

/** Drops a test schema and those named after it (pg-boss's, the plugin registry's). */
export function dropSchemas(schema: string): string {
  return `DROP SCHEMA IF EXISTS ${schema}, ${schema}_boss, ${schema}_registry CASCADE`
}

import { setFlagsFromString } from 'node:v8'
import { PGlite, type Transaction } from '@electric-sql/pglite'
import { checkSchemaName } from './identifiers.ts'
import type { Database, SqlClient } from './sql-client.ts'

// PGlite (PostgreSQL compiled to WebAssembly) in the data folder: the embedded default.
// It is a single connection; PGlite queues statements behind an open transaction itself,
// so the pg-boss adapter and Stavily's own queries can share it.

type PgliteLike = PGlite | Transaction

function clientOn(q: PgliteLike, savepointDepth: number): SqlClient {
  return {
    async query<R extends Record<string, unknown>>(text: string, values?: readonly unknown[]) {
      const res = await q.query<R>(text, values as unknown[] | undefined)
      return { rows: res.rows }
    },
    async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      if (q instanceof PGlite) return q.transaction((tx) => fn(clientOn(tx, 0)))
      const name = `sp_${savepointDepth + 1}`
      await q.exec(`SAVEPOINT ${name}`)
      try {
        const out = await fn(clientOn(q, savepointDepth + 1))
        await q.exec(`RELEASE SAVEPOINT ${name}`)
        return out
      } catch (err) {
        await q.exec(`ROLLBACK TO SAVEPOINT ${name}`)
        throw err
      }
    },
  }
}

export interface PgliteOptions {
  /** Data folder; undefined keeps the database in memory (tests). */
  dataDir: string | undefined
  schema: string
  /** A gzipped data-folder tarball to start a fresh folder from (see db/seed.ts). */
  loadDataDir?: Blob
  /** An already open PGlite shared by several databases (one schema each), e.g. in tests. */
  shared?: PGlite
}

export async function openPglite(opts: PgliteOptions): Promise<Database & { pglite: PGlite }> {
  const schema = checkSchemaName('database.schema', opts.schema)
  if (!opts.shared) baselineWasmOnly()
  const pglite =
    opts.shared ??
    (await PGlite.create(opts.dataDir, {
      ...(opts.loadDataDir ? { loadDataDir: opts.loadDataDir } : {}),
      // The embedded default trades the last transactions on a power cut for speed only when
      // the operator never asked for durability; the data folder is still consistent.
      relaxedDurability: false,
    }))
  await pglite.exec(`CREATE SCHEMA IF NOT EXISTS ${schema}`)
  const scoped = opts.shared ? scopedShared(pglite, schema) : undefined
  if (!opts.shared) await pglite.exec(`SET search_path TO ${schema}, public`)
  return {
    backend: 'pglite',
    schema,
    pglite,
    sql: scoped ?? clientOn(pglite, 0),
    async exec(text) {
      if (opts.shared)
        await pglite.transaction(async (tx) => {
          await tx.exec(`SET LOCAL search_path TO ${schema}, public`)
          await tx.exec(text)
        })
      else await pglite.exec(text)
    },
    async close() {
      if (!opts.shared) await pglite.close()
    },
  }
}

// A shared PGlite (tests: one instance per file, one schema per test) cannot keep a
// per-connection search path, so each statement runs in a transaction that sets it locally.
function scopedShared(pglite: PGlite, schema: string): SqlClient {
  const inTx = <T>(fn: (tx: Transaction) => Promise<T>) =>
    pglite.transaction(async (tx) => {
      await tx.exec(`SET LOCAL search_path TO ${schema}, public`)
      return fn(tx)
    })
  return {
    query: <R extends Record<string, unknown>>(text: string, values?: readonly unknown[]) =>
      inTx(async (tx) => ({ rows: (await tx.query<R>(text, values as unknown[] | undefined)).rows })),
    transaction: <T>(fn: (tx: SqlClient) => Promise<T>) => inTx((tx) => fn(clientOn(tx, 0))),
  }
}

// PGlite's PostgreSQL is 8.8 MB of WebAssembly. V8 compiles it with its baseline compiler
// (Liftoff) and then recompiles hot functions with its optimizing one (TurboFan) on
// background threads; on a 2-core machine that recompilation of PostgreSQL's largest
// functions held the main thread for 0.5–1.3 s right after the database opened (measured:
// the first event-loop turn after PGlite.create) and took ~50 MB more memory. Queries
// through PGlite spend most of their time in JavaScript (the wire protocol), so baseline
// code costs them little. The flag is read when a module is compiled: it is set before the
// first PGlite.create and changes nothing for code compiled already. It concerns
// WebAssembly only, and the orchestrator's process runs no other.
let wasmFlagsSet = false
function baselineWasmOnly(): void {
  if (wasmFlagsSet) return
  wasmFlagsSet = true
  setFlagsFromString('--liftoff-only')
}

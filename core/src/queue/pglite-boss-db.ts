import type { PGlite } from '@electric-sql/pglite'

// pg-boss 10 talks to its database through `{ executeSql(text, values) }`. This is that
// adapter for PGlite: parameterised statements go through query() (extended protocol),
// parameterless text (pg-boss's schema creation and migrations: several statements wrapped
// in BEGIN … COMMIT) through exec() (simple protocol), whose last result is the answer.

export interface BossDb {
  executeSql(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>
}

export function pgliteBossDb(pglite: PGlite): BossDb {
  return {
    async executeSql(text, values) {
      if (values && values.length > 0) {
        const res = await pglite.query<Record<string, unknown>>(text, values)
        return { rows: res.rows }
      }
      try {
        const results = await pglite.exec(text)
        return { rows: (results.at(-1)?.rows ?? []) as Record<string, unknown>[] }
      } catch (err) {
        // A failed statement inside pg-boss's BEGIN … COMMIT leaves PGlite's single
        // connection in an aborted transaction; every later statement would fail with it.
        await pglite.exec('ROLLBACK').catch(() => {})
        throw err
      }
    },
  }
}

/** Runs pg-boss statements on an open Stavily transaction (PostgreSQL or PGlite alike). */
export function txBossDb(tx: {
  query(text: string, values?: readonly unknown[]): Promise<{ rows: Record<string, unknown>[] }>
}): BossDb {
  return { executeSql: (text, values) => tx.query(text, values ?? []) }
}

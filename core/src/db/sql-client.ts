// The one SQL interface used above the adapters (and handed to the registry, which accepts
// the same shape structurally). Implemented for PostgreSQL (pg-client.ts) and PGlite
// (pglite-client.ts); nothing above this line knows which one it talks to.

export interface SqlClient {
  query<R extends Record<string, unknown> = Record<string, unknown>>(
    text: string,
    values?: readonly unknown[],
  ): Promise<{ rows: R[] }>
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>
}

/** A database the orchestrator owns: the client plus what only the owner may do. */
export interface Database {
  readonly backend: 'postgres' | 'pglite'
  /** The schema holding Stavily's tables (the search path of every connection). */
  readonly schema: string
  readonly sql: SqlClient
  /** Runs parameterless multi-statement text (migrations). */
  exec(text: string): Promise<void>
  close(): Promise<void>
}

/** A statement built by a plan module: text with $n placeholders and its values. */
export interface Statement {
  text: string
  values: unknown[]
}

export function run<R extends Record<string, unknown>>(sql: SqlClient, s: Statement): Promise<{ rows: R[] }> {
  return sql.query<R>(s.text, s.values)
}

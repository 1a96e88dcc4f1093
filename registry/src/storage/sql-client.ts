// The SQL interface the registry is handed by its host (the orchestrator implements it for
// PostgreSQL and PGlite). The registry never opens a connection of its own.

export interface SqlClient {
  query<R extends Record<string, unknown> = Record<string, unknown>>(
    text: string,
    values?: readonly unknown[],
  ): Promise<{ rows: R[] }>
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>
}

/** A statement built by a plan module: text with $n placeholders and its values. */
export interface Statement {
  text: string
  values: unknown[]
}

export async function run<R extends Record<string, unknown>>(sql: SqlClient, s: Statement): Promise<R[]> {
  return (await sql.query<R>(s.text, s.values)).rows
}

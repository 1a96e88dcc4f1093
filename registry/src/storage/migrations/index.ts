import * as m0001 from './0001-initial.ts'

export interface Migration {
  version: number
  name: string
  /** DDL for the given (already checked) schema name. */
  sql(schema: string): string
}

/** Numbered migrations, applied in order, each once; never edit one that has shipped. */
export const MIGRATIONS: readonly Migration[] = [{ version: 1, name: m0001.name, sql: m0001.sql }]

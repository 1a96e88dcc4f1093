import { type EmittedEvent, type JsonValue, PluginError, type SensorContext } from '@stavily/sdk'
import type { Settings } from './config.ts'

type NewRowsSettings = Extract<Settings, { mode: 'newRows' }>
export type Cursor = string | number

// The operator's query is wrapped, so it stays a plain SELECT of the rows to watch: the
// plugin adds the cursor condition, the order and the limit around it. PostgreSQL flattens
// such a subquery, so the condition still uses an index on the cursor column.

const quote = (identifier: string) => `"${identifier}"`

/** The rows after `cursor`, in cursor order, at most maxRows of them. */
export function rowsAfter(s: NewRowsSettings): string {
  const column = `stavily_rows.${quote(s.cursorColumn)}`
  return `SELECT * FROM (${s.query}) AS stavily_rows WHERE ${column} > $${s.params.length + 1} ORDER BY ${column} LIMIT ${s.maxRows}`
}

/** The greatest cursor value there is now: where a tail that starts at the end begins. */
export function lastCursor(s: NewRowsSettings): string {
  return `SELECT max(stavily_rows.${quote(s.cursorColumn)}) AS cursor FROM (${s.query}) AS stavily_rows`
}

/**
 * The first cursor of a tail that has none stored: `initialCursor`, or the greatest value
 * there is now (the rows already there are not reported). `undefined` when the query has no
 * rows yet: then every row is new, and the first one found starts the tail.
 */
export async function startingCursor(
  ctx: SensorContext<unknown, unknown>,
  s: NewRowsSettings,
): Promise<Cursor | undefined> {
  if (s.initialCursor !== undefined) return s.initialCursor
  const r = await ctx.sql.query(s.connection, lastCursor(s), s.params, { timeoutMs: s.timeoutMs, maxRows: 1 })
  return cursorOf(r.rows[0]?.cursor ?? null, s)
}

/** The new rows after `cursor` (all rows when undefined) as events, and the cursor after them. */
export async function newRows(
  ctx: SensorContext<unknown, unknown>,
  s: NewRowsSettings,
  id: string,
  cursor: Cursor | undefined,
  now: string,
): Promise<{ events: EmittedEvent<JsonValue>[]; cursor: Cursor | undefined }> {
  const text =
    cursor === undefined
      ? `SELECT * FROM (${s.query}) AS stavily_rows ORDER BY stavily_rows.${quote(s.cursorColumn)} LIMIT ${s.maxRows}`
      : rowsAfter(s)
  const params = cursor === undefined ? s.params : [...s.params, cursor]
  const r = await ctx.sql.query(s.connection, text, params, { timeoutMs: s.timeoutMs, maxRows: s.maxRows })
  if (r.rows.length > 0 && !r.fields.includes(s.cursorColumn)) {
    throw new PluginError(
      'POSTGRES_NO_CURSOR_COLUMN',
      `config.cursorColumn: the rows have no column "${s.cursorColumn}" (they have ${r.fields.map((f) => `"${f}"`).join(', ')})`,
      { data: { field: 'cursorColumn', columns: r.fields } },
    )
  }
  const events: EmittedEvent<JsonValue>[] = []
  let last = cursor
  for (const row of r.rows) {
    const value = cursorOf(row[s.cursorColumn] ?? null, s)
    if (value === undefined) continue // a NULL cursor is never "after" anything: skipped
    last = value
    events.push({
      type: 'postgres.row',
      data: { name: s.name, connection: s.connection, cursor: value, row },
      // The row's cursor value names it: reported again after a failed check, it starts no second run.
      dedupeKey: `postgres:${id}:row:${String(value)}`,
      occurredAt: now,
    })
  }
  if (r.rows.length === s.maxRows) {
    ctx.log.info('more new rows than maxRows; the rest are read by the next check', { maxRows: s.maxRows })
  }
  return { events, cursor: last }
}

function cursorOf(value: JsonValue, s: NewRowsSettings): Cursor | undefined {
  if (value === null) return undefined
  if (typeof value === 'string' || typeof value === 'number') return value
  throw new PluginError(
    'POSTGRES_BAD_CURSOR',
    `config.cursorColumn: "${s.cursorColumn}" must be a number, text or timestamp column, got ${Array.isArray(value) ? 'an array' : typeof value}`,
    { data: { field: 'cursorColumn' } },
  )
}

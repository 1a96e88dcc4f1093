import type { Statement } from '../db/sql-client.ts'

// Several writes as one statement (one round trip): each becomes a data-modifying CTE of
// `WITH q0 AS (...), q1 AS (...) SELECT 1`, its `$n` placeholders renumbered after the
// ones before it. PostgreSQL runs every data-modifying CTE, on one snapshot, so the writes
// must not depend on each other's effects (they are independent inserts and updates here)
// and must not start with WITH themselves. Only the engine's own plan texts come through
// here, none of which holds a `$` outside its placeholders.
// With `rowsOf` (a part's name, `q<i>`), the statement answers that part's RETURNING rows.
export function combine(list: readonly Statement[], rowsOf?: string): Statement | undefined {
  if (list.length === 1 && rowsOf === 'q0') return list[0]
  if (list.length <= 1 && !rowsOf) return list[0]
  const values: unknown[] = []
  const parts = list.map((s, i) => {
    const offset = values.length
    values.push(...s.values)
    return `q${i} AS (${s.text.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`)})`
  })
  return { text: `WITH ${parts.join(',\n')} ${rowsOf ? `SELECT * FROM ${rowsOf}` : 'SELECT 1'}`, values }
}

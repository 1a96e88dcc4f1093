import type { Statement } from '../db/sql-client.ts'

// Several writes as one statement (one round trip): each becomes a data-modifying CTE of
// `WITH q0 AS (...), q1 AS (...) SELECT 1`, its `$n` placeholders renumbered after the
// ones before it. PostgreSQL runs every data-modifying CTE, on one snapshot, so the writes
// must not depend on each other's effects (they are independent inserts and updates here)
// and must not start with WITH themselves. Only the engine's own plan texts come through
// here, none of which holds a `$` outside its placeholders.
export function combine(list: readonly Statement[]): Statement | undefined {
  if (list.length <= 1) return list[0]
  const values: unknown[] = []
  const parts = list.map((s, i) => {
    const offset = values.length
    values.push(...s.values)
    return `q${i} AS (${s.text.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`)})`
  })
  return { text: `WITH ${parts.join(',\n')} SELECT 1`, values }
}

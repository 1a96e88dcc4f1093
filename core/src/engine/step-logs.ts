import { normalizeLog, type ResultLogLevel } from '@stavily/protocol'
import { isoTime } from '../checks.ts'
import { resultLogs } from '../db/plans/results.ts'
import { run, type SqlClient } from '../db/sql-client.ts'

// The log lines a call's agent reported with each attempt's result (ctx.log lines and exec
// stderr), as the operator API shows them: one list per instruction, every line carrying
// the attempt it came from, times as ISO text.

export interface StepLog {
  attempt: number
  level: ResultLogLevel
  message: string
  at: string
  source: 'plugin' | 'exec'
  fields?: Record<string, unknown>
}

/** Lines per instruction id; an instruction without reported results has none. */
export async function logsOfInstructions(
  sql: SqlClient,
  instructionIds: readonly (string | null)[],
): Promise<Map<string, StepLog[]>> {
  const ids = [...new Set(instructionIds.filter((id): id is string => id !== null))]
  const out = new Map<string, StepLog[]>()
  if (ids.length === 0) return out
  const { rows } = await run<{ instructionId: string; attempt: number; logs: unknown }>(sql, resultLogs(ids))
  for (const r of rows) {
    const list = out.get(r.instructionId) ?? []
    for (const raw of Array.isArray(r.logs) ? r.logs : []) {
      const l = normalizeLog(raw)
      list.push({
        attempt: r.attempt,
        level: l.level,
        message: l.message,
        at: isoTime(l.at),
        source: l.source ?? 'plugin',
        ...(l.fields ? { fields: l.fields } : {}),
      })
    }
    out.set(r.instructionId, list)
  }
  return out
}

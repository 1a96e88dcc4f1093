import type { StepLog } from '../engine/step-logs.ts'
import { API_POLICY } from './policy.ts'

// GET /runs/:id shows every step with its log lines, and a step keeps the lines of every
// attempt: without a cap, a run of many steps that each retried could answer with tens of
// MB. Each step keeps its newest lines within API_POLICY's per-step caps and its share of
// the run's budget, and says how many it left out (`logsOmitted`); GET /instructions/:id
// shows one step's instruction with every line.

// A line's bytes in the answer: its JSON and the comma after it.
const bytesOf = (l: StepLog): number => Buffer.byteLength(JSON.stringify(l)) + 1

/** The newest lines of `logs` within `maxLines` and `maxBytes`, oldest first, and how many were left out. */
export function newestLogs(
  logs: readonly StepLog[],
  maxLines: number,
  maxBytes: number,
): { logs: StepLog[]; logsOmitted: number } {
  let bytes = 0
  let from = logs.length
  while (from > 0 && logs.length - from < maxLines) {
    const size = bytesOf(logs[from - 1]!)
    if (bytes + size > maxBytes) break
    bytes += size
    from--
  }
  return { logs: logs.slice(from), logsOmitted: from }
}

/** The run's steps with their logs capped (see above). */
export function capRunLogs<S extends { logs: readonly StepLog[] }>(
  steps: readonly S[],
): (Omit<S, 'logs'> & { logs: StepLog[]; logsOmitted: number })[] {
  const share = Math.floor(API_POLICY.runLogBytes / Math.max(1, steps.length))
  const maxBytes = Math.min(API_POLICY.runLogBytesPerStep, share)
  return steps.map((s) => ({ ...s, ...newestLogs(s.logs, API_POLICY.runLogLinesPerStep, maxBytes) }))
}

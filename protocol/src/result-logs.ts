// A call's log lines as they travel with its result: the plugin's ctx.log lines and the
// stderr of the commands it ran (`source: 'exec'`). Logs narrate a result, they never stop
// it: past the count or byte budget the agent (and the orchestrator, for agents that did
// not) keeps the first lines, then one marker line saying how many were left out. The
// first lines are kept because they explain what happened before whatever went wrong.
import { AGENT_API_LIMITS } from './agent-reports.ts'
import { toWireSafe, toWireSafeString } from './wire-value.ts'

export type ResultLogLevel = 'debug' | 'info' | 'warn' | 'error'

export interface ResultLog {
  level: ResultLogLevel
  message: string
  /** Milliseconds since the epoch, when the line was written. */
  at: number
  fields?: Record<string, unknown>
  /** 'plugin' for ctx.log (the default when absent), 'exec' for a command's stderr. */
  source?: 'plugin' | 'exec'
}

const LEVELS = new Set<string>(['debug', 'info', 'warn', 'error'])

/** Marker text; a reader (CLI, tests) can tell a clipped list by its `fields.clipped`. */
export const CLIPPED_MESSAGE = 'log lines left out: over the per-result limit'

const bytesOf = (v: unknown): number => new TextEncoder().encode(JSON.stringify(v)).length

function clipText(s: string, max: number): string {
  if (s.length <= max) return s
  return `${s.slice(0, max)}… [${s.length - max} more characters]`
}

/** One entry in the shape above, whatever an agent (old, new or broken) sent. */
export function normalizeLog(raw: unknown, fallbackAt = 0): ResultLog {
  const o =
    raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {}
  const level = typeof o.level === 'string' && LEVELS.has(o.level) ? (o.level as ResultLogLevel) : 'info'
  const message =
    typeof o.message === 'string'
      ? o.message
      : raw !== null && typeof raw !== 'object'
        ? String(raw)
        : JSON.stringify(raw)
  const entry: ResultLog = {
    level,
    message: clipText(toWireSafeString(message ?? ''), AGENT_API_LIMITS.logMessageLength),
    at: typeof o.at === 'number' && Number.isFinite(o.at) ? o.at : fallbackAt,
  }
  if (o.fields !== null && typeof o.fields === 'object' && !Array.isArray(o.fields)) {
    const fields = toWireSafe(o.fields as Record<string, unknown>)
    // A field set bigger than a message is kept as its size only: the line still reads.
    entry.fields =
      bytesOf(fields) <= AGENT_API_LIMITS.logMessageLength ? fields : { fieldsOmittedBytes: bytesOf(fields) }
  }
  if (o.source === 'exec' || o.source === 'plugin') entry.source = o.source
  return entry
}

/**
 * The entries that fit `AGENT_API_LIMITS.logsPerResult` and `logBytesPerResult`, each one
 * normalized and made wire-safe, with a final marker when any were left out.
 */
export function clipLogs(logs: readonly unknown[] | undefined): ResultLog[] {
  if (!logs || logs.length === 0) return []
  const kept: ResultLog[] = []
  let bytes = 0
  const room = AGENT_API_LIMITS.logsPerResult - 1
  const budget = AGENT_API_LIMITS.logBytesPerResult - 200
  let lastAt = 0
  for (const raw of logs) {
    const entry = normalizeLog(raw, lastAt)
    lastAt = entry.at
    const size = bytesOf(entry)
    if (kept.length >= room || bytes + size > budget) break
    kept.push(entry)
    bytes += size
  }
  const left = logs.length - kept.length
  if (left > 0)
    kept.push({
      level: 'warn',
      message: `${left} ${CLIPPED_MESSAGE} (${AGENT_API_LIMITS.logsPerResult} lines, ${AGENT_API_LIMITS.logBytesPerResult} bytes)`,
      at: lastAt,
      fields: { clipped: left },
    })
  return kept
}

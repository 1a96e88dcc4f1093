// Every report is made safe and checked before it enters the outbox, with the orchestrator's
// own rules (@stavily/protocol): free-form values go through `toWireSafe` (a NUL a remote
// server put into a response body becomes U+FFFD), then the shared schema and the body
// limit decide. An event that breaks them is refused here, with a log line naming the field;
// a result is never dropped: what cannot be reported becomes a failed result that can.
import {
  AGENT_API_LIMITS,
  clipLogs,
  eventProblem,
  type ResultBody,
  resultProblem,
  toWireSafe,
  toWireSafeString,
  WIRE_LIMITS,
  type WireEvent,
} from '@stavily/protocol'
import type { PluginEvent } from '../sandbox/protocol.ts'
import { AGENT_DEFAULTS } from './defaults.ts'
import { AgentErrorCodes } from './errors.ts'
import type { ResultEntry } from './outbox.ts'

/** The most one request body may hold, with the envelope's room. */
export const MAX_BODY_BYTES = AGENT_API_LIMITS.bodyBytes - AGENT_DEFAULTS.bodyMarginBytes

export const jsonBytes = (v: unknown): number => Buffer.byteLength(JSON.stringify(v))

export type EventCheck = { ok: true; event: WireEvent } | { ok: false; field: string; message: string }

/** A plugin's event as it will cross the wire, or why it cannot. */
export function prepareEvent(source: string, sensorId: string, e: PluginEvent): EventCheck {
  const deep = tooDeep(e.data, 'event.data')
  if (deep) return { ok: false, field: deep.path, message: deep.message }
  const event: WireEvent = {
    source,
    type: toWireSafeString(e.type),
    data: toWireSafe(e.data ?? null),
    ...(e.dedupeKey ? { dedupeKey: toWireSafeString(e.dedupeKey) } : {}),
    occurredAt: e.occurredAt ?? new Date().toISOString(),
    sensorId,
  }
  const problem = eventProblem(event)
  if (problem) return { ok: false, field: problem.path, message: problem.message }
  const bytes = jsonBytes(event)
  if (bytes > MAX_BODY_BYTES)
    return {
      ok: false,
      field: 'event',
      message: `is ${bytes} bytes; one request to the orchestrator holds at most ${MAX_BODY_BYTES}`,
    }
  return { ok: true, event }
}

/** Depth is never repaired (and `toWireSafe` recurses): a value nested too deep is refused first. */
function tooDeep(value: unknown, root: string): { path: string; message: string } | null {
  const stack: { v: unknown; depth: number }[] = [{ v: value, depth: 0 }]
  while (stack.length > 0) {
    const { v, depth } = stack.pop() as { v: unknown; depth: number }
    if (v === null || typeof v !== 'object') continue
    if (depth >= WIRE_LIMITS.maxDepth)
      return { path: root, message: `nests deeper than ${WIRE_LIMITS.maxDepth} levels` }
    for (const item of Array.isArray(v) ? v : Object.values(v)) stack.push({ v: item, depth: depth + 1 })
  }
  return null
}

const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s)

/**
 * The result as it will cross the wire. Free-form values are made safe; logs that do not
 * fit the body limit are cut; a result that still breaks the rules becomes a failed one
 * naming the field, so the attempt is recorded either way.
 */
export function prepareResult(entry: ResultEntry): { entry: ResultEntry; problem?: string } {
  const b = entry.body
  const deep =
    tooDeep(b.output, 'result.output') ??
    tooDeep(b.error?.data, 'result.error.data') ??
    tooDeep(b.logs, 'result.logs')
  if (deep) return failed(entry, `${deep.path}: ${deep.message}`)
  const body: ResultBody = {
    attempt: b.attempt,
    status: b.status,
    ...(b.output === undefined ? {} : { output: toWireSafe(b.output) }),
    ...(b.error
      ? {
          error: {
            code: clip(toWireSafeString(b.error.code), AGENT_API_LIMITS.errorCodeLength),
            message: clip(toWireSafeString(b.error.message), AGENT_API_LIMITS.errorMessageLength),
            ...(b.error.retryable === undefined ? {} : { retryable: b.error.retryable }),
            ...(b.error.data === undefined ? {} : { data: toWireSafe(b.error.data) }),
          },
        }
      : {}),
    // Clipped to the protocol's count and byte budget (first lines kept, then a marker),
    // normalized and made wire-safe.
    ...(b.logs ? { logs: clipLogs(b.logs) } : {}),
  }
  let problem = resultProblem(body)
  if (!problem && body.logs && body.logs.length > 0 && jsonBytes(body) > MAX_BODY_BYTES) {
    // Logs are the first thing to give up: the outcome matters more than its narration.
    body.logs = [
      {
        level: 'warn',
        message: `the ${body.logs.length} log lines of this call were left out: with them the result was over the orchestrator body limit`,
        at: Date.now(),
        fields: { clipped: body.logs.length },
      },
    ]
  }
  const bytes = jsonBytes(body)
  if (!problem && bytes > MAX_BODY_BYTES)
    problem = {
      path: 'result',
      message: `is ${bytes} bytes; the orchestrator takes at most ${MAX_BODY_BYTES}`,
    }
  if (!problem) return { entry: { ...entry, body } }
  return failed(entry, `${problem.path}: ${problem.message}`)
}

function failed(entry: ResultEntry, why: string): { entry: ResultEntry; problem: string } {
  const b = entry.body
  return {
    problem: why,
    entry: {
      ...entry,
      body: {
        attempt: b.attempt,
        status: 'failed',
        error: {
          code: AgentErrorCodes.REPORT_INVALID,
          message: clip(
            `the ${b.status} result of this call could not be reported (${why}); make the plugin's output smaller or flatter`,
            AGENT_API_LIMITS.errorMessageLength,
          ),
          retryable: false,
        },
      },
    },
  }
}

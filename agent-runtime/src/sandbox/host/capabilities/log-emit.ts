// ctx.log and ctx.emit on the host: checked, counted and capped per call.

import { SandboxErrorCodes, sandboxError } from '../../../errors.ts'
import type { LogEntry, PluginEvent } from '../../protocol.ts'
import type { CallState } from '../call-state.ts'
import type { PluginInstance } from '../plugin-instance.ts'
import { validateEvent } from '../validate.ts'
import { bad, plainObject, str } from './args.ts'

const LEVELS = new Set(['debug', 'info', 'warn', 'error'])
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/

export function hostLog(plugin: PluginInstance, call: CallState, args: unknown[]): void {
  const [level, message, fieldsArg] = args
  if (typeof level !== 'string' || !LEVELS.has(level))
    throw bad('log level', 'debug, info, warn or error', level)
  const text = typeof message === 'string' ? message : String(message)
  const fields = plainObject('log fields', fieldsArg)
  const size = Buffer.byteLength(text) + (fields ? Buffer.byteLength(JSON.stringify(fields)) : 0)
  const limits = plugin.spec.limits
  if (call.logs.length + 1 > limits.logLines || call.logBytes + size > limits.logBytes) {
    const error = sandboxError(
      SandboxErrorCodes.LOG_LIMIT,
      `${plugin.spec.name} logged more than ${limits.logLines} lines or ${limits.logBytes} bytes in one call`,
    )
    plugin.hitLimit(call, error.toJSON())
    throw error
  }
  call.logBytes += size
  const entry: LogEntry = { level: level as LogEntry['level'], message: text, at: Date.now() }
  if (fields) entry.fields = fields
  call.logs.push(entry)
}

/**
 * A command's stderr joins the call's log lines, so it reaches the run detail, the CLI and
 * the agent log with the plugin's own lines. Not counted against limits.logLines: the
 * plugin did not write it, and limits.execOutputBytes already caps it.
 */
export function logExecStderr<R extends { code: number | null; stderr: string }>(
  call: CallState,
  command: string,
  result: R,
): R {
  const text = result.stderr.trimEnd()
  if (text !== '')
    call.logs.push({
      level: result.code === 0 ? 'info' : 'warn',
      message: text,
      fields: { command, code: result.code },
      at: Date.now(),
      source: 'exec',
    })
  return result
}

export function hostEmit(
  plugin: PluginInstance,
  call: CallState,
  args: unknown[],
  stream: (e: PluginEvent) => void,
): void {
  const raw = plainObject('emit event', args[0])
  if (!raw) throw bad('emit event', 'an object { type, data, dedupeKey?, occurredAt? }', args[0])
  const event: PluginEvent = { type: str('emit event.type', raw.type, 200), data: raw.data }
  if (raw.dedupeKey !== undefined && raw.dedupeKey !== null)
    event.dedupeKey = str('emit event.dedupeKey', raw.dedupeKey, 512)
  if (raw.occurredAt !== undefined && raw.occurredAt !== null) {
    const at = str('emit event.occurredAt', raw.occurredAt, 40)
    if (!ISO_DATE.test(at) || Number.isNaN(Date.parse(at)))
      throw bad('emit event.occurredAt', 'an ISO 8601 date-time', at)
    event.occurredAt = at
  }
  const limits = plugin.spec.limits
  const size = Buffer.byteLength(JSON.stringify(event))
  if (size > limits.eventBytes) {
    throw sandboxError(
      SandboxErrorCodes.INVALID_EVENT,
      `emit event: ${size} bytes as JSON; the limit is ${limits.eventBytes}`,
    )
  }
  validateEvent(plugin.info.schemas.event, event)
  // Streamed events count too; a watch's count starts over with each budget window.
  if (call.eventBytesEmitted + size > limits.eventsBytes) {
    const error = sandboxError(
      SandboxErrorCodes.EVENT_LIMIT,
      call.req.operation === 'watch'
        ? `${plugin.spec.name}'s watch emitted more than ${limits.eventsBytes} bytes of events within ${limits.watchWindowMs} ms (limits.eventsBytes, limits.watchWindowMs)`
        : `${plugin.spec.name} emitted more than ${limits.eventsBytes} bytes of events in one call (limits.eventsBytes)`,
    )
    plugin.hitLimit(call, error.toJSON())
    throw error
  }
  if (call.eventsEmitted + 1 > limits.events) {
    const error = sandboxError(
      SandboxErrorCodes.EVENT_LIMIT,
      call.req.operation === 'watch'
        ? `${plugin.spec.name}'s watch emitted more than ${limits.events} events within ${limits.watchWindowMs} ms (limits.events, limits.watchWindowMs)`
        : `${plugin.spec.name} emitted more than ${limits.events} events in one call`,
    )
    plugin.hitLimit(call, error.toJSON())
    throw error
  }
  call.eventsEmitted++
  call.eventBytesEmitted += size
  if (call.req.streamEvents) stream(event)
  else call.events.push(event)
}

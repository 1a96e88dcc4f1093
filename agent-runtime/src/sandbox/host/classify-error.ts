// Turns what the isolate reported as a thrown value into the error the caller sees.
import { SandboxErrorCodes, type SerializedError } from '../../errors.ts'
import { jsonDeeperThan, MAX_VALUE_DEPTH } from './json-depth.ts'

interface ReportedError {
  name?: unknown
  message?: unknown
  code?: unknown
  retryable?: unknown
  data?: unknown
}

// A thrown value's text is the plugin's to choose and goes on to the agent, its outbox and the
// orchestrator: bounded like any other value the plugin hands over, not by the isolate's heap.
const MAX_MESSAGE = 4096
/** An error name is a word or two ("TypeError", "ValidationError"). */
const MAX_NAME = 200

/** Plugin-chosen error text cut to `max` characters, saying it was cut. */
export function clipText(text: string, max: number = MAX_MESSAGE): string {
  return text.length > max ? `${text.slice(0, max)}... (${text.length - max} more characters)` : text
}

// Codes only the host decides (from what it measured); a plugin re-throwing one is not believed.
const HOST_ONLY_CODES: ReadonlySet<string> = new Set([
  SandboxErrorCodes.CRASHED,
  SandboxErrorCodes.TIMEOUT,
  SandboxErrorCodes.CPU_LIMIT,
  SandboxErrorCodes.MEMORY_LIMIT,
  SandboxErrorCodes.STACK_OVERFLOW,
  SandboxErrorCodes.INPUT_TOO_LARGE,
  SandboxErrorCodes.OUTPUT_TOO_LARGE,
  SandboxErrorCodes.TOO_MANY_CALLS,
  SandboxErrorCodes.CLOSED,
])

/**
 * Maps an error reported by the plugin's isolate (a JSON string it produced) to the caller's
 * error. V8's own RangeErrors for the stack and the ArrayBuffer allocator become limit codes.
 * A plugin may use any code of its own and re-throw a capability's error as it is, but not
 * the call-level limit codes: only the host sets those, so a plugin cannot pass its bug off
 * as a retryable crash.
 */
export function classifyReportedError(
  json: string,
  maxBytes: number = Number.POSITIVE_INFINITY,
): SerializedError {
  let e: ReportedError
  try {
    e = JSON.parse(json) as ReportedError
  } catch {
    return {
      code: SandboxErrorCodes.PLUGIN_FAILED,
      message: 'the plugin failed with an unreadable error',
      retryable: false,
    }
  }
  const name = typeof e.name === 'string' ? clipText(e.name, MAX_NAME) : 'Error'
  let message = (typeof e.message === 'string' ? e.message : '').slice(0, MAX_MESSAGE)
  // The error's data goes on to the agent and the orchestrator: too deep for them, it is
  // dropped (V8's JSON.parse above does not recurse, so reading it was safe).
  if (e.data !== undefined && jsonDeeperThan(json, MAX_VALUE_DEPTH + 1)) {
    e.data = undefined
    message = `${message} (its data was dropped: it nests deeper than ${MAX_VALUE_DEPTH} levels)`
  }
  // Nor larger than an output may be (limits.outputBytes).
  if (e.data !== undefined && Buffer.byteLength(json) > maxBytes) {
    e.data = undefined
    message = `${message} (its data was dropped: the error takes more than ${maxBytes} bytes as JSON)`
  }
  if (name === 'RangeError' && /Maximum call stack size exceeded/.test(message)) {
    return {
      code: SandboxErrorCodes.STACK_OVERFLOW,
      message: `the plugin recursed too deeply: ${message}`,
      retryable: false,
    }
  }
  if (name === 'RangeError' && /Array buffer allocation failed/.test(message)) {
    return {
      code: SandboxErrorCodes.MEMORY_LIMIT,
      message: `the plugin ran out of memory allocating an ArrayBuffer: ${message}`,
      retryable: false,
    }
  }
  const code = typeof e.code === 'string' && /^[A-Za-z0-9_.:-]{1,100}$/.test(e.code) ? e.code : undefined
  if (code !== undefined && !HOST_ONLY_CODES.has(code)) {
    return {
      code,
      message,
      retryable: e.retryable === true,
      ...(e.data === undefined || e.data === null ? {} : { data: e.data }),
    }
  }
  return { code: SandboxErrorCodes.PLUGIN_FAILED, message: `${name}: ${message}`, retryable: false }
}

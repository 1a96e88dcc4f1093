// Every error the agent runtime raises, by stable code. Errors cross process and isolate
// boundaries as `{ code, message, retryable, data }` and are rebuilt by code, never by
// `instanceof` across realms.

export const SandboxErrorCodes = {
  /** The sandbox host process died or hung; the call may be retried. */
  CRASHED: 'STAVILY_ERR_SANDBOX_CRASHED',
  /** The call ran past its wall-time limit or deadline. */
  TIMEOUT: 'STAVILY_ERR_SANDBOX_TIMEOUT',
  /** The call used more CPU time than its limit. */
  CPU_LIMIT: 'STAVILY_ERR_SANDBOX_CPU_LIMIT',
  /** The plugin's isolate ran out of its heap limit (the isolate is recreated for the next call). */
  MEMORY_LIMIT: 'STAVILY_ERR_SANDBOX_MEMORY_LIMIT',
  /** The plugin recursed past V8's stack limit. */
  STACK_OVERFLOW: 'STAVILY_ERR_SANDBOX_STACK_OVERFLOW',
  /** The call's input (plus config) is larger than the input limit. */
  INPUT_TOO_LARGE: 'STAVILY_ERR_SANDBOX_INPUT_TOO_LARGE',
  /** The handler's result is larger than the output limit. */
  OUTPUT_TOO_LARGE: 'STAVILY_ERR_SANDBOX_OUTPUT_TOO_LARGE',
  /** The call logged more lines or bytes than its limit. */
  LOG_LIMIT: 'STAVILY_ERR_SANDBOX_LOG_LIMIT',
  /** The call emitted more events than its limit. */
  EVENT_LIMIT: 'STAVILY_ERR_SANDBOX_EVENT_LIMIT',
  /** More calls in flight for this plugin than its concurrency limit. */
  TOO_MANY_CALLS: 'STAVILY_ERR_SANDBOX_TOO_MANY_CALLS',
  /** A call started more capability operations (exec, fetch, fs) at once than its limit or its plugin's. */
  TOO_MANY_OPERATIONS: 'STAVILY_ERR_SANDBOX_TOO_MANY_OPERATIONS',
  /** A value the plugin handed the host (output, error, log fields, event, state, arguments) nests too deeply. */
  VALUE_TOO_DEEP: 'STAVILY_ERR_SANDBOX_VALUE_TOO_DEEP',
  /** The plugin threw something that is not a PluginError (a bug in the plugin). Shared with the SDK. */
  PLUGIN_FAILED: 'STAVILY_ERR_PLUGIN_FAILED',
  /** The bundle did not evaluate to a plugin definition. */
  LOAD_FAILED: 'STAVILY_ERR_SANDBOX_LOAD_FAILED',
  /** The manifest is invalid (shared with the SDK). */
  MANIFEST_INVALID: 'STAVILY_ERR_MANIFEST_INVALID',
  /** The plugin was built for an SDK this runtime does not support (shared with the SDK). */
  SDK_INCOMPATIBLE: 'STAVILY_ERR_SDK_INCOMPATIBLE',
  /** A programmatic API was called with a bad argument. */
  INVALID_ARGUMENT: 'STAVILY_ERR_SANDBOX_INVALID_ARGUMENT',
  /** No plugin of that name is loaded. */
  NOT_LOADED: 'STAVILY_ERR_SANDBOX_NOT_LOADED',
  /** A plugin of that name is already loaded (use swap). */
  ALREADY_LOADED: 'STAVILY_ERR_SANDBOX_ALREADY_LOADED',
  /** The plugin's kind has no handler for the requested operation. */
  UNKNOWN_OPERATION: 'STAVILY_ERR_SANDBOX_UNKNOWN_OPERATION',
  /** Config, input, output or an event did not match the plugin's schema (codes shared with the SDK). */
  INVALID_CONFIG: 'STAVILY_ERR_INVALID_CONFIG',
  INVALID_INPUT: 'STAVILY_ERR_INVALID_INPUT',
  INVALID_OUTPUT: 'STAVILY_ERR_INVALID_OUTPUT',
  INVALID_EVENT: 'STAVILY_ERR_INVALID_EVENT',
  /** The caller stopped the call and it did not return within the stop grace. */
  STOPPED: 'STAVILY_ERR_SANDBOX_STOPPED',
  /** The sandbox was closed. */
  CLOSED: 'STAVILY_ERR_SANDBOX_CLOSED',
  /** A capability was used with bad arguments, or failed on the host side. */
  CAPABILITY_FAILED: 'STAVILY_ERR_SANDBOX_CAPABILITY_FAILED',
  /** A `state` value or the plugin's whole state is larger than its limit. */
  STATE_TOO_LARGE: 'STAVILY_ERR_SANDBOX_STATE_TOO_LARGE',
  /** The caller did not supply a secret the plugin asked for (it is declared and granted). */
  SECRET_MISSING: 'STAVILY_ERR_SANDBOX_SECRET_MISSING',
  /** A fetch did not complete within its time limit. */
  FETCH_TIMEOUT: 'STAVILY_ERR_SANDBOX_FETCH_TIMEOUT',
  /** A fetch response was larger than the response limit. */
  FETCH_TOO_LARGE: 'STAVILY_ERR_SANDBOX_FETCH_TOO_LARGE',
  /** No isolated-vm build could be loaded on this Node.js. */
  ISOLATED_VM_UNAVAILABLE: 'STAVILY_ERR_ISOLATED_VM_UNAVAILABLE',
  /** A capability outside the plugin's declared ∩ granted permissions (shared with the SDK). */
  PERMISSION_DENIED: 'STAVILY_ERR_PERMISSION_DENIED',
} as const

export type SandboxErrorCode = (typeof SandboxErrorCodes)[keyof typeof SandboxErrorCodes]

/** Whether a caller may retry a call that failed with this code (and get a different outcome). */
const RETRYABLE: ReadonlySet<string> = new Set([
  SandboxErrorCodes.CRASHED,
  SandboxErrorCodes.TIMEOUT,
  SandboxErrorCodes.TOO_MANY_CALLS,
  SandboxErrorCodes.CLOSED,
  SandboxErrorCodes.FETCH_TIMEOUT,
])

/** Plain-data form of an error, as it crosses IPC and isolate boundaries. */
export interface SerializedError {
  code: string
  message: string
  retryable: boolean
  data?: unknown
}

/** An error raised by the sandbox or rebuilt from one that crossed a boundary. */
export class SandboxError extends Error {
  readonly code: string
  readonly retryable: boolean
  readonly data: unknown
  /** For a failed plugin call: what the plugin logged before it failed. */
  logs?: { level: string; message: string; fields?: Record<string, unknown>; at: number }[]
  /** For a failed plugin call: the CPU and wall time it used. */
  stats?: { cpuUs: number; wallMs: number }

  constructor(
    code: string,
    message: string,
    options: { retryable?: boolean; data?: unknown; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'SandboxError'
    this.code = code
    this.retryable = options.retryable ?? RETRYABLE.has(code)
    this.data = options.data
  }

  toJSON(): SerializedError {
    return { code: this.code, message: this.message, retryable: this.retryable, data: this.data }
  }
}

export function sandboxError(
  code: SandboxErrorCode,
  message: string,
  options?: { retryable?: boolean; data?: unknown; cause?: unknown },
): SandboxError {
  return new SandboxError(code, message, options)
}

/** Turns anything thrown on the host side into the plain form that crosses IPC. */
export function toSerialized(err: unknown): SerializedError {
  if (err instanceof SandboxError) return err.toJSON()
  if (err && typeof err === 'object' && typeof (err as { code?: unknown }).code === 'string') {
    const e = err as { code: string; message?: unknown; retryable?: unknown; data?: unknown }
    if (e.code.startsWith('STAVILY_ERR_')) {
      return {
        code: e.code,
        message: String(e.message ?? e.code),
        retryable: e.retryable === true,
        ...(e.data === undefined ? {} : { data: e.data }),
      }
    }
  }
  const message = err instanceof Error ? err.message : String(err)
  return { code: SandboxErrorCodes.CAPABILITY_FAILED, message, retryable: false }
}

/** Rebuilds an error that crossed a boundary, by code. */
export function fromSerialized(e: SerializedError): SandboxError {
  return new SandboxError(e.code, e.message, { retryable: e.retryable, data: e.data })
}

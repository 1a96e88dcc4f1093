import type { JsonValue } from './json.ts'
import { toPlainJson } from './plain-json.ts'
import { POLICY } from './policy.ts'

/**
 * Every error code the SDK and the hosts that run plugins use. Values are stable strings
 * (`STAVILY_ERR_*`): match on them, never on messages. Plugins may use their own codes too.
 *
 * @example
 * ```ts
 * import { ErrorCodes, isPluginError } from '@stavily/sdk'
 * try {
 *   await ctx.fetch('https://api.example.com/health')
 * } catch (error) {
 *   if (isPluginError(error) && error.code === ErrorCodes.PERMISSION_DENIED) ctx.log.warn(error.message)
 *   else throw error
 * }
 * ```
 */
export const ErrorCodes = {
  /** A capability the manifest does not declare, or the operator did not grant. */
  PERMISSION_DENIED: 'STAVILY_ERR_PERMISSION_DENIED',
  /**
   * A capability was called with a malformed argument (a relative URL, a non-string name).
   * The value is the agent sandbox's, so the harness and an agent report the same code.
   */
  INVALID_ARGUMENT: 'STAVILY_ERR_SANDBOX_INVALID_ARGUMENT',
  /** The input given to an action or output does not match its input schema. */
  INVALID_INPUT: 'STAVILY_ERR_INVALID_INPUT',
  /** The operator's configuration does not match the plugin's config schema. */
  INVALID_CONFIG: 'STAVILY_ERR_INVALID_CONFIG',
  /** What a handler returned does not match its output schema. */
  INVALID_OUTPUT: 'STAVILY_ERR_INVALID_OUTPUT',
  /** An event a sensor emitted does not match its event schema (or has a bad envelope). */
  INVALID_EVENT: 'STAVILY_ERR_INVALID_EVENT',
  /** A plugin threw something that is not a `PluginError`. Not retryable. */
  PLUGIN_FAILED: 'STAVILY_ERR_PLUGIN_FAILED',
  /** `defineAction`/`defineOutput`/`defineSensor` was called with a bad definition. */
  INVALID_DEFINITION: 'STAVILY_ERR_INVALID_DEFINITION',
  /** The plugin's manifest (the `stavily` field of package.json) is invalid. Host side. */
  MANIFEST_INVALID: 'STAVILY_ERR_MANIFEST_INVALID',
  /** The plugin's SDK range does not include the host's SDK API version. Host side. */
  SDK_INCOMPATIBLE: 'STAVILY_ERR_SDK_INCOMPATIBLE',
  /**
   * The host operation behind a capability failed (a missing file, an unreachable host).
   * Raised by the agent's sandbox; its value keeps the sandbox's prefix.
   */
  CAPABILITY_FAILED: 'STAVILY_ERR_SANDBOX_CAPABILITY_FAILED',
  /** The test harness has no fake for a call the plugin made (fetch, exec, file). */
  TEST_FAKE_MISSING: 'STAVILY_ERR_TEST_FAKE_MISSING',
} as const

/**
 * One of the SDK's own error codes.
 *
 * @example
 * ```ts
 * import type { ErrorCode } from '@stavily/sdk'
 * const code: ErrorCode = 'STAVILY_ERR_INVALID_INPUT'
 * ```
 */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes]

/**
 * Options of a {@link PluginError}.
 *
 * @example
 * ```ts
 * import { PluginError, type PluginErrorOptions } from '@stavily/sdk'
 * const options: PluginErrorOptions = { retryable: true, data: { status: 503 } }
 * throw new PluginError('ACME_UNAVAILABLE', 'the Acme API is down', options)
 * ```
 */
export interface PluginErrorOptions {
  /** Whether running the same call again may succeed (a timeout, a 503). Default `false`. */
  retryable?: boolean
  /** Machine-readable details; must be JSON (it crosses the sandbox boundary as a copy). */
  data?: JsonValue
  /** The underlying error; kept for local debugging, never serialised. */
  cause?: unknown
}

// Marks PluginErrors (and subclasses with their own `name`) for isPluginError. Symbol.for is
// shared by every realm of one V8 isolate, so the mark also holds across node:vm contexts.
const BRAND = Symbol.for('stavily.PluginError')

/**
 * The error a plugin throws for an expected failure. It crosses the sandbox boundary as
 * `{ code, message, retryable, data? }` ({@link serializeError}) and is rebuilt on the host
 * by code ({@link deserializeError}). `retryable: true` asks the orchestrator to retry the
 * step with backoff; the default is not to.
 *
 * @example
 * ```ts
 * import { PluginError } from '@stavily/sdk'
 * const res = await ctx.fetch('https://api.example.com/deploy', { method: 'POST', body: '{}' })
 * if (res.status === 503) throw new PluginError('ACME_UNAVAILABLE', 'deploy API unavailable', { retryable: true })
 * ```
 */
export class PluginError extends Error {
  /** A stable identifier, e.g. `STAVILY_ERR_PERMISSION_DENIED` or a plugin's own code. */
  readonly code: string
  /** Whether running the same call again may succeed. */
  readonly retryable: boolean
  /** Machine-readable details (JSON). */
  readonly data: JsonValue | undefined

  constructor(code: string, message: string, options: PluginErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'PluginError'
    this.code = code
    this.retryable = options.retryable === true
    this.data = options.data
    Object.defineProperty(this, BRAND, { value: true })
  }

  /** The wire form, so `JSON.stringify(error)` gives what {@link serializeError} gives. */
  toJSON(): SerializedError {
    return serializeError(this)
  }
}

/**
 * The wire form of an error: what leaves the sandbox and what the agent reports.
 *
 * @example
 * ```ts
 * import type { SerializedError } from '@stavily/sdk'
 * const wire: SerializedError = { code: 'STAVILY_ERR_PLUGIN_FAILED', message: 'boom', retryable: false }
 * ```
 */
export interface SerializedError {
  code: string
  message: string
  retryable: boolean
  data?: JsonValue
}

/**
 * Whether `value` looks like a {@link PluginError}, by shape rather than `instanceof`, so it
 * also recognises errors created by another copy of the SDK or in another realm (a sandbox):
 * named `PluginError` (or a subclass of it), with a string `code`, a string `message` and a
 * boolean `retryable`.
 *
 * @example
 * ```ts
 * import { isPluginError } from '@stavily/sdk'
 * try { await ctx.secrets.get('API_TOKEN') } catch (error) {
 *   if (isPluginError(error)) ctx.log.error(error.message, { code: error.code })
 *   throw error
 * }
 * ```
 */
export function isPluginError(value: unknown): value is PluginError {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false
  try {
    const candidate = value as Record<string | symbol, unknown>
    return (
      (candidate.name === 'PluginError' || candidate[BRAND] === true) &&
      typeof candidate.code === 'string' &&
      candidate.code.length > 0 &&
      typeof candidate.message === 'string' &&
      typeof candidate.retryable === 'boolean'
    )
  } catch {
    // A throwing getter (a Proxy, a hostile object) is not a PluginError.
    return false
  }
}

/**
 * Turns anything a plugin threw into the wire form `{ code, message, retryable, data? }`.
 * A {@link PluginError} keeps its code, flag and data (coerced to plain JSON); anything
 * else becomes `STAVILY_ERR_PLUGIN_FAILED`, not retryable, with a message built from what
 * was thrown. It never throws, never includes stacks, and never returns host objects:
 * getters that throw, cycles, functions and symbols are dropped or replaced.
 *
 * @example
 * ```ts
 * import { serializeError } from '@stavily/sdk'
 * serializeError(new Error('disk full'))
 * // → { code: 'STAVILY_ERR_PLUGIN_FAILED', message: 'Error: disk full', retryable: false }
 * ```
 */
export function serializeError(error: unknown): SerializedError {
  if (isPluginError(error)) {
    const out: SerializedError = {
      code: truncate(safeRead(error, 'code') as string, POLICY.maxErrorCodeLength),
      message: truncate(safeRead(error, 'message') as string, POLICY.maxErrorMessageLength),
      retryable: safeRead(error, 'retryable') === true,
    }
    const data = toPlainJson(safeRead(error, 'data'))
    if (data !== undefined) out.data = data
    return out
  }
  return {
    code: ErrorCodes.PLUGIN_FAILED,
    message: truncate(describeThrown(error), POLICY.maxErrorMessageLength),
    retryable: false,
  }
}

/**
 * Rebuilds a {@link PluginError} from its wire form, checking the shape. A malformed value
 * (what a broken or hostile sandbox could send) is not trusted: the result is then a
 * `STAVILY_ERR_PLUGIN_FAILED` error whose message names the bad field, with
 * `data: { malformed: true }`.
 *
 * @example
 * ```ts
 * import { deserializeError } from '@stavily/sdk'
 * const error = deserializeError({ code: 'ACME_DOWN', message: 'down', retryable: true })
 * error.retryable // true
 * ```
 */
export function deserializeError(value: unknown): PluginError {
  const problem = wireProblem(value)
  if (problem !== undefined) {
    return new PluginError(ErrorCodes.PLUGIN_FAILED, `plugin failed with a malformed error: ${problem}`, {
      data: { malformed: true },
    })
  }
  const wire = value as SerializedError
  const data = toPlainJson(wire.data)
  return new PluginError(
    wire.code,
    wire.message,
    data === undefined ? { retryable: wire.retryable } : { retryable: wire.retryable, data },
  )
}

function wireProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return `expected an object { code, message, retryable, data? }, got ${typeName(value)}`
  }
  const wire = value as Record<string, unknown>
  let code: unknown
  let message: unknown
  let retryable: unknown
  try {
    code = wire.code
    message = wire.message
    retryable = wire.retryable
  } catch {
    return 'reading its fields threw'
  }
  if (typeof code !== 'string' || code.length === 0 || code.length > POLICY.maxErrorCodeLength) {
    return `code: expected a non-empty string of at most ${POLICY.maxErrorCodeLength} characters, got ${typeName(code)}`
  }
  if (typeof message !== 'string') return `message: expected a string, got ${typeName(message)}`
  if (typeof retryable !== 'boolean') return `retryable: expected a boolean, got ${typeName(retryable)}`
  return undefined
}

function describeThrown(error: unknown): string {
  if (typeof error === 'string') return error
  if (typeof error === 'object' && error !== null) {
    const name = safeRead(error, 'name')
    const message = safeRead(error, 'message')
    if (typeof message === 'string') {
      return typeof name === 'string' && name.length > 0 ? `${name}: ${message}` : message
    }
    return 'plugin threw an object that is not an Error'
  }
  if (error === undefined || error === null) return `plugin threw ${String(error)}`
  if (typeof error === 'number' || typeof error === 'boolean' || typeof error === 'bigint') {
    return `plugin threw ${typeof error} ${String(error)}`
  }
  return `plugin threw a ${typeof error}`
}

function safeRead(target: object, key: string): unknown {
  try {
    return (target as Record<string, unknown>)[key]
  } catch {
    return undefined
  }
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}

function typeName(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value
}

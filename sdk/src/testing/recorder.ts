import type { EmittedEvent } from '../context.ts'
import type { JsonValue } from '../json.ts'
import type { ExecCall, FetchCall, SmtpCall, SqlCall } from './options.ts'

/**
 * A log line the plugin wrote.
 *
 * @example
 * ```ts
 * expect(result.logs).toContainEqual({ level: 'info', message: 'restarted', fields: { service: 'nginx' } })
 * ```
 */
export interface LogRecord {
  level: 'debug' | 'info' | 'warn' | 'error'
  message: string
  fields?: Record<string, JsonValue>
}

/**
 * A state operation the plugin made, in order.
 *
 * @example
 * ```ts
 * expect(result.calls.state).toContainEqual({ op: 'set', key: 'cursor', value: 11 })
 * ```
 */
export type StateCall =
  | { op: 'get'; key: string }
  | { op: 'set'; key: string; value: JsonValue }
  | { op: 'delete'; key: string }

/**
 * A file operation the plugin made, in order (paths normalised).
 *
 * @example
 * ```ts
 * expect(result.calls.fs).toContainEqual({ op: 'writeText', path: '/tmp/out.txt', text: 'done' })
 * ```
 */
export type FsCall =
  | { op: 'readText'; path: string }
  | { op: 'list'; path: string }
  | { op: 'writeText'; path: string; text: string }

/**
 * Everything the plugin asked for that the permissions allowed, in call order per kind.
 * Denied calls are not recorded: they threw `STAVILY_ERR_PERMISSION_DENIED` at the plugin.
 *
 * @example
 * ```ts
 * expect(result.calls.fetch.map((c) => c.url)).toEqual(['https://api.example.com/v1/status'])
 * expect(result.calls.exec[0]).toMatchObject({ command: 'systemctl', args: ['restart', 'nginx'] })
 * expect(result.calls.secrets).toEqual(['API_TOKEN'])
 * ```
 */
export interface Calls {
  fetch: FetchCall[]
  exec: ExecCall[]
  secrets: string[]
  state: StateCall[]
  fs: FsCall[]
  /** Milliseconds of every `ctx.sleep` (sensors); the harness does not really wait. */
  sleeps: number[]
  /** Every `ctx.sql.query`, with whether the agent would run it read-only. */
  sql: SqlCall[]
  /** Every `ctx.sql.listen` (sensors). */
  listens: { connection: string; channel: string }[]
  /** Every `ctx.fs.watch` (sensors), path normalised. */
  watches: { path: string; recursive: boolean }[]
  /** Every message sent with `ctx.smtp.send`. */
  smtp: SmtpCall[]
}

/**
 * What a harness run observed, beside the plugin's own result.
 *
 * @example
 * ```ts
 * const { calls, logs, state, files, events } = await testSensor(plugin, { manifest })
 * ```
 */
export interface Recorded {
  calls: Calls
  logs: LogRecord[]
  /** Events a sensor emitted (each already validated). */
  events: EmittedEvent<unknown>[]
  /** The plugin state at the end. */
  state: Record<string, JsonValue>
  /** The files at the end, including what the plugin wrote. */
  files: Record<string, string>
}

export function emptyCalls(): Calls {
  return {
    fetch: [],
    exec: [],
    secrets: [],
    state: [],
    fs: [],
    sleeps: [],
    sql: [],
    listens: [],
    watches: [],
    smtp: [],
  }
}

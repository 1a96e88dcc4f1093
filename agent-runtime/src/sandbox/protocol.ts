// Messages between the supervisor (agent process) and the sandbox host child. They travel
// as JSON (`serialization: 'json'`), several per IPC write: every write is an array of
// messages, so a burst of calls costs one syscall, not one per call. JSON, not structured
// clone: everything that crosses is JSON already (a plugin sees its input as JSON and its
// output comes out of the isolate as JSON text), and for these small messages Node's JSON
// channel costs about 5 µs less CPU per message on each side than 'advanced'.
import type { PluginLimits } from '../defaults.ts'
import type { SerializedError } from '../errors.ts'

export type PluginKind = 'sensor' | 'action' | 'output'
export type Operation = 'run' | 'send' | 'check' | 'watch'

/** The permissions of one plugin as the host enforces them. */
export interface PermissionSet {
  net: string[]
  exec: string[]
  secrets: string[]
  fs: { read: string[]; write: string[] }
}

export interface LoadRequest {
  key: string
  name: string
  version: string
  kind: PluginKind
  bundle: string
  limits: PluginLimits
  declared: PermissionSet
  granted: PermissionSet
  /** Operator's grant: host names may resolve to private (RFC 1918, ULA, link-local) addresses. */
  allowPrivateNetwork: boolean
}

/** What the host learned about a plugin by evaluating its bundle. */
export interface PluginInfo {
  kind: PluginKind
  sdkApiVersion: string
  schemas: { config?: unknown; input?: unknown; output?: unknown; event?: unknown }
  operations: Operation[]
}

export interface InvokeRequest {
  id: number
  key: string
  name: string
  operation: Operation
  /**
   * What the plugin receives, as the JSON text the isolate parses:
   * `{ input, config, invocationId, idempotencyKey, deadline }`. Made once, on the agent side
   * (a value JSON cannot carry fails that call there, naming the option).
   */
  payload: string
  secrets: Record<string, string>
  /** Epoch ms after which the call fails with a timeout. */
  deadline: number
  /** Stream events to the parent as they are emitted (watch). */
  streamEvents: boolean
}

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error'
  message: string
  fields?: Record<string, unknown>
  at: number
  /** 'exec' for a command's stderr (logged by the host, not the plugin); absent for ctx.log. */
  source?: 'exec'
}

export interface PluginEvent {
  type: string
  data: unknown
  dedupeKey?: string
  occurredAt?: string
}

export interface CallStats {
  /** CPU time the call used inside the isolate, microseconds. */
  cpuUs: number
  /** Wall time of the call in the host, milliseconds. */
  wallMs: number
}

export interface InvokeResult {
  output: unknown
  logs: LogEntry[]
  events: PluginEvent[]
  stats: CallStats
}

export interface PluginStatsEntry {
  key: string
  name: string
  version: string
  heapUsedBytes: number
  heapLimitBytes: number
  externalBytes: number
  cpuMs: number
  calls: number
  failures: number
  inFlight: number
  isolateRestarts: number
}

export type StateOp = 'get' | 'set' | 'delete'

export type ToHost =
  | { t: 'load'; rid: number; req: LoadRequest }
  | { t: 'unload'; rid: number; key: string }
  | { t: 'stats'; rid: number }
  | { t: 'invoke'; req: InvokeRequest }
  | { t: 'stop'; id: number }
  | { t: 'ping'; n: number }
  | { t: 'state-reply'; rid: number; ok: boolean; value?: unknown; error?: SerializedError }

export type FromHost =
  | { t: 'ready'; pid: number; ivm: string }
  | { t: 'reply'; rid: number; ok: boolean; value?: unknown; error?: SerializedError }
  | { t: 'result'; id: number; ok: true; result: InvokeResult }
  | { t: 'result'; id: number; ok: false; error: SerializedError; logs: LogEntry[]; stats: CallStats }
  | { t: 'event'; id: number; event: PluginEvent }
  | { t: 'pong'; n: number }
  | { t: 'state'; rid: number; plugin: string; op: StateOp; key: string; value?: unknown }

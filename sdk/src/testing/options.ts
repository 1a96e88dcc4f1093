import type { FsChange, MailMessage, SmtpResult, SqlNotification, SqlParam, SqlResult } from '../context.ts'
import type { JsonValue } from '../json.ts'
import type { Grants, Permissions } from '../manifest/types.ts'

/**
 * A fake HTTP response. `body` may be a string, or a JSON value that the harness serialises
 * (and labels `content-type: application/json` unless you set it).
 *
 * @example
 * ```ts
 * const ok: FakeResponse = { status: 200, body: { healthy: true } }
 * ```
 */
export interface FakeResponse {
  /** Default 200. */
  status?: number
  headers?: Record<string, string>
  body?: string | JsonValue
  /** The final URL to report (after a redirect); default the requested URL. */
  url?: string
}

/**
 * A request as the plugin made it, given to fake handlers and recorded in `calls.fetch`.
 *
 * @example
 * ```ts
 * const handler = (req: FetchCall): FakeResponse => ({ status: req.method === 'POST' ? 201 : 200 })
 * ```
 */
export interface FetchCall {
  url: string
  /** Host as matched against permissions (lower case), and the effective port. */
  host: string
  port: number
  /** Upper case. */
  method: string
  /** Header names lower-cased. */
  headers: Record<string, string>
  body: string | undefined
  timeoutMs: number | undefined
}

/**
 * How a fake answers one host: a fixed response, or a function of the request.
 *
 * @example
 * ```ts
 * const fake: FakeFetch = (req) => ({ status: 200, body: { path: new URL(req.url).pathname } })
 * ```
 */
export type FakeFetch = FakeResponse | ((request: FetchCall) => FakeResponse | Promise<FakeResponse>)

/**
 * A fake command result; missing fields default to a clean exit (`code: 0`, empty output).
 *
 * @example
 * ```ts
 * const failed: FakeExecResult = { code: 1, stderr: 'unit nginx.service not found' }
 * ```
 */
export interface FakeExecResult {
  code?: number | null
  signal?: string | null
  stdout?: string
  stderr?: string
  timedOut?: boolean
}

/**
 * A command run as the plugin asked for it, given to fake handlers and recorded in `calls.exec`.
 *
 * @example
 * ```ts
 * const handler = (call: ExecCall): FakeExecResult => ({ stdout: call.args.join(' ') })
 * ```
 */
export interface ExecCall {
  command: string
  args: string[]
  options: { timeoutMs?: number; cwd?: string; stdin?: string; env?: Record<string, string> }
}

/**
 * How a fake answers one command: a fixed result, or a function of the call.
 *
 * @example
 * ```ts
 * const fake: FakeExec = (call) => ({ code: call.args[0] === 'restart' ? 0 : 3 })
 * ```
 */
export type FakeExec = FakeExecResult | ((call: ExecCall) => FakeExecResult | Promise<FakeExecResult>)

/**
 * A query as the plugin made it, given to sql fakes and recorded in `calls.sql`. `readOnly`
 * says whether the agent would run it in a READ ONLY transaction (always for sensors; for
 * others unless the test lists the connection in `sqlWritable`, as an operator's `write: true`).
 *
 * @example
 * ```ts
 * const fake = (q: SqlCall) => ({ rows: q.text.includes('count') ? [{ n: 3 }] : [] })
 * ```
 */
export interface SqlCall {
  connection: string
  text: string
  params: SqlParam[]
  readOnly: boolean
  timeoutMs?: number
}

/**
 * How a sql fake answers: a result (missing parts derived from `rows`), or a function of the query.
 *
 * @example
 * ```ts
 * const fake: FakeSql = { rows: [{ id: 1, state: 'failed' }] }
 * ```
 */
export type FakeSql =
  | Partial<SqlResult>
  | ((call: SqlCall) => Partial<SqlResult> | Promise<Partial<SqlResult>>)

/**
 * A message as the plugin sent it, recorded in `calls.smtp` and given to smtp fakes.
 *
 * @example
 * ```ts
 * expect(result.calls.smtp[0]).toMatchObject({ relay: 'mail', message: { subject: 'run failed' } })
 * ```
 */
export interface SmtpCall {
  relay: string
  message: MailMessage
}

/**
 * How an smtp fake answers: what the relay accepted (default: every recipient), or a function.
 *
 * @example
 * ```ts
 * const fake: FakeSmtp = { rejected: ['nobody@example.com'] }
 * ```
 */
export type FakeSmtp =
  | Partial<SmtpResult>
  | ((call: SmtpCall) => Partial<SmtpResult> | Promise<Partial<SmtpResult>>)

/**
 * Everything the harness can be given. Permissions come from `manifest` (a package.json
 * object with a `stavily` field, or a parsed manifest) or `permissions`; without either the
 * plugin is declared nothing and every capability is denied, as it would be on an agent.
 * `grants` defaults to everything declared.
 *
 * @example
 * ```ts
 * const options: HarnessOptions = {
 *   manifest: packageJson,
 *   secrets: { API_TOKEN: 'test-token' },
 *   fetch: { 'api.example.com': { status: 200, body: { items: [] } } },
 *   exec: { systemctl: { code: 0 } },
 *   state: { cursor: 10 },
 *   files: { '/var/log/app/current.log': 'line 1\n' },
 * }
 * ```
 */
export interface HarnessOptions {
  /** The plugin's package.json (with `stavily`), or a parsed `PluginManifest`. */
  manifest?: unknown
  /** Declared permissions, when you do not pass a manifest. Missing lists are empty. */
  permissions?: PartialPermissions
  /**
   * What the operator granted (the test grant); default: everything the manifest names, and
   * nothing for what it leaves to the operator (`$granted`). When given, lists it omits are
   * empty. A grant cannot hold `$granted`: it names hosts, commands, paths, connections.
   */
  grants?: PartialPermissions
  /**
   * Fake responses by host (`"api.example.com"`, `"api.example.com:8443"`, or a pattern such
   * as `"*.example.com"`), or one handler for every request.
   */
  fetch?: Record<string, FakeFetch> | ((request: FetchCall) => FakeResponse | Promise<FakeResponse>)
  /** Fake results by command (as the plugin names it). */
  exec?: Record<string, FakeExec>
  /** Secret values by name. */
  secrets?: Record<string, string>
  /** Initial plugin state. */
  state?: Record<string, JsonValue>
  /** Files by absolute path; a key ending in "/" is an (empty) directory. */
  files?: Record<string, string>
  /** Fake query results by connection name (`ctx.sql.query`). */
  sql?: Record<string, FakeSql>
  /** Connections a query may write on (the operator's `write: true`); sensors never write. */
  sqlWritable?: string[]
  /** Notifications by connection, handed to `ctx.sql.listen` subscriptions of their channel. */
  sqlNotifications?: Record<string, (Partial<SqlNotification> & { channel: string })[]>
  /** Changes handed to `ctx.fs.watch` subscriptions whose path covers them. */
  fsChanges?: FsChange[]
  /** Fake relays by name (`ctx.smtp.send`). */
  smtp?: Record<string, FakeSmtp>
  invocationId?: string
  idempotencyKey?: string
  /** Epoch ms; default one minute from now. */
  deadline?: number
  /** Also print the plugin's log lines to the console. Default false. */
  printLogs?: boolean
}

/** Every option name of {@link HarnessOptions}, to reject typos with a clear error. */
export const HARNESS_OPTION_NAMES = [
  'manifest',
  'permissions',
  'grants',
  'fetch',
  'exec',
  'secrets',
  'state',
  'files',
  'sql',
  'sqlWritable',
  'sqlNotifications',
  'fsChanges',
  'smtp',
  'invocationId',
  'idempotencyKey',
  'deadline',
  'printLogs',
] as const

/**
 * Permissions with every part optional, as accepted by the harness.
 *
 * @example
 * ```ts
 * const permissions: PartialPermissions = { net: ['api.example.com'] }
 * ```
 */
export interface PartialPermissions {
  net?: string[]
  exec?: string[]
  secrets?: string[]
  fs?: { read?: string[]; write?: string[] }
  /** Environment variable names and `PREFIX_*` patterns for `ctx.exec`'s `env`. */
  env?: string[]
  /** PostgreSQL connection names (`ctx.sql`), or `$granted` when declaring. */
  sql?: string[]
  /** SMTP relay names (`ctx.smtp`), or `$granted` when declaring. */
  smtp?: string[]
}

export type { Grants, Permissions }

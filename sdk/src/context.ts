import type { JsonValue } from './json.ts'

/**
 * Structured logging. Lines go to the agent's log and the run's record; never log secrets.
 *
 * @example
 * ```ts
 * ctx.log.info('restarted service', { service: input.service, attempts: 1 })
 * ```
 */
export interface Logger {
  debug(message: string, fields?: Record<string, JsonValue>): void
  info(message: string, fields?: Record<string, JsonValue>): void
  warn(message: string, fields?: Record<string, JsonValue>): void
  error(message: string, fields?: Record<string, JsonValue>): void
}

/**
 * Options of `ctx.fetch`. Bodies are text; send JSON with `JSON.stringify`.
 *
 * @example
 * ```ts
 * const init: FetchInit = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', timeoutMs: 5000 }
 * ```
 */
export interface FetchInit {
  /** HTTP method; default `GET`. */
  method?: string
  headers?: Record<string, string>
  body?: string
  /** Gives up after this long (the host caps it by the invocation's deadline). */
  timeoutMs?: number
}

/**
 * What `ctx.fetch` resolves to: the whole response, already read as text.
 *
 * @example
 * ```ts
 * const res: FetchResponse = await ctx.fetch('https://api.example.com/status')
 * if (!res.ok) throw new PluginError('ACME_HTTP', `status ${res.status}`, { retryable: res.status >= 500 })
 * const body = res.json() as { healthy: boolean }
 * ```
 */
export interface FetchResponse {
  status: number
  /** `status` is 200–299. */
  ok: boolean
  /** The final URL, after redirects (each redirect is checked against the permissions too). */
  url: string
  /** Response headers, names lower-cased. */
  headers: Record<string, string>
  body: string
  /** `JSON.parse(body)`; throws if the body is not JSON. */
  json(): unknown
}

/**
 * `ctx.fetch`: HTTP(S) to the hosts the manifest declares in `permissions.net` and the
 * operator granted. Any other host throws `STAVILY_ERR_PERMISSION_DENIED`.
 *
 * @example
 * ```ts
 * const res = await ctx.fetch('https://api.example.com/v1/items', { timeoutMs: 3000 })
 * ```
 */
export type Fetch = (url: string, init?: FetchInit) => Promise<FetchResponse>

/**
 * `ctx.secrets`: values the operator stored, by the names the manifest declares in
 * `permissions.secrets`.
 *
 * @example
 * ```ts
 * const token = await ctx.secrets.get('SLACK_TOKEN')
 * ```
 */
export interface Secrets {
  get(name: string): Promise<string>
}

/**
 * `ctx.state`: a small key-value store kept per plugin between invocations (a cursor, the
 * last value seen). Values are JSON; `get` of a missing key resolves to `undefined`.
 *
 * @example
 * ```ts
 * const last = (await ctx.state.get('lastSeenId')) ?? 0
 * await ctx.state.set('lastSeenId', 42)
 * ```
 */
export interface StateStore {
  get(key: string): Promise<JsonValue | undefined>
  set(key: string, value: JsonValue): Promise<void>
  delete(key: string): Promise<void>
}

/**
 * Read-only file access under the prefixes the manifest declares in `permissions.fs.read`.
 * Paths are absolute.
 *
 * @example
 * ```ts
 * const names = await ctx.fs.list('/var/log/app')
 * const text = await ctx.fs.readText('/var/log/app/current.log')
 * ```
 */
export interface ReadonlyFs {
  /** The file's contents as UTF-8 text. */
  readText(path: string): Promise<string>
  /** The names of a directory's entries, sorted. */
  list(path: string): Promise<string[]>
}

/**
 * File access for actions and outputs: reads as {@link ReadonlyFs}, writes under the
 * prefixes in `permissions.fs.write`.
 *
 * @example
 * ```ts
 * await ctx.fs.writeText('/var/lib/acme/last-run.txt', new Date(ctx.deadline).toISOString())
 * ```
 */
export interface Fs extends ReadonlyFs {
  /** Creates or replaces the file with `text` (UTF-8). */
  writeText(path: string, text: string): Promise<void>
}

/**
 * A query parameter: bound by PostgreSQL (`$1`, `$2`, ...), never spliced into the text.
 *
 * @example
 * ```ts
 * const params: SqlParam[] = ['web-1', 42, true, null]
 * ```
 */
export type SqlParam = string | number | boolean | null

/**
 * Options of `ctx.sql.query`.
 *
 * @example
 * ```ts
 * const options: SqlQueryOptions = { timeoutMs: 5000, maxRows: 100 }
 * ```
 */
export interface SqlQueryOptions {
  /** Gives up after this long (the host caps it by `sqlTimeoutMs` and the call's deadline). */
  timeoutMs?: number
  /** More rows than this fail the query (default 1000, at most 100000). */
  maxRows?: number
}

/**
 * What `ctx.sql.query` resolves to. Column values are JSON: numbers and booleans as such,
 * `bigint`/`numeric` as strings, timestamps as ISO strings, `json`/`jsonb` parsed.
 *
 * @example
 * ```ts
 * const r: SqlResult = await ctx.sql.query('main', 'SELECT id, state FROM jobs WHERE id > $1', [cursor])
 * for (const row of r.rows) ctx.log.info('job', { id: row.id as number })
 * ```
 */
export interface SqlResult {
  rows: Record<string, JsonValue>[]
  /** Rows returned or affected. */
  rowCount: number
  /** Column names, in order. */
  fields: string[]
  /** The command tag: `SELECT`, `INSERT`, ... */
  command: string
}

/**
 * A `NOTIFY` received on a channel a sensor listens to.
 *
 * @example
 * ```ts
 * const n: SqlNotification = { channel: 'jobs', payload: '{"id":7}', processId: 4242 }
 * ```
 */
export interface SqlNotification {
  channel: string
  payload: string
  processId: number
}

/**
 * A batch of what a subscription received since the last `next()`; `dropped` counts what was
 * lost because more arrived than the host buffers (`limits.watchQueue`): read again from the
 * source (a query, a directory listing) when it is not 0.
 *
 * @example
 * ```ts
 * const { items, dropped } = await listener.next({ timeoutMs: 5000 })
 * ```
 */
export interface Batch<T> {
  items: T[]
  dropped: number
}

/**
 * A stream a sensor reads in its `watch` loop (`ctx.sql.listen`, `ctx.fs.watch`). The host
 * buffers what arrives; `next()` resolves as soon as there is something, or with an empty
 * batch after `timeoutMs` (default 10 s) or when the sensor is being stopped. It ends with
 * the call; `close()` ends it earlier.
 *
 * @example
 * ```ts
 * const listener = await ctx.sql.listen('main', 'jobs')
 * while (!ctx.isStopping()) {
 *   const { items } = await listener.next({ timeoutMs: 5000 })
 *   for (const n of items) await ctx.emit({ type: 'job.changed', data: { payload: n.payload } })
 * }
 * ```
 */
export interface Subscription<T> {
  next(options?: { timeoutMs?: number; max?: number }): Promise<Batch<T>>
  close(): Promise<void>
}

/**
 * `ctx.sql`: parameterised queries on the PostgreSQL connections the operator defines on the
 * agent (by name) and grants the plugin (`permissions.sql`). Read-only (each query runs in a
 * READ ONLY transaction) unless the operator granted the connection `write: true`, and always
 * for sensors. One statement per query; credentials never reach the plugin.
 *
 * @example
 * ```ts
 * const { rows } = await ctx.sql.query('main', 'SELECT count(*)::int AS n FROM jobs WHERE state = $1', ['failed'])
 * ```
 */
export interface Sql {
  query(connection: string, text: string, params?: SqlParam[], options?: SqlQueryOptions): Promise<SqlResult>
}

/**
 * `ctx.sql` of a sensor: queries (read-only) and `LISTEN` on a channel.
 *
 * @example
 * ```ts
 * const listener = await ctx.sql.listen('main', 'jobs')
 * ```
 */
export interface SensorSql extends Sql {
  /** Starts `LISTEN channel` on its own connection; notifications arrive through `next()`. */
  listen(connection: string, channel: string): Promise<Subscription<SqlNotification>>
}

/**
 * A change under a watched path: `path` is absolute.
 *
 * @example
 * ```ts
 * const change: FsChange = { type: 'modified', path: '/etc/app/config.yaml' }
 * ```
 */
export interface FsChange {
  type: 'created' | 'modified' | 'deleted'
  path: string
}

/**
 * A sensor's file access: reads as {@link ReadonlyFs}, and `watch` for change notifications
 * on a path under `permissions.fs.read`.
 *
 * @example
 * ```ts
 * const watcher = await ctx.fs.watch('/etc/app', { recursive: true })
 * const { items } = await watcher.next()
 * ```
 */
export interface SensorFs extends ReadonlyFs {
  /** Change notifications for a file or a folder (with `recursive`, its subfolders too). */
  watch(path: string, options?: { recursive?: boolean }): Promise<Subscription<FsChange>>
}

/**
 * A mail message for `ctx.smtp.send`. Addresses are `user@example.com` or
 * `"Name" <user@example.com>`; `from` defaults to the relay's `from` set by the operator.
 *
 * @example
 * ```ts
 * const message: MailMessage = { to: ['ops@example.com'], subject: 'web restarted', text: 'at 10:02' }
 * ```
 */
export interface MailMessage {
  from?: string
  to: string | string[]
  cc?: string | string[]
  bcc?: string | string[]
  replyTo?: string
  subject: string
  text?: string
  html?: string
  /** Extra headers (`X-Run-Id`); the host sets the structural ones itself. */
  headers?: Record<string, string>
}

/**
 * What `ctx.smtp.send` resolves to: what the relay accepted.
 *
 * @example
 * ```ts
 * const sent: SmtpResult = await ctx.smtp.send('mail', message)
 * ```
 */
export interface SmtpResult {
  messageId: string
  accepted: string[]
  rejected: string[]
  /** The relay's last answer, e.g. `250 2.0.0 Ok: queued`. */
  response: string
}

/**
 * `ctx.smtp` (actions and outputs): sends through an SMTP relay the operator defines on the
 * agent and grants the plugin (`permissions.smtp`), with STARTTLS and AUTH as configured;
 * the credentials never reach the plugin.
 *
 * @example
 * ```ts
 * await ctx.smtp.send('mail', { to: 'ops@example.com', subject: 'run failed', text: input.text })
 * ```
 */
export interface Smtp {
  send(relay: string, message: MailMessage): Promise<SmtpResult>
}

/**
 * What every handler receives. `Config` is the type of the plugin's config schema.
 *
 * @example
 * ```ts
 * import type { Context } from '@stavily/sdk'
 * function describe(ctx: Context<{ region: string }>) {
 *   return `${ctx.invocationId} in ${ctx.config.region}, due by ${new Date(ctx.deadline).toISOString()}`
 * }
 * ```
 */
export interface Context<Config = Record<never, never>> {
  /** The operator's configuration, validated against the config schema. */
  readonly config: Config
  /** Unique per invocation (per attempt). */
  readonly invocationId: string
  /** The same across retries of one step: pass it to APIs that deduplicate requests. */
  readonly idempotencyKey: string
  /** When the host will abandon this invocation, epoch milliseconds. */
  readonly deadline: number
  readonly log: Logger
  readonly fetch: Fetch
  readonly secrets: Secrets
  readonly state: StateStore
  readonly fs: ReadonlyFs
  /** PostgreSQL on the connections the operator grants (`permissions.sql`). */
  readonly sql: Sql
}

/**
 * An event as a sensor emits it. `dedupeKey` makes the same occurrence start one run, not
 * two (default: none, every emit is new); `occurredAt` is an ISO 8601 time (default: now).
 *
 * @example
 * ```ts
 * const event: EmittedEvent<{ value: number }> = { type: 'threshold.exceeded', data: { value: 97 }, dedupeKey: 'cpu-2024-01-01T10' }
 * ```
 */
export interface EmittedEvent<Data> {
  type: string
  data: Data
  dedupeKey?: string
  occurredAt?: string
}

/**
 * The context of a sensor's `check` and `watch`: observe and report (no file writes, no
 * mail). A sensor may run the commands the operator granted it (`git ls-remote`, `df -P`),
 * with the same limits and audit as an action's.
 *
 * @example
 * ```ts
 * async check(ctx) {
 *   const res = await ctx.fetch(`${ctx.config.url}/api/v1/alerts`)
 *   for (const alert of (res.json() as { alerts: { name: string }[] }).alerts) {
 *     await ctx.emit({ type: 'alert.firing', data: { name: alert.name }, dedupeKey: alert.name })
 *   }
 * }
 * ```
 */
export interface SensorContext<Config = Record<never, never>, Event = unknown> extends Context<Config> {
  readonly fs: SensorFs
  readonly sql: SensorSql
  /** Reports an event to the orchestrator; validated against the event schema. */
  emit(event: EmittedEvent<Event>): Promise<void>
  /** Waits `ms` milliseconds, or less when the sensor is being stopped. */
  sleep(ms: number): Promise<void>
  /** `true` once the host asked the sensor to stop; a `watch` loop returns then. */
  isStopping(): boolean
  /**
   * Runs `command` with `args` (no shell) to observe something. `command` must be in
   * `permissions.exec` and granted by the operator.
   */
  exec(command: string, args: string[], options?: ExecOptions): Promise<ExecResult>
}

/**
 * Options of `ctx.exec`.
 *
 * @example
 * ```ts
 * const options: ExecOptions = { timeoutMs: 10_000, cwd: '/srv/app', env: { LANG: 'C' } }
 * ```
 */
export interface ExecOptions {
  timeoutMs?: number
  cwd?: string
  /** Text written to the command's standard input. */
  stdin?: string
  /**
   * Extra environment variables (the host starts from a minimal one). Each name must be
   * declared in `permissions.env` and granted; loader and interpreter hooks (`LD_*`,
   * `BASH_ENV`, `PYTHON*`, `GIT_*`, ...) are never passed (`STAVILY_ERR_PERMISSION_DENIED`).
   */
  env?: Record<string, string>
}

/**
 * What `ctx.exec` resolves to. A command that exits non-zero resolves (check `code`);
 * only a denied or unstartable command rejects.
 *
 * @example
 * ```ts
 * const r: ExecResult = await ctx.exec('systemctl', ['is-active', 'nginx'])
 * const active = r.code === 0 && r.stdout.trim() === 'active'
 * ```
 */
export interface ExecResult {
  /** Exit code, or `null` when the process was killed by a signal. */
  code: number | null
  signal: string | null
  stdout: string
  stderr: string
  /** The command ran past its timeout and was killed. */
  timedOut: boolean
}

/**
 * The context of an action's `run`: everything in {@link Context}, plus running commands
 * (argv, never a shell) and writing files.
 *
 * @example
 * ```ts
 * async run(ctx, input) {
 *   const r = await ctx.exec('systemctl', ['restart', input.service], { timeoutMs: 30_000 })
 *   return { restarted: r.code === 0 }
 * }
 * ```
 */
export interface ActionContext<Config = Record<never, never>> extends Context<Config> {
  readonly fs: Fs
  readonly smtp: Smtp
  /** Runs `command` with `args` (no shell). `command` must be in `permissions.exec`. */
  exec(command: string, args: string[], options?: ExecOptions): Promise<ExecResult>
}

/**
 * The context of an output's `send`: everything in {@link Context}, plus writing files
 * (an output delivers results: a chat message, an audit file). No `exec`.
 *
 * @example
 * ```ts
 * async send(ctx, input) {
 *   await ctx.fs.writeText('/var/log/stavily/audit.log', `${input.message}\n`)
 * }
 * ```
 */
export interface OutputContext<Config = Record<never, never>> extends Context<Config> {
  readonly fs: Fs
  readonly smtp: Smtp
}

// ctx.sql on the host: parameterised queries and LISTEN on the PostgreSQL connections the
// operator defines on the agent (connections.ts) and grants the plugin. The plugin names a
// connection; URL and password never cross into the isolate. Each query has its own
// connection (no session state carries over from one call, or one plugin, to the next), uses
// the extended protocol (exactly one statement: "COMMIT; DELETE ..." cannot ride along), and
// runs inside BEGIN READ ONLY unless the operator granted `write: true` to an action or an
// output; sensors never write. Rows are capped by count (options.maxRows) and by size
// (limits.sqlResultBytes), time by limits.sqlTimeoutMs (server-side statement_timeout too).
import { readFile } from 'node:fs/promises'
import {
  type PermissionGuard,
  SQL_DEFAULT_ROWS,
  SQL_MAX_ROWS,
  sqlChannelProblem,
  sqlParamsProblem,
  sqlTextProblem,
} from '@stavily/sdk/manifest'
import type pgTypes from 'pg'
import type { PluginLimits } from '../../../defaults.ts'
import { SandboxErrorCodes, sandboxError } from '../../../errors.ts'
import { optionalNumber, plainObject, str } from './args.ts'
import type { SqlConnectionGrant } from './connections.ts'
import { resolveChecked } from './resolve-address.ts'
import type { Stream } from './subscriptions.ts'

// Loaded on first use: pg is several MB resident, and most agents never query a database.
let pgModule: Promise<typeof pgTypes> | undefined
const loadPg = () => {
  pgModule ??= import('pg').then((m) => (m as unknown as { default: typeof pgTypes }).default ?? m)
  return pgModule
}

export interface SqlOptions {
  guard: PermissionGuard
  limits: PluginLimits
  kind: string
  connections: Record<string, SqlConnectionGrant>
  secrets: Record<string, string>
  allowPrivateNetwork: boolean
  deadline: number
  signal: AbortSignal
}

export interface SqlQueryResult {
  rows: Record<string, unknown>[]
  rowCount: number
  fields: string[]
  command: string
}

function argument(problem: string | undefined): void {
  if (problem !== undefined) throw sandboxError(SandboxErrorCodes.CAPABILITY_FAILED, problem)
}

/** The connection's definition, after the guard (declared or "$granted", and granted). */
function definition(
  cap: string,
  connectionArg: unknown,
  o: SqlOptions,
): { name: string; def: SqlConnectionGrant } {
  const name = o.guard.sql(str(`${cap} connection`, connectionArg, 64))
  const def = o.connections[name]
  if (!def) {
    // Granted by name but not defined: an operator's configuration mistake, said as such.
    throw sandboxError(
      SandboxErrorCodes.CAPABILITY_FAILED,
      `${cap}: connection "${name}" is granted but the agent defines no such connection (grants.sql.${name}.url)`,
    )
  }
  return { name, def }
}

async function clientConfig(
  cap: string,
  name: string,
  def: SqlConnectionGrant,
  o: SqlOptions,
  timeoutMs: number,
) {
  const url = new URL(def.url)
  for (const key of url.searchParams.keys()) {
    if (key !== 'sslmode')
      throw sandboxError(
        SandboxErrorCodes.CAPABILITY_FAILED,
        `${cap}: connection "${name}": URL parameter "${key}" is not supported; only sslmode (disable, require, verify-full)`,
      )
  }
  const host = url.hostname
  const port = url.port === '' ? 5432 : Number(url.port)
  const address = await resolveChecked(`sql connection "${name}"`, host, port, o.allowPrivateNetwork)
  const sslmode = url.searchParams.get('sslmode') ?? 'disable'
  const servername = host.replace(/^\[|\]$/g, '')
  const ssl =
    sslmode === 'disable'
      ? false
      : sslmode === 'require'
        ? { rejectUnauthorized: false }
        : { rejectUnauthorized: true, ...(address === servername ? {} : { servername }) }
  let password: string | undefined
  if (def.passwordSecret) {
    password = o.secrets[def.passwordSecret]
    if (password === undefined)
      throw sandboxError(
        SandboxErrorCodes.SECRET_MISSING,
        `${cap}: connection "${name}" takes its password from the secret ${def.passwordSecret}, which was not supplied for this call: the plugin must declare it in permissions.secrets and the agent grant it`,
        { data: { name: def.passwordSecret } },
      )
  } else if (def.passwordFile) {
    try {
      password = (await readFile(def.passwordFile, 'utf8')).trim()
    } catch (err) {
      throw sandboxError(
        SandboxErrorCodes.CAPABILITY_FAILED,
        `${cap}: connection "${name}": cannot read its passwordFile: ${(err as NodeJS.ErrnoException).code ?? err}`,
      )
    }
  }
  return {
    host: address,
    port,
    user: decodeURIComponent(url.username) || undefined,
    database: decodeURIComponent(url.pathname.slice(1)) || undefined,
    password,
    ssl,
    connectionTimeoutMillis: Math.max(1, timeoutMs),
    statement_timeout: Math.max(1, timeoutMs),
    application_name: 'stavily-agent',
  }
}

function failure(cap: string, name: string, err: unknown): Error {
  if (err && typeof err === 'object' && typeof (err as { code?: unknown }).code === 'string') {
    const code = (err as { code: string }).code
    if (code.startsWith('STAVILY_ERR_')) return err as Error
    const e = err as { message: string; code: string; position?: string }
    // SQLSTATE class 08 (connection), 57P (shutdown), 53 (resources), 40 (rollback) may pass.
    const retryable =
      /^(08|57P|53|40)/.test(code) || ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT'].includes(code)
    return sandboxError(SandboxErrorCodes.CAPABILITY_FAILED, `${cap} on ${name}: ${e.message}`, {
      retryable,
      data: { sqlState: code },
      cause: err,
    })
  }
  const message = err instanceof Error ? err.message : String(err)
  return sandboxError(SandboxErrorCodes.CAPABILITY_FAILED, `${cap} on ${name}: ${message}`, {
    retryable: /timeout|terminated|ECONN/i.test(message),
    cause: err,
  })
}

export async function hostSqlQuery(
  connectionArg: unknown,
  textArg: unknown,
  paramsArg: unknown,
  optionsArg: unknown,
  o: SqlOptions,
): Promise<SqlQueryResult> {
  const { name, def } = definition('sql.query', connectionArg, o)
  argument(sqlTextProblem(textArg))
  const params = paramsArg === undefined || paramsArg === null ? [] : paramsArg
  argument(sqlParamsProblem(params))
  const options = plainObject('sql.query options', optionsArg) ?? {}
  const maxRows =
    optionalNumber('sql.query options.maxRows', options.maxRows, 1, SQL_MAX_ROWS) ?? SQL_DEFAULT_ROWS
  const asked = optionalNumber('sql.query options.timeoutMs', options.timeoutMs, 1, 24 * 3600_000)
  const timeoutMs = Math.min(
    asked ?? o.limits.sqlTimeoutMs,
    o.limits.sqlTimeoutMs,
    Math.max(1, o.deadline - Date.now()),
  )
  const readOnly = o.kind === 'sensor' || def.write !== true
  const pg = await loadPg()
  const client = new pg.Client(await clientConfig('sql.query', name, def, o, timeoutMs))
  // A call stopped before this point runs nothing: the 'abort' listener below would never
  // fire on a signal already aborted (nothing awaits between this check and it).
  if (o.signal.aborted)
    throw sandboxError(
      SandboxErrorCodes.CAPABILITY_FAILED,
      `sql.query on ${name}: the call was stopped; not run`,
      {
        retryable: true,
      },
    )
  // Rows as text: every value the plugin gets is plain JSON (no Date, no Buffer), parsed below.
  const stop = () => client.end().catch(() => {})
  const timer = setTimeout(stop, timeoutMs)
  o.signal.addEventListener('abort', stop, { once: true })
  let size = 0
  try {
    await client.connect()
    if (readOnly) await client.query('BEGIN TRANSACTION READ ONLY')
    const result = await new Promise<pgTypes.QueryResult>((resolve, reject) => {
      // queryMode 'extended' (pg 8.12+, not in its types): Parse/Bind/Execute even without
      // parameters, so the text is exactly one statement.
      const config = { text: textArg as string, values: params as unknown[], queryMode: 'extended' }
      const query = new pg.Query(config as pgTypes.QueryConfig)
      const rows: Record<string, unknown>[] = []
      query.on('row', (row: Record<string, unknown>) => {
        if (rows.length >= maxRows) {
          reject(
            sandboxError(
              SandboxErrorCodes.CAPABILITY_FAILED,
              `sql.query on ${name}: more than ${maxRows} rows (options.maxRows); add a LIMIT or page with a cursor`,
            ),
          )
          stop()
          return
        }
        size += Buffer.byteLength(JSON.stringify(row))
        if (size > o.limits.sqlResultBytes) {
          reject(
            sandboxError(
              SandboxErrorCodes.CAPABILITY_FAILED,
              `sql.query on ${name}: the result is larger than the limit of ${o.limits.sqlResultBytes} bytes (limits.sqlResultBytes)`,
            ),
          )
          stop()
          return
        }
        rows.push(row)
      })
      query.on('error', reject)
      query.on('end', (r: pgTypes.QueryResult) => resolve({ ...r, rows }))
      client.query(query)
    })
    if (readOnly) await client.query('COMMIT')
    return {
      rows: result.rows.map(toJson),
      rowCount: result.rowCount ?? result.rows.length,
      fields: (result.fields ?? []).map((f) => f.name),
      command: result.command ?? '',
    }
  } catch (err) {
    const own = String((err as { code?: unknown })?.code ?? '').startsWith('STAVILY_ERR_')
    const cut = err instanceof Error && /Connection terminated|Client was closed|timeout/i.test(err.message)
    if (!own && (o.signal.aborted || cut))
      throw sandboxError(
        SandboxErrorCodes.CAPABILITY_FAILED,
        `sql.query on ${name}: timed out after ${timeoutMs} ms`,
        {
          retryable: true,
          cause: err,
        },
      )
    throw failure('sql.query', name, err)
  } finally {
    clearTimeout(timer)
    o.signal.removeEventListener('abort', stop)
    await stop()
  }
}

/** JSON values only: dates as ISO strings, buffers as base64, bigints as strings. */
function toJson(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(row)) {
    if (v instanceof Date) out[k] = Number.isNaN(v.getTime()) ? null : v.toISOString()
    else if (Buffer.isBuffer(v)) out[k] = v.toString('base64')
    else if (typeof v === 'bigint') out[k] = v.toString()
    else out[k] = v
  }
  return out
}

/** LISTEN on its own connection; notifications go to `stream` until the stream is released. */
export async function hostSqlListen(
  connectionArg: unknown,
  channelArg: unknown,
  o: SqlOptions,
  stream: Stream<{ channel: string; payload: string; processId: number }>,
): Promise<() => void> {
  const { name, def } = definition('sql.listen', connectionArg, o)
  argument(sqlChannelProblem(channelArg))
  const channel = channelArg as string
  const timeoutMs = Math.min(o.limits.sqlTimeoutMs, Math.max(1, o.deadline - Date.now()))
  const config = await clientConfig('sql.listen', name, def, o, timeoutMs)
  // A listening session runs no statement of the plugin's; it must not time out while idle.
  const pg = await loadPg()
  const client = new pg.Client({ ...config, statement_timeout: undefined })
  let released = false
  client.on('notification', (n) => {
    stream.push({ channel: n.channel, payload: n.payload ?? '', processId: n.processId })
  })
  client.on('error', (err) => {
    if (!released) stream.fail(failure('sql.listen', name, err))
  })
  client.on('end', () => {
    if (!released)
      stream.fail(
        sandboxError(
          SandboxErrorCodes.CAPABILITY_FAILED,
          `sql.listen on ${name}: the connection was closed; listen again (and query what changed meanwhile)`,
          { retryable: true },
        ),
      )
  })
  try {
    await client.connect()
    if (o.kind === 'sensor' || def.write !== true)
      await client.query('SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY')
    await client.query(`LISTEN ${client.escapeIdentifier(channel)}`)
  } catch (err) {
    released = true
    await client.end().catch(() => {})
    throw failure('sql.listen', name, err)
  }
  return () => {
    released = true
    client.end().catch(() => {})
  }
}

import type { SensorSql, SqlNotification, SqlResult } from '../context.ts'
import { ErrorCodes, PluginError } from '../errors.ts'
import type { JsonValue } from '../json.ts'
import {
  SQL_DEFAULT_ROWS,
  SQL_MAX_ROWS,
  sqlChannelProblem,
  sqlParamsProblem,
  sqlTextProblem,
} from '../manifest/capability-args.ts'
import type { PermissionGuard } from '../manifest/permission-guard.ts'
import type { PluginKind } from '../manifest/types.ts'
import { invalid, jsonCopy, optionalNumber, optionalObject, string } from './args.ts'
import { fakeSubscription } from './fake-subscription.ts'
import type { HarnessOptions, SqlCall } from './options.ts'
import type { Calls } from './recorder.ts'

function argument(problem: string | undefined): void {
  if (problem !== undefined) {
    throw new PluginError(ErrorCodes.INVALID_ARGUMENT, problem, {
      data: { argument: problem.split(':')[0] ?? '' },
    })
  }
}

/**
 * `ctx.sql` of the harness: the connection through the guard, the same argument checks as
 * the sandbox, read-only for sensors and for connections not in `sqlWritable`, then the fake.
 */
export function fakeSql(
  guard: PermissionGuard,
  kind: PluginKind,
  options: HarnessOptions,
  calls: Calls,
): SensorSql {
  const query = async (
    connection: unknown,
    text: unknown,
    params?: unknown,
    queryOptions?: unknown,
  ): Promise<SqlResult> => {
    const name = guard.sql(string('sql.query connection', connection))
    argument(sqlTextProblem(text))
    const values = params === undefined ? [] : params
    argument(sqlParamsProblem(values))
    const raw = optionalObject('sql.query options', queryOptions)
    const timeoutMs = optionalNumber('sql.query options.timeoutMs', raw.timeoutMs)
    const maxRows = optionalNumber('sql.query options.maxRows', raw.maxRows) ?? SQL_DEFAULT_ROWS
    if (maxRows > SQL_MAX_ROWS) throw invalid('sql.query options.maxRows', `at most ${SQL_MAX_ROWS}`, maxRows)
    const call: SqlCall = {
      connection: name,
      text: text as string,
      params: [...(values as SqlCall['params'])],
      readOnly: kind === 'sensor' || !(options.sqlWritable ?? []).includes(name),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    }
    calls.sql.push(call)
    const fake = options.sql?.[name]
    if (fake === undefined) {
      throw new PluginError(
        ErrorCodes.TEST_FAKE_MISSING,
        `harness: no fake for sql connection "${name}"; pass sql: { "${name}": { rows: [...] } } or a function of the query`,
        { data: { connection: name } },
      )
    }
    const result = typeof fake === 'function' ? await fake({ ...call, params: [...call.params] }) : fake
    const rows = jsonCopy('harness sql rows', result.rows ?? []) as Record<string, JsonValue>[]
    if (rows.length > maxRows) {
      throw new PluginError(
        ErrorCodes.CAPABILITY_FAILED,
        `sql.query on ${name}: more than ${maxRows} rows (options.maxRows); add a LIMIT or page with a cursor`,
      )
    }
    return {
      rows,
      rowCount: result.rowCount ?? rows.length,
      fields: result.fields ?? (rows[0] ? Object.keys(rows[0]) : []),
      command: result.command ?? 'SELECT',
    }
  }
  const listen = async (connection: unknown, channel: unknown) => {
    if (kind !== 'sensor') {
      throw new PluginError(
        ErrorCodes.PERMISSION_DENIED,
        `permission denied: sql.listen is not available to ${kind} plugins`,
        {
          data: { permission: 'sql.listen', value: kind, reason: 'kind' },
        },
      )
    }
    const name = guard.sql(string('sql.listen connection', connection))
    argument(sqlChannelProblem(channel))
    calls.listens.push({ connection: name, channel: channel as string })
    const all: SqlNotification[] = (options.sqlNotifications?.[name] ?? []).map((n) => ({
      channel: n.channel,
      payload: n.payload ?? '',
      processId: n.processId ?? 0,
    }))
    return fakeSubscription(
      'sql.listen',
      all.filter((n) => n.channel === channel),
    )
  }
  return kind === 'sensor' ? Object.freeze({ query, listen }) : (Object.freeze({ query }) as SensorSql)
}

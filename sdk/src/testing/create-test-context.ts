import type { TSchema } from 'typebox'
import type {
  ActionContext,
  Context,
  EmittedEvent,
  Logger,
  OutputContext,
  SensorContext,
  SensorFs,
} from '../context.ts'
import type { PluginKind } from '../definition.ts'
import { ErrorCodes, PluginError } from '../errors.ts'
import type { JsonValue } from '../json.ts'
import { createPermissionGuard } from '../manifest/permission-guard.ts'
import { assertValid, assertValidEvent } from '../manifest/schema-check.ts'
import { invalid, jsonCopy, string } from './args.ts'
import { HARNESS_DEFAULTS } from './defaults.ts'
import { fakeExec } from './fake-exec.ts'
import { fakeFetch } from './fake-fetch.ts'
import { fakeFs } from './fake-fs.ts'
import { fakeSmtp } from './fake-smtp.ts'
import { fakeSql } from './fake-sql.ts'
import { fakeState } from './fake-state.ts'
import { fakeWatch } from './fake-watch.ts'
import { HARNESS_OPTION_NAMES, type HarnessOptions } from './options.ts'
import { resolvePermissions } from './permissions.ts'
import { emptyCalls, type LogRecord, type Recorded } from './recorder.ts'

/**
 * Options of {@link createTestContext}: the harness options plus what the plugin definition
 * would otherwise supply (its kind and schemas).
 *
 * @example
 * ```ts
 * const options: TestContextOptions = { kind: 'sensor', eventSchema: Type.Object({ n: Type.Number() }), permissions: {} }
 * ```
 */
export interface TestContextOptions extends HarnessOptions {
  kind: PluginKind
  /** The operator configuration; validated against `configSchema` when given. */
  config?: unknown
  configSchema?: TSchema | object
  /** Sensors: emitted events are validated against it (default: any data). */
  eventSchema?: TSchema | object
  /** Sensors: `isStopping()` turns true after this many emitted events. */
  maxEvents?: number
  /** Sensors: `isStopping()` turns true after this many `ctx.sleep` calls. */
  maxSleeps?: number
}

/**
 * A context built by the harness, and what the plugin did with it so far.
 *
 * @example
 * ```ts
 * const t = createTestContext({ kind: 'action', permissions: { exec: ['uptime'] }, exec: { uptime: { stdout: 'up' } } })
 * await t.ctx.exec('uptime', [])
 * t.recorded().calls.exec // [{ command: 'uptime', args: [], options: {} }]
 * ```
 */
export interface TestContext<Ctx> {
  ctx: Ctx
  /** A snapshot of the calls, logs, events, state and files so far. */
  recorded(): Recorded
  /** Makes `ctx.isStopping()` true, as when the agent stops a sensor. */
  stop(): void
}

/**
 * Builds a context for custom tests: the same permission guard, fakes and recording as
 * `testAction`/`testOutput`/`testSensor`, without running a handler for you.
 *
 * @example
 * ```ts
 * import { createTestContext } from '@stavily/sdk/testing'
 * const { ctx, recorded } = createTestContext({
 *   kind: 'action',
 *   permissions: { net: ['api.example.com'] },
 *   fetch: { 'api.example.com': { body: { ok: true } } },
 * })
 * await myHelper(ctx)
 * expect(recorded().calls.fetch).toHaveLength(1)
 * ```
 */
export function createTestContext<Config = Record<string, unknown>>(
  options: TestContextOptions & { kind: 'action' },
): TestContext<ActionContext<Config>>
export function createTestContext<Config = Record<string, unknown>>(
  options: TestContextOptions & { kind: 'output' },
): TestContext<OutputContext<Config>>
export function createTestContext<Config = Record<string, unknown>, Event = unknown>(
  options: TestContextOptions & { kind: 'sensor' },
): TestContext<SensorContext<Config, Event>>
export function createTestContext(options: TestContextOptions): TestContext<Context<unknown>>
export function createTestContext(options: TestContextOptions): TestContext<Context<unknown>> {
  const kind = options.kind
  if (kind !== 'action' && kind !== 'output' && kind !== 'sensor') {
    throw invalid('harness kind', '"action", "output" or "sensor"', kind)
  }
  checkOptionNames(options)
  const { declared, granted } = resolvePermissions(options, kind)
  const guard = createPermissionGuard(declared, granted)
  const config =
    options.config === undefined ? {} : copyIn('config', options.config, ErrorCodes.INVALID_CONFIG)
  if (options.configSchema !== undefined) assertValid('config', options.configSchema, config)

  const calls = emptyCalls()
  const logs: LogRecord[] = []
  const events: EmittedEvent<unknown>[] = []
  const state = fakeState(options.state, calls)
  const files = fakeFs(guard, options.files, calls)
  const maxEvents = options.maxEvents ?? HARNESS_DEFAULTS.maxEvents
  const maxSleeps = options.maxSleeps ?? HARNESS_DEFAULTS.maxSleeps
  let stopping = false
  let stoppingChecks = 0

  const secrets = {
    async get(name: string): Promise<string> {
      const checked = guard.secret(string('secrets.get name', name))
      calls.secrets.push(checked)
      const value = options.secrets?.[checked]
      if (value === undefined) {
        throw new PluginError(
          ErrorCodes.TEST_FAKE_MISSING,
          `harness: secret "${checked}" has no value; pass secrets: { ${checked}: "..." }`,
          { data: { secret: checked } },
        )
      }
      return value
    },
  }

  const base = {
    config,
    invocationId: options.invocationId ?? `test-invocation-${++invocationCounter}`,
    idempotencyKey: options.idempotencyKey ?? 'test-idempotency-key',
    deadline: options.deadline ?? Date.now() + HARNESS_DEFAULTS.deadlineMs,
    log: logger(logs, options.printLogs === true),
    fetch: fakeFetch(guard, options.fetch, calls),
    secrets: Object.freeze(secrets),
    state: Object.freeze(state.state),
    sql: fakeSql(guard, kind, options, calls),
  }
  let ctx: Context<unknown>
  const exec = fakeExec(guard, options.exec, calls) as ActionContext<unknown>['exec']
  if (kind === 'sensor') {
    const sensorFs: SensorFs = {
      readText: files.fs.readText,
      list: files.fs.list,
      watch: fakeWatch(guard, kind, options, calls),
    }
    const sensor: SensorContext<unknown, unknown> = {
      ...base,
      fs: Object.freeze(sensorFs),
      async emit(event) {
        const copy = copyIn('event', event, ErrorCodes.INVALID_EVENT) as unknown as EmittedEvent<unknown>
        assertValidEvent(options.eventSchema ?? {}, copy)
        events.push(copy)
        if (events.length >= maxEvents) stopping = true
      },
      async sleep(ms) {
        if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0)
          throw invalid('sleep ms', 'a number ≥ 0', ms)
        calls.sleeps.push(ms)
        if (calls.sleeps.length >= maxSleeps) stopping = true
        // Yield to the event loop without really waiting: tests stay fast.
        await new Promise((resolve) => setImmediate(resolve))
      },
      isStopping: () => {
        if (++stoppingChecks >= HARNESS_DEFAULTS.maxStoppingChecks) stopping = true
        return stopping
      },
      exec,
    }
    ctx = sensor
  } else if (kind === 'action') {
    const action: ActionContext<unknown> = {
      ...base,
      fs: Object.freeze(files.fs),
      exec,
      smtp: fakeSmtp(guard, options.smtp, calls),
    }
    ctx = action
  } else {
    const output: OutputContext<unknown> = {
      ...base,
      fs: Object.freeze(files.fs),
      smtp: fakeSmtp(guard, options.smtp, calls),
    }
    ctx = output
  }

  return {
    ctx: Object.freeze(ctx),
    stop: () => {
      stopping = true
    },
    recorded: () => ({
      calls: structuredClone(calls),
      logs: structuredClone(logs),
      events: structuredClone(events),
      state: state.snapshot(),
      files: files.snapshot(),
    }),
  }
}

let invocationCounter = 0

const CONTEXT_OPTION_NAMES: readonly string[] = [
  ...HARNESS_OPTION_NAMES,
  'kind',
  'config',
  'configSchema',
  'eventSchema',
  'maxEvents',
  'maxSleeps',
]

function checkOptionNames(options: object): void {
  const unknown = Object.keys(options).filter((key) => !CONTEXT_OPTION_NAMES.includes(key))
  if (unknown.length > 0) {
    throw new PluginError(
      ErrorCodes.INVALID_ARGUMENT,
      `harness: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}; expected ${[...HARNESS_OPTION_NAMES, 'input', 'config', 'operation', 'maxEvents', 'maxSleeps'].join(', ')}`,
    )
  }
}

function logger(logs: LogRecord[], print: boolean): Logger {
  const write = (level: LogRecord['level']) => (message: string, fields?: Record<string, JsonValue>) => {
    const record: LogRecord = { level, message: typeof message === 'string' ? message : String(message) }
    if (fields !== undefined) {
      if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
        throw invalid(`log.${level} fields`, 'an object of JSON values', fields)
      }
      record.fields = jsonCopy(`log.${level} fields`, fields) as Record<string, JsonValue>
    }
    logs.push(record)
    if (print) console[level](`[plugin ${level}] ${record.message}`, record.fields ?? '')
  }
  return Object.freeze({
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
  })
}

/**
 * Copies a value into or out of the plugin as the sandbox does (a structured copy); a value
 * that cannot be copied fails with `code`.
 */
export function copyIn(what: string, value: unknown, code: string): unknown {
  try {
    return structuredClone(value)
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new PluginError(
      code,
      `invalid ${what}: ${what} cannot be copied across the sandbox boundary (${reason})`,
    )
  }
}

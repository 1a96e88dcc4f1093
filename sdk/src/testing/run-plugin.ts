import type { Static, TSchema } from 'typebox'
import type {
  ActionDefinition,
  ConfigOf,
  OutputDefinition,
  OutputResult,
  SensorDefinition,
} from '../definition.ts'
import { ErrorCodes, PluginError, serializeError } from '../errors.ts'
import { assertValid } from '../manifest/schema-check.ts'
import { copyIn, createTestContext } from './create-test-context.ts'
import type { HarnessOptions } from './options.ts'
import type { Recorded } from './recorder.ts'

/**
 * Options of {@link testAction}: the input, the config, and the harness options.
 * To test validation, pass a deliberately wrong input with `as never`.
 *
 * @example
 * ```ts
 * const options: ActionTestOptions<undefined, typeof Input> = { input: { service: 'nginx' }, manifest: pkg }
 * ```
 */
export interface ActionTestOptions<C extends TSchema | undefined, I extends TSchema> extends HarnessOptions {
  input: Static<I>
  config?: ConfigOf<C>
}

/**
 * What {@link testAction} resolves to: the validated output and everything recorded.
 *
 * @example
 * ```ts
 * const { output, calls, logs, state } = await testAction(plugin, { input, manifest })
 * ```
 */
export interface ActionTestResult<Output> extends Recorded {
  output: Output
}

/**
 * Options of {@link testOutput}.
 *
 * @example
 * ```ts
 * const options: OutputTestOptions<typeof Config, typeof Input> = { config: { channel: '#ops' }, input: { text: 'hi' } }
 * ```
 */
export interface OutputTestOptions<C extends TSchema | undefined, I extends TSchema> extends HarnessOptions {
  input: Static<I>
  config?: ConfigOf<C>
}

/**
 * What {@link testOutput} resolves to.
 *
 * @example
 * ```ts
 * const { output, calls } = await testOutput(plugin, { input: { text: 'hi' }, manifest })
 * ```
 */
export interface OutputTestResult<Output> extends Recorded {
  output: Output
}

/**
 * Options of {@link testSensor}. `operation` picks `check` (the default when the sensor has
 * one) or `watch`; a watch runs until `isStopping()`, which turns true after `maxEvents`
 * events or `maxSleeps` sleeps (defaults 1000 and 100; a loop that does neither ends after
 * 10,000 `isStopping()` checks).
 *
 * @example
 * ```ts
 * const options: SensorTestOptions<typeof Config> = { config: { url: 'https://example.com' }, operation: 'watch', maxEvents: 3 }
 * ```
 */
export interface SensorTestOptions<C extends TSchema | undefined> extends HarnessOptions {
  config?: ConfigOf<C>
  operation?: 'check' | 'watch'
  maxEvents?: number
  maxSleeps?: number
}

/**
 * What {@link testSensor} resolves to: the emitted events (validated) and everything recorded.
 *
 * @example
 * ```ts
 * const { events } = await testSensor(plugin, { config, manifest })
 * expect(events).toEqual([{ type: 'site.down', data: { status: 503 } }])
 * ```
 */
export interface SensorTestResult<Event> extends Recorded {
  events: { type: string; data: Event; dedupeKey?: string; occurredAt?: string }[]
}

/**
 * Runs an action's `run` the way an agent would: validates config and input against the
 * plugin's schemas (`STAVILY_ERR_INVALID_CONFIG`/`_INPUT`, naming the field), gives it a
 * context whose capabilities go through the same permission guard as the sandbox and are
 * answered by your fakes, validates the output (`STAVILY_ERR_INVALID_OUTPUT`), and records
 * every call. A throw from the plugin rejects with the `PluginError` the host would see (a
 * non-`PluginError` becomes `STAVILY_ERR_PLUGIN_FAILED`; the original is its `cause`).
 *
 * @example
 * ```ts
 * import { testAction } from '@stavily/sdk/testing'
 * import plugin from './index.ts'
 * import pkg from '../package.json' with { type: 'json' }
 *
 * const { output, calls } = await testAction(plugin, {
 *   manifest: pkg,
 *   input: { service: 'nginx' },
 *   exec: { systemctl: { code: 0 } },
 * })
 * expect(output).toEqual({ restarted: true })
 * expect(calls.exec[0]?.args).toEqual(['restart', 'nginx'])
 * ```
 */
export async function testAction<C extends TSchema | undefined, I extends TSchema, O extends TSchema>(
  plugin: ActionDefinition<C, I, O>,
  options: ActionTestOptions<C, I>,
): Promise<ActionTestResult<Static<O>>> {
  checkPlugin(plugin, 'action', 'run', 'testAction')
  const { input, config, ...harness } = options
  const test = createTestContext({ ...harness, kind: 'action', config, configSchema: plugin.schemas.config })
  const checkedInput = copyIn('input', input, ErrorCodes.INVALID_INPUT)
  assertValid('input', plugin.schemas.input, checkedInput)
  const returned = await runHandler(() => plugin.run(test.ctx as never, checkedInput as Static<I>))
  const output = copyIn('output', returned, ErrorCodes.INVALID_OUTPUT)
  assertValid('output', plugin.schemas.output, output)
  return { output: output as Static<O>, ...test.recorded() }
}

/**
 * Runs an output's `send` like {@link testAction} runs an action; without an output schema
 * the result's `output` is whatever `send` returned (normally `undefined`).
 *
 * @example
 * ```ts
 * import { testOutput } from '@stavily/sdk/testing'
 * const { calls } = await testOutput(plugin, {
 *   manifest: pkg,
 *   config: { channel: '#ops' },
 *   input: { text: 'deployed' },
 *   secrets: { SLACK_TOKEN: 'xoxb-test' },
 *   fetch: { 'slack.com': { body: { ok: true } } },
 * })
 * expect(JSON.parse(calls.fetch[0]!.body!)).toMatchObject({ channel: '#ops' })
 * ```
 */
export async function testOutput<
  C extends TSchema | undefined,
  I extends TSchema,
  O extends TSchema | undefined,
>(
  plugin: OutputDefinition<C, I, O>,
  options: OutputTestOptions<C, I>,
): Promise<OutputTestResult<OutputResult<O>>> {
  checkPlugin(plugin, 'output', 'send', 'testOutput')
  const { input, config, ...harness } = options
  const test = createTestContext({ ...harness, kind: 'output', config, configSchema: plugin.schemas.config })
  const checkedInput = copyIn('input', input, ErrorCodes.INVALID_INPUT)
  assertValid('input', plugin.schemas.input, checkedInput)
  const returned = await runHandler(() => plugin.send(test.ctx as never, checkedInput as Static<I>))
  const output = copyIn('output', returned, ErrorCodes.INVALID_OUTPUT)
  if (plugin.schemas.output !== undefined) assertValid('output', plugin.schemas.output, output)
  return { output: output as OutputResult<O>, ...test.recorded() }
}

/**
 * Runs a sensor's `check` (or `watch`) and returns the events it emitted, each validated
 * against the event schema (`STAVILY_ERR_INVALID_EVENT` otherwise), plus everything recorded.
 * `ctx.sleep` does not really wait in the harness.
 *
 * @example
 * ```ts
 * import { testSensor } from '@stavily/sdk/testing'
 * const { events } = await testSensor(plugin, {
 *   manifest: pkg,
 *   config: { url: 'https://status.example.com/health' },
 *   fetch: { 'status.example.com': { status: 503 } },
 * })
 * expect(events).toEqual([{ type: 'site.down', data: { status: 503 } }])
 * ```
 */
export async function testSensor<C extends TSchema | undefined, E extends TSchema>(
  plugin: SensorDefinition<C, E>,
  options: SensorTestOptions<C> = {},
): Promise<SensorTestResult<Static<E>>> {
  checkPlugin(plugin, 'sensor', undefined, 'testSensor')
  const { config, operation, ...harness } = options
  const name = operation ?? (plugin.check ? 'check' : 'watch')
  const handler = plugin[name]
  if (typeof handler !== 'function') {
    throw new PluginError(ErrorCodes.INVALID_DEFINITION, `testSensor: the sensor has no ${name} handler`)
  }
  const test = createTestContext({
    ...harness,
    kind: 'sensor',
    config,
    configSchema: plugin.schemas.config,
    eventSchema: plugin.schemas.event,
  })
  await runHandler(() => handler(test.ctx as never))
  const recorded = test.recorded()
  return { ...recorded, events: recorded.events as SensorTestResult<Static<E>>['events'] }
}

function checkPlugin(plugin: unknown, kind: string, handler: string | undefined, fn: string): void {
  const record = plugin as Record<string, unknown> | null
  if (typeof record !== 'object' || record === null || record.kind !== kind) {
    const got =
      typeof record === 'object' && record !== null ? `kind ${JSON.stringify(record.kind)}` : typeof record
    throw new PluginError(
      ErrorCodes.INVALID_DEFINITION,
      `${fn}: expected the ${kind} definition returned by define${kind[0]!.toUpperCase()}${kind.slice(1)}, got ${got}`,
    )
  }
  if (handler !== undefined && typeof record[handler] !== 'function') {
    throw new PluginError(ErrorCodes.INVALID_DEFINITION, `${fn}: the plugin has no ${handler} handler`)
  }
}

async function runHandler<T>(handler: () => T | Promise<T>): Promise<T> {
  try {
    return await handler()
  } catch (error) {
    // What the host sees: the error's wire form, rebuilt; the original stays as the cause.
    const wire = serializeError(error)
    const options =
      wire.data === undefined
        ? { retryable: wire.retryable, cause: error }
        : { retryable: wire.retryable, data: wire.data, cause: error }
    throw new PluginError(wire.code, wire.message, options)
  }
}

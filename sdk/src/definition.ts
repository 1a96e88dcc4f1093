import type { Static, TSchema } from 'typebox'
import type { ActionContext, OutputContext, SensorContext } from './context.ts'
import type { NoExtraKeys } from './exact.ts'

/**
 * The three kinds of plugin: a `sensor` observes and emits events, an `action` changes
 * something and returns a result, an `output` delivers a result somewhere.
 *
 * @example
 * ```ts
 * import type { PluginKind } from '@stavily/sdk'
 * const kind: PluginKind = 'action'
 * ```
 */
export type PluginKind = 'sensor' | 'action' | 'output'

/**
 * A value or a promise of it: handlers may be sync or async.
 *
 * @example
 * ```ts
 * const later: MaybePromise<number> = Promise.resolve(1)
 * ```
 */
export type MaybePromise<T> = T | Promise<T>

/**
 * The type `ctx.config` has for a config schema `C`; without a config schema, an empty object.
 *
 * @example
 * ```ts
 * import { Type, type ConfigOf } from '@stavily/sdk'
 * const schema = Type.Object({ region: Type.String() })
 * type Config = ConfigOf<typeof schema> // { region: string }; without a schema: {}
 * ```
 */
export type ConfigOf<C extends TSchema | undefined> = C extends TSchema ? Static<C> : Record<never, never>

/**
 * What {@link defineAction} takes. `R` is what `run` really returns (inferred), checked to
 * be exactly the output type.
 *
 * @example
 * ```ts
 * const spec: ActionSpec<undefined, typeof In, typeof Out> = { input: In, output: Out, run: (ctx, input) => ({ ok: true }) }
 * ```
 */
export interface ActionSpec<
  C extends TSchema | undefined,
  I extends TSchema,
  O extends TSchema,
  R extends Static<O> = Static<O>,
> {
  /** Schema of the operator's configuration (`ctx.config`). */
  config?: C
  /** Schema of the input a workflow step passes. */
  input: I
  /** Schema of what `run` returns. */
  output: O
  run(ctx: ActionContext<ConfigOf<C>>, input: Static<I>): MaybePromise<R & NoExtraKeys<R, Static<O>>>
}

/**
 * What {@link defineOutput} takes. Without an `output` schema, `send` returns nothing.
 *
 * @example
 * ```ts
 * const spec: OutputSpec<undefined, typeof In, undefined> = { input: In, send: (ctx, input) => ctx.log.info(input.text) }
 * ```
 */
export interface OutputSpec<
  C extends TSchema | undefined,
  I extends TSchema,
  O extends TSchema | undefined,
  R extends OutputResult<O> = OutputResult<O>,
> {
  config?: C
  input: I
  output?: O
  send(ctx: OutputContext<ConfigOf<C>>, input: Static<I>): MaybePromise<R & NoExtraKeys<R, OutputResult<O>>>
}

/**
 * What an output's `send` returns: the output schema's type, or nothing without one.
 *
 * @example
 * ```ts
 * type Nothing = OutputResult<undefined> // void
 * ```
 */
// biome-ignore lint/suspicious/noConfusingVoidType: a `send` with no return statement returns void
export type OutputResult<O extends TSchema | undefined> = O extends TSchema ? Static<O> : undefined | void

/**
 * What {@link defineSensor} takes: `check` (one-shot, run on a schedule), `watch`
 * (long-running), or both.
 *
 * @example
 * ```ts
 * const spec: SensorSpec<undefined, typeof Ev> = { event: Ev, check: async (ctx) => { await ctx.emit({ type: 'tick', data: {} }) } }
 * ```
 */
export interface SensorSpec<C extends TSchema | undefined, E extends TSchema> {
  config?: C
  /** Schema of the `data` of every event the sensor emits. */
  event: E
  /** Runs once per schedule tick; emits through `ctx.emit`. */
  check?(ctx: SensorContext<ConfigOf<C>, Static<E>>): MaybePromise<void>
  /** Runs until `ctx.isStopping()`; emits as things happen. */
  watch?(ctx: SensorContext<ConfigOf<C>, Static<E>>): MaybePromise<void>
}

/**
 * The frozen object {@link defineAction} returns and a plugin bundle exports as `default`.
 *
 * @example
 * ```ts
 * import plugin from './index.ts'
 * plugin.kind // 'action'
 * plugin.schemas.input // the JSON Schema of the input
 * ```
 */
export interface ActionDefinition<
  C extends TSchema | undefined = TSchema | undefined,
  I extends TSchema = TSchema,
  O extends TSchema = TSchema,
> {
  readonly kind: 'action'
  readonly sdkApiVersion: string
  readonly schemas: { readonly config?: C; readonly input: I; readonly output: O }
  run(ctx: ActionContext<ConfigOf<C>>, input: Static<I>): MaybePromise<Static<O>>
}

/**
 * The frozen object {@link defineOutput} returns.
 *
 * @example
 * ```ts
 * import plugin from './index.ts'
 * if (plugin.kind === 'output') await plugin.send(ctx, { text: 'hello' })
 * ```
 */
export interface OutputDefinition<
  C extends TSchema | undefined = TSchema | undefined,
  I extends TSchema = TSchema,
  O extends TSchema | undefined = TSchema | undefined,
> {
  readonly kind: 'output'
  readonly sdkApiVersion: string
  readonly schemas: { readonly config?: C; readonly input: I; readonly output?: O }
  send(ctx: OutputContext<ConfigOf<C>>, input: Static<I>): MaybePromise<OutputResult<O>>
}

/**
 * The frozen object {@link defineSensor} returns.
 *
 * @example
 * ```ts
 * import plugin from './index.ts'
 * if (plugin.kind === 'sensor' && plugin.check) await plugin.check(ctx)
 * ```
 */
export interface SensorDefinition<
  C extends TSchema | undefined = TSchema | undefined,
  E extends TSchema = TSchema,
> {
  readonly kind: 'sensor'
  readonly sdkApiVersion: string
  readonly schemas: { readonly config?: C; readonly event: E }
  check?(ctx: SensorContext<ConfigOf<C>, Static<E>>): MaybePromise<void>
  watch?(ctx: SensorContext<ConfigOf<C>, Static<E>>): MaybePromise<void>
}

/**
 * Any plugin definition; narrow it with `kind`.
 *
 * @example
 * ```ts
 * function operations(plugin: PluginDefinition): string[] {
 *   if (plugin.kind === 'action') return ['run']
 *   if (plugin.kind === 'output') return ['send']
 *   return ['check', 'watch'].filter((name) => name in plugin)
 * }
 * ```
 */
export type PluginDefinition = ActionDefinition | OutputDefinition | SensorDefinition

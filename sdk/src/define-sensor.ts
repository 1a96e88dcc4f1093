import type { TSchema } from 'typebox'
import { checkHandler, checkSchema, checkSpec, definitionError } from './define-checks.ts'
import type { SensorDefinition, SensorSpec } from './definition.ts'
import { SDK_API_VERSION } from './version.ts'

const FIELDS = ['config', 'event', 'check', 'watch'] as const

/**
 * Defines a sensor: a plugin that observes (queries an API, watches a file) and reports
 * events through `ctx.emit`, never changing anything. Give `check` (run once per schedule
 * tick), `watch` (long-running, returns when `ctx.isStopping()`), or both. `ctx.emit`'s
 * `data` is typed from the `event` schema.
 *
 * @example
 * ```ts
 * import { defineSensor, Type } from '@stavily/sdk'
 *
 * export default defineSensor({
 *   config: Type.Object({ url: Type.String() }),
 *   event: Type.Object({ status: Type.Integer() }),
 *   async check(ctx) {
 *     const res = await ctx.fetch(ctx.config.url)
 *     if (!res.ok) await ctx.emit({ type: 'site.down', data: { status: res.status } })
 *   },
 * })
 * ```
 */
export function defineSensor<E extends TSchema, C extends TSchema | undefined = undefined>(
  spec: SensorSpec<C, E>,
): SensorDefinition<C, E> {
  const fn = 'defineSensor'
  checkSpec(fn, spec, FIELDS)
  checkSchema(fn, spec, 'config', false)
  checkSchema(fn, spec, 'event', true)
  checkHandler(fn, spec, 'check', false)
  checkHandler(fn, spec, 'watch', false)
  if (spec.check === undefined && spec.watch === undefined) {
    throw definitionError(fn, 'give check (run on a schedule), watch (long-running), or both')
  }
  const schemas =
    spec.config === undefined ? { event: spec.event } : { config: spec.config, event: spec.event }
  const definition: {
    kind: 'sensor'
    sdkApiVersion: string
    schemas: SensorDefinition<C, E>['schemas']
    check?: SensorSpec<C, E>['check']
    watch?: SensorSpec<C, E>['watch']
  } = { kind: 'sensor', sdkApiVersion: SDK_API_VERSION, schemas: Object.freeze(schemas) }
  if (spec.check !== undefined) definition.check = spec.check
  if (spec.watch !== undefined) definition.watch = spec.watch
  return Object.freeze(definition)
}

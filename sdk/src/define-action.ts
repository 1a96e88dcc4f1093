import type { Static, TSchema } from 'typebox'
import { checkHandler, checkSchema, checkSpec } from './define-checks.ts'
import type { ActionDefinition, ActionSpec } from './definition.ts'
import { SDK_API_VERSION } from './version.ts'

const FIELDS = ['config', 'input', 'output', 'run'] as const

/**
 * Defines an action: a plugin that changes something (restart a service, run a backup) and
 * returns a result. `input` and `output` (and optionally `config`) are TypeBox schemas; `run`
 * is typed from them, and the host validates input, config and output against them.
 * Export the result as the module's default export.
 *
 * @example
 * ```ts
 * import { defineAction, Type } from '@stavily/sdk'
 *
 * export default defineAction({
 *   input: Type.Object({ service: Type.String() }),
 *   output: Type.Object({ restarted: Type.Boolean() }),
 *   async run(ctx, input) {
 *     const r = await ctx.exec('systemctl', ['restart', input.service])
 *     return { restarted: r.code === 0 }
 *   },
 * })
 * ```
 */
export function defineAction<
  I extends TSchema,
  O extends TSchema,
  C extends TSchema | undefined = undefined,
  R extends Static<O> = Static<O>,
>(spec: ActionSpec<C, I, O, R>): ActionDefinition<C, I, O> {
  const fn = 'defineAction'
  checkSpec(fn, spec, FIELDS)
  checkSchema(fn, spec, 'config', false)
  checkSchema(fn, spec, 'input', true)
  checkSchema(fn, spec, 'output', true)
  checkHandler(fn, spec, 'run', true)
  const schemas =
    spec.config === undefined
      ? { input: spec.input, output: spec.output }
      : { config: spec.config, input: spec.input, output: spec.output }
  return Object.freeze({
    kind: 'action' as const,
    sdkApiVersion: SDK_API_VERSION,
    schemas: Object.freeze(schemas),
    run: spec.run,
  })
}

import type { TSchema } from 'typebox'
import { checkHandler, checkSchema, checkSpec } from './define-checks.ts'
import type { OutputDefinition, OutputResult, OutputSpec } from './definition.ts'
import { SDK_API_VERSION } from './version.ts'

const FIELDS = ['config', 'input', 'output', 'send'] as const

/**
 * Defines an output: a plugin that delivers a workflow's result (a chat message, an audit
 * line, a ticket). `send` is typed from the `input` (and optional `config`/`output`) schemas;
 * without an `output` schema it returns nothing.
 *
 * @example
 * ```ts
 * import { defineOutput, Type } from '@stavily/sdk'
 *
 * export default defineOutput({
 *   config: Type.Object({ channel: Type.String() }),
 *   input: Type.Object({ text: Type.String() }),
 *   async send(ctx, input) {
 *     const token = await ctx.secrets.get('SLACK_TOKEN')
 *     await ctx.fetch('https://slack.com/api/chat.postMessage', {
 *       method: 'POST',
 *       headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
 *       body: JSON.stringify({ channel: ctx.config.channel, text: input.text }),
 *     })
 *   },
 * })
 * ```
 */
export function defineOutput<
  I extends TSchema,
  C extends TSchema | undefined = undefined,
  O extends TSchema | undefined = undefined,
  R extends OutputResult<O> = OutputResult<O>,
>(spec: OutputSpec<C, I, O, R>): OutputDefinition<C, I, O> {
  const fn = 'defineOutput'
  checkSpec(fn, spec, FIELDS)
  checkSchema(fn, spec, 'config', false)
  checkSchema(fn, spec, 'input', true)
  checkSchema(fn, spec, 'output', false)
  checkHandler(fn, spec, 'send', true)
  const schemas: { config?: C; input: I; output?: O } = { input: spec.input }
  if (spec.config !== undefined) schemas.config = spec.config
  if (spec.output !== undefined) schemas.output = spec.output
  return Object.freeze({
    kind: 'output' as const,
    sdkApiVersion: SDK_API_VERSION,
    schemas: Object.freeze(schemas),
    send: spec.send,
  })
}

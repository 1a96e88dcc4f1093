// Type-level tests: `npm run typecheck -w sdk` (tsc --noEmit) fails if typing breaks. Each
// `@ts-expect-error` line MUST be an error, or tsc reports the directive as unused.
import { describe, expectTypeOf, it } from 'vitest'
import type { ActionContext, JsonValue, OutputContext, SensorContext } from './index.ts'
import { defineAction, defineOutput, defineSensor, Type } from './index.ts'

const Config = Type.Object({ region: Type.String(), retries: Type.Optional(Type.Integer()) })
const Input = Type.Object({ service: Type.String(), tags: Type.Array(Type.String()) })
const Output = Type.Object({
  restarted: Type.Boolean(),
  items: Type.Array(Type.Object({ n: Type.Number() })),
})
const Event = Type.Object({ status: Type.Integer() })

describe('handler typing', () => {
  it('types ctx.config and input from the schemas, and checks the returned output', () => {
    const plugin = defineAction({
      config: Config,
      input: Input,
      output: Output,
      async run(ctx, input) {
        expectTypeOf(ctx).toEqualTypeOf<ActionContext<{ region: string; retries?: number }>>()
        expectTypeOf(ctx.config.region).toEqualTypeOf<string>()
        expectTypeOf(input.tags).toEqualTypeOf<string[]>()
        // @ts-expect-error: `servic` is not an input field
        void input.servic
        // @ts-expect-error: `zone` is not a config field
        void ctx.config.zone
        return { restarted: true, items: [{ n: 1 }] }
      },
    })
    expectTypeOf(plugin.kind).toEqualTypeOf<'action'>()
  })

  it('rejects a wrong, missing or extra output field at compile time', () => {
    defineAction({
      input: Input,
      output: Output,
      // @ts-expect-error: restarted must be a boolean
      run: () => ({ restarted: 'yes', items: [] }),
    })
    defineAction({
      input: Input,
      output: Output,
      // @ts-expect-error: items is missing
      run: () => ({ restarted: true }),
    })
    defineAction({
      input: Input,
      output: Output,
      // @ts-expect-error: `restartd` is not an output field (a typo beside the right one)
      run: async () => ({ restarted: true, items: [], restartd: true }),
    })
    defineAction({
      input: Input,
      output: Output,
      // @ts-expect-error: `m` is not a field of the nested item objects
      run: () => ({ restarted: true, items: [{ n: 1, m: 2 }] }),
    })
  })

  it('gives an action no config fields without a config schema', () => {
    defineAction({
      input: Input,
      output: Type.Object({}),
      run(ctx) {
        // @ts-expect-error: no config schema, so no config fields
        void ctx.config.region
        return {}
      },
    })
  })

  it('gives outputs no exec and types send from the output schema', () => {
    defineOutput({
      input: Input,
      async send(ctx, input) {
        expectTypeOf(ctx).toEqualTypeOf<OutputContext<Record<never, never>>>()
        // @ts-expect-error: outputs cannot exec
        void ctx.exec
        await ctx.fs.writeText('/tmp/x', input.service)
      },
    })
    defineOutput({
      input: Input,
      output: Type.Object({ id: Type.String() }),
      // @ts-expect-error: id must be a string
      send: () => ({ id: 1 }),
    })
    defineOutput({
      input: Input,
      // @ts-expect-error: without an output schema, send returns nothing
      send: () => 42,
    })
  })

  it('types emit data from the event schema and gives sensors exec but no writes', () => {
    defineSensor({
      config: Config,
      event: Event,
      async check(ctx) {
        expectTypeOf(ctx).toEqualTypeOf<
          SensorContext<{ region: string; retries?: number }, { status: number }>
        >()
        await ctx.emit({ type: 'ok', data: { status: 200 } })
        // @ts-expect-error: status must be an integer (number), not a string
        await ctx.emit({ type: 'bad', data: { status: 'down' } })
        // @ts-expect-error: `code` is not an event field
        await ctx.emit({ type: 'bad', data: { status: 1, code: 2 } })
        expectTypeOf(ctx.exec).toEqualTypeOf<ActionContext['exec']>()
        // @ts-expect-error: sensors cannot write files
        void ctx.fs.writeText
      },
    })
  })

  it('accepts only JSON in state and log fields', () => {
    defineAction({
      input: Input,
      output: Type.Object({}),
      async run(ctx) {
        expectTypeOf(await ctx.state.get('k')).toEqualTypeOf<JsonValue | undefined>()
        await ctx.state.set('k', { a: [1, 'b', null] })
        // @ts-expect-error: a function is not JSON
        await ctx.state.set('k', () => 1)
        // @ts-expect-error: a Date is not JSON
        ctx.log.info('x', { when: new Date() })
        return {}
      },
    })
  })
})

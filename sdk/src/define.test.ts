import { describe, expect, it } from 'vitest'
import { defineAction, defineOutput, defineSensor, ErrorCodes, SDK_API_VERSION, Type } from './index.ts'

const input = Type.Object({ a: Type.String() })

function definitionError(fn: () => unknown): { code: string; message: string } {
  try {
    fn()
  } catch (error) {
    return error as { code: string; message: string }
  }
  throw new Error('expected a definition error')
}

describe('define*', () => {
  it('returns a frozen plain definition with kind, version, schemas and the handler', () => {
    const run = () => ({ a: 'x' })
    const plugin = defineAction({ input, output: input, run })
    expect(plugin).toEqual({
      kind: 'action',
      sdkApiVersion: SDK_API_VERSION,
      schemas: { input, output: input },
      run,
    })
    expect(Object.isFrozen(plugin)).toBe(true)
    expect(Object.isFrozen(plugin.schemas)).toBe(true)
    expect('config' in plugin.schemas).toBe(false)

    const config = Type.Object({ url: Type.String() })
    const output = defineOutput({ config, input, send: () => undefined })
    expect(output.kind).toBe('output')
    expect(output.schemas).toEqual({ config, input })

    const sensor = defineSensor({ event: input, watch: async () => {} })
    expect(sensor.kind).toBe('sensor')
    expect('check' in sensor).toBe(false)
    expect(typeof sensor.watch).toBe('function')
  })

  it('requires check or watch on a sensor', () => {
    const error = definitionError(() => defineSensor({ event: input } as never))
    expect(error.code).toBe(ErrorCodes.INVALID_DEFINITION)
    expect(error.message).toBe('defineSensor: give check (run on a schedule), watch (long-running), or both')
  })

  it('names the field for bad definitions from plain JavaScript', () => {
    expect(definitionError(() => defineAction(null as never)).message).toBe(
      'defineAction: expected an object { config, input, output, run }, got null',
    )
    expect(definitionError(() => defineAction({ input, output: input } as never)).message).toBe(
      'defineAction: run: expected a function, got undefined',
    )
    expect(definitionError(() => defineAction({ output: input, run: () => ({}) } as never)).message).toBe(
      'defineAction: input: a schema is required, e.g. Type.Object({ ... })',
    )
    expect(definitionError(() => defineOutput({ input: 'string', send: () => {} } as never)).message).toBe(
      'defineOutput: input: expected a TypeBox schema such as Type.Object({ ... }), got string',
    )
    expect(
      definitionError(() => defineAction({ input, output: input, run: () => ({}), outptu: 1 } as never))
        .message,
    ).toBe('defineAction: unknown field "outptu"; expected only config, input, output, run')
    expect(definitionError(() => defineSensor({ event: input, check: 'no' } as never)).message).toBe(
      'defineSensor: check: expected a function, got string',
    )
  })
})

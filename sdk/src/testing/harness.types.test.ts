// Type-level tests of the harness (checked by `npm run typecheck -w sdk`): inputs and config
// are typed from the plugin, results carry the output and event types.
import { describe, expectTypeOf, it } from 'vitest'
import { defineAction, defineSensor, Type } from '../index.ts'
import { testAction, testSensor } from './index.ts'

const action = defineAction({
  config: Type.Object({ region: Type.String() }),
  input: Type.Object({ service: Type.String() }),
  output: Type.Object({ restarted: Type.Boolean() }),
  run: () => ({ restarted: true }),
})
const sensor = defineSensor({ event: Type.Object({ status: Type.Integer() }), check: async () => {} })

describe('harness typing', () => {
  it('types input, config and the result from the plugin', async () => {
    const check = async () => {
      const result = await testAction(action, { input: { service: 'nginx' }, config: { region: 'eu' } })
      expectTypeOf(result.output).toEqualTypeOf<{ restarted: boolean }>()
      // @ts-expect-error: `servic` is not an input field
      await testAction(action, { input: { servic: 'nginx' } })
      // @ts-expect-error: region must be a string
      await testAction(action, { input: { service: 'x' }, config: { region: 1 } })
      // @ts-expect-error: a sensor is not an action
      await testAction(sensor, { input: {} })
      const events = (await testSensor(sensor)).events
      expectTypeOf(events[0]!.data).toEqualTypeOf<{ status: number }>()
    }
    expectTypeOf(check).toBeFunction()
  })
})

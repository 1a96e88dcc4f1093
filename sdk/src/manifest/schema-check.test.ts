import { Type } from 'typebox'
import { describe, expect, it } from 'vitest'
import { ErrorCodes } from '../errors.ts'
import { assertValid, assertValidEvent, schemaProblems } from './index.ts'

const schema = Type.Object(
  {
    service: Type.String({ minLength: 1 }),
    mode: Type.Union([Type.Literal('restart'), Type.Literal('reload')]),
    items: Type.Array(Type.Object({ name: Type.String(), 'odd key': Type.Optional(Type.Number()) })),
  },
  { additionalProperties: false },
)

function thrown(fn: () => void) {
  try {
    fn()
  } catch (error) {
    return error as { code: string; message: string; data: unknown }
  }
  throw new Error('expected a validation error')
}

describe('schema checks', () => {
  it('names every bad field with a readable path, including schemas copied as plain JSON', () => {
    const copied = JSON.parse(JSON.stringify(schema))
    const problems = schemaProblems(
      copied,
      { mode: 'stop', items: [{ name: 1, 'odd key': 'x' }], extra: true },
      'input',
    )
    expect(problems).toEqual([
      { path: 'input.service', message: 'is required' },
      { path: 'input.extra', message: 'is not allowed (unknown field)' },
      { path: 'input.items[0].name', message: 'must be string, got number 1' },
      { path: 'input.items[0]["odd key"]', message: 'must be number, got the string "x"' },
      { path: 'input.mode', message: 'must be one of "restart", "reload"' },
    ])
    expect(schemaProblems(schema, { service: 'a', mode: 'reload', items: [] }, 'input')).toEqual([])
  })

  it('throws with the code of the role', () => {
    expect(thrown(() => assertValid('input', schema, {})).code).toBe(ErrorCodes.INVALID_INPUT)
    expect(thrown(() => assertValid('config', schema, {})).code).toBe(ErrorCodes.INVALID_CONFIG)
    const output = thrown(() => assertValid('output', schema, { service: '', mode: 'reload', items: [] }))
    expect(output.code).toBe(ErrorCodes.INVALID_OUTPUT)
    expect(output.message).toBe(
      'invalid output: output.service: must not have fewer than 1 characters, got the string ""',
    )
    expect(output.data).toEqual({ problems: [{ path: 'output.service', message: expect.any(String) }] })
    expect(thrown(() => assertValid('input', Type.String(), 5)).message).toBe(
      'invalid input: input: must be string, got number 5',
    )
  })

  it('checks the event envelope and its data', () => {
    const event = Type.Object({ status: Type.Integer() })
    expect(() =>
      assertValidEvent(event, {
        type: 'site.down',
        data: { status: 503 },
        occurredAt: '2024-05-01T12:00:00Z',
      }),
    ).not.toThrow()
    const error = thrown(() =>
      assertValidEvent(event, {
        type: '',
        data: { status: 'x' },
        dedupeKey: 1,
        occurredAt: 'yesterday',
        extra: 1,
      }),
    )
    expect(error.code).toBe(ErrorCodes.INVALID_EVENT)
    expect((error.data as { problems: { path: string }[] }).problems.map((p) => p.path)).toEqual([
      'event.extra',
      'event.type',
      'event.dedupeKey',
      'event.occurredAt',
      'event.data.status',
    ])
    expect(thrown(() => assertValidEvent(event, 'x')).message).toContain('event: expected an object')
  })
})

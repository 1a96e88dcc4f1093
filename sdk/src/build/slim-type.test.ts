import vm from 'node:vm'
import { Type } from 'typebox'
import { describe, expect, it } from 'vitest'
import { SLIM_TYPE_BUILDERS, SLIM_TYPE_GLOBAL_NAME, SLIM_TYPE_SOURCE } from './slim-type.ts'

/** The slim `Type`, evaluated in an empty ECMAScript realm as a plugin bundle's would be. */
function slimType(): typeof Type {
  const realm = vm.createContext(Object.create(null))
  const script = SLIM_TYPE_SOURCE.replace(
    `export { ${SLIM_TYPE_GLOBAL_NAME} as Type };`,
    `globalThis.Type = ${SLIM_TYPE_GLOBAL_NAME};`,
  )
  vm.runInContext(script, realm)
  return (realm as { Type: typeof Type }).Type
}

/** What a schema is to the host (its JSON) and to TypeBox (its hidden marks), all the way down. */
function shape(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(shape)
  if (schema === null || typeof schema !== 'object') return schema
  const out: Record<string, unknown> = {}
  for (const key of Object.getOwnPropertyNames(schema)) {
    const d = Object.getOwnPropertyDescriptor(schema, key)!
    out[`${d.enumerable ? '' : 'hidden '}${key}`] = shape(d.value)
  }
  return out
}

// Each case builds one schema with the given `Type`; slim and TypeBox must agree on all.
const cases: Record<string, (T: typeof Type) => unknown> = {
  scalars: (T) => [T.String(), T.Number(), T.Integer(), T.Boolean(), T.Null(), T.Unknown(), T.Any()],
  options: (T) => [
    T.String({ minLength: 1, maxLength: 9, pattern: '^[a-z]+$', format: 'email', description: 'd' }),
    T.Integer({ minimum: 1, maximum: 65535, default: 80 }),
    T.Number({ exclusiveMinimum: 0 }),
  ],
  literals: (T) => [T.Literal('a'), T.Literal(1), T.Literal(true), T.Literal('x', { description: 'x' })],
  unions: (T) => T.Union([T.Literal('GET'), T.Literal('POST'), T.Null()], { default: 'GET' }),
  arrays: (T) => T.Array(T.Object({ n: T.Number() }), { minItems: 1, maxItems: 5 }),
  objects: (T) =>
    T.Object(
      {
        a: T.String(),
        b: T.Optional(T.Integer({ minimum: 0 })),
        c: T.Optional(T.Union([T.String(), T.Null()])),
        nested: T.Object({ deep: T.Optional(T.Array(T.Unknown())) }, { additionalProperties: false }),
      },
      { additionalProperties: false, description: 'all' },
    ),
  'all optional': (T) => T.Object({ a: T.Optional(T.String()) }),
  'optional twice': (T) => T.Optional(T.Optional(T.Boolean())),
  records: (T) => [
    T.Record(T.String(), T.Number()),
    T.Record(T.String({ minLength: 1 }), T.String(), { description: 'r' }),
    T.Record(T.String({ pattern: '^[A-Z_]+$' }), T.String({ maxLength: 10 })),
  ],
}

describe('the slim schema builders', () => {
  const slim = slimType()

  for (const [name, build] of Object.entries(cases)) {
    it(`build what TypeBox builds: ${name}`, () => {
      expect(shape(build(slim))).toEqual(shape(build(Type)))
      expect(JSON.stringify(build(slim))).toBe(JSON.stringify(build(Type)))
    })
  }

  it('are exactly the listed builders, and refuse what TypeBox refuses', () => {
    expect(Object.keys(slim).sort()).toEqual([...SLIM_TYPE_BUILDERS].sort())
    expect(() => slim.Literal({} as never)).toThrow('Invalid Literal value')
    expect(() => Type.Literal({} as never)).toThrow('Invalid Literal value')
  })
})

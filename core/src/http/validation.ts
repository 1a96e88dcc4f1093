import type { FastifySchemaCompiler } from 'fastify'
import type { TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import { Value } from 'typebox/value'
import { StavilyError } from '../errors.ts'
import { lowerUuids } from './uuid-case.ts'

// Request validation with TypeBox (no coercion of bodies, no silent removal of unknown
// fields: both would hide mistakes). Query strings and path parameters arrive as strings
// and are converted first. The first problem found is reported, naming its field.

type SchemaError = { keyword: string; instancePath: string; params: Record<string, unknown>; message: string }

function fieldName(part: string, instancePath: string): string {
  const path = instancePath
    .split('/')
    .filter(Boolean)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
  return [part, ...path].join('.')
}

export function describeError(part: string, e: SchemaError): { field: string; message: string } {
  if (e.keyword === 'required') {
    const missing = (e.params.requiredProperties as string[] | undefined)?.[0] ?? '?'
    const field = fieldName(part, `${e.instancePath}/${missing}`)
    return { field, message: `${field}: required` }
  }
  if (e.keyword === 'additionalProperties') {
    const extra = (e.params.additionalProperties as string[] | undefined)?.[0] ?? '?'
    const field = fieldName(part, `${e.instancePath}/${extra}`)
    return { field, message: `${field}: unknown field` }
  }
  const field = fieldName(part, e.instancePath)
  return { field, message: `${field}: ${e.message}` }
}

// The additionalProperties error of TypeBox comes with a companion `boolean` error on the
// offending member; the named one reads better, so it is preferred.
function pickError(errors: SchemaError[]): SchemaError | undefined {
  return (
    errors.find((e) => e.keyword === 'additionalProperties') ??
    errors.find((e) => e.keyword !== 'boolean') ??
    errors[0]
  )
}

const PART: Record<string, string> = {
  body: 'body',
  querystring: 'query',
  params: 'params',
  headers: 'headers',
}

export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const part = PART[httpPart ?? 'body'] ?? 'body'
  // Compiled on the route's first request, not when the app is built: the APIs have a few
  // hundred schemas and compiling them all held the orchestrator's start (issue 17).
  let checker: ReturnType<typeof Compile<TSchema>> | undefined
  const convert = part === 'query' || part === 'params' || part === 'headers'
  return (data: unknown) => {
    checker ??= Compile(schema)
    const value = convert ? Value.Convert(schema, data) : data
    if (checker.Check(value)) return { value: lowerUuids(schema, value) }
    const e = pickError([...checker.Errors(value)] as SchemaError[])
    const { field, message } = e ? describeError(part, e) : { field: part, message: `${part}: invalid` }
    return { error: new StavilyError('STAVILY_ERR_VALIDATION', message, { data: { field } }) }
  }
}

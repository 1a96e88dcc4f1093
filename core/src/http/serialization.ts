import { createRequire } from 'node:module'
import type { FastifyServerOptions } from 'fastify'

// Response serializers compiled on a route's first answer with each status, not when the
// app is built. Fastify compiles every response schema with fast-json-stringify at ready;
// the APIs have a few hundred, and that held the orchestrator's start for a few hundred
// milliseconds (issue 17). The compiler is Fastify's own default, loaded from Fastify's
// folder so that it is the copy Fastify would use, and the output is byte-for-byte the same.

type RouteSerializer = (data: unknown) => string
type CompileRoute = (route: Record<string, unknown>) => RouteSerializer
type SerializerBuilder = (externalSchemas: unknown, options: unknown) => CompileRoute

const fromFastify = createRequire(createRequire(import.meta.url).resolve('fastify'))
const serializerSelector = fromFastify('@fastify/fast-json-stringify-compiler') as () => SerializerBuilder

type SchemaController = NonNullable<FastifyServerOptions['schemaController']>
type BuildSerializer = NonNullable<NonNullable<SchemaController['compilersFactory']>['buildSerializer']>

export function lazySerializers(): SchemaController {
  const build = serializerSelector()
  const buildSerializer = (externalSchemas: unknown, options: unknown): CompileRoute => {
    const compile = build(externalSchemas, options)
    return (route) => {
      let serialize: RouteSerializer | undefined
      return (data) => {
        serialize ??= compile(route)
        return serialize(data)
      }
    }
  }
  return { compilersFactory: { buildSerializer: buildSerializer as unknown as BuildSerializer } }
}

import swagger from '@fastify/swagger'
import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import type { Registry } from '../registry.ts'
import { registryRoutes } from './routes.ts'

// The orchestrator mounts @fastify/swagger; the registry's route schemas must turn into a
// valid OpenAPI document (no route is called here, so the registry is never used).
describe('registryRoutes and OpenAPI', () => {
  it('documents every route with its parameters, bodies and error answers', async () => {
    const app = Fastify({ logger: false })
    await app.register(swagger, { openapi: { info: { title: 'stavily', version: '0.0.0' } } })
    await app.register(registryRoutes, {
      prefix: '/api/v1/registry',
      registry: {} as Registry,
      authorize: async () => {},
    })
    await app.ready()
    const doc = app.swagger() as unknown as {
      paths: Record<string, Record<string, { responses: Record<string, unknown>; requestBody?: unknown }>>
    }
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/api/v1/registry/plugins',
      '/api/v1/registry/plugins/{name}/resolve',
      '/api/v1/registry/plugins/{name}/versions',
      '/api/v1/registry/plugins/{name}/versions/{version}',
      '/api/v1/registry/plugins/{name}/versions/{version}/artifact',
      '/api/v1/registry/plugins/{name}/versions/{version}/yank',
      '/api/v1/registry/tuf/targets/{*}',
      '/api/v1/registry/tuf/{file}',
    ])
    const publish = doc.paths['/api/v1/registry/plugins']!.post!
    expect(publish.requestBody).toBeDefined()
    expect(Object.keys(publish.responses)).toEqual(
      expect.arrayContaining(['201', '400', '401', '403', '409', '422']),
    )
    await app.close()
  })
})

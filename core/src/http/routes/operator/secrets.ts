import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { StavilyError } from '../../../errors.ts'
import type { Services } from '../../../services/context.ts'
import { auditMutation } from '../../audit-trail.ts'
import { pageOf } from '../../pagination.ts'
import { orgOf, type RoleGuards } from '../../request-context.ts'
import { errorResponses } from '../../schemas/common.ts'
import { PageQuery } from '../../schemas/pagination.ts'
import * as S from '../../schemas/secrets.ts'

// Organization secrets, encrypted at rest by the secret store. Write-only: no route ever
// answers with a value, and the audit entry of a change names the secret, never its value.
// The store writes outside a caller's transaction, so the entry is recorded right after.

export function secretRoutes(services: Services, role: RoleGuards) {
  return async (root: FastifyInstance): Promise<void> => {
    const app = root.withTypeProvider<TypeBoxTypeProvider>()
    const tags = ['secrets']

    app.get(
      '/secrets',
      {
        ...role.viewer,
        schema: {
          tags,
          summary: 'List secret names and times (never values)',
          querystring: PageQuery,
          response: { 200: S.SecretList, ...errorResponses },
        },
      },
      async (req) => {
        const all = (await services.secrets.list(orgOf(req))).map((s) => ({
          name: s.name,
          createdAt: s.createdAt,
          updatedAt: s.updatedAt,
        }))
        return pageOf(all, (s) => s.name, req.query)
      },
    )

    app.put(
      '/secrets/:name',
      {
        ...role.operator,
        schema: {
          tags,
          summary: 'Create or replace a secret (201 created, 200 replaced)',
          params: S.SecretParams,
          body: S.SetSecretBody,
          response: { 200: S.SecretWritten, 201: S.SecretWritten, ...errorResponses },
        },
      },
      async (req, reply) => {
        const { name } = req.params
        const { created } = await services.secrets.set(orgOf(req), name, req.body.value)
        await auditMutation(services, req, created ? 'secret.created' : 'secret.updated', {
          type: 'secret',
          id: name,
        })
        return reply.code(created ? 201 : 200).send({ name, created })
      },
    )

    app.delete(
      '/secrets/:name',
      {
        ...role.operator,
        schema: {
          tags,
          summary: 'Delete a secret',
          params: S.SecretParams,
          response: { 200: S.SecretDeleted, ...errorResponses },
        },
      },
      async (req) => {
        const { name } = req.params
        if (!(await services.secrets.delete(orgOf(req), name))) {
          throw new StavilyError('STAVILY_ERR_NOT_FOUND', `secret ${name}: not found`, {
            data: { field: 'params.name' },
          })
        }
        await auditMutation(services, req, 'secret.deleted', { type: 'secret', id: name })
        return { name, deleted: true as const }
      },
    )
  }
}

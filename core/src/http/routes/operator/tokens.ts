import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { isoTimeOrNull as iso } from '../../../checks.ts'
import { run } from '../../../db/sql-client.ts'
import { StavilyError } from '../../../errors.ts'
import { announceTokenRevoked } from '../../../fleet/revocations.ts'
import type { Services } from '../../../services/context.ts'
import { auditMutation } from '../../audit-trail.ts'
import { pageOf } from '../../pagination.ts'
import { isInstanceAdminToken, listApiTokens, revokeApiToken } from '../../plans/api-tokens.ts'
import { orgOf, type RoleGuards } from '../../request-context.ts'
import { errorResponses, IdParams } from '../../schemas/common.ts'
import { PageOf, PageQuery } from '../../schemas/pagination.ts'
import * as S from '../../schemas/tokens.ts'

// Enrollment tokens (operator: enrolling agents is day-to-day work) and operator API
// tokens (admin: they grant access to the API itself). Secrets are shown once.

export function tokenRoutes(services: Services, role: RoleGuards) {
  return async (root: FastifyInstance): Promise<void> => {
    const app = root.withTypeProvider<TypeBoxTypeProvider>()
    const tags = ['tokens']

    app.post(
      '/enrollment-tokens',
      {
        ...role.operator,
        schema: {
          tags,
          summary: 'Mint an enrollment token for agents of a kind and pool (shown once)',
          body: S.CreateEnrollmentBody,
          response: { 201: S.EnrollmentReply, ...errorResponses },
        },
      },
      async (req, reply) => {
        const t = await services.tenancy.createEnrollmentToken(orgOf(req), req.body)
        await auditMutation(
          services,
          req,
          'enrollment_token.created',
          { type: 'enrollment_token', id: t.id },
          {
            kind: t.kind,
            pool: t.pool,
            usesLeft: t.usesLeft,
          },
        )
        return reply.code(201).send({ ...t, expiresAt: iso(t.expiresAt)! })
      },
    )

    app.get(
      '/tokens',
      {
        ...role.admin,
        schema: {
          tags,
          summary: 'List API tokens (never their secrets)',
          querystring: PageQuery,
          response: { 200: PageOf(S.TokenSummary), ...errorResponses },
        },
      },
      async (req) => {
        const { rows } = await run<Record<string, unknown>>(services.db.sql, listApiTokens(orgOf(req)))
        const all = rows.map((r) => ({
          id: r.id as string,
          name: r.name as string,
          role: r.role as string,
          createdAt: iso(r.createdAt)!,
          revokedAt: iso(r.revokedAt),
          expiresAt: iso(r.expiresAt),
          lastUsedAt: iso(r.lastUsedAt),
        }))
        return pageOf(all, (t) => t.id, req.query)
      },
    )

    app.post(
      '/tokens',
      {
        ...role.admin,
        schema: {
          tags,
          summary: 'Create an API token (shown once), optionally expiring at expiresAt',
          body: S.CreateTokenBody,
          response: { 201: S.TokenReply, ...errorResponses },
        },
      },
      async (req, reply) => {
        const t = await services.tenancy.createApiToken(orgOf(req), req.body)
        await auditMutation(
          services,
          req,
          'token.created',
          { type: 'api_token', id: t.id },
          {
            name: t.name,
            role: t.role,
            expiresAt: iso(t.expiresAt),
          },
        )
        return reply
          .code(201)
          .send({ id: t.id, name: t.name, role: t.role, expiresAt: iso(t.expiresAt), token: t.token })
      },
    )

    app.delete(
      '/tokens/:id',
      {
        ...role.admin,
        schema: {
          tags,
          summary: 'Revoke an API token (it stops working at once)',
          params: IdParams,
          response: { 200: S.TokenSummary, ...errorResponses },
        },
      },
      async (req) => {
        const org = orgOf(req)
        const revoked = await services.db.sql.transaction(async (tx) => {
          const byInstanceAdmin = req.principal!.instanceAdmin
          const r = (
            await run<Record<string, unknown>>(tx, revokeApiToken(org, req.params.id, byInstanceAdmin))
          ).rows[0]
          if (!r && (await run(tx, isInstanceAdminToken(org, req.params.id))).rows.length > 0) {
            throw new StavilyError(
              'STAVILY_ERR_FORBIDDEN',
              `token ${req.params.id}: is the instance admin's token, which only that token may revoke`,
            )
          }
          if (!r) throw new StavilyError('STAVILY_ERR_NOT_FOUND', `token ${req.params.id}: not found`)
          await auditMutation(
            services,
            req,
            'token.revoked',
            { type: 'api_token', id: req.params.id },
            undefined,
            tx,
          )
          return {
            id: r.id as string,
            name: r.name as string,
            role: r.role as string,
            createdAt: iso(r.createdAt)!,
            revokedAt: iso(r.revokedAt),
            expiresAt: iso(r.expiresAt),
            lastUsedAt: iso(r.lastUsedAt),
          }
        })
        // Its open event streams end now, on every instance.
        await announceTokenRevoked(services.fleet, revoked.id)
        return revoked
      },
    )
  }
}

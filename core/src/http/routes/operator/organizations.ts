import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { isoTime } from '../../../checks.ts'
import type { SqlClient } from '../../../db/sql-client.ts'
import type { Services } from '../../../services/context.ts'
import type { OrganizationSummary } from '../../../services/organizations.ts'
import { auditMutation } from '../../audit-trail.ts'
import { pageOf } from '../../pagination.ts'
import { orgOf, type RoleGuards } from '../../request-context.ts'
import { errorResponses, IdParams } from '../../schemas/common.ts'
import * as S from '../../schemas/organizations.ts'
import { PageOf, PageQuery } from '../../schemas/pagination.ts'

// Organizations: only the instance admin (the bootstrap token) creates, lists, renames and
// deletes them; an organization's own admins manage only what is inside it. Each change is
// audited in the instance admin's organization, naming the organization it changed.

const wire = (o: OrganizationSummary) => ({
  id: o.id,
  name: o.name,
  createdAt: isoTime(o.createdAt),
  agents: o.agents,
  workflows: o.workflows,
})

export function organizationRoutes(services: Services, role: RoleGuards) {
  return async (root: FastifyInstance): Promise<void> => {
    const app = root.withTypeProvider<TypeBoxTypeProvider>()
    const tags = ['organizations']
    const audited =
      (req: FastifyRequest, action: string, id: string) => (tx: SqlClient, data: Record<string, unknown>) =>
        auditMutation(services, req, action, { type: 'organization', id }, data, tx)

    app.get(
      '/organizations',
      {
        ...role.instance,
        schema: {
          tags,
          summary: 'List organizations (instance admin)',
          querystring: PageQuery,
          response: { 200: PageOf(S.OrganizationSummary), ...errorResponses },
        },
      },
      async (req) => pageOf((await services.organizations.list()).map(wire), (o) => o.name, req.query),
    )

    app.post(
      '/organizations',
      {
        ...role.instance,
        schema: {
          tags,
          summary: 'Create an organization (instance admin); answers its first admin token, shown once',
          body: S.CreateOrganizationBody,
          response: { 201: S.CreatedOrganization, ...errorResponses },
        },
      },
      async (req, reply) => {
        // Audited inside the creating transaction: an organization never exists without its entry.
        const { organization, adminToken } = await services.tenancy.createOrganization(
          req.body.name,
          undefined,
          {
            audit: (tx, created) =>
              auditMutation(
                services,
                req,
                'organization.created',
                { type: 'organization', id: created.organization.id },
                { name: created.organization.name, adminTokenId: created.adminTokenId },
                tx,
              ),
          },
        )
        return reply
          .code(201)
          .send({ organization: wire({ ...organization, agents: 0, workflows: 0 }), adminToken })
      },
    )

    app.patch(
      '/organizations/:id',
      {
        ...role.instance,
        schema: {
          tags,
          summary: 'Rename an organization (instance admin)',
          params: IdParams,
          body: S.RenameOrganizationBody,
          response: { 200: S.OrganizationSummary, ...errorResponses },
        },
      },
      async (req) =>
        wire(
          await services.organizations.rename(
            req.params.id,
            req.body.name,
            audited(req, 'organization.renamed', req.params.id),
          ),
        ),
    )

    app.delete(
      '/organizations/:id',
      {
        ...role.instance,
        schema: {
          tags,
          summary:
            'Delete an organization (instance admin); refused (409) while it has agents or workflows unless force=true',
          params: IdParams,
          querystring: S.DeleteOrganizationQuery,
          response: { 200: S.DeletedOrganization, ...errorResponses },
        },
      },
      async (req) => {
        const deleted = await services.organizations.delete(
          req.params.id,
          { force: req.query.force === true, callerOrg: orgOf(req) },
          audited(req, 'organization.deleted', req.params.id),
        )
        // Its agents went with it: their credentials stop working and their polls end on every instance.
        await services.agents.removed(deleted.agentIds)
        await services.organizations.removeQueues(services.boss, deleted.id, deleted.workflowIds)
        return { ...wire(deleted), pluginNamesMoved: deleted.pluginNamesMoved }
      },
    )
  }
}

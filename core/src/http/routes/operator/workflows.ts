import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import type { Services } from '../../../services/context.ts'
import { pageOf } from '../../pagination.ts'
import { actorOf, orgOf, type RoleGuards } from '../../request-context.ts'
import { errorResponses } from '../../schemas/common.ts'
import { PageQuery } from '../../schemas/pagination.ts'
import * as S from '../../schemas/workflows.ts'

// Workflows: apply a document (creates or updates by name; an unchanged document adds no
// version), list, read (any version), enable/disable, and dry runs of a saved workflow or
// of an unsaved document. The workflow service records applies and toggles on the audit
// log with the calling token as actor.

export function workflowRoutes(services: Services, role: RoleGuards) {
  return async (root: FastifyInstance): Promise<void> => {
    const app = root.withTypeProvider<TypeBoxTypeProvider>()
    const tags = ['workflows']
    const wf = services.workflows

    app.post(
      '/workflows',
      {
        ...role.operator,
        schema: {
          tags,
          summary: 'Create or update a workflow from its document (201 created, 200 updated or unchanged)',
          body: S.ApplyBody,
          response: { 200: S.ApplyReply, 201: S.ApplyReply, ...errorResponses },
        },
      },
      async (req, reply) => {
        const r = await wf.apply(orgOf(req), req.body.document, actorOf(req))
        return reply.code(r.created ? 201 : 200).send(r)
      },
    )

    app.get(
      '/workflows',
      {
        ...role.viewer,
        schema: {
          tags,
          summary: 'List workflows',
          querystring: PageQuery,
          response: { 200: S.WorkflowList, ...errorResponses },
        },
      },
      async (req) => pageOf(await wf.list(orgOf(req)), (w) => w.name, req.query),
    )

    // Registered before /workflows/:idOrName/… so the static segment wins.
    app.post(
      '/workflows/dry-run',
      {
        ...role.viewer,
        schema: {
          tags,
          summary: 'Dry-run an unsaved document against an event: what would run, nothing runs',
          body: S.DryRunDocumentBody,
          response: { 200: S.DryRunReply, ...errorResponses },
        },
      },
      async (req) => wf.dryRun(orgOf(req), { document: req.body.document }, req.body.event, req.body.steps),
    )

    app.get(
      '/workflows/:idOrName',
      {
        ...role.viewer,
        schema: {
          tags,
          summary: 'A workflow with its document and definition (?version=N for an older one)',
          params: S.IdOrNameParams,
          querystring: S.GetQuery,
          response: { 200: S.WorkflowDetail, ...errorResponses },
        },
      },
      async (req) => wf.get(orgOf(req), req.params.idOrName, req.query.version),
    )

    app.get(
      '/workflows/:idOrName/versions',
      {
        ...role.viewer,
        schema: {
          tags,
          summary: 'Versions of a workflow, oldest first',
          params: S.IdOrNameParams,
          querystring: S.VersionsQuery,
          response: { 200: S.VersionList, ...errorResponses },
        },
      },
      async (req) => {
        const versions = await wf.versions(orgOf(req), req.params.idOrName)
        // Keyed by the zero-padded number so the cursor order is the numeric order.
        return pageOf(versions, (v) => String(v.version).padStart(10, '0'), req.query)
      },
    )

    for (const [path, enabled] of [
      ['enable', true],
      ['disable', false],
    ] as const) {
      app.post(
        `/workflows/:idOrName/${path}`,
        {
          ...role.operator,
          schema: {
            tags,
            summary: enabled ? 'Enable a workflow' : 'Disable a workflow (running runs finish)',
            params: S.IdOrNameParams,
            response: { 200: S.WorkflowSummary, ...errorResponses },
          },
        },
        async (req) => wf.setEnabled(orgOf(req), req.params.idOrName, enabled, actorOf(req)),
      )
    }

    app.post(
      '/workflows/:idOrName/dry-run',
      {
        ...role.viewer,
        schema: {
          tags,
          summary: 'Dry-run a saved workflow against a supplied or recorded event',
          params: S.IdOrNameParams,
          body: S.DryRunSavedBody,
          response: { 200: S.DryRunReply, ...errorResponses },
        },
      },
      async (req) => wf.dryRun(orgOf(req), req.params.idOrName, req.body.event, req.body.steps),
    )
  }
}

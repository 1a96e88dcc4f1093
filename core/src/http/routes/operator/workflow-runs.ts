import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { isoTime } from '../../../checks.ts'
import type { Services } from '../../../services/context.ts'
import { actorOf, orgOf, type RoleGuards } from '../../request-context.ts'
import { errorResponses } from '../../schemas/common.ts'
import * as S from '../../schemas/workflow-runs.ts'
import { IdOrNameParams } from '../../schemas/workflows.ts'

// Manual work: start a workflow now with a given event (operator and up). The event's
// source is "manual"; the workflow's filter still applies (a false filter starts no run and
// says so). A disabled workflow is refused (409). The engine records run.queued on the audit
// log with the calling token as actor.

export function workflowRunRoutes(services: Services, role: RoleGuards) {
  return async (root: FastifyInstance): Promise<void> => {
    const app = root.withTypeProvider<TypeBoxTypeProvider>()

    app.post(
      '/workflows/:idOrName/runs',
      {
        ...role.operator,
        schema: {
          tags: ['runs'],
          summary:
            'Start a run now with a given event (manual or API trigger); 409 when the workflow is disabled',
          params: IdOrNameParams,
          body: S.ManualRunBody,
          response: { 201: S.ManualRunReply, 200: S.ManualRunReply, ...errorResponses },
        },
      },
      async (req, reply) => {
        const org = orgOf(req)
        const workflow = await services.workflows.get(org, req.params.idOrName)
        const run = await services.engine.startRun(
          org,
          workflow.id,
          {
            source: 'manual',
            type: req.body.event?.type ?? 'manual',
            data: req.body.event?.data ?? {},
            dedupeKey: null,
            occurredAt: new Date().toISOString(),
          },
          actorOf(req),
          { priority: req.body.priority ?? 0, requireEnabled: true },
        )
        if (!run) return reply.code(200).send({ run: null, reason: 'filtered' as const })
        return reply.code(201).send({
          run: {
            id: run.id,
            workflowId: run.workflowId,
            workflowVersion: run.workflowVersion,
            status: run.status,
            priority: run.priority ?? 0,
            createdAt: isoTime(run.createdAt),
          },
        })
      },
    )
  }
}

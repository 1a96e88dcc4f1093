import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { isoTime } from '../../../checks.ts'
import { invalid } from '../../../errors.ts'
import type { Services } from '../../../services/context.ts'
import { actorOf, orgOf, type RoleGuards } from '../../request-context.ts'
import { errorResponses } from '../../schemas/common.ts'
import * as S from '../../schemas/workflow-runs.ts'
import { IdOrNameParams } from '../../schemas/workflows.ts'

// Manual work: start a workflow now with given data (operator and up). The event's source
// and type are the platform's, both "manual", so a manual run never passes for an alert or
// a push (a filter on trigger.type or trigger.source can tell them apart); the operator's
// fields are the event's data. The workflow's filter still applies (a false filter starts
// no run and says so). A disabled workflow is refused (409). The engine records run.queued
// on the audit log with the calling token as actor.

const MANUAL = 'manual'

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
        const type = req.body.event?.type
        if (type !== undefined && type !== MANUAL)
          throw invalid(
            'body.event.type',
            `"${MANUAL}" or nothing: the platform sets a manual run's event type; put your own fields under event.data`,
            type,
          )
        const org = orgOf(req)
        const workflow = await services.workflows.get(org, req.params.idOrName)
        const run = await services.engine.startRun(
          org,
          workflow.id,
          {
            source: MANUAL,
            type: MANUAL,
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

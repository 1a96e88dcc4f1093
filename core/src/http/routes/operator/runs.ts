import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import type { Services } from '../../../services/context.ts'
import { DEFAULT_LIMIT, decodeCursor, encodeCursor } from '../../pagination.ts'
import { actorOf, orgOf, type RoleGuards } from '../../request-context.ts'
import { capRunLogs } from '../../run-logs-cap.ts'
import { errorResponses, IdParams } from '../../schemas/common.ts'
import * as S from '../../schemas/runs.ts'

// Runs: newest first with filters, one run with its steps, cancel and retry (the engine
// records both on the audit log with the calling token as actor).

type RunKey = { createdAt: string; id: string }
// Only what this route writes into a cursor (toISOString, a run id): a tampered cursor is a
// 400, not a page of whatever Date.parse makes of loose text.
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/
const isRunKey = (v: unknown): v is RunKey =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as RunKey).createdAt === 'string' &&
  ISO_TIME.test((v as RunKey).createdAt) &&
  typeof (v as RunKey).id === 'string'

export function runRoutes(services: Services, role: RoleGuards) {
  return async (root: FastifyInstance): Promise<void> => {
    const app = root.withTypeProvider<TypeBoxTypeProvider>()
    const tags = ['runs']

    app.get(
      '/runs',
      {
        ...role.viewer,
        schema: {
          tags,
          summary: 'List runs, newest first (?workflow=&status=&since=)',
          querystring: S.RunQuery,
          response: { 200: S.RunList, ...errorResponses },
        },
      },
      async (req) => {
        const q = req.query
        const limit = q.limit ?? DEFAULT_LIMIT
        const before = decodeCursor(q.cursor, isRunKey)
        const runs = await services.runs.list(orgOf(req), {
          ...(q.workflow === undefined ? {} : { workflow: q.workflow }),
          ...(q.status === undefined ? {} : { status: q.status }),
          ...(q.since === undefined ? {} : { since: q.since }),
          ...(before === undefined ? {} : { before }),
          limit: limit + 1,
        })
        const items = runs.slice(0, limit)
        const last = items[items.length - 1]
        return {
          items: items.map(wireRun),
          nextCursor:
            runs.length > limit && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : null,
        }
      },
    )

    app.get(
      '/runs/:id',
      {
        ...role.viewer,
        schema: {
          tags,
          summary:
            'A run with its steps and their newest log lines (capped per step and per run; logsOmitted counts the lines left out)',
          params: IdParams,
          response: { 200: S.RunDetail, ...errorResponses },
        },
      },
      async (req) => {
        const r = await services.runs.get(orgOf(req), req.params.id)
        return { ...wireRun(r), steps: capRunLogs(r.steps) }
      },
    )

    app.post(
      '/runs/:id/cancel',
      {
        ...role.operator,
        schema: {
          tags,
          summary: 'Cancel a run and its in-flight instructions (409 when it already finished)',
          params: IdParams,
          response: { 200: S.RunSummary, ...errorResponses },
        },
      },
      async (req) => {
        const run = await services.engine.cancelRun(orgOf(req), req.params.id, actorOf(req))
        return wireRun(await services.runs.get(orgOf(req), run.id))
      },
    )

    app.post(
      '/runs/:id/retry',
      {
        ...role.operator,
        schema: {
          tags,
          summary: 'Start a new run of the same workflow version with the same event',
          params: IdParams,
          response: { 201: S.RunSummary, ...errorResponses },
        },
      },
      async (req, reply) => {
        const run = await services.engine.retryRun(orgOf(req), req.params.id, actorOf(req))
        return reply.code(201).send(wireRun(await services.runs.get(orgOf(req), run.id)))
      },
    )
  }
}

function wireRun(r: {
  id: string
  workflowId: string
  workflowName: string
  workflowVersion: number
  status: string
  event: unknown
  createdAt: string
  startedAt: string | null
  finishedAt: string | null
  priority?: number
}) {
  return {
    id: r.id,
    workflowId: r.workflowId,
    workflowName: r.workflowName,
    workflowVersion: r.workflowVersion,
    status: r.status,
    event: r.event,
    createdAt: r.createdAt,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    priority: r.priority ?? 0,
  }
}

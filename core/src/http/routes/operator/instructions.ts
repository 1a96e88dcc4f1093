import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import type { Services } from '../../../services/context.ts'
import type { Instruction } from '../../../types.ts'
import { auditMutation } from '../../audit-trail.ts'
import { refuseSensorWork } from '../../instruction-kind.ts'
import { orgOf, type RoleGuards } from '../../request-context.ts'
import { errorResponses, IdParams } from '../../schemas/common.ts'
import * as S from '../../schemas/instructions.ts'

// Instructions enqueued directly for a pool, outside any workflow (part 1; tests and
// one-off operations).

export function instructionRoutes(services: Services, role: RoleGuards) {
  return async (root: FastifyInstance): Promise<void> => {
    const app = root.withTypeProvider<TypeBoxTypeProvider>()
    const tags = ['instructions']

    app.post(
      '/instructions',
      {
        ...role.operator,
        schema: {
          tags,
          summary: 'Enqueue an instruction for a pool',
          body: S.EnqueueBody,
          response: { 201: S.InstructionReply, ...errorResponses },
        },
      },
      async (req, reply) => {
        refuseSensorWork(req.body)
        const i = await services.dispatcher.enqueue(orgOf(req), req.body)
        await auditMutation(
          services,
          req,
          'instruction.enqueued',
          { type: 'instruction', id: i.id },
          {
            pool: i.pool,
            plugin: i.plugin,
            operation: i.operation,
            priority: i.priority,
          },
        )
        return reply.code(201).send(wireInstruction(i))
      },
    )

    app.get(
      '/instructions/:id',
      {
        ...role.viewer,
        schema: {
          tags,
          summary: 'Read an instruction',
          params: IdParams,
          response: { 200: S.InstructionReply, ...errorResponses },
        },
      },
      async (req) => wireInstruction(await services.dispatcher.get(orgOf(req), req.params.id)),
    )

    app.post(
      '/instructions/:id/cancel',
      {
        ...role.operator,
        schema: {
          tags,
          summary: 'Cancel an instruction',
          params: IdParams,
          response: { 200: S.InstructionReply, ...errorResponses },
        },
      },
      async (req) => {
        const i = await services.dispatcher.cancel(orgOf(req), req.params.id)
        await auditMutation(services, req, 'instruction.cancelled', { type: 'instruction', id: i.id })
        return wireInstruction(i)
      },
    )
  }
}

function wireInstruction(i: Instruction) {
  return {
    id: i.id,
    kind: i.kind,
    pool: i.pool,
    plugin: i.plugin,
    operation: i.operation,
    status: i.status,
    attempt: i.attempt,
    maxAttempts: i.maxAttempts,
    agentId: i.agentId,
    output: i.output,
    error: i.error,
    cancelRequested: i.cancelRequested,
    priority: i.priority,
    createdAt: new Date(i.createdAt).toISOString(),
  }
}

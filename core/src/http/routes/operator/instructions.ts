import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { isoTime } from '../../../checks.ts'
import { logsOfInstructions } from '../../../engine/step-logs.ts'
import { StavilyError } from '../../../errors.ts'
import type { Services } from '../../../services/context.ts'
import type { Instruction } from '../../../types.ts'
import { auditMutation } from '../../audit-trail.ts'
import { refuseSensorWork } from '../../instruction-kind.ts'
import { orgOf, type RoleGuards } from '../../request-context.ts'
import { errorResponses, IdParams } from '../../schemas/common.ts'
import * as S from '../../schemas/instructions.ts'

// Instructions enqueued directly for a pool, outside any workflow (tests and one-off
// operations).

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
        const { version, ...spec } = req.body
        if (version !== undefined) await requireEnabledVersion(services, orgOf(req), spec, version)
        const i = await services.dispatcher.enqueue(orgOf(req), {
          ...spec,
          ...(version === undefined ? {} : { pluginVersion: version }),
        })
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
      async (req) => {
        const i = await services.dispatcher.get(orgOf(req), req.params.id)
        const logs = await logsOfInstructions(services.db.sql, [i.id])
        return { ...wireInstruction(i), logs: logs.get(i.id) ?? [] }
      },
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

/**
 * A call asked for an exact version (`stavily plugin run NAME@VERSION`): the pool's agents
 * load only what the pool has enabled, so any other version would run something else.
 */
async function requireEnabledVersion(
  services: Services,
  orgId: string,
  spec: { pool: string; plugin: string },
  version: string,
): Promise<void> {
  const enabled = (await services.catalog.enabled(orgId)).find(
    (e) => e.pool === spec.pool && e.name === spec.plugin,
  )
  if (enabled?.version === version) return
  throw new StavilyError(
    'STAVILY_ERR_PLUGIN_NOT_ENABLED',
    enabled
      ? `version: pool ${spec.pool} runs ${spec.plugin}@${enabled.version}, not ${version}; enable it first: stavily plugin enable ${spec.plugin} --pool ${spec.pool} --range ${version}`
      : `plugin: ${spec.plugin} is not enabled in pool ${spec.pool}; enable it first: stavily plugin enable ${spec.plugin} --pool ${spec.pool} --range ${version}`,
    { data: { field: enabled ? 'version' : 'plugin' } },
  )
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
    createdAt: isoTime(i.createdAt),
    pluginVersion: i.pluginVersion ?? null,
  }
}

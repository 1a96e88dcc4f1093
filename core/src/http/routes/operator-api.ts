import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import type { Services } from '../../services/context.ts'
import type { Agent, Instruction } from '../../types.ts'
import { operatorAuth } from '../auth.ts'
import { errorResponses, IdParams } from '../schemas/common.ts'
import * as S from '../schemas/operator-api.ts'

// Part 1's operator routes, /api/v1. Every route reads and changes only the calling
// token's organization: ids of another organization's objects are simply not found.

export function operatorApi(services: Services) {
  return async (root: FastifyInstance): Promise<void> => {
    const app = root.withTypeProvider<TypeBoxTypeProvider>()
    const admin = { preHandler: operatorAuth(services, 'admin') }
    const operator = { preHandler: operatorAuth(services, 'operator') }
    const viewer = { preHandler: operatorAuth(services, 'viewer') }
    const org = (req: { principal?: { orgId: string } }) => req.principal!.orgId

    app.post(
      '/enrollment-tokens',
      {
        ...operator,
        schema: {
          summary: 'Mint an enrollment token (shown once)',
          body: S.CreateEnrollmentBody,
          response: { 201: S.EnrollmentReply, ...errorResponses },
        },
      },
      async (req, reply) => {
        const t = await services.tenancy.createEnrollmentToken(org(req), req.body)
        return reply.code(201).send({ ...t, expiresAt: new Date(t.expiresAt).toISOString() })
      },
    )

    app.post(
      '/tokens',
      {
        ...admin,
        schema: {
          summary: 'Create an API token (shown once)',
          body: S.CreateTokenBody,
          response: { 201: S.TokenReply, ...errorResponses },
        },
      },
      async (req, reply) => reply.code(201).send(await services.tenancy.createApiToken(org(req), req.body)),
    )

    app.post(
      '/instructions',
      {
        ...operator,
        schema: {
          summary: 'Enqueue an instruction for a pool',
          body: S.EnqueueBody,
          response: { 201: S.InstructionReply, ...errorResponses },
        },
      },
      async (req, reply) =>
        reply.code(201).send(wireInstruction(await services.dispatcher.enqueue(org(req), req.body))),
    )

    app.get(
      '/instructions/:id',
      {
        ...viewer,
        schema: {
          summary: 'Read an instruction',
          params: IdParams,
          response: { 200: S.InstructionReply, ...errorResponses },
        },
      },
      async (req) => wireInstruction(await services.dispatcher.get(org(req), req.params.id)),
    )

    app.post(
      '/instructions/:id/cancel',
      {
        ...operator,
        schema: {
          summary: 'Cancel an instruction',
          params: IdParams,
          response: { 200: S.InstructionReply, ...errorResponses },
        },
      },
      async (req) => wireInstruction(await services.dispatcher.cancel(org(req), req.params.id)),
    )

    app.get(
      '/agents',
      {
        ...viewer,
        schema: {
          summary: 'List agents',
          response: { 200: Type.Object({ agents: Type.Array(S.AgentReply) }), ...errorResponses },
        },
      },
      async (req) => ({ agents: (await services.agents.list(org(req))).map(wireAgent) }),
    )

    app.post(
      '/agents/:id/revoke',
      {
        ...admin,
        schema: {
          summary: "Revoke an agent's credential",
          params: IdParams,
          response: { 200: S.AgentReply, ...errorResponses },
        },
      },
      async (req) => {
        const agent = await services.agents.revoke(org(req), req.params.id)
        await services.dispatcher.releaseAgents([agent.id])
        return wireAgent(agent)
      },
    )

    app.post(
      '/agents/:id/drain',
      {
        ...operator,
        schema: {
          summary: 'Drain an agent (no new work) or undo it',
          params: IdParams,
          body: S.DrainBody,
          response: { 200: S.AgentReply, ...errorResponses },
        },
      },
      async (req) => wireAgent(await services.agents.setDrain(org(req), req.params.id, req.body.drain)),
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
    createdAt: new Date(i.createdAt).toISOString(),
  }
}

function wireAgent(a: Agent) {
  return {
    id: a.id,
    name: a.name,
    kind: a.kind,
    pool: a.pool,
    labels: a.labels,
    version: a.version,
    status: a.status,
    drain: a.drain,
    lastSeenAt: new Date(a.lastSeenAt).toISOString(),
  }
}

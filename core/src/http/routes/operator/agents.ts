import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { agentView } from '../../../services/agent-view.ts'
import type { Services } from '../../../services/context.ts'
import type { Agent } from '../../../types.ts'
import { auditMutation } from '../../audit-trail.ts'
import { pageOf } from '../../pagination.ts'
import { orgOf, type RoleGuards } from '../../request-context.ts'
import * as S from '../../schemas/agents.ts'
import { errorResponses, IdParams } from '../../schemas/common.ts'
import { PageQuery } from '../../schemas/pagination.ts'

// Agents of the organization with their presence; revoking (the credential stops working,
// held work goes back to the queue) and draining (no new work).

export function agentRoutes(services: Services, role: RoleGuards) {
  return async (root: FastifyInstance): Promise<void> => {
    const app = root.withTypeProvider<TypeBoxTypeProvider>()
    const tags = ['agents']
    const wire = (a: Agent) => agentView(a, services.tuning.lostAfterMs)

    app.get(
      '/agents',
      {
        ...role.viewer,
        schema: {
          tags,
          summary: 'List agents with presence',
          querystring: PageQuery,
          response: { 200: S.AgentList, ...errorResponses },
        },
      },
      async (req) => pageOf((await services.agents.list(orgOf(req))).map(wire), (a) => a.id, req.query),
    )

    app.post(
      '/agents/:id/revoke',
      {
        ...role.operator,
        schema: {
          tags,
          summary: "Revoke an agent's credential",
          params: IdParams,
          response: { 200: S.AgentReply, ...errorResponses },
        },
      },
      async (req) => {
        const agent = await services.agents.revoke(orgOf(req), req.params.id)
        await services.dispatcher.releaseAgents([agent.id])
        await auditMutation(services, req, 'agent.revoked', { type: 'agent', id: agent.id })
        return wire(agent)
      },
    )

    app.post(
      '/agents/:id/drain',
      {
        ...role.operator,
        schema: {
          tags,
          summary: 'Drain an agent (no new work), or undo it with {"drain": false}',
          params: IdParams,
          body: S.DrainBody,
          response: { 200: S.AgentReply, ...errorResponses },
        },
      },
      async (req) => {
        const agent = await services.agents.setDrain(orgOf(req), req.params.id, req.body.drain)
        await auditMutation(services, req, agent.drain ? 'agent.drained' : 'agent.undrained', {
          type: 'agent',
          id: agent.id,
        })
        return wire(agent)
      },
    )
  }
}

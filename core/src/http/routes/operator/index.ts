import type { FastifyInstance } from 'fastify'
import type { Services } from '../../../services/context.ts'
import { roleGuards } from '../../request-context.ts'
import { agentRoutes } from './agents.ts'
import { auditRoutes } from './audit.ts'
import { hookRoutes } from './hooks.ts'
import { instructionRoutes } from './instructions.ts'
import { organizationRoutes } from './organizations.ts'
import { pluginRoutes } from './plugins.ts'
import { registryMount } from './registry.ts'
import { runRoutes } from './runs.ts'
import { secretRoutes } from './secrets.ts'
import { streamRoutes } from './stream.ts'
import { tokenRoutes } from './tokens.ts'
import { workflowRunRoutes } from './workflow-runs.ts'
import { workflowRoutes } from './workflows.ts'

// The operator API, /api/v1: one small module per resource. Every route but the webhook
// and the public TUF files needs an API token of a role (viewer < operator < admin), and
// reads and changes only the token's organization: another organization's ids are 404.

export function operatorApi(services: Services) {
  return async (app: FastifyInstance): Promise<void> => {
    const role = roleGuards(services)
    await app.register(workflowRoutes(services, role))
    await app.register(workflowRunRoutes(services, role))
    await app.register(runRoutes(services, role))
    await app.register(agentRoutes(services, role))
    await app.register(tokenRoutes(services, role))
    await app.register(organizationRoutes(services, role))
    await app.register(instructionRoutes(services, role))
    await app.register(pluginRoutes(services, role))
    await app.register(secretRoutes(services, role))
    await app.register(auditRoutes(services, role))
    await app.register(streamRoutes(services, role))
    await app.register(hookRoutes(services))
  }
}

export { registryMount }

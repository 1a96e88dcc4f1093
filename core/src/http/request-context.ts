import type { FastifyRequest } from 'fastify'
import type { Services } from '../services/context.ts'
import type { Role } from '../types.ts'
import { operatorAuth } from './auth.ts'

// What every operator route needs from its request: the role guard, the organization it
// may see (tenancy: every query takes it), and the actor the audit log records.

export type RoleGuards = Record<Role, { preHandler: ReturnType<typeof operatorAuth> }>

export function roleGuards(services: Services): RoleGuards {
  return {
    admin: { preHandler: operatorAuth(services, 'admin') },
    operator: { preHandler: operatorAuth(services, 'operator') },
    viewer: { preHandler: operatorAuth(services, 'viewer') },
  }
}

/** The calling token's organization; set by operatorAuth on every guarded route. */
export function orgOf(req: FastifyRequest): string {
  return req.principal!.orgId
}

/** Who did it, from where: the API token and the client address. */
export function actorOf(req: FastifyRequest) {
  return { type: 'api_token' as const, id: req.principal!.tokenId, ip: req.ip }
}

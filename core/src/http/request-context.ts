import type { FastifyRequest } from 'fastify'
import type { Services } from '../services/context.ts'
import type { Role } from '../types.ts'
import { operatorAuth } from './auth.ts'
import { operatorRateLimit } from './rate-limit.ts'

// What every operator route needs from its request: the role guard, the organization it
// may see (tenancy: every query takes it), and the actor the audit log records.
//
// The guard is an onRequest hook: Fastify runs it before the body is read, parsed and
// validated, so a caller without a token gets 401 and a viewer 403, never a 400 that
// describes the body (and an unauthenticated body is never even read). The rate limit
// runs first, inside the same hook, so a flood of forged tokens is counted before it
// costs a database lookup.

type Hook = (req: FastifyRequest) => Promise<void>
/** One guard per role, and `instance`: the instance admin (organizations). */
export type RoleGuards = Record<Role | 'instance', { onRequest: Hook }>

export function roleGuards(services: Services): RoleGuards {
  const limit = operatorRateLimit(services.fleet, services.tuning)
  const guard =
    (role: Role | 'instance'): Hook =>
    async (req) => {
      await limit(req)
      await operatorAuth(services, role)(req)
    }
  return {
    admin: { onRequest: guard('admin') },
    operator: { onRequest: guard('operator') },
    viewer: { onRequest: guard('viewer') },
    instance: { onRequest: guard('instance') },
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

import type { FastifyRequest } from 'fastify'
import { StavilyError } from '../errors.ts'
import type { Services } from '../services/context.ts'
import type { Agent, ApiPrincipal, Role } from '../types.ts'

// Authentication of both APIs: `Authorization: Bearer <secret>`. A missing, malformed,
// unknown or revoked secret is a 401 that does not say which of these it was.

declare module 'fastify' {
  interface FastifyRequest {
    agent?: Agent
    principal?: ApiPrincipal
  }
}

// One parse for authentication and rate limits: the scheme in any case, the credential
// with the surrounding whitespace gone, so every spelling of one credential is one key.
const BEARER = /^[ \t]*bearer[ \t]+([\x21-\x7e]+)[ \t]*$/i

/** The credential of an `Authorization: Bearer <credential>` header, or undefined. */
export function parseBearer(header: unknown): string | undefined {
  if (typeof header !== 'string') return undefined
  return BEARER.exec(header)?.[1]
}

export function bearer(req: FastifyRequest): string {
  const credential = parseBearer(req.headers.authorization)
  if (credential === undefined) {
    throw new StavilyError('STAVILY_ERR_UNAUTHENTICATED', 'authorization: expected "Bearer <credential>"', {
      data: { field: 'authorization' },
    })
  }
  return credential
}

export function agentAuth(services: Services) {
  return async (req: FastifyRequest): Promise<void> => {
    const agent = await services.agents.authenticate(bearer(req))
    if (!agent) {
      throw new StavilyError('STAVILY_ERR_UNAUTHENTICATED', 'authorization: unknown agent credential', {
        data: { field: 'authorization' },
      })
    }
    if (agent.status === 'revoked') {
      throw new StavilyError(
        'STAVILY_ERR_AGENT_REVOKED',
        'authorization: this agent credential was revoked; enroll again',
        {
          data: { field: 'authorization' },
        },
      )
    }
    req.agent = agent
  }
}

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 }

/**
 * Operator API: a token of at least `role` (admin > operator > viewer); `instance` asks
 * for the instance admin (the bootstrap token), who manages organizations.
 */
export function operatorAuth(services: Services, role: Role | 'instance') {
  return async (req: FastifyRequest): Promise<void> => {
    const principal = await services.tenancy.authenticateApiToken(bearer(req))
    if (!principal) {
      throw new StavilyError('STAVILY_ERR_UNAUTHENTICATED', 'authorization: unknown API token', {
        data: { field: 'authorization' },
      })
    }
    if (role === 'instance') {
      if (!principal.instanceAdmin)
        throw new StavilyError(
          'STAVILY_ERR_FORBIDDEN',
          'authorization: this needs the instance admin token (the bootstrap token); organization admins manage only their own organization',
        )
    } else if (RANK[principal.role] < RANK[role]) {
      throw new StavilyError(
        'STAVILY_ERR_FORBIDDEN',
        `authorization: this needs the ${role} role; the token has ${principal.role}`,
      )
    }
    req.principal = principal
  }
}

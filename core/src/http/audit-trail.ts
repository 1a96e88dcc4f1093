import type { FastifyRequest } from 'fastify'
import type { SqlClient } from '../db/sql-client.ts'
import type { Services } from '../services/context.ts'

// Every operator mutation lands on the audit log with who (the API token), what (a dotted
// action), which target, and from where (the client address). Pass the transaction that
// made the change as `sql` where the service takes one, so the change and its record
// commit together.

export function auditMutation(
  services: Services,
  req: FastifyRequest,
  action: string,
  target: { type: string; id: string } | null,
  data?: unknown,
  sql?: SqlClient,
) {
  return services.audit.record(
    {
      org: req.principal!.orgId,
      actor: { type: 'api_token', id: req.principal!.tokenId },
      action,
      target,
      ...(data === undefined ? {} : { data }),
      ip: req.ip,
    },
    sql,
  )
}

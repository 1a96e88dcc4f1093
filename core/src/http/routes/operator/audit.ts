import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { AUDIT_POLICY, type AuditEntry } from '../../../audit/index.ts'
import { invalid } from '../../../errors.ts'
import type { Services } from '../../../services/context.ts'
import { DEFAULT_LIMIT, decodeCursor, encodeCursor } from '../../pagination.ts'
import { orgOf, type RoleGuards } from '../../request-context.ts'
import * as S from '../../schemas/audit.ts'
import { BIGINT_SAFE_MAX, errorResponses } from '../../schemas/common.ts'

// The audit log: read newest first (pages go back in time), or oldest first after a
// known position (`afterSeq`, to follow the log); and the chain verification.

// Bounded like the audit query's own sequence numbers: a cursor is caller text.
const isSeq = (v: unknown): v is number =>
  Number.isInteger(v) && (v as number) >= 1 && (v as number) <= BIGINT_SAFE_MAX

export function auditRoutes(services: Services, role: RoleGuards) {
  return async (root: FastifyInstance): Promise<void> => {
    const app = root.withTypeProvider<TypeBoxTypeProvider>()
    const tags = ['audit']

    app.get(
      '/audit',
      {
        ...role.viewer,
        schema: {
          tags,
          summary: 'Audit entries: newest first, or oldest first after ?afterSeq=',
          querystring: S.AuditQuery,
          response: { 200: S.AuditList, ...errorResponses },
        },
      },
      async (req) => {
        const q = req.query
        const limit = q.limit ?? DEFAULT_LIMIT
        const filter = q.action === undefined ? {} : { action: q.action }
        if (q.afterSeq !== undefined) {
          if (q.cursor !== undefined) throw invalid('query.cursor', 'either cursor or afterSeq, not both')
          // Positions are consecutive, so the `limit` positions after afterSeq are the
          // entries before afterSeq + limit + 1, read newest first and turned around.
          const entries = await services.audit.list(orgOf(req), {
            ...filter,
            beforeSeq: q.afterSeq + limit + 1,
            limit,
          })
          return {
            items: entries
              .filter((e) => e.seq > q.afterSeq!)
              .reverse()
              .map(wire),
            nextCursor: null,
          }
        }
        const beforeSeq = decodeCursor(q.cursor, isSeq)
        // One more than asked tells whether a next page exists; at the log's own maximum a
        // full page is taken to mean there may be more (the last page may then be empty).
        const entries = await services.audit.list(orgOf(req), {
          ...filter,
          ...(beforeSeq === undefined ? {} : { beforeSeq }),
          limit: Math.min(limit + 1, AUDIT_POLICY.maxListLimit),
        })
        const items = entries.slice(0, limit)
        const last = items[items.length - 1]
        const more =
          entries.length > limit || (limit === AUDIT_POLICY.maxListLimit && entries.length === limit)
        return { items: items.map(wire), nextCursor: more && last ? encodeCursor(last.seq) : null }
      },
    )

    app.get(
      '/audit/verify',
      {
        ...role.viewer,
        schema: {
          tags,
          summary: "Recompute the organization's hash chain and report the first broken link",
          response: { 200: S.AuditVerification, ...errorResponses },
        },
      },
      async (req) => {
        const v = await services.audit.verify(orgOf(req))
        if (v.ok) return { ok: true as const, entries: v.entries, head: v.head }
        return { ok: false as const, entries: v.entries, firstBroken: v.broken }
      },
    )
  }
}

function wire(e: AuditEntry) {
  return {
    seq: e.seq,
    at: e.at,
    actor: e.actor,
    action: e.action,
    target: e.target,
    data: e.data ?? null,
    ip: e.ip,
    prevHash: e.prevHash,
    hash: e.hash,
  }
}

import { isoTime } from '../checks.ts'
import type { ActorType, AuditEntry } from './entry.ts'
import { toBuffer } from './sql.ts'

export interface AuditRow extends Record<string, unknown> {
  org: string
  seq: string
  at: Date | string
  actorType: string
  actorId: string | null
  action: string
  targetType: string | null
  targetId: string | null
  data: unknown
  ip: string | null
  prevHash: unknown
  hash: unknown
}

export function fromRow(r: AuditRow): AuditEntry {
  return {
    org: r.org,
    seq: Number(r.seq),
    at: isoTime(r.at),
    actor: { type: r.actorType as ActorType, id: r.actorId },
    action: r.action,
    target: r.targetType === null || r.targetId === null ? null : { type: r.targetType, id: r.targetId },
    data: r.data,
    ip: r.ip,
    prevHash: toBuffer(r.prevHash).toString('hex'),
    hash: toBuffer(r.hash).toString('hex'),
  }
}

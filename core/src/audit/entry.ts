import { createHash } from 'node:crypto'
import { canonicalJson } from './canonical-json.ts'

// An audit entry and the hash that links it into its organization's chain.

export const ACTOR_TYPES = ['user', 'api_token', 'agent', 'system'] as const
export type ActorType = (typeof ACTOR_TYPES)[number]

/** What a caller records: who did what to which target, from where. */
export interface AuditEntryInput {
  org: string
  actor: { type: ActorType; id?: string | null }
  /** Dotted verb, e.g. `workflow.created`, `run.step.succeeded`. */
  action: string
  target?: { type: string; id: string } | null
  data?: unknown
  ip?: string | null
}

/** An entry as stored: its position (seq), time and hashes. */
export interface AuditEntry {
  org: string
  seq: number
  at: string
  actor: { type: ActorType; id: string | null }
  action: string
  target: { type: string; id: string } | null
  data: unknown
  ip: string | null
  /** Hex SHA-256 of the entry before (64 zeros for the first). */
  prevHash: string
  /** Hex SHA-256 of this entry's canonical JSON, which includes prevHash. */
  hash: string
}

/**
 * The chain hash: SHA-256 over the canonical JSON of every field, the entry's position and
 * the previous hash. `v` versions the recipe, so a future change cannot be mistaken for tampering.
 */
export function entryHash(e: Omit<AuditEntry, 'hash'>): string {
  const material = canonicalJson({
    v: 1,
    org: e.org,
    seq: e.seq,
    at: e.at,
    actorType: e.actor.type,
    actorId: e.actor.id,
    action: e.action,
    targetType: e.target?.type ?? null,
    targetId: e.target?.id ?? null,
    data: e.data,
    ip: e.ip,
    prevHash: e.prevHash,
  })
  return createHash('sha256').update(material).digest('hex')
}

import { isIP } from 'node:net'
import { checkOrg as checkOrgId } from '../checks.ts'
import { invalid } from '../errors.ts'
import { canonicalJson } from './canonical-json.ts'
import { ACTOR_TYPES, type AuditEntryInput } from './entry.ts'
import { AuditError } from './errors.ts'
import { AUDIT_POLICY } from './policy.ts'

// Argument checks of the audit API, in one place; messages name the field.

const ACTION = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/
const TARGET_TYPE = /^[a-z][a-z0-9_]{0,62}$/

export function checkOrg(org: unknown): string {
  return checkOrgId(org, AuditError)
}

export interface CheckedEntry {
  org: string
  actor: { type: (typeof ACTOR_TYPES)[number]; id: string | null }
  action: string
  target: { type: string; id: string } | null
  data: unknown
  ip: string | null
}

export function checkEntry(input: AuditEntryInput): CheckedEntry {
  const org = checkOrg(input.org)
  const actor = input.actor
  if (!actor || !(ACTOR_TYPES as readonly string[]).includes(actor.type)) {
    throw invalid('actor.type', `one of ${ACTOR_TYPES.join(', ')}`, actor?.type, AuditError)
  }
  if (
    actor.id !== undefined &&
    actor.id !== null &&
    (typeof actor.id !== 'string' || actor.id.length === 0 || actor.id.length > 200)
  ) {
    throw invalid('actor.id', 'a string of 1 to 200 characters, or null', actor.id, AuditError)
  }
  if (typeof input.action !== 'string' || input.action.length > 100 || !ACTION.test(input.action)) {
    throw invalid(
      'action',
      'a dotted lower-case verb such as "workflow.created" (at most 100 characters)',
      input.action,
      AuditError,
    )
  }
  const target = input.target ?? null
  if (target !== null) {
    if (typeof target.type !== 'string' || !TARGET_TYPE.test(target.type)) {
      throw invalid('target.type', 'a lower-case name such as "workflow"', target.type, AuditError)
    }
    if (typeof target.id !== 'string' || target.id.length === 0 || target.id.length > 200) {
      throw invalid('target.id', 'a string of 1 to 200 characters', target.id, AuditError)
    }
  }
  const ip = input.ip ?? null
  if (ip !== null && (typeof ip !== 'string' || isIP(ip) === 0))
    throw invalid('ip', 'an IPv4 or IPv6 address, or null', ip, AuditError)
  return {
    org,
    actor: { type: actor.type, id: actor.id ?? null },
    action: input.action,
    target: target && { type: target.type, id: target.id },
    data: checkData(input.data),
    ip,
  }
}

// The data is stored as jsonb and hashed as canonical JSON: it must survive a JSON round
// trip unchanged, so it is taken through one here, and the one string jsonb refuses is refused.
function checkData(data: unknown): unknown {
  if (data === undefined) return {}
  let json: unknown
  try {
    json = JSON.parse(JSON.stringify(data) ?? 'null')
  } catch (err) {
    throw invalid('data', `JSON data (${(err as Error).message})`, undefined, AuditError)
  }
  const text = canonicalJson(json)
  if (text.includes('\\u0000'))
    throw invalid(
      'data',
      'JSON without NUL characters (PostgreSQL jsonb cannot store them)',
      undefined,
      AuditError,
    )
  if (Buffer.byteLength(text) > AUDIT_POLICY.maxDataBytes) {
    throw invalid(
      'data',
      `at most ${AUDIT_POLICY.maxDataBytes} bytes of JSON`,
      `${Buffer.byteLength(text)} bytes`,
      AuditError,
    )
  }
  return json
}

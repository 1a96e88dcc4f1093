// The append-only, hash-chained audit log.
export { appendAudit } from './append.ts'
export { canonicalJson } from './canonical-json.ts'
export { ACTOR_TYPES, type ActorType, type AuditEntry, type AuditEntryInput, entryHash } from './entry.ts'
export { AUDIT_ERRORS, AuditError, type AuditErrorCode } from './errors.ts'
export { type AuditListOptions, listAudit } from './list.ts'
export { AUDIT_MIGRATION } from './migration.ts'
export { AUDIT_POLICY } from './policy.ts'
export { type AuditVerification, type BrokenReason, verifyAuditChain } from './verify.ts'

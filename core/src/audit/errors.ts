import { StavilyError } from '../errors.ts'

// The audit log's errors: codes of the orchestrator's list (core/src/errors.ts); the class is
// a StavilyError so the HTTP error handler maps it.

export const AUDIT_ERRORS = {
  /** An entry or query argument is malformed; the message names the field. */
  STAVILY_ERR_INVALID_ARGUMENT: 400,
} as const

export type AuditErrorCode = keyof typeof AUDIT_ERRORS

export class AuditError extends StavilyError {
  declare readonly code: AuditErrorCode

  constructor(code: AuditErrorCode, message: string, data?: Record<string, unknown>) {
    super(code, message, data === undefined ? undefined : { data })
    this.name = 'AuditError'
  }
}

export function invalidAudit(field: string, expected: string, got?: unknown): AuditError {
  const shown = got === undefined ? '' : `, got ${JSON.stringify(got)?.slice(0, 80)}`
  return new AuditError('STAVILY_ERR_INVALID_ARGUMENT', `${field}: expected ${expected}${shown}`, { field })
}

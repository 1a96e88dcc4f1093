import { errorTable, StavilyError } from '../errors.ts'

// The audit log's errors: its part of the orchestrator's list (core/src/errors.ts); the class
// is a StavilyError so the HTTP error handler maps it. Refusals are built by `invalid()`
// (errors.ts) with this class.

export const AUDIT_ERRORS = errorTable(['STAVILY_ERR_INVALID_ARGUMENT'])

export type AuditErrorCode = keyof typeof AUDIT_ERRORS

export class AuditError extends StavilyError {
  declare readonly code: AuditErrorCode

  constructor(
    code: AuditErrorCode,
    message: string,
    options?: { cause?: unknown; data?: Record<string, unknown> },
  ) {
    super(code, message, options)
    this.name = 'AuditError'
  }
}

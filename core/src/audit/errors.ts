// The audit log's errors. STAVILY_ERR_INVALID_ARGUMENT is already in the orchestrator's list
// (core/src/errors.ts); the lead maps this class onto StavilyError when merging.

export const AUDIT_ERRORS = {
  /** An entry or query argument is malformed; the message names the field. */
  STAVILY_ERR_INVALID_ARGUMENT: 400,
} as const

export type AuditErrorCode = keyof typeof AUDIT_ERRORS

export class AuditError extends Error {
  readonly code: AuditErrorCode
  readonly statusCode: number
  readonly data: Record<string, unknown> | undefined

  constructor(code: AuditErrorCode, message: string, data?: Record<string, unknown>) {
    super(message)
    this.name = 'AuditError'
    this.code = code
    this.statusCode = AUDIT_ERRORS[code]
    this.data = data
  }
}

export function invalidAudit(field: string, expected: string, got?: unknown): AuditError {
  const shown = got === undefined ? '' : `, got ${JSON.stringify(got)?.slice(0, 80)}`
  return new AuditError('STAVILY_ERR_INVALID_ARGUMENT', `${field}: expected ${expected}${shown}`, { field })
}

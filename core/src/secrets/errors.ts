import { errorTable, StavilyError } from '../errors.ts'

// The secrets module's errors: its part of the orchestrator's list (core/src/errors.ts); the
// class is a StavilyError so the HTTP error handler maps it. Refusals are built by
// `invalid()` (errors.ts) with this class.

export const SECRET_ERRORS = errorTable([
  'STAVILY_ERR_INVALID_ARGUMENT',
  'STAVILY_ERR_CONFIG',
  'STAVILY_ERR_SECRET_NOT_FOUND',
  'STAVILY_ERR_SECRET_UNREADABLE',
])

export type SecretErrorCode = keyof typeof SECRET_ERRORS

export class SecretError extends StavilyError {
  declare readonly code: SecretErrorCode

  constructor(
    code: SecretErrorCode,
    message: string,
    options?: { cause?: unknown; data?: Record<string, unknown> },
  ) {
    super(code, message, options)
    this.name = 'SecretError'
  }
}

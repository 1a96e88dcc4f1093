import { StavilyError } from '../errors.ts'

// The secrets module's errors: codes of the orchestrator's list (core/src/errors.ts); the
// class is a StavilyError so the HTTP error handler maps it.

export const SECRET_ERRORS = {
  /** A name, value or argument is malformed; the message names the field. */
  STAVILY_ERR_INVALID_ARGUMENT: 400,
  /** The encryption key configuration is missing or malformed. */
  STAVILY_ERR_CONFIG: 500,
  /** An invocation asked for secrets the organization does not have. */
  STAVILY_ERR_SECRET_NOT_FOUND: 404,
  /** A stored secret does not decrypt: its key is not configured, or the row was tampered with or moved. */
  STAVILY_ERR_SECRET_UNREADABLE: 500,
} as const

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

export function invalidSecret(field: string, expected: string, got?: unknown): SecretError {
  const shown = got === undefined ? '' : `, got ${JSON.stringify(got)?.slice(0, 80)}`
  return new SecretError('STAVILY_ERR_INVALID_ARGUMENT', `${field}: expected ${expected}${shown}`, {
    data: { field },
  })
}

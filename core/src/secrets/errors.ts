// The secrets module's errors. STAVILY_ERR_INVALID_ARGUMENT and STAVILY_ERR_CONFIG are already
// in the orchestrator's list (core/src/errors.ts); the others are new. The lead merges them.

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

export class SecretError extends Error {
  readonly code: SecretErrorCode
  readonly statusCode: number
  readonly data: Record<string, unknown> | undefined

  constructor(
    code: SecretErrorCode,
    message: string,
    options?: { cause?: unknown; data?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'SecretError'
    this.code = code
    this.statusCode = SECRET_ERRORS[code]
    this.data = options?.data
  }
}

export function invalidSecret(field: string, expected: string, got?: unknown): SecretError {
  const shown = got === undefined ? '' : `, got ${JSON.stringify(got)?.slice(0, 80)}`
  return new SecretError('STAVILY_ERR_INVALID_ARGUMENT', `${field}: expected ${expected}${shown}`, {
    data: { field },
  })
}

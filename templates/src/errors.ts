/**
 * The scaffolder's one error list. Every failure the user can cause has a stable code and
 * a message that says what was wrong and what to do; `cli.ts` prints the message and exits
 * with `exitCode`, so nothing here calls `process.exit` itself.
 */
export type CreateErrorCode =
  | 'STAVILY_ERR_CREATE_USAGE'
  | 'STAVILY_ERR_CREATE_INVALID_NAME'
  | 'STAVILY_ERR_CREATE_INVALID_KIND'
  | 'STAVILY_ERR_CREATE_INVALID_DESCRIPTION'
  | 'STAVILY_ERR_CREATE_TARGET_NOT_EMPTY'
  | 'STAVILY_ERR_CREATE_NOT_INTERACTIVE'
  | 'STAVILY_ERR_CREATE_CANCELLED'

export class CreateError extends Error {
  readonly code: CreateErrorCode
  readonly exitCode: number

  constructor(code: CreateErrorCode, message: string, options?: { cause?: unknown; exitCode?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'CreateError'
    this.code = code
    // 130 is the shell's convention for "stopped by Ctrl-C"; every other failure is 1.
    this.exitCode = options?.exitCode ?? (code === 'STAVILY_ERR_CREATE_CANCELLED' ? 130 : 1)
  }
}

export function isCreateError(error: unknown): error is CreateError {
  return error instanceof CreateError
}

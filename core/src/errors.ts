// The orchestrator's one list of errors: a stable code, an HTTP status where it crosses HTTP.
// The HTTP error handler (http/error-handler.ts) maps these codes to statuses; anything not
// listed here is an internal error (500, no stack in the answer).

export const ERRORS = {
  STAVILY_ERR_CONFIG: 500,
  STAVILY_ERR_INVALID_ARGUMENT: 400,
  STAVILY_ERR_VALIDATION: 400,
  STAVILY_ERR_MALFORMED_BODY: 400,
  STAVILY_ERR_BODY_TOO_LARGE: 413,
  STAVILY_ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  STAVILY_ERR_UNAUTHENTICATED: 401,
  STAVILY_ERR_FORBIDDEN: 403,
  /** An API token past its expiry (refused like a revoked one, with a message that says so). */
  STAVILY_ERR_TOKEN_EXPIRED: 401,
  /** An organization that still has agents or workflows (delete it with force). */
  STAVILY_ERR_ORGANIZATION_NOT_EMPTY: 409,
  /** A manual run of a disabled workflow. */
  STAVILY_ERR_WORKFLOW_DISABLED: 409,
  STAVILY_ERR_NOT_FOUND: 404,
  STAVILY_ERR_ROUTE_NOT_FOUND: 404,
  STAVILY_ERR_ENROLLMENT_INVALID: 401,
  STAVILY_ERR_AGENT_REVOKED: 401,
  STAVILY_ERR_WRONG_AGENT_KIND: 403,
  /** An event names a sensor that is not the sending agent's (another pool, or another plugin as source). */
  STAVILY_ERR_EVENT_NOT_BOUND: 403,
  STAVILY_ERR_INSTRUCTION_NOT_HELD: 409,
  STAVILY_ERR_RESULT_CONFLICT: 409,
  STAVILY_ERR_RATE_LIMITED: 429,
  STAVILY_ERR_SHUTTING_DOWN: 503,
  STAVILY_ERR_MIGRATION: 500,
  STAVILY_ERR_DATABASE: 500,
  STAVILY_ERR_INTERNAL: 500,
  // Workflows, runs and the engine (workflows/errors.ts, engine/).
  /** The document does not parse or does not validate; `data.issues` lists every problem. */
  STAVILY_ERR_WORKFLOW_INVALID: 400,
  STAVILY_ERR_WORKFLOW_NOT_FOUND: 404,
  /** A run or step was asked to move to a status its current status does not allow. */
  STAVILY_ERR_ILLEGAL_TRANSITION: 409,
  /** No run (or step of a run) with this id in the organization. */
  STAVILY_ERR_RUN_NOT_FOUND: 404,
  STAVILY_ERR_RUN_FINISHED: 409,
  /** A webhook request without a valid signature (missing, malformed, expired, mismatched). */
  STAVILY_ERR_WEBHOOK_SIGNATURE: 401,
  /** A webhook request whose signature was already accepted. */
  STAVILY_ERR_WEBHOOK_REPLAY: 409,
  /** The webhook's workflow is disabled, or its trigger is not a webhook. */
  STAVILY_ERR_WEBHOOK_DISABLED: 409,
  /** A step's plugin is not enabled in its pool at a version its range allows (a step failure). */
  STAVILY_ERR_PLUGIN_NOT_ENABLED: 409,
  /** A dev build (`stavily plugin dev`) enabled in, or called on, a pool that is not a dev pool. */
  STAVILY_ERR_DEV_POOL_ONLY: 409,
  /** An attempt ran longer than its step's timeout (a step failure). */
  STAVILY_ERR_STEP_TIMEOUT: 504,
  // Expressions (expressions/errors.ts): step failures and dry-run answers.
  /** The text is not a valid expression or template (bad token, unbalanced brackets, unknown function). */
  STAVILY_ERR_EXPRESSION_SYNTAX: 400,
  /** A path names a key, index or step that is not there. */
  STAVILY_ERR_EXPRESSION_UNKNOWN_PATH: 400,
  /** An operator or function got a value of the wrong type. */
  STAVILY_ERR_EXPRESSION_TYPE: 400,
  /** The expression or its result is larger or deeper than the limits allow. */
  STAVILY_ERR_EXPRESSION_LIMIT: 400,
  /** A reference that static validation refuses (secrets, a later step, an unknown root). */
  STAVILY_ERR_EXPRESSION_REFERENCE: 400,
  // Secrets (secrets/errors.ts).
  /** An invocation asked for secrets the organization does not have. */
  STAVILY_ERR_SECRET_NOT_FOUND: 404,
  /** A stored secret does not decrypt: its key is not configured, or the row was tampered with or moved. */
  STAVILY_ERR_SECRET_UNREADABLE: 500,
} as const

export type ErrorCode = keyof typeof ERRORS

/**
 * The part of the list a module throws (workflows, audit, secrets, expressions): codes
 * and statuses come from ERRORS, so a module's table can name only listed codes and never
 * disagree with the list about a status.
 */
export function errorTable<const C extends ErrorCode>(
  codes: readonly C[],
): { readonly [K in C]: (typeof ERRORS)[K] } {
  return Object.fromEntries(codes.map((c) => [c, ERRORS[c]])) as { readonly [K in C]: (typeof ERRORS)[K] }
}

export class StavilyError extends Error {
  readonly code: ErrorCode
  readonly statusCode: number
  readonly data: Record<string, unknown> | undefined

  constructor(
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; data?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'StavilyError'
    this.code = code
    this.statusCode = ERRORS[code]
    this.data = options?.data
  }
}

export function isStavilyError(err: unknown): err is StavilyError {
  return err instanceof StavilyError
}

/**
 * The one builder for argument and input problems (400): `<field>: expected <what>, got <value>`
 * naming the field, with the field in `data.field`. A module with its own error class (audit,
 * secrets) passes it as `as`, so callers can still tell where the refusal came from.
 */
export function invalid<E extends StavilyError = StavilyError>(
  field: string,
  expected: string,
  got?: unknown,
  as?: new (
    code: 'STAVILY_ERR_INVALID_ARGUMENT',
    message: string,
    options: { data: Record<string, unknown> },
  ) => E,
): E {
  const shown = got === undefined ? '' : `, got ${JSON.stringify(got)?.slice(0, 80)}`
  const Make = as ?? (StavilyError as unknown as NonNullable<typeof as>)
  return new Make('STAVILY_ERR_INVALID_ARGUMENT', `${field}: expected ${expected}${shown}`, {
    data: { field },
  })
}

// The API's error answer, `{ error: { code, message, field?, issues? } }`, as a thrown value
// whose message is the server's own (shown to the user as it is).

/** One problem of a workflow document, with where it is in the text. */
export interface DocumentIssue {
  path: string
  message: string
  line?: number
  column?: number
}

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly field: string | undefined
  readonly issues: DocumentIssue[]

  constructor(status: number, code: string, message: string, field?: string, issues: DocumentIssue[] = []) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.field = field
    this.issues = issues
  }
}

/** Builds the error from an answer's status and parsed body (any shape: a proxy's HTML too). */
export function apiErrorOf(status: number, body: unknown, statusText = ''): ApiError {
  const e = (body as { error?: unknown } | null)?.error
  if (e && typeof e === 'object') {
    const { code, message, field, issues } = e as Record<string, unknown>
    return new ApiError(
      status,
      typeof code === 'string' ? code : `HTTP_${status}`,
      typeof message === 'string' ? message : `HTTP ${status}`,
      typeof field === 'string' ? field : undefined,
      Array.isArray(issues) ? issues.filter(isIssue) : [],
    )
  }
  // The registry's routes answer { code, message }.
  const flat = body as { code?: unknown; message?: unknown } | null
  if (flat && typeof flat.message === 'string') {
    return new ApiError(status, typeof flat.code === 'string' ? flat.code : `HTTP_${status}`, flat.message)
  }
  return new ApiError(status, `HTTP_${status}`, `HTTP ${status}${statusText ? ` ${statusText}` : ''}`)
}

function isIssue(v: unknown): v is DocumentIssue {
  return !!v && typeof v === 'object' && typeof (v as DocumentIssue).message === 'string'
}

/** A message for anything thrown: the API's message, a network failure's, or the value. */
export function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message
  return String(e)
}

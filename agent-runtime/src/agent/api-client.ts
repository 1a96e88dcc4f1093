// The HTTP side of /agents/v1: JSON in and out, a bearer credential, timeouts, and one
// classification of failures the loops act on (retry, wait, drop, stop).
import { AGENT_DEFAULTS } from './defaults.ts'

export type FailureKind =
  /** Network error or 5xx: retry with backoff. */
  | 'retry'
  /** 503 STAVILY_ERR_SHUTTING_DOWN: retry at once (another instance answers). */
  | 'retry-now'
  /** 429: wait Retry-After. */
  | 'rate-limited'
  /** 401: the credential or token is no longer valid; stop. */
  | 'unauthorized'
  /** 409 STAVILY_ERR_INSTRUCTION_NOT_HELD: drop that attempt. */
  | 'not-held'
  /** Another 4xx: a bug or a refusal; do not retry unchanged. */
  | 'refused'

export class ApiError extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly status: number | undefined,
    readonly code: string | undefined,
    readonly retryAfterMs: number | undefined,
    readonly field?: string,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

export class ApiClient {
  credential: string | undefined

  constructor(
    private readonly baseUrl: string,
    readonly userAgent: string,
  ) {}

  async request<T>(
    method: 'GET' | 'POST',
    path: string,
    opts: { body?: unknown; timeoutMs?: number; signal?: AbortSignal; auth?: boolean } = {},
  ): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = { 'user-agent': this.userAgent, accept: 'application/json' }
    const used = this.credential
    if (opts.auth !== false && used) headers.authorization = `Bearer ${used}`
    if (opts.body !== undefined) headers['content-type'] = 'application/json'
    const timeout = AbortSignal.timeout(opts.timeoutMs ?? AGENT_DEFAULTS.requestTimeoutMs)
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout
    let res: Response
    try {
      res = await fetch(`${this.baseUrl}/agents/v1${path}`, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal,
      })
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } }
      const why = e.name === 'TimeoutError' ? 'timed out' : (e.cause?.code ?? e.message)
      throw new ApiError('retry', `${method} ${path}: ${why}`, undefined, undefined, undefined)
    }
    const text = await res.text().catch(() => '')
    let body: unknown
    try {
      body = text ? JSON.parse(text) : undefined
    } catch {
      body = text
    }
    if (res.ok) return { status: res.status, body: body as T }
    const error = (body as { error?: { code?: string; message?: string; field?: string } } | undefined)?.error
    const code = error?.code
    const message = `${method} ${path} answered ${res.status}${code ? ` ${code}` : ''}: ${error?.message ?? text.slice(0, 200)}`
    let kind: FailureKind
    let retryAfterMs: number | undefined
    if (res.status === 429) {
      kind = 'rate-limited'
      const s = Number(res.headers.get('retry-after'))
      retryAfterMs = Number.isFinite(s) && s >= 0 ? s * 1000 : undefined
    } else if (res.status === 503 && code === 'STAVILY_ERR_SHUTTING_DOWN') kind = 'retry-now'
    else if (res.status >= 500) kind = 'retry'
    // Sent with a credential the agent has since rotated (a long-poll parked before the
    // rotation ends this way): the new one is in place, so this is no reason to stop.
    else if (res.status === 401 && used !== this.credential) kind = 'retry-now'
    else if (res.status === 401) kind = 'unauthorized'
    else if (res.status === 409 && code === 'STAVILY_ERR_INSTRUCTION_NOT_HELD') kind = 'not-held'
    else if (res.status === 408) kind = 'retry'
    else kind = 'refused'
    throw new ApiError(kind, message, res.status, code, retryAfterMs, error?.field)
  }
}

export function isApiError(err: unknown): err is ApiError {
  return err instanceof ApiError
}

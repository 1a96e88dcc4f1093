import { CliError } from './cli-error.ts'
import { EXIT } from './exit-codes.ts'

// The operator API over HTTP. Every failure becomes a CliError with an exit code and the
// next thing to do: 401 → log in, 403 → a token with another role, 404 → not found,
// no answer at all → is the server running at this URL.

/** One problem in a workflow document as the server reports it. */
export interface Issue {
  path?: string
  message: string
  line?: number
  column?: number
}

export interface ApiErrorBody {
  code: string
  message: string
  field?: string
  issues?: Issue[]
}

/** A refusal from the server, with its parsed body, before it is turned into a CliError. */
export class ApiError extends CliError {
  readonly status: number
  readonly body: ApiErrorBody
  constructor(
    exitCode: (typeof EXIT)[keyof typeof EXIT],
    message: string,
    hint: string | undefined,
    status: number,
    body: ApiErrorBody,
  ) {
    super(exitCode, message, hint)
    this.status = status
    this.body = body
  }
}

export interface RequestOptions {
  body?: unknown
  query?: Record<string, string | number | boolean | undefined>
  accept?: string
  signal?: AbortSignal
}

/** Reads `{error:{code,message,field}}` (operator API) or `{code,message}` (registry routes). */
export function errorBody(status: number, parsed: unknown, text: string): ApiErrorBody {
  const p = (parsed ?? {}) as Record<string, unknown>
  const e = (typeof p.error === 'object' && p.error !== null ? p.error : p) as Record<string, unknown>
  const data = (typeof e.data === 'object' && e.data !== null ? e.data : {}) as Record<string, unknown>
  const issues = Array.isArray(e.issues) ? e.issues : Array.isArray(data.issues) ? data.issues : undefined
  const field =
    typeof e.field === 'string' ? e.field : typeof data.field === 'string' ? data.field : undefined
  return {
    code: typeof e.code === 'string' ? e.code : `HTTP_${status}`,
    message:
      typeof e.message === 'string'
        ? e.message
        : text.trim().slice(0, 200) || `the server answered ${status}`,
    ...(field ? { field } : {}),
    ...(issues ? { issues: issues as Issue[] } : {}),
  }
}

export function apiError(status: number, body: ApiErrorBody, what: string, baseUrl: string): ApiError {
  const msg = body.message
  if (status === 401)
    return new ApiError(
      EXIT.auth,
      `not authenticated: ${msg}`,
      `run \`stavily login --url ${baseUrl}\` with a valid API token (or set STAVILY_TOKEN)`,
      status,
      body,
    )
  if (status === 403)
    return new ApiError(
      EXIT.auth,
      `forbidden: ${msg}`,
      "this token's role may not do this: use an operator token for changes, an admin token for tokens",
      status,
      body,
    )
  if (status === 404 && body.code === 'STAVILY_ERR_ROUTE_NOT_FOUND')
    return new ApiError(
      EXIT.failed,
      `the orchestrator at ${baseUrl} does not serve ${what}`,
      'is it an older version than this CLI? compare `stavily --version` with the server',
      status,
      body,
    )
  if (status === 404) return new ApiError(EXIT.notFound, msg, undefined, status, body)
  if (status >= 500)
    return new ApiError(
      EXIT.failed,
      `the orchestrator failed (${status} ${body.code}): ${msg}`,
      "see the orchestrator's log",
      status,
      body,
    )
  return new ApiError(EXIT.failed, msg, undefined, status, body)
}

export class ApiClient {
  readonly baseUrl: string
  private readonly token: string

  constructor(baseUrl: string, token: string) {
    this.baseUrl = baseUrl
    this.token = token
  }

  url(path: string, query?: RequestOptions['query']): string {
    const u = new URL(`${this.baseUrl}/api/v1${path}`)
    for (const [k, v] of Object.entries(query ?? {}))
      if (v !== undefined && v !== '') u.searchParams.set(k, String(v))
    return u.toString()
  }

  /** The raw answer (for streams); throws only when the server cannot be reached. */
  async fetch(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.token}`,
      accept: opts.accept ?? 'application/json',
    }
    let body: string | undefined
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body)
      headers['content-type'] = 'application/json'
    }
    try {
      return await fetch(this.url(path, opts.query), {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      })
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err
      throw unreachable(this.baseUrl, err)
    }
  }

  /** Throws the right CliError for a non-2xx answer. */
  async check(res: Response, what: string): Promise<Response> {
    if (res.ok) return res
    const text = await res.text().catch(() => '')
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {}
    throw apiError(res.status, errorBody(res.status, parsed, text), what, this.baseUrl)
  }

  /** A JSON request; answers the parsed body and the status. */
  async request<T = Record<string, unknown>>(
    method: string,
    path: string,
    opts: RequestOptions = {},
  ): Promise<{ status: number; body: T }> {
    const res = await this.check(await this.fetch(method, path, opts), `${method} /api/v1${path}`)
    const text = await res.text()
    if (text === '') return { status: res.status, body: undefined as T }
    try {
      return { status: res.status, body: JSON.parse(text) as T }
    } catch {
      throw new CliError(
        EXIT.failed,
        `the server at ${this.baseUrl} answered ${method} /api/v1${path} with something that is not JSON`,
        'is --url / STAVILY_URL the orchestrator (not a proxy or another service)?',
      )
    }
  }

  get<T = Record<string, unknown>>(path: string, query?: RequestOptions['query']): Promise<T> {
    return this.request<T>('GET', path, { query }).then((r) => r.body)
  }
}

export function unreachable(baseUrl: string, err: unknown): CliError {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause
  const why = cause?.code ?? cause?.message ?? (err as Error).message
  return new CliError(
    EXIT.unreachable,
    `cannot reach the orchestrator at ${baseUrl} (${why})`,
    'is it running (`stavily server`)? check --url, STAVILY_URL or `stavily login --url URL`',
  )
}

/** The items of a list answer: `{ items }` (paged lists), a named array (`{ agents }`), or an array. */
export function itemsOf<T = Record<string, unknown>>(body: unknown, key: string): T[] {
  if (Array.isArray(body)) return body as T[]
  const b = (body ?? {}) as Record<string, unknown>
  if (Array.isArray(b.items)) return b.items as T[]
  if (Array.isArray(b[key])) return b[key] as T[]
  return []
}

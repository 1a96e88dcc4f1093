import { ApiError, apiErrorOf } from './api-error.ts'
import { session, setSignedIn, signOut } from './session.svelte.ts'

// Every request of the page goes through here: the token in the Authorization header, JSON
// both ways, and a non-2xx answer thrown as an ApiError carrying the server's message. A 401
// (token unknown, revoked or expired) signs out, which shows the sign-in form.

export const API = '/api/v1'

export type Query = Record<string, string | number | boolean | null | undefined>

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE'
  body?: unknown
  query?: Query
  signal?: AbortSignal
  /** Sign-in checks a token before it becomes the session's. */
  token?: string
}

/** `/runs` + `{ status: 'failed', cursor: undefined }` → `/api/v1/runs?status=failed`. */
export function urlOf(path: string, query: Query = {}): string {
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== '') params.set(k, String(v))
  }
  const qs = params.toString()
  return `${API}${path}${qs ? `?${qs}` : ''}`
}

export async function api<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const token = opts.token ?? session.token
  const headers: Record<string, string> = { accept: 'application/json' }
  if (token) headers.authorization = `Bearer ${token}`
  if (opts.body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(urlOf(path, opts.query), {
    method: opts.method ?? 'GET',
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    signal: opts.signal,
    cache: 'no-store',
  })
  const text = await res.text()
  let body: unknown = null
  try {
    body = text ? JSON.parse(text) : null
  } catch {
    body = null
  }
  if (res.ok) return body as T
  const error = apiErrorOf(res.status, body, res.statusText)
  // Only the session's own token signs out: a sign-in attempt just reports the refusal.
  if (res.status === 401 && opts.token === undefined && session.token) {
    signOut(`Signed out: ${error.message}. Sign in again.`)
  }
  throw error
}

export interface Whoami {
  tokenId: string
  orgId: string
  role: string
  /** The instance admin token (the bootstrap token): it alone manages organizations. */
  instanceAdmin?: boolean
}

/** Checks a token with the API and makes it the session's; throws the API's refusal. */
export async function signIn(token: string): Promise<void> {
  const trimmed = token.trim()
  if (!trimmed) throw new ApiError(400, 'EMPTY', 'Paste an API token (stv_…)')
  const who = await api<Whoami>('/whoami', { token: trimmed })
  setSignedIn(trimmed, who)
}

export interface Page<T> {
  items: T[]
  nextCursor: string | null
}

// A small client of the operator API (/api/v1) for the tests: JSON in, JSON out, and an
// error that carries the status and the API's error body when the answer is not 2xx.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    what: string,
  ) {
    super(`${what}: HTTP ${status} ${JSON.stringify(body)}`)
  }
}

export interface Api {
  readonly base: string
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<T>
  get<T = unknown>(path: string): Promise<T>
  post<T = unknown>(path: string, body?: unknown): Promise<T>
  put<T = unknown>(path: string, body?: unknown): Promise<T>
}

export function operatorApi(operatorUrl: string, token: string): Api {
  const base = `${operatorUrl}/api/v1`
  const request = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(300_000),
    })
    const text = await res.text()
    const parsed = text ? JSON.parse(text) : undefined
    if (!res.ok) throw new ApiError(res.status, parsed, `${method} ${path}`)
    return parsed as T
  }
  return {
    base,
    request,
    get: (path) => request('GET', path),
    post: (path, body) => request('POST', path, body ?? {}),
    put: (path, body) => request('PUT', path, body ?? {}),
  }
}

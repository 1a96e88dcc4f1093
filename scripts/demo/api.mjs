// The operator API as the demo uses it: JSON with the admin token, errors that say what the
// API answered, publishing with progress lines, and the live event stream.

export class ApiError extends Error {
  constructor(status, body, what) {
    super(`${what}: HTTP ${status}: ${body?.error?.message ?? body?.message ?? JSON.stringify(body)}`)
    this.status = status
    this.body = body
  }
}

/** `signal` aborts every request in flight (the event stream takes its own). */
export function operatorApi(operatorUrl, token, signal) {
  const base = `${operatorUrl}/api/v1`
  const request = async (method, path, body) => {
    const res = await fetch(`${base}${path}`, {
      method,
      signal,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    })
    const text = await res.text()
    let parsed
    try {
      parsed = text ? JSON.parse(text) : undefined
    } catch {
      parsed = text
    }
    if (!res.ok) throw new ApiError(res.status, parsed, `${method} /api/v1${path}`)
    return parsed
  }
  return {
    base,
    get: (path) => request('GET', path),
    post: (path, body = {}) => request('POST', path, body),

    /**
     * Publishes through the registry route with NDJSON progress (clone, install, build,
     * sign); `onProgress(step, message)` sees each. Resolves with the result line.
     */
    async publish(input, onProgress) {
      const res = await fetch(`${base}/registry/plugins`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          accept: 'application/x-ndjson',
        },
        body: JSON.stringify(input),
        signal,
      })
      if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => ({})), 'publish')
      let result
      for await (const line of lines(res.body)) {
        const o = JSON.parse(line)
        if (o.type === 'progress') onProgress?.(o.step, o.message)
        else if (o.type === 'result') result = o
        else if (o.type === 'error') throw new ApiError(o.status, o, `publish ${input.path}`)
      }
      if (!result) throw new Error(`publish ${input.path}: the answer ended without a result`)
      return result
    },

    /** Follows GET /api/v1/stream; calls `onEvent(type, data)` per event until `signal` aborts. */
    async follow(onEvent, signal) {
      const res = await fetch(`${base}/stream`, {
        headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
        signal,
      })
      if (!res.ok) throw new ApiError(res.status, await res.text(), 'GET /api/v1/stream')
      let type = 'message'
      let data = []
      for await (const line of lines(res.body)) {
        if (line === '') {
          if (data.length > 0) {
            try {
              onEvent(type, JSON.parse(data.join('\n')))
            } catch {
              // A comment or keep-alive block: nothing to show.
            }
          }
          type = 'message'
          data = []
        } else if (line.startsWith('event:')) type = line.slice(6).trim()
        else if (line.startsWith('data:')) data.push(line.slice(5).trimStart())
      }
    },
  }
}

async function* lines(body) {
  const decoder = new TextDecoder()
  let buffer = ''
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true })
    let nl = buffer.indexOf('\n')
    while (nl >= 0) {
      yield buffer.slice(0, nl).replace(/\r$/, '')
      buffer = buffer.slice(nl + 1)
      nl = buffer.indexOf('\n')
    }
  }
  if (buffer) yield buffer
}

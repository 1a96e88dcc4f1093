// Follows the operator API's live stream (GET /api/v1/stream, server-sent events) and keeps
// every event, so a test can wait for "run X succeeded" instead of polling.

export interface StreamEvent {
  type: string
  data: Record<string, unknown>
}

export interface Stream {
  readonly events: StreamEvent[]
  /** Resolves with the first event (seen or to come) that `match` accepts. */
  waitFor(match: (e: StreamEvent) => boolean, timeoutMs?: number): Promise<StreamEvent>
  close(): void
}

export async function followStream(operatorUrl: string, token: string): Promise<Stream> {
  const controller = new AbortController()
  const res = await fetch(`${operatorUrl}/api/v1/stream`, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
    signal: controller.signal,
  })
  if (!res.ok || !res.body) throw new Error(`GET /api/v1/stream: HTTP ${res.status} ${await res.text()}`)
  const events: StreamEvent[] = []
  const waiters = new Set<{ match: (e: StreamEvent) => boolean; resolve(e: StreamEvent): void }>()
  void (async () => {
    const decoder = new TextDecoder()
    let buffer = ''
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true })
        let end = buffer.indexOf('\n\n')
        while (end >= 0) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          end = buffer.indexOf('\n\n')
          const event = parseBlock(block)
          if (!event) continue
          events.push(event)
          for (const w of waiters) {
            if (w.match(event)) {
              waiters.delete(w)
              w.resolve(event)
            }
          }
        }
      }
    } catch {
      // Aborted by close(), or the orchestrator went away (a test that kills it reconnects).
    }
  })()
  return {
    events,
    waitFor(match, timeoutMs = 60_000) {
      const seen = events.find(match)
      if (seen) return Promise.resolve(seen)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(w)
          reject(
            new Error(
              `no matching stream event within ${timeoutMs} ms; saw: ${JSON.stringify(events.slice(-15))}`,
            ),
          )
        }, timeoutMs)
        const w = {
          match,
          resolve: (e: StreamEvent) => {
            clearTimeout(timer)
            resolve(e)
          },
        }
        waiters.add(w)
      })
    },
    close: () => controller.abort(),
  }
}

function parseBlock(block: string): StreamEvent | undefined {
  let type = 'message'
  const data: string[] = []
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) type = line.slice(6).trim()
    else if (line.startsWith('data:')) data.push(line.slice(5).trimStart())
  }
  if (data.length === 0) return undefined
  try {
    return { type, data: JSON.parse(data.join('\n')) as Record<string, unknown> }
  } catch {
    return undefined
  }
}

import { apiErrorOf } from './api-error.ts'
import { type SseMessage, SseParser } from './sse-parser.ts'

// The live event stream (GET /api/v1/stream, Server-Sent Events). EventSource cannot send
// an Authorization header and a token must never sit in a URL, so this reads the stream with
// fetch and parses it (sse-parser.ts). One connection serves every subscriber; it reconnects
// after the server's `retry:` (backing off to 30 s while it keeps failing) and tells
// subscribers, who then re-read the current state: the stream is best effort.

export interface LiveEvent {
  /** `run`, `step` or `agent`. */
  type: string
  data: Record<string, unknown>
}

export type StreamState = 'idle' | 'connecting' | 'live' | 'retrying' | 'refused'

export interface LiveStreamOptions {
  /** The stream's address, e.g. `/api/v1/stream`. */
  url: string
  /** The token to send; null stops the stream. */
  token: () => string | null
  onState?: (state: StreamState, detail?: string) => void
  /** A 401: the token is no longer accepted. */
  onUnauthorized?: (message: string) => void
  fetch?: typeof fetch
  /** First reconnect delay when the server named none. */
  retryMs?: number
}

export type Listener = (event: LiveEvent) => void
export type ReconnectListener = () => void

const MAX_BACKOFF_MS = 30_000

/** Turns a parsed message into an event; null for anything that is not one JSON object. */
export function liveEventOf(message: SseMessage): LiveEvent | null {
  try {
    const data: unknown = JSON.parse(message.data)
    if (!data || typeof data !== 'object' || Array.isArray(data)) return null
    return { type: message.event, data: data as Record<string, unknown> }
  } catch {
    return null
  }
}

export class LiveStream {
  readonly #opts: LiveStreamOptions
  readonly #listeners = new Set<Listener>()
  readonly #reconnects = new Set<ReconnectListener>()
  #abort: AbortController | null = null
  #timer: ReturnType<typeof setTimeout> | null = null
  #failures = 0
  #connectedOnce = false
  #state: StreamState = 'idle'

  constructor(opts: LiveStreamOptions) {
    this.#opts = opts
  }

  get state(): StreamState {
    return this.#state
  }

  /** Calls `listener` for every event while subscribed; `onReconnect` after each reconnect. */
  subscribe(listener: Listener, onReconnect?: ReconnectListener): () => void {
    this.#listeners.add(listener)
    if (onReconnect) this.#reconnects.add(onReconnect)
    this.#ensure()
    return () => {
      this.#listeners.delete(listener)
      if (onReconnect) this.#reconnects.delete(onReconnect)
      if (this.#listeners.size === 0) this.stop()
    }
  }

  /** Closes the connection (sign-out, no subscribers left). */
  stop(): void {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    this.#abort?.abort()
    this.#abort = null
    this.#connectedOnce = false
    this.#failures = 0
    this.#set('idle')
  }

  /** Starts (or restarts, for a new token) the connection when someone listens. */
  restart(): void {
    this.stop()
    this.#ensure()
  }

  #set(state: StreamState, detail?: string): void {
    this.#state = state
    this.#opts.onState?.(state, detail)
  }

  #ensure(): void {
    if (this.#abort || this.#timer || this.#listeners.size === 0 || !this.#opts.token()) return
    void this.#connect()
  }

  async #connect(): Promise<void> {
    const token = this.#opts.token()
    if (!token) return
    const abort = new AbortController()
    this.#abort = abort
    this.#set('connecting')
    const parser = new SseParser()
    let retryMs = this.#opts.retryMs ?? 3000
    let detail = 'the stream ended'
    try {
      const res = await (this.#opts.fetch ?? fetch)(this.#opts.url, {
        headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
        signal: abort.signal,
        cache: 'no-store',
      })
      if (res.status === 401) {
        const body = await res.json().catch(() => null)
        const message = apiErrorOf(401, body).message
        this.#abort = null
        this.#set('refused', message)
        this.#opts.onUnauthorized?.(message)
        return
      }
      if (!res.ok || !res.body) {
        const body = await res.json().catch(() => null)
        throw apiErrorOf(res.status, body, res.statusText)
      }
      const reader = res.body.getReader()
      const decoder = new TextDecoder()
      let opened = false
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        const messages = parser.push(decoder.decode(value, { stream: true }))
        if (!opened) {
          // The server's first bytes (`retry:` and `: connected`) mean it now forwards events.
          opened = true
          this.#failures = 0
          this.#set('live')
          if (this.#connectedOnce) for (const r of [...this.#reconnects]) r()
          this.#connectedOnce = true
        }
        if (parser.retryMs !== undefined) retryMs = parser.retryMs
        for (const m of messages) {
          const event = liveEventOf(m)
          if (event) for (const l of [...this.#listeners]) l(event)
        }
      }
    } catch (e) {
      if (abort.signal.aborted) return
      detail = e instanceof Error ? e.message : String(e)
    }
    if (abort.signal.aborted || this.#abort !== abort) return
    this.#abort = null
    this.#failures++
    const delay = Math.min(MAX_BACKOFF_MS, retryMs * 2 ** Math.max(0, this.#failures - 1))
    this.#set('retrying', `${detail}; reconnecting in ${Math.round(delay / 1000)} s`)
    this.#timer = setTimeout(() => {
      this.#timer = null
      this.#ensure()
    }, delay)
  }
}

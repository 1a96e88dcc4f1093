import type { ServerResponse } from 'node:http'
import type { Tuning } from '../config.ts'
import { StavilyError } from '../errors.ts'
import { API_POLICY } from './policy.ts'

// What one live event stream may hold on an instance. Each stream holds a socket, a
// subscription and a write buffer, so they are capped per organization and per token (one
// organization or one looping client cannot take every stream of the instance), and a
// client that stops reading loses its stream instead of growing the server's memory.

/** Open streams of one instance, counted per organization and per API token. */
export class StreamSlots {
  readonly #perOrg = new Map<string, number>()
  readonly #perToken = new Map<string, number>()
  readonly #tuning: Pick<Tuning, 'streamsPerOrg' | 'streamsPerToken'>

  constructor(tuning: Pick<Tuning, 'streamsPerOrg' | 'streamsPerToken'>) {
    this.#tuning = tuning
  }

  /** Takes a slot, or throws a 429 that names the cap; returns the release (idempotent). */
  take(orgId: string, tokenId: string): () => void {
    const org = this.#perOrg.get(orgId) ?? 0
    const token = this.#perToken.get(tokenId) ?? 0
    if (org >= this.#tuning.streamsPerOrg) throw full(`this organization has ${org} streams open`)
    if (token >= this.#tuning.streamsPerToken) throw full(`this token has ${token} streams open`)
    this.#perOrg.set(orgId, org + 1)
    this.#perToken.set(tokenId, token + 1)
    let released = false
    return () => {
      if (released) return
      released = true
      dec(this.#perOrg, orgId)
      dec(this.#perToken, tokenId)
    }
  }
}

function dec(m: Map<string, number>, key: string): void {
  const n = (m.get(key) ?? 1) - 1
  if (n <= 0) m.delete(key)
  else m.set(key, n)
}

function full(why: string): StavilyError {
  const retryAfterSeconds = Math.ceil(API_POLICY.streamRetryMs / 1000)
  return new StavilyError('STAVILY_ERR_RATE_LIMITED', `stream: ${why}; close one or retry later`, {
    data: { retryAfterSeconds },
  })
}

/**
 * Writes with backpressure: a chunk is queued only while the client keeps up; once more
 * than `API_POLICY.streamBufferBytes` wait unread, the stream is cut (`onOverflow`) and the
 * socket destroyed, so the buffer never grows past that. The client reconnects (EventSource
 * does by itself) and reads the current state from the API. Returns false once cut.
 */
export function writeBounded(res: ServerResponse, chunk: string, onOverflow: () => void): boolean {
  if (res.destroyed || res.writableEnded) return false
  res.write(chunk)
  if (res.writableLength <= API_POLICY.streamBufferBytes) return true
  onOverflow()
  res.destroy()
  return false
}

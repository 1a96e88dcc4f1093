import type { FleetState } from '../fleet/fleet-state.ts'
import { onTokenRevoked } from '../fleet/revocations.ts'

// The live event stream (SSE for the CLI and dashboard): runs, steps and agents. Events go
// through FleetState publish/subscribe, so a client connected to any instance sees what
// every instance did. Best effort by design: a client that needs the truth reads the API.

export interface StreamEvent {
  type: 'run' | 'step' | 'agent'
  data: object
}

export type StreamListener = (e: StreamEvent) => void

const channel = (orgId: string) => `stream:${orgId}`

export class LiveStream {
  readonly #fleet: FleetState
  readonly #listeners = new Map<
    string,
    { fns: Set<StreamListener>; unsubscribe: Promise<() => Promise<void>> }
  >()

  /** Open streams by the API token that opened them, so a revocation ends them at once. */
  readonly #byToken = new Map<string, Set<() => void>>()
  #revocations: Promise<() => Promise<void>> | undefined

  constructor(fleet: FleetState) {
    this.#fleet = fleet
  }

  /**
   * Calls `end` as soon as the API token `tokenId` is revoked on any instance (a stream
   * outlives the request that authenticated it). Resolves, once this instance's revocation
   * subscription is live, to the release to call when the stream ends on its own: a
   * revocation announced before then is not seen, so the caller checks the token again
   * after this resolves (that closes the window between authentication and subscription).
   */
  async endOnRevoke(tokenId: string, end: () => void): Promise<() => void> {
    this.#revocations ??= onTokenRevoked(this.#fleet, (id) => {
      for (const fn of [...(this.#byToken.get(id) ?? [])]) fn()
    })
    const set = this.#byToken.get(tokenId) ?? new Set()
    this.#byToken.set(tokenId, set)
    set.add(end)
    const release = () => {
      set.delete(end)
      if (set.size === 0 && this.#byToken.get(tokenId) === set) this.#byToken.delete(tokenId)
    }
    const live = this.#revocations
    try {
      await live
    } catch {
      // Not subscribed (Redis down): the next stream tries again; this one relies on its
      // heartbeat's re-check.
      if (this.#revocations === live) this.#revocations = undefined
    }
    return release
  }

  /** Sends an event to every subscriber of the organization on every instance. Never throws. */
  publish(orgId: string, e: StreamEvent): void {
    void this.#fleet.publish(channel(orgId), JSON.stringify(e)).catch(() => {})
  }

  /** Calls `fn` for each event of the organization; returns the unsubscribe function. */
  subscribe(orgId: string, fn: StreamListener): () => void {
    let entry = this.#listeners.get(orgId)
    if (!entry) {
      const fns = new Set<StreamListener>()
      const unsubscribe = this.#fleet.subscribe(channel(orgId), (message) => {
        let e: StreamEvent
        try {
          e = JSON.parse(message) as StreamEvent
        } catch {
          return
        }
        for (const f of fns) {
          try {
            f(e)
          } catch {
            // One subscriber's failure must not keep the event from the others.
          }
        }
      })
      entry = { fns, unsubscribe }
      this.#listeners.set(orgId, entry)
    }
    entry.fns.add(fn)
    const held = entry
    return () => {
      held.fns.delete(fn)
      if (held.fns.size === 0 && this.#listeners.get(orgId) === held) {
        this.#listeners.delete(orgId)
        void held.unsubscribe.then((u) => u()).catch(() => {})
      }
    }
  }

  /** Whether anyone on this instance listens to the organization (publishers may skip building events). */
  hasListeners(orgId: string): boolean {
    return this.#listeners.has(orgId)
  }
}

import type { FleetState } from '../fleet/fleet-state.ts'
import { onAgentChanged, onAgentRevoked } from '../fleet/revocations.ts'
import type { Agent } from '../types.ts'

// Agent authentication, remembered for a moment. Every agent request authenticates, and a
// busy agent makes several requests a second (a result, the next work, a renewal): one
// statement each, about one in twelve of a run's statements. So an instance remembers what
// a credential's lookup answered for `ttlMs` (1 s by default), and forgets it at once when
// any instance announces a change to that agent: revoked, credential rotated, drain set,
// its organization deleted. Only while the fleet's messages arrive (Redis up) is anything
// remembered: while they may be lost, every request reads PostgreSQL.
//
// What the window still allows, and why that is safe: a revocation or rotation made on
// another instance whose announcement is lost reaches this one within `ttlMs`. Taking work
// is never decided here: each claim checks the agent's standing and the exact credential in
// its own transaction, and a revoked agent's heartbeats and rotations are refused by their
// own statements. A lookup that began before a forget is not remembered (it may have read
// the row before the change). A
// cancellation reaches a poll up to `ttlMs` later (a heartbeat or a renewal reports it at
// once, as before). Unknown and revoked credentials are never remembered: a guessed
// credential costs a lookup every time, and the error a revoked agent gets is read fresh.

type Entry = { agent: Agent; until: number; epoch: number }

/** Where a lookup began: what `set` needs to tell whether its answer may be remembered. */
export type LookupMark = { forgets: number; epoch: number; at: number }

export class CredentialCache {
  readonly #ttlMs: number
  readonly #maxEntries: number
  readonly #fleet: FleetState
  readonly #now: () => number
  /** By the hex of the credential's hash; insertion order is age, so the oldest go first. */
  readonly #byHash = new Map<string, Entry>()
  readonly #hashesOf = new Map<string, Set<string>>()
  /**
   * Counts forgets: a lookup that started before one may have read the agent as it was
   * before the change, so its answer is not remembered (see `set`).
   */
  #forgets = 0
  /** Both announcement channels are subscribed: before that an announcement could be missed. */
  #listening = false
  #closed = false
  readonly #unsubscribe: Promise<(() => Promise<void>)[]>

  constructor(fleet: FleetState, opts: { ttlMs: number; maxEntries: number; now?: () => number }) {
    const { ttlMs } = opts
    this.#fleet = fleet
    this.#ttlMs = ttlMs
    this.#maxEntries = opts.maxEntries
    this.#now = opts.now ?? Date.now
    const forget = (agentId: string) => this.forget(agentId)
    this.#unsubscribe =
      ttlMs > 0
        ? Promise.all([onAgentRevoked(fleet, forget), onAgentChanged(fleet, forget)]).then((offs) => {
            // A lookup begun before this may have missed an announcement: not remembered.
            this.#forgets++
            this.#listening = !this.#closed
            return offs
          })
        : Promise.resolve([])
    this.#unsubscribe.catch(() => {})
  }

  /** The agent a credential's lookup answered within the window, if announcements reach this instance. */
  get(hash: string): Agent | undefined {
    if (!this.#usable()) return undefined
    const entry = this.#byHash.get(hash)
    if (!entry) return undefined
    if (entry.until <= this.#now() || entry.epoch !== this.#fleet.epoch()) {
      this.#drop(hash, entry.agent.id)
      return undefined
    }
    return entry.agent
  }

  /** Where a lookup starts: pass it to `set` with the lookup's answer. */
  mark(): LookupMark {
    return { forgets: this.#forgets, epoch: this.#fleet.epoch(), at: this.#now() }
  }

  /**
   * Remembers a lookup's answer, begun at `mark`, until `ttlMs` after the lookup began:
   * never a revoked agent's, and not when any agent was forgotten since the lookup began (it
   * may have read the row before the change) or announcements may have been missed since.
   */
  set(hash: string, agent: Agent, mark: LookupMark): void {
    if (!this.#usable() || agent.status === 'revoked') return
    if (mark.forgets !== this.#forgets || mark.epoch !== this.#fleet.epoch()) return
    this.#drop(hash, agent.id)
    this.#byHash.set(hash, { agent, until: mark.at + this.#ttlMs, epoch: mark.epoch })
    const hashes = this.#hashesOf.get(agent.id) ?? new Set<string>()
    hashes.add(hash)
    this.#hashesOf.set(agent.id, hashes)
    for (const [oldest, entry] of this.#byHash) {
      if (this.#byHash.size <= this.#maxEntries) break
      this.#drop(oldest, entry.agent.id)
    }
  }

  /** Forgets every credential of an agent (it changed). */
  forget(agentId: string): void {
    this.#forgets++
    for (const hash of this.#hashesOf.get(agentId) ?? []) this.#byHash.delete(hash)
    this.#hashesOf.delete(agentId)
  }

  get size(): number {
    return this.#byHash.size
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#listening = false
    this.#byHash.clear()
    this.#hashesOf.clear()
    const offs = await this.#unsubscribe.catch(() => [])
    await Promise.all(offs.map((off) => off().catch(() => {})))
  }

  // While the fleet is unhealthy announcements may be lost: what was remembered goes, and
  // nothing is remembered until it is healthy again.
  #usable(): boolean {
    if (this.#ttlMs <= 0 || !this.#listening) return false
    if (this.#fleet.healthy()) return true
    this.#forgets++
    this.#byHash.clear()
    this.#hashesOf.clear()
    return false
  }

  #drop(hash: string, agentId: string): void {
    if (!this.#byHash.delete(hash)) return
    const hashes = this.#hashesOf.get(agentId)
    hashes?.delete(hash)
    if (hashes?.size === 0) this.#hashesOf.delete(agentId)
  }
}

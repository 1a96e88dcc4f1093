import type { Tuning } from '../config.ts'
import { StavilyError } from '../errors.ts'
import type { FleetState } from '../fleet/fleet-state.ts'
import { onAgentChanged, onAgentRevoked } from '../fleet/revocations.ts'
import type { Agent, Instruction } from '../types.ts'
import type { Dispatcher, Pick, Refusal } from './dispatcher.ts'
import { wakeChannel } from './queue-names.ts'

// Parked long-polls. Polls are grouped by queue; each group subscribes to its queue's
// wake-up channel while it has polls. A wake-up (or a re-check timer, the polling fallback)
// only prompts a claim: what an agent gets is always read from PostgreSQL.
//
// Each poll is its own claimant: what a claim leases is keyed by the poll, so one agent with
// several parked polls never gets one instruction on two of them. An agent parks at most
// `pollsPerAgent` polls; a further one ends its oldest (answered empty, as if its wait had
// run out), so the newest, which the agent is surely still reading, is the one kept. A poll
// whose agent is revoked, or whose credential is rotated, ends with a 401: at its next claim
// (the claim checks the agent in the same transaction), and at once when the fleet
// announces the revocation.

interface Waiter extends Pick {
  queue: string
  settle: (got: Instruction[] | StavilyError) => void
  timer?: NodeJS.Timeout
  done: boolean
  /** A result reply's take: answered by the first claim it is part of, even with nothing. */
  once?: boolean
}

interface Group {
  queue: string
  waiters: Waiter[]
  unsubscribe: Promise<() => Promise<void>>
  running: boolean
  again: boolean
  lastCheck: number
  /**
   * The last claim drained the queue and no wake-up came since: a new poll parks without a
   * claim of its own (it would find nothing; new work publishes a wake-up, and the re-check
   * timer covers a lost one).
   */
  drained: boolean
  /** The wake-up subscription is in place (before that a wake-up can be missed: no parking on `drained`). */
  subscribed: boolean
}

export class PollHub {
  readonly #groups = new Map<string, Group>()
  /** Parked polls of each agent, oldest first. */
  readonly #byAgent = new Map<string, Waiter[]>()
  readonly #dispatcher: Dispatcher
  readonly #fleet: FleetState
  readonly #tuning: Tuning
  readonly #recheck: NodeJS.Timeout
  readonly #revocations: Promise<() => Promise<void>>
  readonly #changes: Promise<() => Promise<void>>
  readonly #stopLocalWakes: () => void
  #nextKey = 1
  #parked = 0
  #closed = false
  /** Claim failures (database down) are kept for /readyz rather than thrown at agents. */
  lastError: Error | undefined
  /**
   * Called with the queue each time its polls are left waiting: the claim found nothing for
   * them and their wake-up subscription is in place. Tests set it to publish work only once
   * a poll is really parked, so the wake-up path (not the first claim) is what hands it out.
   */
  onParked: ((queue: string) => void) | undefined

  constructor(dispatcher: Dispatcher, fleet: FleetState, tuning: Tuning) {
    this.#dispatcher = dispatcher
    this.#fleet = fleet
    this.#tuning = tuning
    this.#recheck = setInterval(() => this.#tick(), Math.max(50, tuning.recheckDegradedMs))
    this.#recheck.unref()
    this.#revocations = onAgentRevoked(fleet, (agentId) => void this.#recheckAgent(agentId))
    this.#changes = onAgentChanged(fleet, (agentId) => void this.#recheckAgent(agentId))
    this.#stopLocalWakes = dispatcher.onLocalWake((queue) => {
      const group = this.#groups.get(queue)
      if (!group) return
      group.drained = false
      // A claim running now may have read the queue before this work: it goes once more.
      if (group.running) group.again = true
    })
  }

  get parked(): number {
    return this.#parked
  }

  /**
   * Answers with the agent's next instructions: at once when some are ready, else when work
   * arrives, else empty after `waitMs`. Rejects (401) once the agent is revoked or
   * `credentialHash` (hex of the hash of the credential the poll came with) rotated away.
   */
  poll(
    queue: string,
    agent: Agent,
    credentialHash: string,
    max: number,
    waitMs: number,
    signal: AbortSignal,
  ): Promise<Instruction[]> {
    // Gone already (an 'abort' listener would never fire): nothing to park.
    if (this.#closed || signal.aborted) return Promise.resolve([])
    return new Promise((resolve, reject) => {
      const group = this.#group(queue)
      const waiter = this.#waiter(queue, agent, credentialHash, max, resolve, reject, () => {
        clearTimeout(waiter.timer)
        this.#parked--
        this.#forget(waiter)
      })
      waiter.timer = setTimeout(() => {
        waiter.settle([])
        this.#prune(group)
      }, waitMs)
      this.#parked++
      group.waiters.push(waiter)
      this.#admit(waiter)
      // The agent hung up: forget the poll so no work is leased to a closed socket.
      signal.addEventListener(
        'abort',
        () => {
          waiter.settle([])
          this.#prune(group)
        },
        { once: true },
      )
      if (!group.drained) this.#kick(group)
    })
  }

  /**
   * The next work a result's reply carries: joins the queue's next claim, batched with the
   * parked polls as a poll is, and answers with what that claim leased for it, even nothing;
   * it never parks and is not one of the agent's parked polls. Rejects (401) as a poll does
   * when the agent may no longer lease. No claim at all, just nothing, when the last claim
   * drained the queue and no wake-up came since: not from another instance (the
   * subscription is in place), nor from this one (the result just recorded may have queued
   * the run's next step: its wake-up is marked here before it travels, see onLocalWake).
   */
  take(
    queue: string,
    agent: Agent,
    credentialHash: string,
    max: number,
    signal: AbortSignal,
  ): Promise<Instruction[]> {
    if (this.#closed || signal.aborted) return Promise.resolve([])
    const group = this.#group(queue)
    // Only while wake-ups arrive: with Redis down, `drained` may miss work queued elsewhere.
    if (group.drained && this.#fleet.healthy()) {
      this.#prune(group)
      return Promise.resolve([])
    }
    return new Promise((resolve, reject) => {
      const waiter = this.#waiter(queue, agent, credentialHash, max, resolve, reject)
      waiter.once = true
      group.waiters.push(waiter)
      // Hung up: what the claim leases for it is handed back (the claim loop's orphans).
      signal.addEventListener('abort', () => waiter.settle([]), { once: true })
      this.#kick(group)
    })
  }

  // A poll or a take, settled once: with what a claim leased for it, nothing, or a refusal.
  #waiter(
    queue: string,
    agent: Agent,
    credentialHash: string,
    max: number,
    resolve: (got: Instruction[]) => void,
    reject: (err: StavilyError) => void,
    onSettle?: () => void,
  ): Waiter {
    const waiter: Waiter = {
      key: this.#nextKey++,
      queue,
      agent,
      credentialHash,
      max,
      done: false,
      settle: (got) => {
        if (waiter.done) return
        waiter.done = true
        onSettle?.()
        if (got instanceof StavilyError) reject(got)
        else resolve(got)
      },
    }
    return waiter
  }

  // Keeps at most `pollsPerAgent` parked polls per agent by ending the oldest ones.
  #admit(waiter: Waiter): void {
    const mine = this.#byAgent.get(waiter.agent.id) ?? []
    mine.push(waiter)
    this.#byAgent.set(waiter.agent.id, mine)
    const limit = Math.max(1, this.#tuning.pollsPerAgent)
    for (const old of mine.slice(0, Math.max(0, mine.length - limit))) {
      old.settle([])
      const g = this.#groups.get(old.queue)
      if (g) this.#prune(g)
    }
  }

  #forget(waiter: Waiter): void {
    const mine = this.#byAgent.get(waiter.agent.id)
    if (!mine) return
    const left = mine.filter((w) => w !== waiter)
    if (left.length === 0) this.#byAgent.delete(waiter.agent.id)
    else this.#byAgent.set(waiter.agent.id, left)
  }

  // A revocation or change announced by some instance: end this agent's polls that may no
  // longer lease (a 401), or that must not (drain: answered empty; the agent's next request
  // learns why). The database decides (a rotation keeps polls that came with the new credential).
  async #recheckAgent(agentId: string): Promise<void> {
    const mine = this.#byAgent.get(agentId)
    if (!mine || mine.length === 0) return
    let refused: Map<number, Refusal>
    try {
      refused = await this.#dispatcher.refusedPolls(mine)
    } catch {
      // Database unreachable: the next claim's own check ends them.
      return
    }
    for (const w of mine) {
      const why = refused.get(w.key)
      if (why) w.settle(refusal(why))
    }
    const g = new Set(mine.map((w) => this.#groups.get(w.queue)))
    for (const group of g) if (group) this.#prune(group)
  }

  #group(queue: string): Group {
    let g = this.#groups.get(queue)
    if (!g) {
      const group: Group = {
        queue,
        waiters: [],
        running: false,
        again: false,
        lastCheck: 0,
        drained: false,
        subscribed: false,
        unsubscribe: this.#fleet.subscribe(wakeChannel(queue), () => {
          group.drained = false
          this.#kick(group)
        }),
      }
      void group.unsubscribe.then(
        () => {
          group.subscribed = true
        },
        () => {},
      )
      g = group
      this.#groups.set(queue, g)
    }
    return g
  }

  #prune(group: Group): void {
    group.waiters = group.waiters.filter((w) => !w.done)
    if (group.waiters.length === 0 && !group.running && this.#groups.get(group.queue) === group) {
      this.#groups.delete(group.queue)
      void group.unsubscribe.then((off) => off()).catch(() => {})
    }
  }

  // One claim loop per group at a time; wake-ups during a claim make it run once more.
  #kick(group: Group): void {
    if (group.running) {
      group.again = true
      return
    }
    group.running = true
    void this.#drain(group)
  }

  async #drain(group: Group): Promise<void> {
    try {
      do {
        group.again = false
        group.drained = false
        group.lastCheck = Date.now()
        const waiting = group.waiters.filter((w) => !w.done)
        if (waiting.length === 0) break
        let claimed: Awaited<ReturnType<Dispatcher['claim']>>
        try {
          claimed = await this.#dispatcher.claim(group.queue, waiting)
          this.lastError = undefined
        } catch (err) {
          this.lastError = err as Error
          for (const w of waiting) if (w.once) w.settle([])
          break
        }
        const orphans: string[] = []
        for (const w of waiting) {
          const why = claimed.refused.get(w.key)
          if (why) {
            w.settle(refusal(why))
            continue
          }
          const list = claimed.got.get(w.key)
          if (!list || list.length === 0) continue
          if (w.done) orphans.push(...list.map((i) => i.id))
          else w.settle(list)
        }
        // A take is answered by this claim whatever it found.
        for (const w of waiting) if (w.once) w.settle([])
        // Claimed for a poll that went away during the claim: the agent never saw them.
        if (orphans.length > 0) await this.#dispatcher.handBack(group.queue, orphans).catch(() => {})
        group.waiters = group.waiters.filter((w) => !w.done)
        // The fetch filled every poll and more may be ready: go again. It drained the queue (or
        // found nothing): wait for a wake-up, which also repeats a claim that was running when
        // new work was published.
        if (claimed.more && group.waiters.length > 0) group.again = true
        // Drained only if no wake-up came during the claim (that one goes again).
        else if (claimed.drained && !group.again && group.subscribed) group.drained = true
      } while (group.again && !this.#closed)
      if (this.onParked && !this.lastError && group.waiters.length > 0) {
        const queue = group.queue
        void group.unsubscribe.then(() => this.onParked?.(queue)).catch(() => {})
      }
    } finally {
      group.running = false
      this.#prune(group)
    }
  }

  // The re-check: catches retries whose backoff ended (nobody publishes those), revocations
  // whose announcement was lost, and is the whole mechanism while Redis is down.
  #tick(): void {
    const every = this.#fleet.healthy() ? this.#tuning.recheckMs : this.#tuning.recheckDegradedMs
    const now = Date.now()
    for (const g of this.#groups.values()) if (now - g.lastCheck >= every) this.#kick(g)
  }

  /** Shutdown: answer every parked poll now (empty), so agents re-poll another instance. */
  async close(): Promise<void> {
    this.#closed = true
    clearInterval(this.#recheck)
    this.#stopLocalWakes()
    for (const g of this.#groups.values()) for (const w of g.waiters) w.settle([])
    const offs = [...this.#groups.values()].map((g) => g.unsubscribe.then((off) => off()).catch(() => {}))
    for (const sub of [this.#revocations, this.#changes]) offs.push(sub.then((off) => off()).catch(() => {}))
    this.#groups.clear()
    await Promise.all(offs)
  }
}

/** What a refused poll is answered: a draining agent's poll with nothing, the others with a 401. */
function refusal(why: Refusal): StavilyError | [] {
  if (why === 'draining') return []
  return why === 'revoked'
    ? new StavilyError(
        'STAVILY_ERR_AGENT_REVOKED',
        'authorization: this agent credential was revoked; enroll again',
        {
          data: { field: 'authorization' },
        },
      )
    : new StavilyError(
        'STAVILY_ERR_UNAUTHENTICATED',
        'authorization: this agent credential was replaced (rotated); poll with the new one',
        { data: { field: 'authorization' } },
      )
}

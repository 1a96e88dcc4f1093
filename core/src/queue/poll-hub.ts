import type { Tuning } from '../config.ts'
import type { FleetState } from '../fleet/fleet-state.ts'
import type { Agent, Instruction } from '../types.ts'
import type { Dispatcher } from './dispatcher.ts'
import { wakeChannel } from './queue-names.ts'

// Parked long-polls. Polls are grouped by queue; each group subscribes to its queue's
// wake-up channel while it has polls. A wake-up (or a re-check timer, the polling fallback)
// only prompts a claim: what an agent gets is always read from PostgreSQL.

interface Waiter {
  agent: Agent
  max: number
  resolve: (got: Instruction[]) => void
  timer: NodeJS.Timeout
  done: boolean
}

interface Group {
  queue: string
  waiters: Waiter[]
  unsubscribe: Promise<() => Promise<void>>
  running: boolean
  again: boolean
  lastCheck: number
}

export class PollHub {
  readonly #groups = new Map<string, Group>()
  readonly #dispatcher: Dispatcher
  readonly #fleet: FleetState
  readonly #tuning: Tuning
  readonly #recheck: NodeJS.Timeout
  #parked = 0
  #closed = false
  /** Claim failures (database down) are kept for /readyz rather than thrown at agents. */
  lastError: Error | undefined

  constructor(dispatcher: Dispatcher, fleet: FleetState, tuning: Tuning) {
    this.#dispatcher = dispatcher
    this.#fleet = fleet
    this.#tuning = tuning
    this.#recheck = setInterval(() => this.#tick(), Math.max(50, tuning.recheckDegradedMs))
    this.#recheck.unref()
  }

  get parked(): number {
    return this.#parked
  }

  /**
   * Answers with the agent's next instructions: at once when some are ready, else when work
   * arrives, else empty after `waitMs`.
   */
  poll(
    queue: string,
    agent: Agent,
    max: number,
    waitMs: number,
    signal: AbortSignal,
  ): Promise<Instruction[]> {
    if (this.#closed) return Promise.resolve([])
    return new Promise((resolve) => {
      const group = this.#group(queue)
      const waiter: Waiter = {
        agent,
        max,
        done: false,
        resolve: (got) => {
          if (waiter.done) return
          waiter.done = true
          clearTimeout(waiter.timer)
          this.#parked--
          resolve(got)
        },
        timer: setTimeout(() => {
          waiter.resolve([])
          this.#prune(group)
        }, waitMs),
      }
      this.#parked++
      group.waiters.push(waiter)
      // The agent hung up: forget the poll so no work is leased to a closed socket.
      signal.addEventListener(
        'abort',
        () => {
          waiter.resolve([])
          this.#prune(group)
        },
        { once: true },
      )
      this.#kick(group)
    })
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
        unsubscribe: this.#fleet.subscribe(wakeChannel(queue), () => this.#kick(group)),
      }
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
        group.lastCheck = Date.now()
        const waiting = group.waiters.filter((w) => !w.done)
        if (waiting.length === 0) break
        let got: Map<string, Instruction[]>
        try {
          got = await this.#dispatcher.claim(
            group.queue,
            waiting.map((w) => ({ agent: w.agent, max: w.max })),
          )
          this.lastError = undefined
        } catch (err) {
          this.lastError = err as Error
          break
        }
        const orphans: string[] = []
        for (const w of waiting) {
          const list = got.get(w.agent.id)
          if (!list || list.length === 0) continue
          if (w.done) orphans.push(...list.map((i) => i.id))
          else w.resolve(list)
        }
        // Claimed for a poll that went away during the claim: the agent never saw them.
        if (orphans.length > 0) await this.#dispatcher.handBack(group.queue, orphans).catch(() => {})
        group.waiters = group.waiters.filter((w) => !w.done)
        // Everyone served and more may be ready: go again; nothing came: wait for a wake-up.
        if (got.size > 0 && group.waiters.length > 0) group.again = true
      } while (group.again && !this.#closed)
    } finally {
      group.running = false
      this.#prune(group)
    }
  }

  // The re-check: catches retries whose backoff ended (nobody publishes those) and is the
  // whole mechanism while Redis is down.
  #tick(): void {
    const every = this.#fleet.healthy() ? this.#tuning.recheckMs : this.#tuning.recheckDegradedMs
    const now = Date.now()
    for (const g of this.#groups.values()) if (now - g.lastCheck >= every) this.#kick(g)
  }

  /** Shutdown: answer every parked poll now (empty), so agents re-poll another instance. */
  async close(): Promise<void> {
    this.#closed = true
    clearInterval(this.#recheck)
    for (const g of this.#groups.values()) for (const w of g.waiters) w.resolve([])
    const offs = [...this.#groups.values()].map((g) => g.unsubscribe.then((off) => off()).catch(() => {}))
    this.#groups.clear()
    await Promise.all(offs)
  }
}

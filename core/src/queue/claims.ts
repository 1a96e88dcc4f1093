import * as plans from '../db/plans/instructions.ts'
import { run, type SqlClient } from '../db/sql-client.ts'
import type { Instruction } from '../types.ts'
import { unstartJobs } from './boss.ts'
import type { Claimed, DispatchCore, Pick, Refusal } from './dispatch-core.ts'
import { txBossDb } from './pglite-boss-db.ts'

// Claims: parked polls take work, one transaction per claim, where their agents stand is
// checked in it, and work claimed for a poll that went away is handed back.

export class Claims {
  readonly #c: DispatchCore
  /** Claims made per queue on this instance: every `priorityFairEvery`-th takes the oldest work first. */
  readonly #claims = new Map<string, number>()

  constructor(core: DispatchCore) {
    this.#c = core
  }

  /**
   * Claims work for parked polls of one queue: where their agents stand (locked), one
   * pg-boss fetch for the polls that may lease, then each job leased to one poll, all in one
   * transaction. Returns what each poll got, and the polls refused (revoked, rotated or draining).
   */
  async claim(queue: string, picks: Pick[]): Promise<Claimed> {
    const got = new Map<number, Instruction[]>()
    const refused = new Map<number, Refusal>()
    let more = false
    let drained = false
    if (picks.length === 0) return { got, refused, more, drained }
    const leased = await this.#c.db.sql.transaction(async (tx) => {
      // A pickup need not survive a crash: lost, the job is simply claimable again, and the
      // agent's report for the forgotten attempt is refused. So this commit does not wait
      // for the WAL flush (set by the standing check); everything that acknowledges work to
      // anyone does.
      const standing = await this.#standing(tx, picks, true)
      for (const [key, why] of standing) refused.set(key, why)
      const open = picks.filter((p) => !refused.has(p.key) && p.max > 0)
      const total = open.reduce((n, p) => n + p.max, 0)
      if (total === 0) return []
      const fair = this.#fairTurn(queue)
      const jobs = await this.#c.boss.fetch(queue, {
        batchSize: total,
        includeMetadata: true,
        priority: !fair,
        db: txBossDb(tx),
      })
      more = jobs.length >= total
      drained = !more
      if (jobs.length === 0) return []
      this.#countClaim(queue)
      // Round-robin over the polls, so a burst spreads over the agents that wait; each poll
      // gets at most its own `max`, and each job goes to exactly one poll.
      const assignment: { id: string; agentId: string; attempt: number; credentialHash: string }[] = []
      const pollOf = new Map<string, number>()
      const left = open.map((p) => p.max)
      let i = 0
      for (const job of jobs) {
        while (left[i % open.length] === 0) i++
        const k = i % open.length
        left[k]!--
        const pick = open[k]!
        assignment.push({
          id: job.id,
          agentId: pick.agent.id,
          attempt: job.retryCount + 1,
          credentialHash: pick.credentialHash,
        })
        pollOf.set(job.id, pick.key)
        i++
      }
      const { rows } = await run<Instruction & { waitedSeconds: number }>(
        tx,
        plans.leaseInstructions(assignment, this.#c.tuning.leaseTtlMs),
      )
      // A job whose instruction was cancelled (or finished) meanwhile is closed, not handed out.
      const stale = jobs.filter((j) => !rows.some((r) => r.id === j.id)).map((j) => j.id)
      if (stale.length > 0) await this.#c.boss.cancel(queue, stale, { db: txBossDb(tx) })
      const steps = rows.filter((r) => r.runId !== null)
      if (steps.length > 0 && this.#c.hooks) await this.#c.hooks.leased(tx, steps)
      return rows.map((r) => ({ row: r, key: pollOf.get(r.id)! }))
    })
    for (const { row, key } of leased) {
      this.#c.metrics.dispatched++
      if (row.attempt === 1) this.#c.metrics.observePickup(row.waitedSeconds)
      const { waitedSeconds: _, ...instruction } = row
      const list = got.get(key) ?? []
      list.push(instruction)
      got.set(key, list)
    }
    return { got, refused, more, drained }
  }

  // Priority without starvation. pg-boss fetches by priority (higher first), then age; a
  // steady stream of high-priority work would then hold low-priority work back forever. So
  // every `priorityFairEvery`-th claim that hands out work on a queue (counted per
  // instance) fetches oldest first, whatever the priority: work at position k in arrival
  // order is claimed within about k × priorityFairEvery claims, while the other claims
  // serve the higher priorities. 1 makes every claim oldest-first (priorities off).
  #fairTurn(queue: string): boolean {
    const every = Math.max(1, Math.floor(this.#c.tuning.priorityFairEvery))
    return ((this.#claims.get(queue) ?? 0) + 1) % every === 0
  }

  #countClaim(queue: string): void {
    const every = Math.max(1, Math.floor(this.#c.tuning.priorityFairEvery))
    this.#claims.set(queue, ((this.#claims.get(queue) ?? 0) + 1) % every)
  }

  /** The parked polls (of any queue) whose agent was revoked, is draining, or whose credential rotated away. */
  async refusedPolls(picks: Pick[]): Promise<Map<number, Refusal>> {
    if (picks.length === 0) return new Map()
    return this.#c.db.sql.transaction((tx) => this.#standing(tx, picks))
  }

  async #standing(tx: SqlClient, picks: Pick[], asyncCommit = false): Promise<Map<number, Refusal>> {
    const { rows } = await run<{ key: number; revoked: boolean; current: boolean; drain: boolean }>(
      tx,
      plans.agentStanding(
        picks.map((p) => ({ key: p.key, agentId: p.agent.id, credentialHash: p.credentialHash })),
        { asyncCommit },
      ),
    )
    const out = new Map<number, Refusal>()
    const seen = new Set<number>()
    for (const r of rows) {
      seen.add(r.key)
      if (r.revoked) out.set(r.key, 'revoked')
      else if (!r.current) out.set(r.key, 'rotated')
      // Drain set after the poll was authenticated: no new work, and the poll ends.
      else if (r.drain) out.set(r.key, 'draining')
    }
    // No row: the agent is gone altogether (its organization deleted).
    for (const p of picks) if (!seen.has(p.key)) out.set(p.key, 'revoked')
    return out
  }

  /**
   * Puts back work claimed for a poll that was gone (timed out, hung up, shutdown) before
   * it could be answered, instead of leaving it until its lease ends: the job is cancelled
   * and resumed, so it is claimable at once, and its attempt count is put back as it was
   * before the pickup (no agent ever received it).
   */
  async handBack(queue: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return
    await this.#c.db.sql.transaction(async (tx) => {
      const db = txBossDb(tx)
      await this.#c.boss.cancel(queue, ids, { db })
      await this.#c.boss.resume(queue, ids, { db })
      await run(tx, unstartJobs(this.#c.db, queue, ids))
      await run(tx, plans.unleaseInstructions(ids))
    })
    await this.#c.wake(queue)
  }
}

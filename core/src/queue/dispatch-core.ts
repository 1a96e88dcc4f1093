import type PgBoss from 'pg-boss'
import type { Tuning } from '../config.ts'
import type { Database, SqlClient } from '../db/sql-client.ts'
import { StavilyError } from '../errors.ts'
import type { FleetState } from '../fleet/fleet-state.ts'
import type { Metrics } from '../metrics.ts'
import type { Agent, Instruction, InstructionOutcome } from '../types.ts'
import { txBossDb } from './pglite-boss-db.ts'
import { wakeChannel } from './queue-names.ts'

// What the dispatcher's parts share (queues.ts, claims.ts, results.ts, leases.ts): its
// dependencies, the engine's step hooks, the wake-up of a queue's parked polls, and the
// types they speak.

/** A parked poll asking for work. */
export interface Pick {
  /** The poll's own key: what it gets is keyed by it, never by agent (one agent may park several polls). */
  key: number
  agent: Agent
  /** Hex of the hash of the credential the poll came with: a rotation refuses it. */
  credentialHash: string
  max: number
}

/** Why a parked poll may not lease: its agent was revoked or is draining, or the poll's credential rotated away. */
export type Refusal = 'revoked' | 'rotated' | 'draining'

export interface Claimed {
  /** What each poll got, by its key; every poll gets at most its `max`. */
  got: Map<number, Instruction[]>
  /** Polls whose agent may no longer lease: end them with a 401. */
  refused: Map<number, Refusal>
  /** The fetch filled every open poll: more work may be waiting. */
  more: boolean
  /** The fetch ran and found less than the open polls asked for: the queue is empty now. */
  drained: boolean
}

/**
 * The dispatcher's one channel to the engine. Called inside the dispatcher's transactions
 * for instructions that belong to a workflow step (runId set), so the step's row moves
 * atomically with its instruction: picked up by an agent (`leased`), back in the queue for
 * another attempt (`requeued`), or finished (`finished`: a result, an expired lease or
 * timeout past the last attempt, a cancel of queued work; the step's result is recorded and
 * the run advanced in the transaction that records the instruction's outcome, so neither
 * can be lost without the other). `finished` may return work to do after the commit
 * (waking agents, the live stream). What a crash loses between the two, the engine's
 * reconcile pass redoes.
 */
export interface StepHooks {
  leased(tx: SqlClient, instructions: Instruction[]): Promise<void>
  requeued(
    tx: SqlClient,
    instructions: { id: string; orgId: string; runId: string; stepId: string; error: unknown }[],
  ): Promise<void>
  /** `lockedRun`: the outcome's run, already locked and read by the caller (a result's first statement). */
  finished(
    tx: SqlClient,
    outcome: InstructionOutcome,
    lockedRun?: Record<string, unknown> | null,
  ): Promise<AfterCommit>
}

export type AfterCommit = (() => void) | undefined

export class DispatchCore {
  /** The engine's in-transaction hooks (one set per dispatcher). */
  hooks: StepHooks | undefined

  constructor(
    readonly db: Database,
    readonly boss: PgBoss,
    readonly fleet: FleetState,
    readonly tuning: Tuning,
    readonly metrics: Metrics,
  ) {}

  /**
   * Told of each wake-up this instance publishes, before it travels: the poll hub learns at
   * once that a queue it saw drained has work again (see PollHub.take).
   */
  readonly localWakes = new Set<(queue: string) => void>()

  wake(queue: string): Promise<void> {
    for (const fn of this.localWakes) fn(queue)
    return this.fleet.publish(wakeChannel(queue), '1')
  }
}

// Fails the current attempt through pg-boss, which retries with backoff or, past the
// limit, dead-letters the job. Returns what pg-boss decided: 'queued' or 'failed'.
export async function failJob(
  c: DispatchCore,
  tx: SqlClient,
  queue: string,
  id: string,
  error: unknown,
): Promise<'queued' | 'failed'> {
  const db = txBossDb(tx)
  await c.boss.fail(queue, id, error as object, { db })
  const job = await c.boss.getJobById(queue, id, { db, includeArchive: false })
  if (job?.state === 'failed') {
    c.metrics.deadLettered++
    return 'failed'
  }
  return 'queued'
}

export function errorOf(e: unknown): { code: string; message: string } | null {
  if (!e || typeof e !== 'object') return null
  const o = e as { code?: unknown; message?: unknown }
  return { code: String(o.code ?? 'STAVILY_ERR_FAILED'), message: String(o.message ?? 'the attempt failed') }
}

export function notHeld(id: string, attempt: number): StavilyError {
  return new StavilyError(
    'STAVILY_ERR_INSTRUCTION_NOT_HELD',
    `instruction ${id} attempt ${attempt}: not held by this agent (unknown, finished, or its lease went to another attempt)`,
    { data: { field: 'attempt' } },
  )
}

import type PgBoss from 'pg-boss'
import { type Database, run } from '../db/sql-client.ts'
import type { ScheduleTrigger } from '../workflows/index.ts'
import { scheduledWorkflows } from './plans.ts'
import { ENGINE_POLICY } from './policy.ts'

// Schedule triggers on pg-boss cron: one pg-boss schedule (and queue) per enabled workflow
// whose trigger is a schedule, named after the workflow. pg-boss's cron monitor (on the
// instances that supervise) sends a job at each firing; whichever instance's worker takes
// it starts the run, and the job id dedupes a redelivered firing. Kept in sync on apply,
// enable and disable (sync), and in full on start (syncAll).

const PREFIX = 'stavily.schedule.'

export type Fire = (orgId: string, workflowId: string, at: Date, key: string) => Promise<unknown>

export function scheduleQueue(workflowId: string): string {
  return `${PREFIX}${workflowId}`
}

export class Schedules {
  readonly #boss: PgBoss
  readonly #db: Database
  readonly #fire: Fire
  readonly #workers = new Map<string, Promise<string>>()

  constructor(boss: PgBoss, db: Database, fire: Fire) {
    this.#boss = boss
    this.#db = db
    this.#fire = fire
  }

  /** Makes pg-boss's schedules match every enabled schedule workflow (start, and now and then). */
  async syncAll(): Promise<void> {
    const { rows } = await run<{ id: string; orgId: string; trigger: ScheduleTrigger }>(
      this.#db.sql,
      scheduledWorkflows(),
    )
    const wanted = new Set(rows.map((r) => scheduleQueue(r.id)))
    for (const r of rows) await this.#ensure(r.orgId, r.id, r.trigger)
    for (const s of await this.#boss.getSchedules()) {
      if (s.name.startsWith(PREFIX) && !wanted.has(s.name)) await this.#boss.unschedule(s.name)
    }
    for (const [name, worker] of this.#workers) {
      if (wanted.has(name)) continue
      this.#workers.delete(name)
      await worker.then((id) => this.#boss.offWork({ id })).catch(() => {})
    }
  }

  /** After a workflow changed: schedule it (with its current cron) or remove its schedule. */
  async sync(orgId: string, workflowId: string, trigger: ScheduleTrigger | null): Promise<void> {
    if (trigger) await this.#ensure(orgId, workflowId, trigger)
    else await this.#boss.unschedule(scheduleQueue(workflowId)).catch(() => {})
  }

  /** The schedules pg-boss holds for workflows (cron and time zone by workflow id). */
  async list(): Promise<{ workflowId: string; cron: string; timezone: string }[]> {
    return (await this.#boss.getSchedules())
      .filter((s) => s.name.startsWith(PREFIX))
      .map((s) => ({
        workflowId: s.name.slice(PREFIX.length),
        cron: s.cron,
        timezone: s.options?.tz ?? 'UTC',
      }))
  }

  async #ensure(orgId: string, workflowId: string, t: ScheduleTrigger): Promise<void> {
    const name = scheduleQueue(workflowId)
    await this.#boss.createQueue(name, { name, retryLimit: 2 })
    await this.#boss.schedule(name, t.cron, { orgId, workflowId }, { tz: t.timezone })
    if (!this.#workers.has(name)) {
      this.#workers.set(
        name,
        this.#boss.work<{ orgId: string; workflowId: string }>(
          name,
          { includeMetadata: true, pollingIntervalSeconds: ENGINE_POLICY.workerPollSeconds },
          async (jobs) => {
            for (const j of jobs)
              await this.#fire(j.data.orgId, j.data.workflowId, new Date(j.createdOn), j.id)
          },
        ),
      )
    }
    await this.#workers.get(name)
  }
}

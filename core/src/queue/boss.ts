import PgBoss from 'pg-boss'
import type { Database, Statement } from '../db/sql-client.ts'
import { StavilyError } from '../errors.ts'
import { pgliteBossDb } from './pglite-boss-db.ts'

// pg-boss on the same database as Stavily's tables, in its own schema `<schema>_boss`.
// On PostgreSQL it opens its own small pool; on PGlite it shares the one connection
// through the adapter.

export interface BossOptions {
  /** PostgreSQL URL when the database is PostgreSQL; ignored on PGlite. */
  url?: string
  /** Run pg-boss's maintenance (expiry backstop, archive) and cron in this instance. */
  supervise: boolean
  schedule: boolean
  maintenanceIntervalSeconds?: number
  /** How often cron schedules are checked (pg-boss default: 30 s). */
  cronMonitorIntervalSeconds?: number
}

export function bossSchema(db: Database): string {
  return `${db.schema}_boss`
}

/**
 * Undoes what pg-boss's fetch did to jobs handed back unanswered (cancelled and resumed):
 * fetch sets `started_on` and, for a job started before, adds one to `retry_count`, which
 * is the attempt number and counts against the retry limit. Without this, a pickup that no
 * agent ever received would use up one of the step's attempts. A job with retries counted
 * was started before (its count only grows on a refetch), so it keeps its `started_on`; a
 * first pickup goes back to never started. (Both CASEs read the row as it was.)
 */
export function unstartJobs(db: Database, queue: string, ids: string[]): Statement {
  return {
    text: `UPDATE ${bossSchema(db)}.job
      SET retry_count = CASE WHEN retry_count > 0 THEN retry_count - 1 ELSE 0 END,
        started_on = CASE WHEN retry_count > 0 THEN started_on ELSE NULL END
      WHERE name = $1 AND id = ANY($2::uuid[]) AND state = 'created'`,
    values: [queue, ids],
  }
}

/**
 * pg-boss's complete() of one active job, as a statement to send with the instruction's own
 * writes (one round trip): the same update pg-boss 10 makes (state, completion time, the
 * output `{}` that complete(queue, id, {}) stores).
 */
export function completeJob(db: Database, queue: string, id: string): Statement {
  return {
    text: `UPDATE ${bossSchema(db)}.job SET completed_on = now(), state = 'completed', output = '{}'::jsonb
      WHERE name = $1 AND id = $2::uuid AND state = 'active'`,
    values: [queue, id],
  }
}

export async function startBoss(db: Database, opts: BossOptions): Promise<PgBoss> {
  const common = {
    schema: bossSchema(db),
    supervise: opts.supervise,
    schedule: opts.schedule,
    migrate: true,
    maintenanceIntervalSeconds: opts.maintenanceIntervalSeconds ?? 30,
    ...(opts.cronMonitorIntervalSeconds
      ? {
          cronMonitorIntervalSeconds: opts.cronMonitorIntervalSeconds,
          cronWorkerIntervalSeconds: opts.cronMonitorIntervalSeconds,
        }
      : {}),
  }
  let boss: PgBoss
  if (db.backend === 'postgres') {
    if (!opts.url)
      throw new StavilyError('STAVILY_ERR_CONFIG', 'database.url: required for pg-boss on PostgreSQL')
    boss = new PgBoss({ ...common, connectionString: opts.url, max: 4 })
  } else {
    const pglite = (db as Database & { pglite?: import('@electric-sql/pglite').PGlite }).pglite
    if (!pglite)
      throw new StavilyError('STAVILY_ERR_CONFIG', 'database: the PGlite database has no handle for pg-boss')
    boss = new PgBoss({ ...common, db: pgliteBossDb(pglite) } as PgBoss.ConstructorOptions)
  }
  // pg-boss reports background failures (maintenance while the database restarts) as
  // events; an unhandled 'error' event would kill the process.
  boss.on('error', () => {})
  await boss.start()
  return boss
}

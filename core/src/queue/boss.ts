import PgBoss from 'pg-boss'
import type { Database } from '../db/sql-client.ts'
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

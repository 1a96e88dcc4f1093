import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type PgBoss from 'pg-boss'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openPglite } from '../src/db/pglite-client.ts'
import type { Database } from '../src/db/sql-client.ts'
import { startBoss } from '../src/queue/boss.ts'
import { backends, uniqueSchema } from './helpers/backends.ts'

// pg-boss's own behaviour, through the PGlite adapter and on PostgreSQL: the dispatch layer
// relies on each of these.

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function until<T>(fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (v !== undefined) return v
    if (Date.now() > end) throw new Error('condition not met in time')
    await sleep(100)
  }
}

for (const backend of backends()) {
  describe(`pg-boss on ${backend.name}`, () => {
    beforeAll(() => backend.prepare())
    afterAll(() => backend.cleanup())
    const bossFor = (db: Database, extra: Partial<Parameters<typeof startBoss>[1]> = {}) =>
      startBoss(db, { url: backend.url, supervise: false, schedule: false, ...extra })

    it('hands each job to exactly one of several concurrent fetchers', async () => {
      const db = await backend.open()
      const boss = await bossFor(db)
      await boss.createQueue('work')
      const sent = await Promise.all(Array.from({ length: 60 }, (_, i) => boss.send('work', { i })))
      const seen: string[] = []
      await Promise.all(
        Array.from({ length: 6 }, async () => {
          for (;;) {
            const jobs = await boss.fetch('work', { batchSize: 3 })
            if (jobs.length === 0) return
            seen.push(...jobs.map((j) => j.id))
          }
        }),
      )
      expect(seen.sort()).toEqual([...(sent as string[])].sort())
      await boss.stop({ graceful: false })
      await db.close()
    })

    it('retries a failed job with growing backoff, then moves it to the dead letter queue', async () => {
      const db = await backend.open()
      const boss = await bossFor(db)
      await boss.createQueue('dead')
      await boss.createQueue('flaky', {
        name: 'flaky',
        retryLimit: 1,
        retryDelay: 1,
        retryBackoff: true,
        deadLetter: 'dead',
      })
      const id = (await boss.send('flaky', { n: 1 }))!
      const [first] = await boss.fetch('flaky', { includeMetadata: true })
      expect(first?.id).toBe(id)
      await boss.fail('flaky', id, { message: 'first' })
      const retried = await boss.getJobById('flaky', id)
      expect(retried?.state).toBe('retry')
      // Backoff: not fetchable at once, only after its start_after.
      expect((retried!.startAfter as Date).getTime()).toBeGreaterThan(Date.now())
      expect(await boss.fetch('flaky')).toEqual([])
      const second = await until(
        async () => (await boss.fetch('flaky', { includeMetadata: true }))[0],
        10_000,
      )
      expect(second.id).toBe(id)
      expect(second.retryCount).toBe(1)
      await boss.fail('flaky', id, { message: 'second' })
      expect((await boss.getJobById('flaky', id))?.state).toBe('failed')
      const [dead] = await boss.fetch<{ n: number }>('dead')
      expect(dead?.data).toEqual({ n: 1 })
      await boss.stop({ graceful: false })
      await db.close()
    })

    it('expires an active job that outlives its expiry and makes it available again', async () => {
      const db = await backend.open()
      const boss = await bossFor(db)
      await boss.createQueue('slow', { name: 'slow', retryLimit: 2, expireInSeconds: 1 })
      const id = (await boss.send('slow', {}))!
      expect((await boss.fetch('slow'))[0]?.id).toBe(id)
      await sleep(1_300)
      await boss.expire()
      const again = await until(async () => (await boss.fetch('slow', { includeMetadata: true }))[0], 5_000)
      expect(again.id).toBe(id)
      expect(again.retryCount).toBe(1)
      await boss.stop({ graceful: false })
      await db.close()
    })

    it('creates jobs from a cron schedule', async () => {
      const db = await backend.open()
      const boss = await bossFor(db, { schedule: true, cronMonitorIntervalSeconds: 1 })
      await boss.createQueue('tick')
      await boss.schedule('tick', '* * * * *', { from: 'cron' })
      // The timekeeper checks schedules at start and every cronMonitorIntervalSeconds; a
      // '* * * * *' schedule is due within its current minute.
      const job = await until(async () => (await boss.fetch<{ from: string }>('tick'))[0], 20_000)
      expect(job.data).toEqual({ from: 'cron' })
      await boss.stop({ graceful: false })
      await db.close()
    })

    it('keeps pending jobs across a restart', async () => {
      let db: Database
      let reopen: () => Promise<Database>
      let cleanup = () => {}
      if (backend.name === 'pglite') {
        // A real restart: close the PGlite data folder and open it again.
        const dir = mkdtempSync(join(tmpdir(), 'stavily-boss-'))
        const schema = uniqueSchema()
        reopen = () => openPglite({ dataDir: dir, schema })
        cleanup = () => rmSync(dir, { recursive: true, force: true })
        db = await reopen()
      } else {
        db = await backend.open()
        const schema = db.schema
        const { openPostgres } = await import('../src/db/pg-client.ts')
        reopen = () => openPostgres({ connectionString: backend.url!, schema, poolSize: 2 })
      }
      let boss: PgBoss = await bossFor(db)
      await boss.createQueue('pending')
      const ids = await Promise.all([1, 2, 3].map((n) => boss.send('pending', { n })))
      await boss.stop({ graceful: false })
      await db.close()
      db = await reopen()
      boss = await bossFor(db)
      const jobs = await boss.fetch('pending', { batchSize: 10 })
      expect(jobs.map((j) => j.id).sort()).toEqual([...(ids as string[])].sort())
      await boss.stop({ graceful: false })
      await db.close()
      cleanup()
    })
  })
}

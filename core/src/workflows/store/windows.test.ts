import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backends } from '../../../test/helpers/backends.ts'
import type { Database } from '../../db/sql-client.ts'
import { WORKFLOWS_MIGRATION } from './migration.ts'
import { debounceEvent, takeDebounced, throttleEvent, windowKeyText } from './windows.ts'
import { applyWorkflow } from './workflow-store.ts'

const DOC = `name: storm
trigger: { webhook: { secret: K } }
actions: [{ id: a, plugin: p, version: "^1" }]
`

async function setup(open: () => Promise<Database>): Promise<{ db: Database; workflowId: string }> {
  const db = await open()
  await db.exec(WORKFLOWS_MIGRATION)
  const { id } = await applyWorkflow(db.sql, randomUUID(), DOC)
  return { db, workflowId: id }
}

const t0 = new Date('2026-11-28T03:00:00.000Z')
const after = (ms: number) => new Date(t0.getTime() + ms)
const event = (i: number) => ({ type: 'alert', data: { i } })

for (const backend of backends()) {
  describe(`debounce and throttle windows on ${backend.name}`, () => {
    // Starting PGlite takes seconds on a busy machine: pay it in the hook, not in the first test's budget.
    beforeAll(async () => (await backend.open()).close())
    afterAll(() => backend.cleanup())

    it('throttle: 1,000 concurrent events in a window start one run; the next window starts another', async () => {
      const { db, workflowId } = await setup(() => backend.open())
      const w = { workflowId, key: 'web', windowMs: 60_000 }
      const answers = await Promise.all(
        Array.from({ length: 1000 }, () => throttleEvent(db.sql, { ...w, at: after(10) })),
      )
      expect(answers.filter((a) => a.start)).toHaveLength(1)
      expect(answers.find((a) => a.start)).toEqual({ start: true, closesAt: after(60_010).toISOString() })
      expect(await throttleEvent(db.sql, { ...w, at: after(59_000) })).toEqual({
        start: false,
        absorbed: 1000,
      })
      // Another key has its own window.
      expect((await throttleEvent(db.sql, { ...w, key: 'db', at: after(59_000) })).start).toBe(true)
      expect((await throttleEvent(db.sql, { ...w, at: after(60_010) })).start).toBe(true)
      await db.close()
    })

    it('debounce: a storm becomes one run with the last event, once the window is quiet', async () => {
      const { db, workflowId } = await setup(() => backend.open())
      const w = { workflowId, key: windowKeyText('web'), windowMs: 5_000 }
      const first = await debounceEvent(db.sql, { ...w, event: event(0), at: after(0) })
      expect(first).toEqual({ opened: true, closesAt: after(5_000).toISOString() })
      const storm = await Promise.all(
        Array.from({ length: 999 }, (_, i) =>
          debounceEvent(db.sql, { ...w, event: event(i + 1), at: after(1_000) }),
        ),
      )
      expect(storm.every((s) => !s.opened)).toBe(true)
      const last = await debounceEvent(db.sql, {
        ...w,
        event: { type: 'alert', data: { i: 'last' } },
        at: after(2_000),
      })
      expect(last).toEqual({ opened: false, closesAt: after(7_000).toISOString() })

      // The check scheduled for the first closesAt finds the window extended.
      expect(await takeDebounced(db.sql, { workflowId, key: w.key, at: after(5_000) })).toEqual({
        due: false,
        closesAt: after(7_000).toISOString(),
      })
      const due = await takeDebounced(db.sql, { workflowId, key: w.key, at: after(7_000) })
      expect(due).toEqual({ due: true, event: { type: 'alert', data: { i: 'last' } }, events: 1001 })
      // Taken once: a second instance checking too finds nothing.
      expect(await takeDebounced(db.sql, { workflowId, key: w.key, at: after(7_001) })).toEqual({
        due: false,
        closesAt: null,
      })
      // The next event opens a new window.
      expect((await debounceEvent(db.sql, { ...w, event: event(1), at: after(8_000) })).opened).toBe(true)
      await db.close()
    })

    it('uses the database clock when no time is given', async () => {
      const { db, workflowId } = await setup(() => backend.open())
      const before = Date.now()
      const opened = await throttleEvent(db.sql, { workflowId, key: '', windowMs: 100 })
      expect(opened.start).toBe(true)
      const closes = opened.start ? Date.parse(opened.closesAt) : 0
      expect(closes).toBeGreaterThanOrEqual(before + 100 - 1_000)
      expect(closes).toBeLessThanOrEqual(Date.now() + 100 + 1_000)
      expect(windowKeyText({ a: 1 })).toBe('{"a":1}')
      expect(windowKeyText(undefined)).toBe('')
      await db.close()
    })
  })
}

import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backends } from '../../../test/helpers/backends.ts'
import { migrate } from '../../db/migrate.ts'
import { WorkflowError } from '../errors.ts'
import { applyWorkflow } from '../store/workflow-store.ts'
import { queuedRuns, tryStartRun } from './concurrency.ts'
import { createRun, getRun, transitionRun } from './run-store.ts'

const DOC = `name: one-at-a-time
concurrency: 1
trigger: { webhook: { secret: K } }
actions: [{ id: a, plugin: p, version: "^1" }]
`

for (const backend of backends()) {
  describe(`run concurrency on ${backend.name}`, () => {
    beforeAll(async () => (await backend.open()).close())
    afterAll(() => backend.cleanup())

    it('starts at most `limit` runs at once, and the oldest queued run next', async () => {
      const db = await backend.open()
      await migrate(db)
      const org = randomUUID()
      const { id: workflowId } = await applyWorkflow(db.sql, org, DOC)
      const ids: string[] = []
      for (let i = 0; i < 5; i++)
        ids.push(
          (await createRun(db.sql, { org, workflowId, version: 1, event: { type: 'x', data: { i } } })).run
            .id,
        )
      // Runs are stamped to the millisecond, and five inserts can share one: give each its
      // own age (a second apart, in creation order) so "oldest" is the test's, not a tie.
      for (const [i, id] of ids.entries())
        await db.sql.query(`UPDATE runs SET created_at = now() - make_interval(secs => $2) WHERE id = $1`, [
          id,
          ids.length - i,
        ])

      const answers = await Promise.all(ids.map((id) => tryStartRun(db.sql, org, id, 1)))
      const started = answers.filter((a) => a.started)
      expect(started).toHaveLength(1)
      expect(answers.filter((a) => !a.started).every((a) => !a.started && a.running === 1)).toBe(true)
      const running = started[0]!.started ? started[0]!.run.id : ''

      await transitionRun(db.sql, org, running, 'succeeded')
      const next = await queuedRuns(db.sql, org, workflowId, 1)
      expect(next).toEqual([ids.find((id) => id !== running)])
      expect((await tryStartRun(db.sql, org, next[0]!, 1)).started).toBe(true)
      // Without a limit, everything queued starts.
      for (const id of await queuedRuns(db.sql, org, workflowId))
        expect((await tryStartRun(db.sql, org, id, null)).started).toBe(true)
      expect((await getRun(db.sql, org, ids[4]!))!.status).toBe('running')

      const err = await tryStartRun(db.sql, randomUUID(), ids[0]!, 1).catch((e) => e)
      expect(err).toBeInstanceOf(WorkflowError)
      expect((err as WorkflowError).code).toBe('STAVILY_ERR_RUN_NOT_FOUND')
      await expect(tryStartRun(db.sql, org, 'not-a-uuid', 1)).rejects.toThrow(
        'run: expected a UUID, got "not-a-uuid"',
      )
      await db.close()
    })
  })
}

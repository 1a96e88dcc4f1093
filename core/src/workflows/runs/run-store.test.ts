import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backends } from '../../../test/helpers/backends.ts'
import { migrate } from '../../db/migrate.ts'
import type { Database } from '../../db/sql-client.ts'
import { planNext } from '../engine/plan-next.ts'
import { WorkflowError } from '../errors.ts'
import { stepIdempotencyKey } from '../idempotency.ts'
import { applyWorkflow, getWorkflowVersion } from '../store/workflow-store.ts'
import {
  createRun,
  getRun,
  listRuns,
  recordStep,
  stepStates,
  transitionRun,
  transitionStep,
} from './run-store.ts'

const DOC = `name: restart
trigger:
  webhook:
    secret: K
actions:
  - id: restart
    plugin: p
    version: ^1
    input:
      service: \${{ trigger.service }}
outputs:
  - id: notify
    plugin: p
    version: ^1
    on: always
    input:
      text: "\${{ trigger.service }} \${{ run.status }} (restarted: \${{ steps.restart.output.restarted }})"
`

async function setup(open: () => Promise<Database>) {
  const db = await open()
  // Every migration, as the orchestrator applies them (later ones add columns runs are read with).
  await migrate(db)
  const org = randomUUID()
  const wf = await applyWorkflow(db.sql, org, DOC)
  return { db, org, workflowId: wf.id }
}

async function illegal(p: Promise<unknown>): Promise<string> {
  const err = await p.catch((e) => e)
  expect(err).toBeInstanceOf(WorkflowError)
  expect((err as WorkflowError).code).toBe('STAVILY_ERR_ILLEGAL_TRANSITION')
  return (err as WorkflowError).message
}

for (const backend of backends()) {
  describe(`run store on ${backend.name}`, () => {
    beforeAll(async () => (await backend.open()).close())
    afterAll(() => backend.cleanup())

    it('drives a run to its end with planNext, recording every step', async () => {
      const { db, org, workflowId } = await setup(() => backend.open())
      const event = { type: 'alert', data: { service: 'web' }, dedupeKey: 'alert-1' }
      const { run } = await createRun(db.sql, { org, workflowId, version: 1, event })
      expect(run).toMatchObject({
        status: 'queued',
        workflowVersion: 1,
        dedupeKey: 'alert-1',
        startedAt: null,
      })
      const workflow = (await getWorkflowVersion(db.sql, org, workflowId, 1))!
      await transitionRun(db.sql, org, run.id, 'running')

      // The engine loop, with the agent simulated: every started step succeeds.
      for (let turn = 0; turn < 10; turn++) {
        const current = (await getRun(db.sql, org, run.id))!
        const plan = planNext(workflow, current.event, current, stepStates(current.steps))
        if (plan.finished) {
          await transitionRun(db.sql, org, run.id, plan.status)
          break
        }
        for (const m of plan.moves) {
          if (m.move !== 'start') continue
          await recordStep(db.sql, org, run.id, {
            stepId: m.step.id,
            kind: m.kind,
            status: 'queued',
            input: m.input,
          })
          await transitionStep(db.sql, org, run.id, m.step.id, 'running', { instructionId: randomUUID() })
          const output = m.step.id === 'restart' ? { restarted: true } : { sent: true }
          await transitionStep(db.sql, org, run.id, m.step.id, 'succeeded', { output })
        }
      }
      const done = (await getRun(db.sql, org, run.id))!
      expect(done).toMatchObject({ status: 'succeeded' })
      expect(done.startedAt).not.toBeNull()
      expect(done.finishedAt).not.toBeNull()
      expect(done.steps.map((s) => [s.stepId, s.kind, s.status, s.attempt])).toEqual([
        ['restart', 'action', 'succeeded', 1],
        ['notify', 'output', 'succeeded', 1],
      ])
      expect(done.steps[0]).toMatchObject({ input: { service: 'web' }, output: { restarted: true } })
      expect(done.steps[0]!.idempotencyKey).toBe(stepIdempotencyKey(run.id, 'restart'))
      expect(done.steps[1]!.input).toEqual({ text: 'web succeeded (restarted: true)' })
      await db.close()
    })

    it('starts one run per dedupe key, and one per event without a key', async () => {
      const { db, org, workflowId } = await setup(() => backend.open())
      const event = { type: 'alert', data: {}, dedupeKey: 'same' }
      const results = await Promise.all(
        Array.from({ length: 10 }, () => createRun(db.sql, { org, workflowId, version: 1, event })),
      )
      expect(results.filter((r) => r.created)).toHaveLength(1)
      expect(new Set(results.map((r) => r.run.id)).size).toBe(1)
      const a = await createRun(db.sql, { org, workflowId, version: 1, event: { type: 'x', data: {} } })
      const b = await createRun(db.sql, { org, workflowId, version: 1, event: { type: 'x', data: {} } })
      expect(a.created && b.created && a.run.id !== b.run.id).toBe(true)
      await db.close()
    })

    it('refuses illegal transitions, and lets one of two racing transitions win', async () => {
      const { db, org, workflowId } = await setup(() => backend.open())
      const { run } = await createRun(db.sql, { org, workflowId, version: 1, event: { type: 'x', data: {} } })
      expect(await illegal(transitionRun(db.sql, org, run.id, 'succeeded'))).toBe(
        `run ${run.id}: cannot go from "queued" to "succeeded"; from "queued" it may go to: running, cancelled`,
      )
      const race = await Promise.allSettled([
        transitionRun(db.sql, org, run.id, 'running'),
        transitionRun(db.sql, org, run.id, 'cancelled'),
        transitionRun(db.sql, org, run.id, 'running'),
      ])
      const won = race.filter((r) => r.status === 'fulfilled')
      expect(won.length).toBeGreaterThanOrEqual(1)
      const final = (await getRun(db.sql, org, run.id))!.status
      // Whatever won, the run is in one legal state and a cancelled run stays cancelled.
      expect(['running', 'cancelled']).toContain(final)
      if (final === 'cancelled') await illegal(transitionRun(db.sql, org, run.id, 'running'))

      const { run: r2 } = await createRun(db.sql, {
        org,
        workflowId,
        version: 1,
        event: { type: 'x', data: {} },
      })
      await recordStep(db.sql, org, r2.id, { stepId: 'restart', kind: 'action', status: 'queued', input: {} })
      const again = await recordStep(db.sql, org, r2.id, {
        stepId: 'restart',
        kind: 'action',
        status: 'skipped',
        reason: 'x',
      })
      expect(again).toMatchObject({ created: false, step: { status: 'queued' } })
      await transitionStep(db.sql, org, r2.id, 'restart', 'running')
      // A retry: back to queued, then a second attempt.
      await transitionStep(db.sql, org, r2.id, 'restart', 'queued', {
        error: { code: 'E', message: 'lease expired' },
      })
      const second = await transitionStep(db.sql, org, r2.id, 'restart', 'running')
      expect(second).toMatchObject({ attempt: 2, error: { code: 'E', message: 'lease expired' } })
      await transitionStep(db.sql, org, r2.id, 'restart', 'failed', {
        error: { code: 'E2', message: 'unit not found' },
      })
      expect(await illegal(transitionStep(db.sql, org, r2.id, 'restart', 'succeeded'))).toBe(
        'step restart: cannot go from "failed" to "succeeded"; "failed" is final',
      )
      const skipped = await recordStep(db.sql, org, r2.id, {
        stepId: 'notify',
        kind: 'output',
        status: 'skipped',
        reason: 'why',
      })
      expect(skipped.step).toMatchObject({ status: 'skipped', reason: 'why', attempt: 0 })
      expect(skipped.step.finishedAt).not.toBeNull()
      await db.close()
    })

    it('keeps organizations apart and lists newest first with a cursor', async () => {
      const { db, org, workflowId } = await setup(() => backend.open())
      const ids: string[] = []
      for (let i = 0; i < 5; i++) {
        ids.push(
          (await createRun(db.sql, { org, workflowId, version: 1, event: { type: 'x', data: { i } } })).run
            .id,
        )
        // created_at has millisecond precision and ties fall back to the random id: keep the
        // five runs in distinct milliseconds so "newest first" has one right answer.
        await new Promise((resolve) => setTimeout(resolve, 3))
      }
      const other = randomUUID()
      expect(await getRun(db.sql, other, ids[0]!)).toBeUndefined()
      expect(await listRuns(db.sql, other)).toEqual([])
      await expect(transitionRun(db.sql, other, ids[0]!, 'running')).rejects.toThrow(
        /no such run in this organization/,
      )
      await expect(
        recordStep(db.sql, other, ids[0]!, { stepId: 'a', kind: 'action', status: 'queued' }),
      ).rejects.toThrow(/no such run/)

      const page1 = await listRuns(db.sql, org, { limit: 2 })
      expect(page1.map((r) => r.id)).toEqual([ids[4], ids[3]])
      const last = page1.at(-1)!
      const page2 = await listRuns(db.sql, org, {
        limit: 10,
        before: { createdAt: last.createdAt, id: last.id },
      })
      expect(page2.map((r) => r.id)).toEqual([ids[2], ids[1], ids[0]])
      await transitionRun(db.sql, org, ids[1]!, 'cancelled')
      expect((await listRuns(db.sql, org, { status: 'cancelled' })).map((r) => r.id)).toEqual([ids[1]])
      expect((await listRuns(db.sql, org, { workflowId: randomUUID() })).length).toBe(0)
      await db.close()
    })
  })
}

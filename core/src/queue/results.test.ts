import { randomUUID } from 'node:crypto'
import { AGENT_API_LIMITS, clipLogs } from '@stavily/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backends } from '../../test/helpers/backends.ts'
import {
  type DispatchWorld,
  deadLetters,
  type Enrolled,
  enroll,
  jobOf,
  newOrg,
  openDispatchWorld,
  type Rig,
  refusal,
  row,
  wakes,
} from '../../test/helpers/dispatch.ts'
import type { InstructionSpec, ResultReport } from '../types.ts'

// An attempt's outcome, reported by the agent that holds it, on a real database without
// HTTP: what is stored, what the agent is answered, when pg-boss retries or dead-letters,
// what the engine is told for a workflow step, and who may not report.

const spec = (over: Partial<InstructionSpec> = {}): InstructionSpec => ({
  kind: 'action',
  pool: 'default',
  plugin: 'shell',
  operation: 'run',
  // Retries claimable at once: no waiting on a backoff.
  retryDelaySeconds: 0,
  retryBackoff: false,
  ...over,
})

for (const backend of backends()) {
  describe(`dispatcher results on ${backend.name}`, () => {
    let w: DispatchWorld
    beforeAll(async () => {
      w = await openDispatchWorld(backend)
    })
    afterAll(async () => {
      await w?.close()
      await backend.cleanup()
    })

    /** Enqueues and has `agent` claim it; the attempt it got. */
    const held = async (rig: Rig, org: string, agent: Enrolled, over: Partial<InstructionSpec> = {}) => {
      const inst = await rig.d.enqueue(org, spec(over))
      const got = (await rig.d.claim(inst.queue, [agent.pick(1, 1)])).got.get(1)
      expect(got?.map((i) => i.id)).toEqual([inst.id])
      return got![0]!
    }

    const resultRow = async (id: string, attempt: number) =>
      (
        await w.db.sql.query<Record<string, unknown>>(
          `SELECT agent_id AS "agentId", status, output, error, logs, answer FROM results
           WHERE instruction_id = $1 AND attempt = $2`,
          [id, attempt],
        )
      ).rows[0]

    it('records a success: the output, the logs clipped, the job completed, the answer stored', async () => {
      const rig = await w.dispatcher()
      const org = await newOrg(w)
      const a = await enroll(w, org)
      const inst = await held(rig, org, a)
      const woken = await wakes(w, inst.queue)
      const logs = Array.from({ length: AGENT_API_LIMITS.logsPerResult + 5 }, (_, i) => ({
        level: 'info',
        message: `line ${i}`,
        at: i,
      }))
      const answer = await rig.d.report(a.agent, inst.id, {
        attempt: 1,
        status: 'succeeded',
        output: { ok: true },
        logs,
      })
      expect(answer).toEqual({
        instructionId: inst.id,
        attempt: 1,
        instructionStatus: 'succeeded',
        willRetry: false,
      })
      const stored = await row(w, inst.id)
      expect(stored).toMatchObject({
        status: 'succeeded',
        output: { ok: true },
        error: null,
        leaseUntil: null,
        agentId: a.agent.id,
        attempt: 1,
      })
      expect(stored.finishedAt).toBeInstanceOf(Date)
      expect((await jobOf(w, inst.id))?.state).toBe('completed')
      const clipped = clipLogs(logs)
      expect(clipped).toHaveLength(AGENT_API_LIMITS.logsPerResult)
      expect(await resultRow(inst.id, 1)).toEqual({
        agentId: a.agent.id,
        status: 'succeeded',
        output: { ok: true },
        error: null,
        logs: clipped,
        answer,
      })
      expect(rig.metrics.resultsByStatus).toEqual(new Map([['succeeded', 1]]))
      expect(woken.count()).toBe(0)
      expect(rig.hooks.calls).toEqual([])
    })

    it('retries a failure on any agent until the last attempt, then fails it and dead-letters its job', async () => {
      const rig = await w.dispatcher({ retryLimit: 2 })
      const org = await newOrg(w)
      const [a, b] = [await enroll(w, org), await enroll(w, org)]
      const inst = await held(rig, org, a)
      const woken = await wakes(w, inst.queue)
      const error = { code: 'E_DISK', message: 'disk full' }
      const first = await rig.d.report(a.agent, inst.id, {
        attempt: 1,
        status: 'failed',
        error,
        output: { partial: true },
        logs: [{ level: 'error', message: 'no space', at: 1 }],
      })
      expect(first).toEqual({
        instructionId: inst.id,
        attempt: 1,
        instructionStatus: 'queued',
        willRetry: true,
      })
      const queued = await row(w, inst.id)
      expect(queued).toMatchObject({
        status: 'queued',
        agentId: null,
        leaseUntil: null,
        finishedAt: null,
        error,
        // A retry's output is not the instruction's.
        output: null,
        attempt: 1,
      })
      expect(await resultRow(inst.id, 1)).toMatchObject({
        agentId: a.agent.id,
        status: 'failed',
        output: null,
        error,
        logs: [{ level: 'error', message: 'no space', at: 1 }],
      })
      expect(await jobOf(w, inst.id)).toMatchObject({ state: 'retry', retryCount: 0 })
      expect(woken.count()).toBe(1)
      expect(rig.metrics.resultsByStatus).toEqual(new Map([['retried', 1]]))

      // The retry goes to whichever agent polls.
      const second = (await rig.d.claim(inst.queue, [b.pick(2, 1)])).got.get(2)![0]!
      expect(second).toMatchObject({ id: inst.id, agentId: b.agent.id, attempt: 2 })
      expect((await rig.d.report(b.agent, inst.id, { attempt: 2, status: 'failed' })).instructionStatus).toBe(
        'queued',
      )
      // No error given: the attempt failed, says so.
      expect((await row(w, inst.id)).error).toEqual({
        code: 'STAVILY_ERR_FAILED',
        message: 'the attempt failed',
      })
      await rig.d.claim(inst.queue, [a.pick(3, 1)])
      expect(rig.metrics.deadLettered).toBe(0)
      const last = await rig.d.report(a.agent, inst.id, {
        attempt: 3,
        status: 'failed',
        error,
        output: { partial: 3 },
      })
      expect(last).toEqual({
        instructionId: inst.id,
        attempt: 3,
        instructionStatus: 'failed',
        willRetry: false,
      })
      const failed = await row(w, inst.id)
      expect(failed).toMatchObject({ status: 'failed', error, output: { partial: 3 }, agentId: a.agent.id })
      expect(failed.finishedAt).toBeInstanceOf(Date)
      expect((await jobOf(w, inst.id))?.state).toBe('failed')
      expect(rig.metrics.deadLettered).toBe(1)
      expect(await deadLetters(w, org)).toEqual([error])
      // Woken for each retry, not for the end.
      expect(woken.count()).toBe(2)
      expect(rig.metrics.resultsByStatus).toEqual(
        new Map([
          ['retried', 2],
          ['failed', 1],
        ]),
      )
    })

    it('fails at once, with retries left, when the plugin says retrying cannot help', async () => {
      const rig = await w.dispatcher({ retryLimit: 3 })
      const org = await newOrg(w)
      const a = await enroll(w, org)
      const inst = await held(rig, org, a)
      const woken = await wakes(w, inst.queue)
      const error = { code: 'E_CONFIG', message: 'bad config', retryable: false, data: { field: 'x' } }
      expect(await rig.d.report(a.agent, inst.id, { attempt: 1, status: 'failed', error })).toEqual({
        instructionId: inst.id,
        attempt: 1,
        instructionStatus: 'failed',
        willRetry: false,
      })
      expect(await row(w, inst.id)).toMatchObject({ status: 'failed', error })
      expect((await jobOf(w, inst.id))?.state).toBe('cancelled')
      expect(rig.metrics.deadLettered).toBe(0)
      expect(woken.count()).toBe(0)
      // A failure the plugin calls retryable retries as any other.
      const other = await held(rig, org, a)
      const retryable = { ...error, retryable: true }
      expect(
        (await rig.d.report(a.agent, other.id, { attempt: 1, status: 'failed', error: retryable })).willRetry,
      ).toBe(true)
    })

    it('records a cancelled attempt, and ends an attempt whose cancel was asked for without a retry', async () => {
      const rig = await w.dispatcher({ retryLimit: 3 })
      const org = await newOrg(w)
      const a = await enroll(w, org)
      const inst = await held(rig, org, a)
      expect(
        await rig.d.report(a.agent, inst.id, { attempt: 1, status: 'cancelled', output: { stopped: 1 } }),
      ).toMatchObject({ instructionStatus: 'cancelled', willRetry: false })
      expect(await row(w, inst.id)).toMatchObject({
        status: 'cancelled',
        output: { stopped: 1 },
        error: null,
      })
      expect((await jobOf(w, inst.id))?.state).toBe('cancelled')

      // Cancel asked for while held: a failure ends it (no retry), a cancel is a cancel.
      const failing = await held(rig, org, a)
      await rig.d.cancel(org, failing.id)
      const error = { code: 'E_KILLED', message: 'killed' }
      expect(await rig.d.report(a.agent, failing.id, { attempt: 1, status: 'failed', error })).toMatchObject({
        instructionStatus: 'failed',
        willRetry: false,
      })
      expect(await row(w, failing.id)).toMatchObject({ status: 'failed', error })
      expect((await jobOf(w, failing.id))?.state).toBe('cancelled')

      // A success that raced the cancel is still a success.
      const done = await held(rig, org, a)
      await rig.d.cancel(org, done.id)
      expect(
        await rig.d.report(a.agent, done.id, { attempt: 1, status: 'succeeded', output: 1 }),
      ).toMatchObject({ instructionStatus: 'succeeded' })
      expect((await jobOf(w, done.id))?.state).toBe('completed')
      expect(rig.metrics.resultsByStatus).toEqual(
        new Map([
          ['cancelled', 1],
          ['failed', 1],
          ['succeeded', 1],
        ]),
      )
      expect(rig.metrics.deadLettered).toBe(0)
    })

    it('answers a repeated report with the stored answer and changes nothing', async () => {
      const rig = await w.dispatcher({ retryLimit: 1 })
      const org = await newOrg(w)
      const [a, b] = [await enroll(w, org), await enroll(w, org)]
      const inst = await held(rig, org, a)
      const report: ResultReport = { attempt: 1, status: 'failed', error: { code: 'E', message: 'once' } }
      const first = await rig.d.report(a.agent, inst.id, report)
      expect(first.willRetry).toBe(true)
      // The retry is taken and held by another agent meanwhile.
      await rig.d.claim(inst.queue, [b.pick(1, 1)])
      const before = await row(w, inst.id)
      const job = await jobOf(w, inst.id)
      // The repeat says something else: the first report stands.
      expect(
        await rig.d.report(a.agent, inst.id, { attempt: 1, status: 'succeeded', output: { late: true } }),
      ).toEqual(first)
      expect(await row(w, inst.id)).toEqual(before)
      expect(await jobOf(w, inst.id)).toEqual(job)
      expect(await resultRow(inst.id, 1)).toMatchObject({ status: 'failed', output: null })

      // Another agent repeating it is refused.
      const stranger = await refusal(rig.d.report(b.agent, inst.id, report))
      expect(stranger.code).toBe('STAVILY_ERR_INSTRUCTION_NOT_HELD')
      expect(stranger.data).toEqual({ field: 'attempt' })

      // After the end too: the last attempt's report repeated.
      const last = await rig.d.report(b.agent, inst.id, { attempt: 2, status: 'succeeded', output: 2 })
      expect(await rig.d.report(b.agent, inst.id, { attempt: 2, status: 'failed' })).toEqual(last)
      expect(await row(w, inst.id)).toMatchObject({ status: 'succeeded', output: 2 })
      // Counted once each: the repeats are not results.
      expect(rig.metrics.resultsByStatus).toEqual(
        new Map([
          ['retried', 1],
          ['succeeded', 1],
        ]),
      )
    })

    it('gives two reports of one attempt at once the same answer and records one', async () => {
      const rig = await w.dispatcher()
      const org = await newOrg(w)
      const a = await enroll(w, org)
      const inst = await held(rig, org, a)
      const report: ResultReport = { attempt: 1, status: 'succeeded', output: { n: 1 } }
      const [x, y] = await Promise.all([
        rig.d.report(a.agent, inst.id, report),
        rig.d.report(a.agent, inst.id, report),
      ])
      expect(x).toEqual(y)
      expect(x.instructionStatus).toBe('succeeded')
      const { rows } = await w.db.sql.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM results WHERE instruction_id = $1',
        [inst.id],
      )
      expect(rows[0]!.n).toBe(1)
    })

    it('refuses a report of an attempt the agent does not hold', async () => {
      const rig = await w.dispatcher({ retryLimit: 0 })
      const org = await newOrg(w)
      const [a, b] = [await enroll(w, org), await enroll(w, org)]
      const inst = await held(rig, org, a)
      const notHeld = async (agent: Enrolled, id: string, attempt: number) => {
        const err = await refusal(rig.d.report(agent.agent, id, { attempt, status: 'succeeded' }))
        expect(err.code).toBe('STAVILY_ERR_INSTRUCTION_NOT_HELD')
        expect(err.message).toBe(
          `instruction ${id} attempt ${attempt}: not held by this agent (unknown, finished, or its lease went to another attempt)`,
        )
        expect(err.data).toEqual({ field: 'attempt' })
      }
      await notHeld(a, inst.id, 2)
      await notHeld(a, inst.id, 0)
      await notHeld(b, inst.id, 1)
      await notHeld(a, randomUUID(), 1)
      // An agent of another organization, even with the id.
      const strangerOrg = await newOrg(w)
      await notHeld(await enroll(w, strangerOrg), inst.id, 1)
      // Still queued: nobody holds it.
      const waiting = await rig.d.enqueue(org, spec())
      await notHeld(a, waiting.id, 0)
      // Given up by the sweeper after its last attempt: the row still names the agent and attempt.
      await w.db.sql.query(
        `UPDATE instructions SET lease_until = now() - interval '1 second' WHERE id = $1`,
        [inst.id],
      )
      expect(await rig.d.sweepLeases()).toBe(1)
      expect(await row(w, inst.id)).toMatchObject({ status: 'failed', agentId: a.agent.id, attempt: 1 })
      await notHeld(a, inst.id, 1)
      expect((await jobOf(w, inst.id))?.state).toBe('failed')
      expect(rig.metrics.resultsByStatus).toEqual(new Map())
    })

    it('tells the engine a step’s outcome in the transaction that records it, with its run locked', async () => {
      const rig = await w.dispatcher({ retryLimit: 1 })
      const org = await newOrg(w)
      const a = await enroll(w, org)
      const workflowId = randomUUID()
      const runId = randomUUID()
      await w.db.sql.query(
        `INSERT INTO workflows (id, org_id, name, enabled, current_version) VALUES ($1, $2, 'wf', true, 1)`,
        [workflowId, org],
      )
      await w.db.sql.query(
        `INSERT INTO runs (id, org_id, workflow_id, workflow_version, status, event, priority)
         VALUES ($1, $2, $3, 1, 'running', '{"e":1}', 4)`,
        [runId, org, workflowId],
      )
      const step = await held(rig, org, a, { runId, stepId: 'build' })
      rig.hooks.calls.length = 0
      rig.hooks.seenStatus.length = 0
      const error = { code: 'E_EXIT', message: 'exit 1', data: { exitCode: 1 }, retryable: true }
      await rig.d.report(a.agent, step.id, { attempt: 1, status: 'failed', error, output: { o: 1 } })
      expect(rig.hooks.calls).toEqual([
        { hook: 'requeued', instructions: [{ id: step.id, orgId: org, runId, stepId: 'build', error }] },
      ])
      expect(rig.hooks.seenStatus).toEqual(['queued'])

      await rig.d.claim(step.queue, [a.pick(1, 1)])
      rig.hooks.calls.length = 0
      await rig.d.report(a.agent, step.id, { attempt: 2, status: 'failed', error, output: { o: 2 } })
      expect(rig.hooks.calls).toEqual([
        {
          hook: 'finished',
          outcome: {
            id: step.id,
            orgId: org,
            runId,
            stepId: 'build',
            attempt: 2,
            status: 'failed',
            // A failed step has no output; its error is the code and message.
            output: null,
            error: { code: 'E_EXIT', message: 'exit 1' },
          },
          lockedRun: expect.objectContaining({
            id: runId,
            org,
            workflowId,
            workflowVersion: 1,
            status: 'running',
            event: { e: 1 },
            dedupeKey: null,
            startedAt: null,
            finishedAt: null,
            priority: 4,
          }),
        },
      ])
      expect(rig.hooks.seenStatus.at(-1)).toBe('failed')
      expect(rig.hooks.afterCommits).toBe(1)

      const ok = await held(rig, org, a, { runId, stepId: 'deploy' })
      rig.hooks.calls.length = 0
      await rig.d.report(a.agent, ok.id, { attempt: 1, status: 'succeeded', output: { url: 'u' } })
      expect(rig.hooks.calls).toEqual([
        {
          hook: 'finished',
          outcome: {
            id: ok.id,
            orgId: org,
            runId,
            stepId: 'deploy',
            attempt: 1,
            status: 'succeeded',
            output: { url: 'u' },
            error: null,
          },
          lockedRun: expect.objectContaining({ id: runId }),
        },
      ])
      expect(rig.hooks.afterCommits).toBe(2)

      // A cancelled step: no output, no error; an error without a message gets the default one.
      const stopped = await held(rig, org, a, { runId, stepId: 'stop' })
      const odd = await held(rig, org, a, { runId, stepId: 'odd' })
      rig.hooks.calls.length = 0
      await rig.d.report(a.agent, stopped.id, { attempt: 1, status: 'cancelled', output: { x: 1 } })
      await rig.d.report(a.agent, odd.id, {
        attempt: 1,
        status: 'cancelled',
        error: { code: 'E_ODD' } as ResultReport['error'],
      })
      expect(rig.hooks.calls.map((c) => c.hook === 'finished' && c.outcome)).toEqual([
        expect.objectContaining({ id: stopped.id, status: 'cancelled', output: null, error: null }),
        expect.objectContaining({
          id: odd.id,
          status: 'cancelled',
          error: { code: 'E_ODD', message: 'the attempt failed' },
        }),
      ])
    })

    it('locks no run of another organization, and tells the engine nothing for work outside a step', async () => {
      const rig = await w.dispatcher()
      const org = await newOrg(w)
      const other = await newOrg(w)
      const a = await enroll(w, org)
      const workflowId = randomUUID()
      const runId = randomUUID()
      await w.db.sql.query(
        `INSERT INTO workflows (id, org_id, name, enabled, current_version) VALUES ($1, $2, 'wf', true, 1)`,
        [workflowId, other],
      )
      await w.db.sql.query(
        `INSERT INTO runs (id, org_id, workflow_id, workflow_version, status, event)
         VALUES ($1, $2, $3, 1, 'running', '{}')`,
        [runId, other, workflowId],
      )
      const step = await held(rig, org, a, { runId, stepId: 's' })
      rig.hooks.calls.length = 0
      await rig.d.report(a.agent, step.id, { attempt: 1, status: 'succeeded' })
      expect(rig.hooks.calls).toEqual([
        {
          hook: 'finished',
          outcome: expect.objectContaining({ id: step.id, output: null }),
          lockedRun: null,
        },
      ])

      // A run without a step, or neither: not a step.
      rig.hooks.calls.length = 0
      const noStep = await held(rig, org, a, { runId })
      const plain = await held(rig, org, a)
      rig.hooks.calls.length = 0
      await rig.d.report(a.agent, noStep.id, {
        attempt: 1,
        status: 'failed',
        error: { code: 'E', message: 'm' },
      })
      await rig.d.report(a.agent, plain.id, { attempt: 1, status: 'succeeded' })
      expect(rig.hooks.calls).toEqual([])
    })
  })
}

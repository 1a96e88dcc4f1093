import { randomUUID } from 'node:crypto'
import semver from 'semver'
import { run, type SqlClient } from '../db/sql-client.ts'
import type { Dispatcher } from '../queue/dispatcher.ts'
import {
  planNext,
  type StepBase,
  type StepState,
  stepIdempotencyKey,
  type Workflow,
} from '../workflows/index.ts'
import type { Effects } from './effects.ts'
import { desiredVersions as desiredVersionsPlan, finishRun, insertSteps, runSteps } from './plans.ts'
import { rangeFix } from './range-fix.ts'
import type { RunRecord } from './run-records.ts'

// One step of the engine loop, inside the caller's transaction (which holds the run's row
// lock): ask planNext what happens next and do it — record skipped and failed steps, queue
// each step to start with its instruction, or finish the run. Skips and failures change
// what comes next, so it plans again until only starts (or nothing) are left.

export interface AdvanceDeps {
  dispatcher: Dispatcher
}

/** Desired plugin versions read along with an earlier statement, by `versionKey`; null: not enabled. */
export type DesiredVersions = Map<string, string | null>

const versionKey = (pool: string, plugin: string) => `${pool}\u0000${plugin}`

/** The pools and plugins a workflow's steps run. */
export function pluginsOf(workflow: Workflow): { pool: string; plugin: string }[] {
  const seen = new Map<string, { pool: string; plugin: string }>()
  for (const s of [...workflow.actions, ...workflow.outputs])
    seen.set(versionKey(s.pool, s.plugin), { pool: s.pool, plugin: s.plugin })
  return [...seen.values()]
}

/**
 * The desired versions as read for `plugins` (`rows`: the enabled ones): every pair asked
 * about gets an entry, so a missing row means "not enabled" rather than "not read".
 */
export function desiredVersions(
  plugins: { pool: string; plugin: string }[],
  rows: { pool: string; name: string; version: string }[],
): DesiredVersions {
  const out: DesiredVersions = new Map(plugins.map((p) => [versionKey(p.pool, p.plugin), null]))
  for (const r of rows) out.set(versionKey(r.pool, r.name), r.version)
  return out
}

type StepRow = {
  stepId: string
  kind: 'action' | 'output'
  status: 'queued' | 'skipped' | 'failed'
  idempotencyKey: string
  input: unknown
  error: { code: string; message: string } | null
  reason: string | null
  instructionId: string | null
}

export async function advance(
  tx: SqlClient,
  deps: AdvanceDeps,
  r: RunRecord,
  workflow: Workflow,
  fx: Effects,
  known?: Record<string, StepState>,
  versions?: DesiredVersions,
): Promise<void> {
  if (r.status !== 'running') return
  const steps: Record<string, StepState> = known ?? {}
  if (!known) {
    for (const s of (await run<{ stepId: string } & StepState & Record<string, unknown>>(tx, runSteps(r.id)))
      .rows)
      steps[s.stepId] = { status: s.status, output: s.output, error: s.error }
  }
  // Bounded by the number of steps: each round records at least one.
  for (let round = 0; round <= workflow.actions.length + workflow.outputs.length + 1; round++) {
    const plan = planNext(workflow, r.event, { id: r.id }, steps)
    if (plan.finished) {
      // The caller holds the run's lock and the run is running: the update cannot miss.
      fx.statements.push(finishRun(r.id, plan.status))
      fx.record(r.org, `run.${plan.status}`, r.id, { workflowId: r.workflowId, version: r.workflowVersion })
      if (workflow.concurrency !== null) fx.freed.set(r.workflowId, r.org)
      return
    }
    if (plan.moves.length === 0) return
    const rows: StepRow[] = []
    let replan = false
    for (const m of plan.moves) {
      const stepId = m.move === 'start' ? m.step.id : m.stepId
      const key = stepIdempotencyKey(r.id, stepId)
      if (m.move === 'skip') {
        rows.push(row(stepId, m.kind, 'skipped', key, { reason: m.reason }))
        steps[stepId] = { status: 'skipped' }
        replan = true
        continue
      }
      if (m.move === 'fail') {
        rows.push(row(stepId, m.kind, 'failed', key, { error: m.error }))
        steps[stepId] = { status: 'failed', error: m.error }
        replan = true
        continue
      }
      const version = await resolveVersion(tx, r.org, m.step, versions)
      if (typeof version !== 'string') {
        rows.push(row(stepId, m.kind, 'failed', key, { input: m.input, error: version }))
        steps[stepId] = { status: 'failed', error: version }
        replan = true
        continue
      }
      const instructionId = randomUUID()
      const inst = await deps.dispatcher.prepare(
        r.org,
        {
          id: instructionId,
          kind: 'action',
          pool: m.step.pool,
          plugin: m.step.plugin,
          operation: m.kind === 'action' ? 'run' : 'send',
          input: m.input,
          config: m.step.config,
          timeoutMs: m.step.timeoutMs,
          retryLimit: m.step.retry.limit,
          retryDelaySeconds: Math.round(m.step.retry.delayMs / 1000),
          retryBackoff: m.step.retry.backoff === 'exponential',
          pluginVersion: version,
          idempotencyKey: key,
          runId: r.id,
          stepId,
          priority: r.priority ?? 0,
        },
        tx,
      )
      fx.statements.push(inst.statement, inst.job)
      fx.wake.add(inst.queue)
      rows.push(row(stepId, m.kind, 'queued', key, { input: m.input, instructionId }))
      steps[stepId] = { status: 'queued' }
    }
    fx.statements.push(insertSteps(r.id, rows))
    for (const s of rows) {
      fx.record(r.org, `step.${s.status}`, r.id, {
        step: s.stepId,
        kind: s.kind,
        ...(s.reason ? { reason: s.reason } : {}),
        ...(s.error ? { error: s.error } : {}),
      })
    }
    if (!replan) return
  }
}

function row(
  stepId: string,
  kind: 'action' | 'output',
  status: StepRow['status'],
  idempotencyKey: string,
  extra: { input?: unknown; error?: StepRow['error']; reason?: string; instructionId?: string },
): StepRow {
  return {
    stepId,
    kind,
    status,
    idempotencyKey,
    input: extra.input ?? null,
    error: extra.error ?? null,
    reason: extra.reason ?? null,
    instructionId: extra.instructionId ?? null,
  }
}

/**
 * The version a step runs: the pool's desired version of its plugin, which must satisfy the
 * step's range. Otherwise the step fails with a message that says what to run.
 */
async function resolveVersion(
  tx: SqlClient,
  org: string,
  step: StepBase,
  versions: DesiredVersions | undefined,
): Promise<string | { code: string; message: string }> {
  const key = versionKey(step.pool, step.plugin)
  const desired = versions?.has(key)
    ? (versions.get(key) ?? undefined)
    : (await run<{ version: string }>(tx, desiredVersionsPlan(org, step.pool, [step.plugin]))).rows[0]
        ?.version
  const enable = `stavily plugin enable ${step.plugin} --pool ${step.pool} --range "${step.version}"`
  if (desired === undefined) {
    return {
      code: 'STAVILY_ERR_PLUGIN_NOT_ENABLED',
      message: `step ${step.id}: plugin ${step.plugin} is not enabled in pool ${step.pool}; run \`${enable}\``,
    }
  }
  if (!semver.satisfies(desired, step.version, { includePrerelease: true })) {
    return {
      code: 'STAVILY_ERR_PLUGIN_NOT_ENABLED',
      message: `step ${step.id}: pool ${step.pool} has ${step.plugin} ${desired}, which does not satisfy the step's range ${step.version}; ${rangeFix(step, desired)}`,
    }
  }
  return desired
}

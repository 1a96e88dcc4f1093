import {
  type ExpressionContext,
  ExpressionError,
  evaluateCondition,
  parseCondition,
  renderTemplate,
  renderValue,
} from '../expressions/index.ts'
import { expressionContext, type RunInfo, type StepResult, type WorkflowEvent } from './context.ts'
import { renderResponse } from './respond.ts'
import type { ActionStep, OutputStep, StepBase, WebhookRespond, Workflow } from './types.ts'

// What a workflow would do with an event, without doing anything: the filter, each `when`,
// each rendered input, which outputs the outcome selects. Pure: no database, no agents, no
// clock. Steps do not run, so their outputs are unknown unless the caller supplies them;
// a step that depends on an unknown output is reported as `unknown`, not as an error.

export interface DryRunOptions {
  /** Results to assume for steps (by id), as if they had run. Steps without one are assumed to succeed with an unknown output. */
  stepResults?: Readonly<Record<string, Partial<StepResult>>>
  /** The run id expressions see as `run.id` (default "dry-run"). */
  runId?: string
}

export type StepDecision = 'run' | 'skip' | 'unknown' | 'error'

export interface DryRunStep {
  id: string
  kind: 'action' | 'output'
  plugin: string
  version: string
  pool: string
  decision: StepDecision
  /** Why the step is skipped, unknown or in error; null when it would run. */
  reason: string | null
  /** The rendered input, when the decision is `run`. */
  input: unknown
  /** The result the caller supplied for this step, if any. */
  assumed: StepResult | null
}

export interface DryRunResult {
  /** Whether the event passes the trigger's filter (and so would start a run). */
  triggered: boolean
  /** Why it would not start a run. */
  reason: string | null
  /** The rendered debounce/throttle key the run would be grouped under, when the workflow has one. */
  windowKey: unknown
  actions: DryRunStep[]
  outputs: DryRunStep[]
  /** The run outcome the outputs were selected for. */
  outcome: 'succeeded' | 'failed' | null
  /** True when the outcome rests on steps whose results were not supplied (assumed to succeed). */
  outcomeAssumed: boolean
  /**
   * What a webhook with `respond` would answer its caller if the run finished in time: the
   * rendered status and body; `reason` instead when it depends on a step whose result was
   * not supplied. Null when the trigger has no `respond`.
   */
  response: { status: number; body: unknown } | { status: null; body: null; reason: string } | null
}

export function dryRun(workflow: Workflow, event: WorkflowEvent, options: DryRunOptions = {}): DryRunResult {
  const supplied = options.stepResults ?? {}
  const base = expressionContext(event)
  const result: DryRunResult = {
    triggered: true,
    reason: null,
    windowKey: null,
    actions: [],
    outputs: [],
    outcome: null,
    outcomeAssumed: false,
    response: null,
  }

  const filter = 'filter' in workflow.trigger ? workflow.trigger.filter : null
  if (filter !== null) {
    try {
      if (!evaluateCondition(parseCondition(filter), base)) {
        return { ...result, triggered: false, reason: 'the trigger filter is false for this event' }
      }
    } catch (err) {
      return { ...result, triggered: false, reason: `the trigger filter failed: ${message(err)}` }
    }
  }
  const window = workflow.debounce ?? workflow.throttle
  if (window?.key) {
    try {
      result.windowKey = renderTemplate(window.key, base)
    } catch (err) {
      return {
        ...result,
        triggered: false,
        reason: `the ${workflow.debounce ? 'debounce' : 'throttle'} key failed: ${message(err)}`,
      }
    }
  }

  const run: RunInfo = { id: options.runId ?? 'dry-run', workflow: workflow.name, status: 'running' }
  const steps: Record<string, StepResult> = {}
  const unknown = new Set<string>()
  let failedAt: string | null = null

  for (const action of workflow.actions) {
    if (failedAt !== null) {
      result.actions.push(
        entry(action, 'action', 'skip', `not reached: step ${failedAt} failed, which fails the run`),
      )
      continue
    }
    const ctx = expressionContext(event, run, steps)
    const planned = plan(action, 'action', ctx, unknown)
    result.actions.push(planned)
    if (planned.decision === 'skip') {
      steps[action.id] = { status: 'skipped', output: null, error: null }
    } else if (planned.decision === 'error') {
      // An input that cannot be rendered fails the step without a retry: it would fail the same way again.
      failedAt = action.id
    } else if (planned.decision === 'run' && Object.hasOwn(supplied, action.id)) {
      const s = supplied[action.id]!
      const r: StepResult = {
        status: s.status ?? 'succeeded',
        output: s.output ?? null,
        error: s.error ?? null,
      }
      planned.assumed = r
      steps[action.id] = r
      if (r.status !== 'succeeded') failedAt = action.id
    } else {
      unknown.add(action.id)
    }
  }

  result.outcome = failedAt === null ? 'succeeded' : 'failed'
  result.outcomeAssumed = failedAt === null && unknown.size > 0
  const finished: RunInfo = { ...run, status: result.outcome }
  for (const output of workflow.outputs) {
    if (!selects(output.on, result.outcome)) {
      const would = result.outcome === 'succeeded' ? 'succeed' : 'fail'
      const note = result.outcomeAssumed ? ' (assuming steps without supplied results succeed)' : ''
      result.outputs.push(
        entry(output, 'output', 'skip', `runs on ${output.on}; this run would ${would}${note}`),
      )
      continue
    }
    result.outputs.push(plan(output, 'output', expressionContext(event, finished, steps), unknown))
  }
  const respond = workflow.trigger.kind === 'webhook' ? workflow.trigger.respond : null
  if (respond)
    result.response = response(respond, expressionContext(event, finished, steps), finished, unknown)
  return result
}

function response(
  respond: WebhookRespond,
  ctx: ExpressionContext,
  run: RunInfo,
  unknown: ReadonlySet<string>,
): NonNullable<DryRunResult['response']> {
  // Rendered field by field first, so a dependency on a step the dry run did not run is
  // reported as such rather than as the error document a real run would answer.
  for (const value of [respond.status, respond.body]) {
    try {
      if (value !== null && typeof value !== 'number') renderValue(value, ctx)
    } catch (err) {
      const dependency = unknownDependency(err, unknown)
      if (dependency)
        return {
          status: null,
          body: null,
          reason: `depends on steps.${dependency}, which a dry run does not run: supply its result (stepResults.${dependency}) to see the response`,
        }
    }
  }
  return renderResponse(respond, ctx, run)
}

function selects(on: OutputStep['on'], outcome: 'succeeded' | 'failed'): boolean {
  return on === 'always' || (on === 'success') === (outcome === 'succeeded')
}

function plan(
  step: StepBase,
  kind: 'action' | 'output',
  ctx: ExpressionContext,
  unknown: ReadonlySet<string>,
): DryRunStep {
  try {
    if (step.when !== null && !evaluateCondition(parseCondition(step.when), ctx)) {
      return entry(step, kind, 'skip', 'its when condition is false')
    }
    const planned = entry(step, kind, 'run', null)
    planned.input = renderValue(step.input, ctx)
    return planned
  } catch (err) {
    const dependency = unknownDependency(err, unknown)
    if (dependency) {
      return entry(
        step,
        kind,
        'unknown',
        `depends on steps.${dependency}, which a dry run does not run: supply its result (stepResults.${dependency}) to see this step`,
      )
    }
    return entry(step, kind, 'error', message(err))
  }
}

// An expression that failed because `steps` has no entry for a step that would have run.
function unknownDependency(err: unknown, unknown: ReadonlySet<string>): string | undefined {
  if (!(err instanceof ExpressionError) || err.code !== 'STAVILY_ERR_EXPRESSION_UNKNOWN_PATH')
    return undefined
  const missing = err.data?.missing
  const path = err.data?.path
  if (typeof missing === 'string' && unknown.has(missing) && path === `steps.${missing}`) return missing
  return undefined
}

function entry(
  step: ActionStep | OutputStep,
  kind: 'action' | 'output',
  decision: StepDecision,
  reason: string | null,
): DryRunStep {
  return {
    id: step.id,
    kind,
    plugin: step.plugin,
    version: step.version,
    pool: step.pool,
    decision,
    reason,
    input: null,
    assumed: null,
  }
}

function message(err: unknown): string {
  if (err instanceof ExpressionError) return err.message
  throw err
}

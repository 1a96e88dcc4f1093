import { ExpressionError, evaluateCondition, parseCondition, renderValue } from '../../expressions/index.ts'
import { expressionContext, type RunInfo, type StepResult, type WorkflowEvent } from '../context.ts'
import { isTerminal, type StepStatus } from '../state-machine.ts'
import type { StepBase, Workflow } from '../types.ts'

// The engine's decision function: given a workflow, the event and the steps so far, what
// happens next. Pure, so every rule here is tested without a database or agents, and the
// engine (which persists and dispatches what this returns) stays a thin loop:
//   moves = planNext(...); apply each move; when a step finishes, call planNext again.
//
// Actions run one at a time, in order. The first action that fails, times out or is
// cancelled ends the actions with that outcome; later actions are skipped. Then every
// output whose `on` matches the outcome starts at once; the run finishes when they are all
// done. An output's failure is recorded on its step but does not change the run's outcome:
// the run's status says whether the actions did their job.

export interface StepState {
  status: StepStatus
  output?: unknown
  error?: { code: string; message: string } | null
}

export type Move =
  /** Start the step with this rendered input (enqueue its instruction). */
  | { move: 'start'; kind: 'action' | 'output'; step: StepBase; input: unknown }
  /** Record the step as skipped. */
  | { move: 'skip'; kind: 'action' | 'output'; stepId: string; reason: string }
  /** Record the step as failed without running it: its `when` or input cannot be evaluated. */
  | { move: 'fail'; kind: 'action' | 'output'; stepId: string; error: { code: string; message: string } }

export type Plan =
  | { moves: Move[]; finished: false }
  /** Nothing left to start or wait for: record the run's final status. */
  | { moves: []; finished: true; status: 'succeeded' | 'failed' | 'timed_out' | 'cancelled' }

export function planNext(
  workflow: Workflow,
  event: WorkflowEvent,
  run: { id: string },
  steps: Readonly<Record<string, StepState>>,
): Plan {
  const results: Record<string, StepResult> = {}
  for (const [id, s] of Object.entries(steps))
    results[id] = { status: s.status, output: s.output ?? null, error: s.error ?? null }
  const info: RunInfo = { id: run.id, workflow: workflow.name, status: 'running' }

  let outcome: 'succeeded' | 'failed' | 'timed_out' | 'cancelled' = 'succeeded'
  let endedBy: string | null = null
  const moves: Move[] = []
  for (const action of workflow.actions) {
    const state = steps[action.id]
    if (endedBy !== null) {
      if (!state)
        moves.push({
          move: 'skip',
          kind: 'action',
          stepId: action.id,
          reason: `step ${endedBy} did not succeed`,
        })
      continue
    }
    if (!state) {
      const move = decide(action, 'action', expressionContext(event, info, results))
      if (move.move !== 'fail') return { moves: [...moves, move], finished: false }
      // Failing without running ends the actions like any failure; the outputs are planned below.
      moves.push(move)
      results[action.id] = { status: 'failed', output: null, error: move.error }
      outcome = 'failed'
      endedBy = action.id
      continue
    }
    if (!isTerminal('step', state.status)) return { moves: [], finished: false }
    if (state.status === 'succeeded' || state.status === 'skipped') continue
    outcome =
      state.status === 'timed_out' ? 'timed_out' : state.status === 'cancelled' ? 'cancelled' : 'failed'
    endedBy = action.id
  }

  // A cancelled run runs no outputs.
  const finishedInfo: RunInfo = { ...info, status: outcome === 'succeeded' ? 'succeeded' : 'failed' }
  let waiting = false
  for (const output of workflow.outputs) {
    const state = steps[output.id]
    if (state) {
      if (!isTerminal('step', state.status)) waiting = true
      continue
    }
    const wanted =
      outcome !== 'cancelled' &&
      (output.on === 'always' || (output.on === 'success') === (outcome === 'succeeded'))
    if (!wanted) {
      const why =
        outcome === 'cancelled'
          ? 'the run was cancelled'
          : `it runs on ${output.on} and the run ${outcome === 'succeeded' ? 'succeeded' : 'failed'}`
      moves.push({ move: 'skip', kind: 'output', stepId: output.id, reason: why })
      continue
    }
    moves.push(decide(output, 'output', expressionContext(event, finishedInfo, results)))
  }
  // Skips and fails still have to be recorded before the run can finish: the engine applies
  // them and asks again.
  if (moves.length > 0 || waiting) return { moves, finished: false }
  return { moves: [], finished: true, status: outcome }
}

function decide(step: StepBase, kind: 'action' | 'output', ctx: ReturnType<typeof expressionContext>): Move {
  try {
    if (step.when !== null && !evaluateCondition(parseCondition(step.when), ctx)) {
      return { move: 'skip', kind, stepId: step.id, reason: 'its when condition is false' }
    }
    return { move: 'start', kind, step, input: renderValue(step.input, ctx) }
  } catch (err) {
    if (!(err instanceof ExpressionError)) throw err
    return { move: 'fail', kind, stepId: step.id, error: { code: err.code, message: err.message } }
  }
}

import { WorkflowError } from './errors.ts'

// Runs and steps move through these statuses, and only along these edges. The engine
// persists a transition with `UPDATE ... WHERE status = ANY(<allowed from>)`, using
// `allowedFrom`, so two orchestrator instances racing on the same run cannot both win.

export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out'] as const
export type RunStatus = (typeof RUN_STATUSES)[number]

/** Steps also know `skipped`: their `when` was false, or the run ended before them. */
export const STEP_STATUSES = [...RUN_STATUSES, 'skipped'] as const
export type StepStatus = (typeof STEP_STATUSES)[number]

const RUN_EDGES: Record<RunStatus, readonly RunStatus[]> = {
  queued: ['running', 'cancelled'],
  running: ['succeeded', 'failed', 'cancelled', 'timed_out'],
  succeeded: [],
  failed: [],
  cancelled: [],
  timed_out: [],
}

const STEP_EDGES: Record<StepStatus, readonly StepStatus[]> = {
  queued: ['running', 'cancelled', 'skipped'],
  // running → queued is a retry: the attempt failed or its lease ran out, and the step has retries left.
  running: ['succeeded', 'failed', 'cancelled', 'timed_out', 'queued'],
  succeeded: [],
  failed: [],
  cancelled: [],
  timed_out: [],
  skipped: [],
}

export type Machine = 'run' | 'step'

function edges(machine: Machine): Record<string, readonly string[]> {
  return machine === 'run' ? RUN_EDGES : STEP_EDGES
}

export function isTerminal(machine: Machine, status: string): boolean {
  const e = edges(machine)
  return Object.hasOwn(e, status) && e[status]!.length === 0
}

export function canTransition(machine: Machine, from: string, to: string): boolean {
  const e = edges(machine)
  return Object.hasOwn(e, from) && e[from]!.includes(to)
}

/** Statuses from which `to` may be reached: the `WHERE status = ANY(...)` of a guarded update. */
export function allowedFrom(machine: Machine, to: string): string[] {
  return Object.entries(edges(machine))
    .filter(([, next]) => next.includes(to))
    .map(([from]) => from)
}

/**
 * Throws STAVILY_ERR_ILLEGAL_TRANSITION unless `from → to` is an edge of the machine.
 * `subject` names the run or step in the message ("run 0b1…", "step restart").
 */
export function assertTransition(
  machine: Machine,
  from: string,
  to: string,
  subject: string = machine,
): void {
  if (canTransition(machine, from, to)) return
  const e = edges(machine)
  const known = Object.keys(e)
  if (!Object.hasOwn(e, from) || !Object.hasOwn(e, to)) {
    const bad = Object.hasOwn(e, from) ? to : from
    throw new WorkflowError(
      'STAVILY_ERR_ILLEGAL_TRANSITION',
      `${subject}: unknown status "${bad}"; expected one of: ${known.join(', ')}`,
      {
        machine,
        from,
        to,
      },
    )
  }
  const next = e[from]!
  const allowed = next.length === 0 ? `"${from}" is final` : `from "${from}" it may go to: ${next.join(', ')}`
  throw new WorkflowError(
    'STAVILY_ERR_ILLEGAL_TRANSITION',
    `${subject}: cannot go from "${from}" to "${to}"; ${allowed}`,
    {
      machine,
      from,
      to,
    },
  )
}

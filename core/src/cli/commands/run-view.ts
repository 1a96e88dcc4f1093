import { between, brief, type Output, time } from '../output.ts'
import { stepOutputLines } from '../step-outputs.ts'

// How a run reads on the terminal, shared by run get, run list and run watch. Its own file:
// run.ts (the group) lists run-watch.ts's command, and run-watch.ts prints runs, so the two
// importing each other left one of them undefined in the bundled CLI (stavily --help failed
// with "reading 'words'" from dist/, while tsx from source did not show it).

export interface Step {
  stepId: string
  kind: string
  status: string
  attempt: number
  error: { code: string; message: string } | null
  reason: string | null
  startedAt: string | null
  finishedAt: string | null
  output?: unknown
}

export interface Run {
  id: string
  workflowId: string
  workflowName?: string
  workflow?: string | { name?: string }
  workflowVersion: number
  status: string
  createdAt: string
  startedAt: string | null
  finishedAt: string | null
  /** Claim order of its steps in their pools (higher first); 0 unless a manual run set it. */
  priority?: number
  steps?: Step[]
}

export const FINISHED = new Set(['succeeded', 'failed', 'cancelled', 'timed_out'])

export function workflowOf(r: Run): string {
  if (r.workflowName) return r.workflowName
  if (typeof r.workflow === 'string') return r.workflow
  if (r.workflow && typeof r.workflow.name === 'string') return r.workflow.name
  return r.workflowId
}

export function printRun(out: Output, r: Run): void {
  out.line(`run ${r.id}: ${out.status(r.status)}`)
  out.line(`workflow: ${workflowOf(r)} (version ${r.workflowVersion})`)
  if (r.priority) out.line(`priority: ${r.priority}`)
  out.line(`created:  ${time(r.createdAt)}`)
  if (r.startedAt) out.line(`started:  ${time(r.startedAt)}`)
  if (r.finishedAt)
    out.line(`finished: ${time(r.finishedAt)} (${between(r.startedAt ?? r.createdAt, r.finishedAt)})`)
  const steps = r.steps ?? []
  if (steps.length === 0) return
  out.line()
  out.table(
    ['STEP', 'KIND', 'STATUS', 'ATTEMPT', 'DURATION', 'ERROR / REASON'],
    steps.map((s) => [
      s.stepId,
      s.kind,
      out.status(s.status),
      String(s.attempt),
      between(s.startedAt, s.finishedAt ?? (FINISHED.has(s.status) ? s.startedAt : null)),
      s.error ? `${s.error.code}: ${brief(s.error.message, 70)}` : (s.reason ?? ''),
    ]),
  )
  const outputs = stepOutputLines(steps, r.id)
  if (outputs.length > 0) out.line()
  for (const l of outputs) out.line(l)
}

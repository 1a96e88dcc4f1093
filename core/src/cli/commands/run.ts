import { itemsOf } from '../api-client.ts'
import { intOption, sinceOption } from '../args.ts'
import { usageError } from '../cli-error.ts'
import { EXIT } from '../exit-codes.ts'
import { between, brief, type Output, time } from '../output.ts'
import type { CommandSpec, GroupSpec } from '../spec.ts'
import { stepOutputLines } from '../step-outputs.ts'
import { runLogs } from './run-logs.ts'
import { runWatch } from './run-watch.ts'
import { enc } from './workflow-document.ts'

// `stavily run …`: list runs, show one with its steps, follow one live, cancel one.

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

const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out']

const list: CommandSpec = {
  words: ['run', 'list'],
  summary: 'list runs, newest first',
  args: [],
  options: {
    workflow: { type: 'string', value: 'NAME', description: 'only runs of this workflow (name or id)' },
    status: {
      type: 'string',
      value: 'STATUS',
      description: `only runs in this status (${STATUSES.join(', ')})`,
    },
    since: {
      type: 'string',
      value: 'AGE|DATE',
      description: 'only runs created since then: 30m, 12h, 7d or an ISO date',
    },
    limit: { type: 'string', value: 'N', description: 'at most N runs (default 20, at most 500)' },
  },
  examples: ['stavily run list --workflow restart-on-alert --status failed --since 1d'],
  async run({ opts, out, json, client }) {
    if (opts.status !== undefined && !STATUSES.includes(opts.status as string))
      throw usageError(`--status: expected one of ${STATUSES.join(', ')}, got "${opts.status}"`)
    const body = await (await client()).get('/runs', {
      workflow: opts.workflow as string | undefined,
      status: opts.status as string | undefined,
      since: sinceOption(opts.since),
      limit: intOption('limit', opts.limit, 1, 500) ?? 20,
    })
    if (json) {
      out.json(body)
      return EXIT.ok
    }
    const runs = itemsOf<Run>(body, 'runs')
    if (runs.length === 0) {
      out.note('no runs')
      return EXIT.ok
    }
    // A priority column only when a run on the page has one: most runs are 0 (event-started).
    const withPriority = runs.some((r) => r.priority)
    out.table(
      ['ID', 'STATUS', 'WORKFLOW', 'VERSION', ...(withPriority ? ['PRIORITY'] : []), 'CREATED', 'DURATION'],
      runs.map((r) => [
        r.id,
        out.status(r.status),
        workflowOf(r),
        String(r.workflowVersion),
        ...(withPriority ? [String(r.priority ?? 0)] : []),
        time(r.createdAt),
        between(r.startedAt, r.finishedAt),
      ]),
    )
    if ((body as { nextCursor?: string | null }).nextCursor)
      out.note(`(more runs: raise --limit, or narrow with --workflow, --status, --since)`)
    return EXIT.ok
  },
}

const get: CommandSpec = {
  words: ['run', 'get'],
  summary: 'show a run and its steps',
  args: [{ name: 'ID', required: true, description: 'run id' }],
  options: {},
  async run({ args, out, json, client }) {
    const r = await (await client()).get<Run>(`/runs/${enc(args[0]!)}`)
    if (json) out.json(r)
    else printRun(out, r)
    return EXIT.ok
  },
}

const cancel: CommandSpec = {
  words: ['run', 'cancel'],
  summary: 'cancel a run and its steps in flight',
  args: [{ name: 'ID', required: true, description: 'run id' }],
  options: {},
  async run({ args, out, json, client }) {
    const { body } = await (await client()).request<Run>('POST', `/runs/${enc(args[0]!)}/cancel`)
    if (json) out.json(body)
    else out.line(`run ${body.id}: ${out.status(body.status)}`)
    return EXIT.ok
  },
}

const retry: CommandSpec = {
  words: ['run', 'retry'],
  summary: 'start a new run of the same workflow version with the same event',
  args: [{ name: 'ID', required: true, description: 'run id' }],
  options: {},
  async run({ args, out, json, client }) {
    const { body } = await (await client()).request<Run>('POST', `/runs/${enc(args[0]!)}/retry`)
    if (json) out.json(body)
    else out.line(`run ${body.id} started (retry of ${args[0]}): ${out.status(body.status)}`)
    return EXIT.ok
  },
}

export const runGroup: GroupSpec = {
  name: 'run',
  summary: 'runs: one execution of a workflow for one event',
  commands: [list, get, runWatch, runLogs, cancel, retry],
}

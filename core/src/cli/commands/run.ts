import { itemsOf } from '../api-client.ts'
import { intOption, sinceOption } from '../args.ts'
import { usageError } from '../cli-error.ts'
import { EXIT } from '../exit-codes.ts'
import { between, time } from '../output.ts'
import type { CommandSpec, GroupSpec } from '../spec.ts'
import { runLogs } from './run-logs.ts'
import { printRun, type Run, workflowOf } from './run-view.ts'
import { runWatch } from './run-watch.ts'
import { enc } from './workflow-document.ts'

// `stavily run …`: list runs, show one with its steps, follow one live, cancel one.

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

import { usageError } from '../cli-error.ts'
import { EXIT } from '../exit-codes.ts'
import { brief, type Output } from '../output.ts'
import { jsonArgument, readDocument } from '../read-input.ts'
import type { CommandSpec } from '../spec.ts'
import { documentRefused } from './workflow-document.ts'

// `stavily workflow dry-run FILE --event …`: what the (unsaved) document would do with an
// event — whether it triggers, each step's decision and rendered input — running nothing.

interface DryRunStep {
  id: string
  kind: string
  plugin: string
  version: string
  pool: string
  decision: string
  reason: string | null
  input: unknown
}

interface DryRunResult {
  triggered: boolean
  reason: string | null
  windowKey: unknown
  actions: DryRunStep[]
  outputs: DryRunStep[]
  outcome: string | null
  outcomeAssumed: boolean
}

function steps(out: Output, title: string, list: DryRunStep[]): void {
  if (list.length === 0) return
  out.line(`${title}:`)
  out.table(
    ['  STEP', 'PLUGIN', 'POOL', 'DECISION', 'INPUT / REASON'],
    list.map((s) => [
      `  ${s.id}`,
      `${s.plugin}@${s.version}`,
      s.pool,
      out.status(s.decision),
      s.decision === 'run' ? brief(s.input, 80) : (s.reason ?? '-'),
    ]),
  )
}

export const workflowDryRun: CommandSpec = {
  words: ['workflow', 'dry-run'],
  summary: 'show what FILE would do with an event, without running anything',
  args: [{ name: 'FILE', required: true, description: 'the workflow document (need not be applied)' }],
  options: {
    event: {
      type: 'string',
      value: 'JSON|@FILE',
      description: 'the event: {"data": {...}, "type"?: "...", "source"?: "..."}',
    },
    steps: {
      type: 'string',
      value: 'JSON|@FILE',
      description: 'results to assume for steps: {"restart": {"status": "failed"}}',
    },
  },
  examples: [
    `stavily workflow dry-run wf.yaml --event '{"data": {"labels": {"severity": "critical"}}}'`,
    'stavily workflow dry-run wf.yaml --event @alert.json --steps \'{"restart": {"status": "failed"}}\'',
  ],
  async run({ io, args, opts, out, json, client }) {
    if (typeof opts.event !== 'string')
      throw usageError('stavily workflow dry-run: missing --event', 'pass the event as JSON or @FILE')
    const event = await jsonArgument(io, 'event', opts.event)
    if (typeof event !== 'object' || event === null || Array.isArray(event) || !('data' in event))
      throw usageError('--event: expected an object with a "data" field: {"data": {...}}')
    const stepResults =
      typeof opts.steps === 'string' ? await jsonArgument(io, 'steps', opts.steps) : undefined
    const doc = await readDocument(io, args[0]!)
    let r: DryRunResult
    try {
      r = (
        await (
          await client()
        ).request<DryRunResult>('POST', '/workflows/dry-run', {
          body: { document: doc.text, event, ...(stepResults !== undefined ? { steps: stepResults } : {}) },
        })
      ).body
    } catch (err) {
      throw documentRefused(err, doc.name, out)
    }
    if (json) {
      out.json(r)
      return EXIT.ok
    }
    if (!r.triggered) {
      out.line(`trigger: ${out.paint('would not start a run', 'yellow')}${r.reason ? `: ${r.reason}` : ''}`)
      return EXIT.ok
    }
    out.line(`trigger: ${out.paint('would start a run', 'green')}`)
    if (r.windowKey !== null && r.windowKey !== undefined) out.line(`window key: ${brief(r.windowKey, 80)}`)
    steps(out, 'actions', r.actions)
    steps(out, 'outputs', r.outputs)
    if (r.outcome)
      out.line(
        `outcome: ${out.status(r.outcome)}${r.outcomeAssumed ? ' (assuming unsupplied steps succeed)' : ''}`,
      )
    out.note('dry run: nothing was run')
    return EXIT.ok
  },
}

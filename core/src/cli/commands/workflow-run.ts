import { usageError } from '../cli-error.ts'
import { EXIT } from '../exit-codes.ts'
import { jsonArgument } from '../read-input.ts'
import type { CommandSpec } from '../spec.ts'
import { runWatch } from './run-watch.ts'
import { enc } from './workflow-document.ts'

// `stavily workflow run NAME [--event FILE] [--priority N] [--wait]`: starts a workflow now
// with given event data (POST /workflows/{idOrName}/runs), as an operator would by hand or a
// script by API call. --wait follows the run as `stavily run watch` does.

/** `--priority`: an integer; the server checks the range and names the field. */
export function priorityOption(value: unknown): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || !/^-?\d{1,4}$/.test(value))
    throw usageError(`--priority: expected an integer from -100 to 100 (higher runs first), got "${value}"`)
  return Number(value)
}

/** `--event FILE` (a JSON file, `-` for standard input), or inline JSON / @FILE as other commands take it. */
export async function eventOption(
  io: Parameters<CommandSpec['run']>[0]['io'],
  value: unknown,
): Promise<Record<string, unknown> | undefined> {
  if (typeof value !== 'string') return undefined
  const inline = value.startsWith('{') || value.startsWith('@')
  const event = await jsonArgument(io, 'event', inline ? value : `@${value}`)
  if (typeof event !== 'object' || event === null || Array.isArray(event))
    throw usageError('--event: expected a JSON object such as {"data": {"service": "api"}}')
  return event as Record<string, unknown>
}

// {"data": {...}} as documented; an object without "data" (and without "type") is the data
// itself. A manual run's event type is the platform's ("manual"): a file that names another
// is refused here, as the server would, saying where its fields go.
function eventBody(event: Record<string, unknown>): { data: unknown } {
  if (event.type !== undefined && event.type !== 'manual')
    throw usageError(
      `--event: "type" is always "manual" for a manual run (the platform sets it), got ${JSON.stringify(event.type)}; put your fields under "data"`,
    )
  if (!('data' in event) && !('type' in event)) return { data: event }
  return { data: event.data ?? {} }
}

export const workflowRun: CommandSpec = {
  words: ['workflow', 'run'],
  summary: 'start a workflow now with an event (exit 0 once started; with --wait, 0 if the run succeeded)',
  args: [{ name: 'NAME', required: true, description: 'workflow name or id' }],
  options: {
    event: {
      type: 'string',
      value: 'FILE',
      description:
        'the event\'s data as JSON: {"data": {...}} (- reads standard input; an object without "data" is the data)',
    },
    priority: {
      type: 'string',
      value: 'N',
      description: 'claim order of its steps in their pools, -100 to 100 (default 0; higher first)',
    },
    wait: { type: 'boolean', description: 'follow the run until it ends, as `stavily run watch`' },
  },
  details:
    'The event\'s source and type are both "manual"; the workflow\'s filter still applies (a false filter starts no run and\nexits 1 saying so). A disabled workflow is refused: enable it first.',
  examples: [
    'stavily workflow run restart-on-alert --event alert.json --wait',
    'echo \'{"data": {"service": "api"}}\' | stavily workflow run restart-on-alert --event -',
  ],
  async run(ctx) {
    const { io, args, opts, out, json, client } = ctx
    const event = await eventOption(io, opts.event)
    const priority = priorityOption(opts.priority)
    const api = await client()
    const { body } = await api.request<{
      run: { id: string; status: string; workflowVersion: number } | null
      reason?: string
    }>('POST', `/workflows/${enc(args[0]!)}/runs`, {
      body: {
        ...(event ? { event: eventBody(event) } : {}),
        ...(priority !== undefined ? { priority } : {}),
      },
    })
    if (!body.run) {
      if (json) out.json(body)
      else out.note(`workflow ${args[0]}: its filter is false for this event; no run started`)
      return EXIT.failed
    }
    if (!opts.wait) {
      if (json) out.json(body)
      else {
        out.line(body.run.id)
        out.note(`run ${body.run.id} ${body.run.status} (follow it: stavily run watch ${body.run.id})`)
      }
      return EXIT.ok
    }
    if (!json) out.note(`run ${body.run.id} started`)
    return runWatch.run({ ...ctx, args: [body.run.id] })
  },
}

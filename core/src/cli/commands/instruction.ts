import { CliError, usageError } from '../cli-error.ts'
import { EXIT } from '../exit-codes.ts'
import { brief } from '../output.ts'
import { jsonArgument } from '../read-input.ts'
import type { CommandSpec, GroupSpec } from '../spec.ts'
import { enc } from './workflow-document.ts'
import { priorityOption } from './workflow-run.ts'

// `stavily instruction run --pool P --plugin NAME --input FILE`: an ad-hoc action on a pool,
// outside any workflow (POST /instructions). --wait follows it until its result.

interface Instruction {
  id: string
  pool: string
  plugin: string
  status: string
  attempt: number
  maxAttempts: number
  agentId: string | null
  output: unknown
  error: { code?: string; message?: string } | null
  priority?: number
}

const FINISHED = new Set(['succeeded', 'failed', 'cancelled'])
/** How often --wait re-reads the instruction: quick enough to feel live, cheap for the server. */
const POLL_MS = 500

async function jsonFile(io: Parameters<CommandSpec['run']>[0]['io'], option: string, value: unknown) {
  if (typeof value !== 'string') return undefined
  const inline = value.startsWith('{') || value.startsWith('@')
  const parsed = await jsonArgument(io, option, inline ? value : `@${value}`)
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw usageError(`--${option}: expected a JSON object`)
  return parsed
}

const run: CommandSpec = {
  words: ['instruction', 'run'],
  summary: 'run an action plugin once on a pool, outside any workflow (with --wait, exit 0 if it succeeded)',
  args: [],
  options: {
    pool: { type: 'string', value: 'POOL', description: 'the action pool to run it on (required)' },
    plugin: { type: 'string', value: 'NAME', description: 'the plugin, enabled in that pool (required)' },
    input: {
      type: 'string',
      value: 'FILE',
      description: 'its input as a JSON file (- reads standard input)',
    },
    config: { type: 'string', value: 'FILE', description: 'its config as a JSON file' },
    version: { type: 'string', value: 'V', description: 'the exact version the pool must have enabled' },
    priority: {
      type: 'string',
      value: 'N',
      description: 'claim order in the pool, -100 to 100 (default 0; higher first)',
    },
    wait: { type: 'boolean', description: 'follow it until its result, printing each change' },
  },
  details:
    'Only action pools take instructions: sensor agents run the sensors their workflows assign.\nWithout --wait the instruction id goes to standard output.',
  examples: ['stavily instruction run --pool web --plugin @stavily/restart-service --input in.json --wait'],
  async run({ io, opts, out, json, client }) {
    if (typeof opts.pool !== 'string') throw usageError('stavily instruction run: missing --pool POOL')
    if (typeof opts.plugin !== 'string') throw usageError('stavily instruction run: missing --plugin NAME')
    const input = await jsonFile(io, 'input', opts.input)
    const config = await jsonFile(io, 'config', opts.config)
    const priority = priorityOption(opts.priority)
    const api = await client()
    const { body: created } = await api.request<Instruction>('POST', '/instructions', {
      body: {
        kind: 'action',
        operation: 'run',
        pool: opts.pool,
        plugin: opts.plugin,
        ...(input ? { input } : {}),
        ...(config ? { config } : {}),
        ...(typeof opts.version === 'string' ? { version: opts.version } : {}),
        ...(priority !== undefined ? { priority } : {}),
      },
    })
    if (!opts.wait) {
      if (json) out.json(created)
      else {
        out.line(created.id)
        out.note(`instruction ${created.id} ${created.status} on pool ${created.pool}`)
      }
      return EXIT.ok
    }
    let interrupted = false
    let wake = () => {}
    const off = io.onInterrupt(() => {
      interrupted = true
      wake()
    })
    let last = ''
    let current = created
    try {
      for (;;) {
        const seen = `${current.status}#${current.attempt}`
        if (seen !== last && !json) {
          last = seen
          const who = current.agentId ? ` on agent ${current.agentId}` : ''
          out.note(
            `instruction ${current.id}: ${current.status} (attempt ${current.attempt}/${current.maxAttempts})${who}`,
          )
        }
        if (FINISHED.has(current.status)) break
        await new Promise<void>((r) => {
          const t = setTimeout(r, POLL_MS)
          wake = () => {
            clearTimeout(t)
            r()
          }
        })
        if (interrupted) {
          out.note(
            `stopped waiting; instruction ${current.id} goes on (stavily instruction run is not cancelled)`,
          )
          return 130
        }
        current = await api.get<Instruction>(`/instructions/${enc(current.id)}`)
      }
    } finally {
      off()
    }
    if (json) out.json(current)
    else if (current.status === 'succeeded') out.line(JSON.stringify(current.output ?? null))
    else if (current.error) {
      const { code, message } = current.error
      const why = [code, message ?? brief(current.error, 200)].filter(Boolean).join(': ')
      throw new CliError(EXIT.failed, `instruction ${current.id} ${current.status}: ${why}`)
    }
    return current.status === 'succeeded' ? EXIT.ok : EXIT.failed
  },
}

export const instructionGroup: GroupSpec = {
  name: 'instruction',
  summary: 'one-off actions on a pool, outside any workflow',
  commands: [run],
}

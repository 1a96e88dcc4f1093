import { itemsOf } from '../api-client.ts'
import { usageError } from '../cli-error.ts'
import { EXIT } from '../exit-codes.ts'
import { time } from '../output.ts'
import type { CommandSpec, GroupSpec } from '../spec.ts'
import { enc } from './workflow-document.ts'

// `stavily agent …`: the fleet — list with presence, mint enrollment tokens, revoke.

interface Agent {
  id: string
  name: string
  kind: string
  pool: string
  labels?: Record<string, string>
  version?: string | null
  status: string
  online?: boolean
  drain?: boolean
  lastSeenAt?: string | null
}

const list: CommandSpec = {
  words: ['agent', 'list'],
  summary: 'list agents with their presence',
  args: [],
  options: {},
  async run({ out, json, client }) {
    const body = await (await client()).get('/agents')
    if (json) {
      out.json(body)
      return EXIT.ok
    }
    const agents = itemsOf<Agent>(body, 'agents')
    if (agents.length === 0) {
      out.note('no agents yet: mint an enrollment token with `stavily agent token --kind action --pool POOL`')
      return EXIT.ok
    }
    out.table(
      ['ID', 'NAME', 'KIND', 'POOL', 'STATUS', 'VERSION', 'LAST SEEN'],
      agents.map((a) => [
        a.id,
        a.name,
        a.kind,
        a.pool,
        out.status(a.drain && a.status !== 'revoked' ? `${a.status} (draining)` : a.status),
        a.version ?? '-',
        time(a.lastSeenAt),
      ]),
    )
    return EXIT.ok
  },
}

/** `1h`, `30m`, `7d`, `90s` or plain seconds → seconds. */
export function parseTtl(value: string): number {
  const m = /^([0-9]+)(s|m|h|d)?$/.exec(value)
  if (!m) throw usageError(`--ttl: expected a duration such as 30m, 12h or 7d, got "${value}"`)
  const n = Number(m[1])
  const seconds = n * ({ s: 1, m: 60, h: 3_600, d: 86_400 } as const)[(m[2] ?? 's') as 's']
  if (seconds < 60) throw usageError(`--ttl: at least 60 seconds, got "${value}"`)
  return seconds
}

export function parseLabels(values: string[]): Record<string, string> {
  const labels: Record<string, string> = {}
  for (const v of values.flatMap((s) => s.split(','))) {
    const eq = v.indexOf('=')
    if (eq <= 0) throw usageError(`--labels: expected key=value, got "${v}"`)
    labels[v.slice(0, eq).trim()] = v.slice(eq + 1).trim()
  }
  return labels
}

const token: CommandSpec = {
  words: ['agent', 'token'],
  summary: 'mint an enrollment token for agents of one kind and pool (printed once)',
  args: [],
  options: {
    kind: { type: 'string', value: 'KIND', description: 'sensor or action (required)' },
    pool: { type: 'string', value: 'POOL', description: 'the pool the agents join (required)' },
    labels: { type: 'string', value: 'k=v[,k=v]', multiple: true, description: 'labels the agents get' },
    ttl: {
      type: 'string',
      value: 'DURATION',
      description: 'how long the token is valid (e.g. 30m, 12h, 7d)',
    },
    uses: { type: 'string', value: 'N', description: 'how many agents may enroll with it' },
  },
  details: 'Only the token goes to standard output, so it can be captured: TOKEN=$(stavily agent token …).',
  examples: ['stavily agent token --kind action --pool web-servers --labels region=eu --ttl 1h'],
  async run({ opts, out, json, client }) {
    const kind = opts.kind as string | undefined
    if (kind !== 'sensor' && kind !== 'action')
      throw usageError(
        `--kind: expected sensor or action, got ${kind === undefined ? 'nothing' : `"${kind}"`}`,
      )
    if (typeof opts.pool !== 'string') throw usageError('stavily agent token: missing --pool POOL')
    if (opts.uses !== undefined && !/^[1-9][0-9]*$/.test(opts.uses as string))
      throw usageError(`--uses: expected a positive integer, got "${opts.uses}"`)
    const body = {
      kind,
      pool: opts.pool,
      ...(opts.labels ? { labels: parseLabels(opts.labels as string[]) } : {}),
      ...(opts.ttl ? { ttlSeconds: parseTtl(opts.ttl as string) } : {}),
      ...(opts.uses ? { uses: Number(opts.uses) } : {}),
    }
    const { body: t } = await (await client()).request<{
      token: string
      kind: string
      pool: string
      expiresAt: string
      usesLeft: number
    }>('POST', '/enrollment-tokens', { body })
    if (json) {
      out.json(t)
      return EXIT.ok
    }
    out.line(t.token)
    out.note(
      `enrollment token for ${t.kind} agents of pool ${t.pool}: valid until ${time(t.expiresAt)} UTC, ${t.usesLeft} use${t.usesLeft === 1 ? '' : 's'}; shown once`,
    )
    return EXIT.ok
  },
}

const revoke: CommandSpec = {
  words: ['agent', 'revoke'],
  summary: "revoke an agent's credential (its work goes back to the queue)",
  args: [{ name: 'ID', required: true, description: 'agent id' }],
  options: {},
  async run({ args, out, json, client }) {
    const { body } = await (await client()).request<Agent>('POST', `/agents/${enc(args[0]!)}/revoke`)
    if (json) out.json(body)
    else out.line(`agent ${body.name} (${body.id}) ${out.status(body.status)}`)
    return EXIT.ok
  },
}

const drain: CommandSpec = {
  words: ['agent', 'drain'],
  summary: 'give an agent no new work (it finishes what it holds); --undo gives it work again',
  args: [{ name: 'ID', required: true, description: 'agent id' }],
  options: { undo: { type: 'boolean', description: 'stop draining' } },
  async run({ args, opts, out, json, client }) {
    const { body } = await (await client()).request<Agent>('POST', `/agents/${enc(args[0]!)}/drain`, {
      body: { drain: opts.undo !== true },
    })
    if (json) out.json(body)
    else
      out.line(`agent ${body.name} (${body.id}) ${body.drain ? 'draining: no new work' : 'takes work again'}`)
    return EXIT.ok
  },
}

export const agentGroup: GroupSpec = {
  name: 'agent',
  summary: 'agents: the sensor and action processes that run plugins',
  commands: [list, token, revoke, drain],
}

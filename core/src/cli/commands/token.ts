import { newSecret } from '../../auth/secrets.ts'
import { itemsOf } from '../api-client.ts'
import { usageError } from '../cli-error.ts'
import { EXIT } from '../exit-codes.ts'
import { time } from '../output.ts'
import type { CommandSpec, GroupSpec } from '../spec.ts'
import { enc } from './workflow-document.ts'

// `stavily token …`: API tokens for people and scripts (admin only), and `generate`, which
// makes a first admin token locally for STAVILY_BOOTSTRAP_TOKEN (automated installs).

const ROLES = ['admin', 'operator', 'viewer']

interface TokenSummary {
  id: string
  name: string
  role: string
  createdAt: string
  revokedAt: string | null
  expiresAt?: string | null
  lastUsedAt?: string | null
}

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/** `--expires-in`: a duration (30d, 12h, 90m, 2w) from now, or an ISO time with a zone. */
export function expiryOf(value: string, now = Date.now()): string {
  const d = /^(\d{1,6})([mhdw])$/.exec(value)
  if (d) return new Date(now + Number(d[1]) * UNIT_MS[d[2]!]!).toISOString()
  if (/^\d{4}-\d\d-\d\dT.*(Z|[+-]\d\d:\d\d)$/i.test(value) && !Number.isNaN(Date.parse(value)))
    return new Date(value).toISOString()
  throw usageError(
    `--expires-in: expected a duration such as 30d, 12h, 90m or 2w, or an ISO time such as 2027-01-31T00:00:00Z, got "${value}"`,
  )
}

const generate: CommandSpec = {
  words: ['token', 'generate'],
  summary: 'print a new admin token for STAVILY_BOOTSTRAP_TOKEN (made locally; talks to no server)',
  args: [],
  options: {},
  details:
    'An orchestrator started on an empty database with STAVILY_BOOTSTRAP_TOKEN accepts that token as its\nfirst admin token instead of printing a generated one: installs that are scripted end to end use this.',
  examples: ['STAVILY_BOOTSTRAP_TOKEN=$(stavily token generate) stavily server'],
  async run({ out, json }) {
    const token = newSecret('admin')
    if (json) out.json({ token })
    else out.line(token)
    return EXIT.ok
  },
}

const create: CommandSpec = {
  words: ['token', 'create'],
  summary: 'create an API token with a role (printed once; needs an admin token)',
  args: [],
  options: {
    name: { type: 'string', value: 'NAME', description: 'what it is for, e.g. "ci deploys" (required)' },
    role: { type: 'string', value: 'ROLE', description: 'admin, operator or viewer (required)' },
    'expires-in': {
      type: 'string',
      value: 'WHEN',
      description: 'expire after a duration (30d, 12h, 90m, 2w) or at an ISO time; default: never',
    },
  },
  details:
    'Only the token goes to standard output: TOKEN=$(stavily token create --name ci --role operator).\nAn expired token is refused (401) with a message that says it expired.',
  examples: [
    'stavily token create --name grafana --role viewer',
    'stavily token create --name contractor --role operator --expires-in 30d',
  ],
  async run({ opts, out, json, client }) {
    if (typeof opts.name !== 'string' || opts.name === '')
      throw usageError('stavily token create: missing --name NAME')
    if (!ROLES.includes(opts.role as string))
      throw usageError(
        `--role: expected ${ROLES.join(', ')}, got ${opts.role === undefined ? 'nothing' : `"${opts.role}"`}`,
      )
    const expires = opts['expires-in']
    const expiresAt = typeof expires === 'string' ? expiryOf(expires) : undefined
    const { body } = await (await client()).request<{
      id: string
      name: string
      role: string
      expiresAt: string | null
      token: string
    }>('POST', '/tokens', { body: { name: opts.name, role: opts.role, ...(expiresAt ? { expiresAt } : {}) } })
    if (json) out.json(body)
    else {
      out.line(body.token)
      const until = body.expiresAt ? `, expires ${time(body.expiresAt)}` : ''
      out.note(`${body.role} token "${body.name}" (${body.id})${until}; shown once`)
    }
    return EXIT.ok
  },
}

const list: CommandSpec = {
  words: ['token', 'list'],
  summary: 'list API tokens (never their secrets)',
  args: [],
  options: {},
  async run({ out, json, client }) {
    const body = await (await client()).get('/tokens')
    if (json) {
      out.json(body)
      return EXIT.ok
    }
    const tokens = itemsOf<TokenSummary>(body, 'tokens')
    const when = (t: string | null | undefined) => (t ? time(t) : '-')
    out.table(
      ['ID', 'NAME', 'ROLE', 'CREATED', 'EXPIRES', 'LAST USED', 'REVOKED'],
      tokens.map((t) => [
        t.id,
        t.name,
        t.role,
        time(t.createdAt),
        when(t.expiresAt),
        when(t.lastUsedAt),
        when(t.revokedAt),
      ]),
    )
    return EXIT.ok
  },
}

const revoke: CommandSpec = {
  words: ['token', 'revoke'],
  summary: 'revoke an API token (it stops working at once)',
  args: [{ name: 'ID', required: true, description: 'token id (from `stavily token list`)' }],
  options: {},
  async run({ args, out, json, client }) {
    const { body } = await (await client()).request<TokenSummary>('DELETE', `/tokens/${enc(args[0]!)}`)
    if (json) out.json(body)
    else out.line(`token ${body.name} (${body.id}) revoked`)
    return EXIT.ok
  },
}

export const tokenGroup: GroupSpec = {
  name: 'token',
  summary: 'API tokens: who may read (viewer), change (operator) or administer (admin)',
  commands: [create, list, revoke, generate],
}

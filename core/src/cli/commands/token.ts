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
  },
  details: 'Only the token goes to standard output: TOKEN=$(stavily token create --name ci --role operator).',
  examples: ['stavily token create --name grafana --role viewer'],
  async run({ opts, out, json, client }) {
    if (typeof opts.name !== 'string' || opts.name === '')
      throw usageError('stavily token create: missing --name NAME')
    if (!ROLES.includes(opts.role as string))
      throw usageError(
        `--role: expected ${ROLES.join(', ')}, got ${opts.role === undefined ? 'nothing' : `"${opts.role}"`}`,
      )
    const { body } = await (await client()).request<{
      id: string
      name: string
      role: string
      token: string
    }>('POST', '/tokens', { body: { name: opts.name, role: opts.role } })
    if (json) out.json(body)
    else {
      out.line(body.token)
      out.note(`${body.role} token "${body.name}" (${body.id}); shown once`)
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
    out.table(
      ['ID', 'NAME', 'ROLE', 'CREATED', 'REVOKED'],
      tokens.map((t) => [t.id, t.name, t.role, time(t.createdAt), t.revokedAt ? time(t.revokedAt) : '-']),
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

import { itemsOf } from '../api-client.ts'
import { usageError } from '../cli-error.ts'
import { EXIT } from '../exit-codes.ts'
import { time } from '../output.ts'
import { readSecretValue } from '../read-input.ts'
import type { CommandSpec } from '../spec.ts'

// `stavily plugin transfer` and `stavily plugin credential …`: a plugin name belongs to the
// organization that first published it (an admin hands it on), and each organization keeps
// its own Git credentials for publishing from private repositories. The token or password
// comes from standard input, a prompt without echo or --value-file, never from an argument.

export const pluginTransfer: CommandSpec = {
  words: ['plugin', 'transfer'],
  summary: 'hand a plugin name your organization owns to another organization (admin)',
  args: [{ name: 'NAME', required: true, description: 'plugin name, e.g. @acme/restart' }],
  options: {
    to: { type: 'string', value: 'ORG', description: 'the receiving organization, by name or id (required)' },
  },
  examples: ['stavily plugin transfer @acme/restart --to platform-team'],
  async run({ args, opts, out, json, client }) {
    if (typeof opts.to !== 'string') throw usageError('stavily plugin transfer: missing --to ORG')
    const { body } = await (await client()).request<{ name: string; to: { id: string; name: string } }>(
      'POST',
      '/plugins/transfer',
      { body: { name: args[0], to: opts.to } },
    )
    if (json) out.json(body)
    else out.line(`${body.name} now belongs to ${body.to.name} (${body.to.id})`)
    return EXIT.ok
  },
}

const HOST_ARG = { name: 'HOST', required: false, description: 'git.example.com or git.example.com:8443' }

/** `stavily plugin credential set|list|remove [HOST]`: one command, the action its first argument. */
export const pluginCredential: CommandSpec = {
  words: ['plugin', 'credential'],
  summary: "your organization's Git credentials for publishing: set HOST, list, remove HOST",
  args: [{ name: 'set|list|remove', required: true, description: 'what to do' }, HOST_ARG],
  options: {
    username: {
      type: 'string',
      value: 'USER',
      description: 'set: basic-auth user (default x-access-token for a token)',
    },
    password: { type: 'boolean', description: 'set: the value is a password (default: an access token)' },
    'value-file': { type: 'string', value: 'FILE', description: 'set: read the token or password from FILE' },
  },
  details:
    'Used only for publishes by your organization; stored as an organization secret and never printed. The token comes from standard input, a prompt without echo or --value-file.',
  examples: [
    'printf \'%s\' "$GITHUB_TOKEN" | stavily plugin credential set github.com',
    'stavily plugin credential list',
    'stavily plugin credential remove github.com',
  ],
  async run(ctx) {
    const [action, host] = ctx.args
    if (action === 'list') return credentialList(ctx)
    if (action !== 'set' && action !== 'remove')
      throw usageError(`stavily plugin credential: expected set, list or remove, got "${action}"`)
    if (!host)
      throw usageError(
        `stavily plugin credential ${action}: missing HOST`,
        'e.g. github.com or git.example.com:8443',
      )
    return action === 'set' ? credentialSet(ctx, host) : credentialRemove(ctx, host)
  },
}

type Ctx = Parameters<CommandSpec['run']>[0]

async function credentialSet({ io, opts, out, json, client }: Ctx, host: string): Promise<number> {
  const value = await readSecretValue(io, `token for ${host}: `, opts['value-file'] as string | undefined)
  if (value === '')
    throw usageError(
      `no token given for ${host}`,
      'pipe it in, pass --value-file FILE, or type it at the prompt',
    )
  const { status, body } = await (await client()).request(
    'PUT',
    `/plugins/git-credentials/${encodeURIComponent(host)}`,
    {
      body: {
        ...(typeof opts.username === 'string' ? { username: opts.username } : {}),
        ...(opts.password === true ? { password: value } : { token: value }),
      },
    },
  )
  if (json) out.json(body)
  else out.line(`Git credential for ${host} ${status === 201 ? 'created' : 'updated'}`)
  return EXIT.ok
}

async function credentialList({ out, json, client }: Ctx): Promise<number> {
  const body = await (await client()).get('/plugins/git-credentials')
  if (json) {
    out.json(body)
    return EXIT.ok
  }
  const items = itemsOf<{ host: string; username: string | null; kind: string; updatedAt: string }>(
    body,
    'items',
  )
  if (items.length === 0) {
    out.note('no Git credentials: `stavily plugin credential set HOST`')
    return EXIT.ok
  }
  out.table(
    ['HOST', 'USER', 'KIND', 'UPDATED'],
    items.map((c) => [c.host, c.username ?? '-', c.kind, time(c.updatedAt)]),
  )
  return EXIT.ok
}

async function credentialRemove({ out, json, client }: Ctx, host: string): Promise<number> {
  const { body } = await (await client()).request(
    'DELETE',
    `/plugins/git-credentials/${encodeURIComponent(host)}`,
  )
  if (json) out.json(body)
  else out.line(`Git credential for ${host} removed`)
  return EXIT.ok
}

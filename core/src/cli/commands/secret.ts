import { itemsOf } from '../api-client.ts'
import { usageError } from '../cli-error.ts'
import { EXIT } from '../exit-codes.ts'
import { time } from '../output.ts'
import { readSecretValue } from '../read-input.ts'
import type { CommandSpec, GroupSpec } from '../spec.ts'

// `stavily secret …`: organization secrets are write-only. The value comes from a file,
// piped standard input or a prompt without echo — never from an argument (shell history,
// `ps`) — and is never printed.

const NAME = /^[A-Z][A-Z0-9_]{0,127}$/

const set: CommandSpec = {
  words: ['secret', 'set'],
  summary: 'create or replace an organization secret (value from standard input or --value-file)',
  args: [
    { name: 'NAME', required: true, description: 'upper-case letters, digits and _, starting with a letter' },
  ],
  options: {
    'value-file': { type: 'string', value: 'FILE', description: 'read the value from FILE (byte for byte)' },
  },
  details:
    'Piped input loses one trailing newline (as echo adds one); on a terminal the value is asked for without echo.',
  examples: [
    'printf \'%s\' "$TOKEN" | stavily secret set SLACK_TOKEN',
    'stavily secret set TLS_KEY --value-file key.pem',
  ],
  async run({ io, args, opts, out, json, client }) {
    const name = args[0]!
    if (!NAME.test(name))
      throw usageError(
        `NAME: expected upper-case letters, digits and _, starting with a letter (such as SLACK_TOKEN), got "${name}"`,
      )
    const value = await readSecretValue(io, `value of ${name}: `, opts['value-file'] as string | undefined)
    if (value === '')
      throw usageError(
        `no value given for ${name}`,
        'pipe it in, pass --value-file FILE, or type it at the prompt',
      )
    const api = await client()
    const { status, body } = await api.request('PUT', `/secrets/${encodeURIComponent(name)}`, {
      body: { value },
    })
    const created = status === 201
    if (json) out.json(body ?? { name, created })
    else out.line(`secret ${name} ${created ? 'created' : 'updated'}`)
    return EXIT.ok
  },
}

const list: CommandSpec = {
  words: ['secret', 'list'],
  summary: 'list secret names and when they changed (never values)',
  args: [],
  options: {},
  async run({ out, json, client }) {
    const body = await (await client()).get('/secrets')
    if (json) {
      out.json(body)
      return EXIT.ok
    }
    const secrets = itemsOf<{ name: string; createdAt?: string; updatedAt?: string }>(body, 'secrets')
    if (secrets.length === 0) out.note('no secrets yet: `stavily secret set NAME`')
    else
      out.table(
        ['NAME', 'UPDATED'],
        secrets.map((s) => [s.name, time(s.updatedAt ?? s.createdAt)]),
      )
    return EXIT.ok
  },
}

const remove: CommandSpec = {
  words: ['secret', 'delete'],
  summary: 'delete an organization secret (plugins that read it get nothing from then on)',
  args: [{ name: 'NAME', required: true, description: 'the secret name' }],
  options: {},
  async run({ args, out, json, client }) {
    const { body } = await (await client()).request('DELETE', `/secrets/${encodeURIComponent(args[0]!)}`)
    if (json) out.json(body ?? { name: args[0], deleted: true })
    else out.line(`secret ${args[0]} deleted`)
    return EXIT.ok
  },
}

export const secretGroup: GroupSpec = {
  name: 'secret',
  summary: 'secrets: encrypted values plugins may read when they declare and are granted them',
  commands: [set, list, remove],
}

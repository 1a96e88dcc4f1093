import { type ApiClient, itemsOf } from '../api-client.ts'
import { CliError, usageError } from '../cli-error.ts'
import { EXIT } from '../exit-codes.ts'
import { time } from '../output.ts'
import type { CommandSpec, GroupSpec } from '../spec.ts'

// `stavily org …`: organizations, for the instance admin (the bootstrap token). An
// organization's own admins manage what is inside it with the other commands.

interface OrgSummary {
  id: string
  name: string
  createdAt: string
  agents: number
  workflows: number
}

async function allOrgs(api: ApiClient): Promise<OrgSummary[]> {
  const out: OrgSummary[] = []
  let cursor: string | undefined
  do {
    const page = await api.get<{ items: OrgSummary[]; nextCursor: string | null }>('/organizations', {
      limit: 500,
      ...(cursor ? { cursor } : {}),
    })
    out.push(...itemsOf<OrgSummary>(page, 'items'))
    cursor = page.nextCursor ?? undefined
  } while (cursor)
  return out
}

/** An organization by name (or id), with the list of names when there is none. */
async function findOrg(api: ApiClient, nameOrId: string): Promise<OrgSummary> {
  const orgs = await allOrgs(api)
  const org = orgs.find((o) => o.name === nameOrId || o.id === nameOrId)
  if (!org)
    throw new CliError(
      EXIT.failed,
      `no organization named "${nameOrId}"`,
      `there are: ${orgs.map((o) => o.name).join(', ') || 'none'} (stavily org list)`,
    )
  return org
}

const create: CommandSpec = {
  words: ['org', 'create'],
  summary: 'create an organization; prints its first admin token once (needs the instance admin token)',
  args: [{ name: 'NAME', required: true, description: 'a name of at most 100 characters' }],
  options: {},
  details:
    "Only the new organization's admin token goes to standard output: hand it to that organization's\nadmin, who makes the other tokens with `stavily token create`.",
  examples: ['ORG_TOKEN=$(stavily org create acme)'],
  async run({ args, out, json, client }) {
    const { body } = await (await client()).request<{ organization: OrgSummary; adminToken: string }>(
      'POST',
      '/organizations',
      { body: { name: args[0] } },
    )
    if (json) out.json(body)
    else {
      out.line(body.adminToken)
      out.note(
        `organization ${body.organization.name} (${body.organization.id}); its admin token is shown once`,
      )
    }
    return EXIT.ok
  },
}

const list: CommandSpec = {
  words: ['org', 'list'],
  summary: 'list organizations with their agents and workflows (instance admin)',
  args: [],
  options: {},
  async run({ out, json, client }) {
    const orgs = await allOrgs(await client())
    if (json) out.json({ items: orgs })
    else
      out.table(
        ['ID', 'NAME', 'AGENTS', 'WORKFLOWS', 'CREATED'],
        orgs.map((o) => [o.id, o.name, String(o.agents), String(o.workflows), time(o.createdAt)]),
      )
    return EXIT.ok
  },
}

const rename: CommandSpec = {
  words: ['org', 'rename'],
  summary: 'rename an organization (instance admin)',
  args: [
    { name: 'NAME', required: true, description: 'its current name (or id)' },
    { name: 'NEW_NAME', required: true, description: 'the new name' },
  ],
  options: {},
  async run({ args, out, json, client }) {
    const api = await client()
    const org = await findOrg(api, args[0]!)
    const { body } = await api.request<OrgSummary>('PATCH', `/organizations/${org.id}`, {
      body: { name: args[1] },
    })
    if (json) out.json(body)
    else out.line(`organization ${org.name} renamed to ${body.name}`)
    return EXIT.ok
  },
}

const remove: CommandSpec = {
  words: ['org', 'delete'],
  summary: 'delete an organization (refused while it has agents or workflows, unless --force)',
  args: [{ name: 'NAME', required: true, description: 'its name (or id)' }],
  options: {
    force: {
      type: 'boolean',
      description: 'delete its agents, workflows, runs, secrets and tokens with it',
    },
  },
  details:
    'Plugin names it published move to your organization (a name is never freed for someone else to take).\nIts audit log stays in the database. Your own organization cannot be deleted.',
  examples: ['stavily org delete acme', 'stavily org delete acme --force'],
  async run({ args, opts, out, json, client }) {
    const api = await client()
    if (args[0] === '') throw usageError('NAME: expected an organization name')
    const org = await findOrg(api, args[0]!)
    const { body } = await api.request<OrgSummary & { pluginNamesMoved: string[] }>(
      'DELETE',
      `/organizations/${org.id}`,
      { query: opts.force === true ? { force: 'true' } : {} },
    )
    if (json) out.json(body)
    else {
      out.line(`organization ${body.name} deleted`)
      if (body.pluginNamesMoved.length > 0)
        out.note(`plugin names now owned by your organization: ${body.pluginNamesMoved.join(', ')}`)
    }
    return EXIT.ok
  },
}

export const orgGroup: GroupSpec = {
  name: 'org',
  summary: 'organizations: create, list, rename, delete (the instance admin token)',
  commands: [create, list, rename, remove],
}

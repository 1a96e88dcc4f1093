import { itemsOf } from '../api-client.ts'
import { intOption } from '../args.ts'
import { EXIT } from '../exit-codes.ts'
import { time } from '../output.ts'
import { readDocument } from '../read-input.ts'
import type { CommandSpec, GroupSpec } from '../spec.ts'
import { workflowDiff } from './workflow-diff.ts'
import { documentRefused, enc } from './workflow-document.ts'
import { workflowDryRun } from './workflow-dry-run.ts'
import { workflowRun } from './workflow-run.ts'

// `stavily workflow …`: apply a document (create or update by name), list, read, compare,
// try, enable and disable.

interface Summary {
  id: string
  name: string
  enabled: boolean
  version: number
  triggerKind?: string
  updatedAt?: string
}

const apply: CommandSpec = {
  words: ['workflow', 'apply'],
  summary: 'create or update a workflow from a YAML or JSON file',
  args: [{ name: 'FILE', required: true, description: 'the workflow document ("-" reads standard input)' }],
  options: {},
  details: 'Prints created, updated or unchanged with the version. Problems are printed as FILE:LINE:COLUMN.',
  examples: ['stavily workflow apply restart-on-alert.yaml'],
  async run({ io, args, out, json, client }) {
    const doc = await readDocument(io, args[0]!)
    const api = await client()
    let res: Awaited<
      ReturnType<
        typeof api.request<{
          workflow: Summary
          version: number
          created?: boolean
          changed: boolean
          warnings?: string[]
        }>
      >
    >
    try {
      res = await api.request('POST', '/workflows', { body: { document: doc.text } })
    } catch (err) {
      throw documentRefused(err, doc.name, out)
    }
    const { workflow, version, changed, warnings = [] } = res.body
    if (json) {
      out.json(res.body)
      return EXIT.ok
    }
    const what = (res.body.created ?? res.status === 201) ? 'created' : changed ? 'updated' : 'unchanged'
    out.line(
      `workflow ${workflow.name} ${out.paint(what, what === 'unchanged' ? 'dim' : 'green')} (version ${version})`,
    )
    if (workflow.triggerKind === 'webhook')
      out.line(`webhook: POST ${api.baseUrl}/api/v1/hooks/${workflow.id}`)
    for (const w of warnings) out.warn(w)
    return EXIT.ok
  },
}

const list: CommandSpec = {
  words: ['workflow', 'list'],
  summary: 'list workflows',
  args: [],
  options: {
    limit: { type: 'string', value: 'N', description: 'at most N workflows (default 100, at most 500)' },
  },
  async run({ opts, out, json, client }) {
    const body = await (await client()).get('/workflows', {
      limit: intOption('limit', opts.limit, 1, 500) ?? 100,
    })
    if (json) {
      out.json(body)
      return EXIT.ok
    }
    const items = itemsOf<Summary>(body, 'workflows')
    if (items.length === 0) {
      out.note('no workflows yet: create one with `stavily workflow apply FILE`')
      return EXIT.ok
    }
    out.table(
      ['NAME', 'VERSION', 'ENABLED', 'TRIGGER', 'UPDATED', 'ID'],
      items.map((w) => [
        w.name,
        String(w.version),
        w.enabled ? 'yes' : out.paint('no', 'dim'),
        w.triggerKind ?? '-',
        time(w.updatedAt),
        w.id,
      ]),
    )
    if ((body as { nextCursor?: string | null }).nextCursor) out.note('(more: raise --limit)')
    return EXIT.ok
  },
}

const get: CommandSpec = {
  words: ['workflow', 'get'],
  summary: 'print a workflow document as it was applied',
  args: [{ name: 'NAME', required: true, description: 'workflow name or id' }],
  options: { version: { type: 'string', value: 'N', description: 'an older version' } },
  examples: [
    'stavily workflow get restart-on-alert > restart-on-alert.yaml',
    'stavily workflow get restart-on-alert --version 2',
  ],
  async run({ args, opts, out, json, client }) {
    const body = await (await client()).get<{ document: string }>(`/workflows/${enc(args[0]!)}`, {
      version: intOption('version', opts.version, 1, 2 ** 31 - 1),
    })
    if (json) out.json(body)
    else out.line(body.document.replace(/\n$/, ''))
    return EXIT.ok
  },
}

const versions: CommandSpec = {
  words: ['workflow', 'versions'],
  summary: 'list the versions of a workflow, oldest first',
  args: [{ name: 'NAME', required: true, description: 'workflow name or id' }],
  options: {},
  async run({ args, out, json, client }) {
    const body = await (await client()).get(`/workflows/${enc(args[0]!)}/versions`, { limit: 500 })
    if (json) {
      out.json(body)
      return EXIT.ok
    }
    const list = itemsOf<{ version: number; createdBy: string | null; createdAt: string }>(body, 'versions')
    out.table(
      ['VERSION', 'CREATED', 'BY'],
      list.map((v) => [String(v.version), time(v.createdAt), v.createdBy ?? '-']),
    )
    return EXIT.ok
  },
}

function toggle(enable: boolean): CommandSpec {
  const word = enable ? 'enable' : 'disable'
  return {
    words: ['workflow', word],
    summary: enable ? 'start runs from this workflow again' : 'keep the workflow but start no runs from it',
    args: [{ name: 'NAME', required: true, description: 'workflow name or id' }],
    options: {},
    async run({ args, out, json, client }) {
      const { body } = await (await client()).request<Summary>('POST', `/workflows/${enc(args[0]!)}/${word}`)
      if (json) out.json(body)
      else out.line(`workflow ${body.name} ${word}d (version ${body.version})`)
      return EXIT.ok
    },
  }
}

export const workflowGroup: GroupSpec = {
  name: 'workflow',
  summary: 'workflows: TRIGGER → ACTIONS → OUTPUTS documents (docs/workflows.md)',
  commands: [
    apply,
    list,
    get,
    versions,
    workflowDiff,
    workflowDryRun,
    workflowRun,
    toggle(true),
    toggle(false),
  ],
}

import { ApiError } from '../api-client.ts'
import { EXIT } from '../exit-codes.ts'
import { unifiedDiff } from '../line-diff.ts'
import { readDocument } from '../read-input.ts'
import type { CommandSpec } from '../spec.ts'
import { documentName, enc } from './workflow-document.ts'

// `stavily workflow diff FILE`: what `apply` would change, as a unified diff from the
// stored current document to the file. A workflow not on the server yet diffs from nothing.

export const workflowDiff: CommandSpec = {
  words: ['workflow', 'diff'],
  summary: 'show what applying FILE would change (unified diff against the stored document)',
  args: [{ name: 'FILE', required: true, description: 'the workflow document ("-" reads standard input)' }],
  options: {
    'exit-code': {
      type: 'boolean',
      description: 'exit 1 when there are differences (as `git diff --exit-code`)',
    },
  },
  examples: [
    'stavily workflow diff restart-on-alert.yaml',
    'stavily workflow diff wf.yaml --exit-code || stavily workflow apply wf.yaml',
  ],
  async run({ io, args, opts, out, json, client }) {
    const doc = await readDocument(io, args[0]!)
    const name = await documentName(doc.name, doc.text)
    const api = await client()
    let stored: { document: string; version: number } | undefined
    try {
      stored = await api.get(`/workflows/${enc(name)}`)
    } catch (err) {
      if (!(err instanceof ApiError && err.exitCode === EXIT.notFound)) throw err
    }
    const diff = unifiedDiff(
      {
        name: stored ? `${name} (version ${stored.version}, on the server)` : '/dev/null',
        text: stored?.document ?? '',
      },
      { name: doc.name, text: doc.text },
    )
    const changed = diff !== ''
    if (json)
      out.json({ name, exists: stored !== undefined, version: stored?.version ?? null, changed, diff })
    else if (!changed) out.note(`${name}: no differences with version ${stored!.version}`)
    else {
      if (!stored) out.note(`${name} is not on the server yet: everything is new`)
      for (const line of diff.replace(/\n$/, '').split('\n')) {
        if (line.startsWith('@@')) out.line(out.paint(line, 'blue'))
        else if (line.startsWith('+') && !line.startsWith('+++')) out.line(out.paint(line, 'green'))
        else if (line.startsWith('-') && !line.startsWith('---')) out.line(out.paint(line, 'red'))
        else out.line(line)
      }
    }
    return changed && opts['exit-code'] ? EXIT.failed : EXIT.ok
  },
}

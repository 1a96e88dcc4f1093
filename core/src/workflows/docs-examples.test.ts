import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { dryRun } from './dry-run.ts'
import { formatIssue } from './issues.ts'
import { parseWorkflow } from './parse-workflow.ts'

// The workflow reference's complete example must stay a valid workflow: the docs are
// checked by the same parser operators use.

const docs = new URL('../../../docs/workflows.md', import.meta.url)

async function completeExample(): Promise<string> {
  const text = await readFile(docs, 'utf8')
  const section = text.slice(text.indexOf('## A complete example'))
  const m = /```yaml\n([\s\S]*?)```/.exec(section)
  if (!m) throw new Error('docs/workflows.md has no yaml block under "A complete example"')
  return m[1]!
}

describe('docs/workflows.md', () => {
  it('has a complete example that validates and dry-runs as described', async () => {
    const r = parseWorkflow(await completeExample())
    if (!r.ok) throw new Error(r.issues.map(formatIssue).join('\n'))
    const event = {
      type: 'alert.firing',
      data: { labels: { severity: 'critical', service: 'web', instance: 'web-1:9100' } },
    }
    const plan = dryRun(r.workflow, event, { stepResults: { restart: { output: { restarted: true } } } })
    expect(plan.triggered).toBe(true)
    expect(plan.windowKey).toBe('web')
    expect(plan.actions.map((a) => [a.id, a.decision, a.input])).toEqual([
      ['restart', 'run', { service: 'web' }],
      ['verify', 'run', { url: 'http://web-1:9100/health' }],
    ])
    expect(plan.outputs[0]!.input).toEqual({ channel: '#ops', text: 'web: run succeeded' })
    expect(
      dryRun(r.workflow, { type: 'alert.firing', data: { labels: { severity: 'warning' } } }).triggered,
    ).toBe(false)
  })
})

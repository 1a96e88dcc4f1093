// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the workflow template syntax
import { describe, expect, it } from 'vitest'
import type { StepResult } from '../context.ts'
import { dryRun } from '../dry-run.ts'
import { loadWorkflow } from '../parse-workflow.ts'
import { planNext, type StepState } from './plan-next.ts'

// The dry run promises to show what a run would do. With every step's result supplied, it
// must decide exactly what the engine's planNext decides, step by step.

const workflow = loadWorkflow(`name: agree
trigger: { webhook: { secret: K } }
actions:
  - { id: a, plugin: p, version: "^1", input: { x: "\${{ trigger.x }}" } }
  - { id: b, plugin: p, version: "^1", when: "steps.a.output.go", input: { y: "\${{ steps.a.output.y }}" } }
  - { id: c, plugin: p, version: "^1", input: { z: "\${{ trigger.z }}" } }
outputs:
  - { id: ok, plugin: p, version: "^1", input: { s: "\${{ run.status }}" } }
  - { id: bad, plugin: p, version: "^1", on: failure, input: { s: "\${{ run.status }}" } }
  - { id: any, plugin: p, version: "^1", on: always, when: "trigger.notify" }
`)

function simulate(data: Record<string, unknown>, results: Record<string, Partial<StepResult>>) {
  const event = { type: 't', data }
  const steps: Record<string, StepState> = {}
  const decisions: Record<string, { decision: string; input?: unknown }> = {}
  for (let turn = 0; turn < 20; turn++) {
    const plan = planNext(workflow, event, { id: 'dry-run' }, steps)
    if (plan.finished) return { decisions, status: plan.status }
    for (const m of plan.moves) {
      if (m.move === 'start') {
        const r = results[m.step.id] ?? {}
        decisions[m.step.id] = { decision: 'run', input: m.input }
        steps[m.step.id] = {
          status: (r.status as StepState['status']) ?? 'succeeded',
          output: r.output ?? null,
          error: r.error ?? null,
        }
      } else if (m.move === 'skip') {
        decisions[m.stepId] = { decision: 'skip' }
        steps[m.stepId] = { status: 'skipped' }
      } else {
        decisions[m.stepId] = { decision: 'error' }
        steps[m.stepId] = { status: 'failed', error: m.error }
      }
    }
  }
  throw new Error('the run did not finish')
}

const scenarios: [string, Record<string, unknown>, Record<string, Partial<StepResult>>][] = [
  ['all succeed', { x: 1, z: 2, notify: true }, { a: { output: { go: true, y: 'Y' } } }],
  ['when false', { x: 1, z: 2, notify: false }, { a: { output: { go: false } } }],
  [
    'first fails',
    { x: 1, z: 2, notify: true },
    { a: { status: 'failed', error: { code: 'E', message: 'm' } } },
  ],
  [
    'middle fails',
    { x: 1, z: 2 },
    { a: { output: { go: true, y: 1 } }, b: { status: 'failed', error: { code: 'E', message: 'm' } } },
  ],
  ['input error', { x: 1, notify: true }, { a: { output: { go: false } } }],
]

describe('dryRun and planNext', () => {
  for (const [name, data, results] of scenarios) {
    it(`agree when ${name}`, () => {
      const engine = simulate(data, results)
      const dry = dryRun(workflow, { type: 't', data }, { stepResults: results })
      const shown = Object.fromEntries(
        [...dry.actions, ...dry.outputs].map((s) => [
          s.id,
          s.decision === 'run' ? { decision: 'run', input: s.input } : { decision: s.decision },
        ]),
      )
      expect(shown).toEqual(engine.decisions)
      expect(dry.outcome === 'succeeded').toBe(engine.status === 'succeeded')
    })
  }
})

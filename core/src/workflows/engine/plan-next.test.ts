// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the workflow template syntax
import { describe, expect, it } from 'vitest'
import { loadWorkflow } from '../parse-workflow.ts'
import { type Move, type Plan, planNext, type StepState } from './plan-next.ts'

const workflow = loadWorkflow(`name: pipeline
trigger: { webhook: { secret: K } }
actions:
  - id: build
    plugin: p
    version: ^1
    input: { ref: "\${{ trigger.ref }}" }
  - id: test
    plugin: p
    version: ^1
    when: steps.build.output.ok
    input: { artifact: "\${{ steps.build.output.artifact }}" }
  - id: deploy
    plugin: p
    version: ^1
    input: { env: "\${{ trigger.env }}" }
outputs:
  - id: ok
    plugin: p
    version: ^1
    input: { text: "done \${{ run.status }}" }
  - id: alarm
    plugin: p
    version: ^1
    on: failure
    input: { text: "\${{ run.status }}: \${{ default(steps.build.error.message, '-') }}" }
  - id: log
    plugin: p
    version: ^1
    on: always
`)

const event = { type: 'push', data: { ref: 'main', env: 'prod' } }
const run = { id: 'r1' }
const plan = (steps: Record<string, StepState>) => planNext(workflow, event, run, steps)
const summary = (p: Plan) =>
  p.moves.map((m: Move) => `${m.move}:${m.move === 'start' ? m.step.id : m.stepId}`)

describe('planNext', () => {
  it('starts actions one at a time, in order, with rendered inputs', () => {
    const first = plan({})
    expect(first).toMatchObject({
      finished: false,
      moves: [{ move: 'start', kind: 'action', input: { ref: 'main' } }],
    })
    expect(plan({ build: { status: 'running' } })).toEqual({ moves: [], finished: false })
    expect(plan({ build: { status: 'queued' } })).toEqual({ moves: [], finished: false })
    const second = plan({ build: { status: 'succeeded', output: { ok: true, artifact: 'a.tgz' } } })
    expect(second.moves).toMatchObject([
      { move: 'start', step: { id: 'test' }, input: { artifact: 'a.tgz' } },
    ])
  })

  it('skips an action whose when is false and goes on', () => {
    const p = plan({ build: { status: 'succeeded', output: { ok: false } } })
    expect(p.moves).toEqual([
      { move: 'skip', kind: 'action', stepId: 'test', reason: 'its when condition is false' },
    ])
    const next = plan({ build: { status: 'succeeded', output: { ok: false } }, test: { status: 'skipped' } })
    expect(summary(next)).toEqual(['start:deploy'])
  })

  it('runs the success and always outputs together once the actions succeed, then finishes', () => {
    const done = {
      build: { status: 'succeeded', output: { ok: false } },
      test: { status: 'skipped' },
      deploy: { status: 'succeeded' },
    } as const
    const p = plan({ ...done })
    expect(summary(p)).toEqual(['start:ok', 'skip:alarm', 'start:log'])
    expect(p.moves[0]).toMatchObject({ input: { text: 'done succeeded' } })
    expect(
      plan({
        ...done,
        ok: { status: 'running' },
        alarm: { status: 'skipped' },
        log: { status: 'succeeded' },
      }),
    ).toEqual({
      moves: [],
      finished: false,
    })
    // An output that failed does not fail the run.
    expect(
      plan({ ...done, ok: { status: 'failed' }, alarm: { status: 'skipped' }, log: { status: 'succeeded' } }),
    ).toEqual({
      moves: [],
      finished: true,
      status: 'succeeded',
    })
  })

  it('ends the actions at the first failure, skips the rest, and runs the failure outputs', () => {
    const failed = { build: { status: 'failed', error: { code: 'E', message: 'compiler crashed' } } } as const
    const p = plan({ ...failed })
    expect(summary(p)).toEqual(['skip:test', 'skip:deploy', 'skip:ok', 'start:alarm', 'start:log'])
    expect(p.moves[1]).toMatchObject({ reason: 'step build did not succeed' })
    expect(p.moves.find((m) => m.move === 'start' && m.step.id === 'alarm')).toMatchObject({
      input: { text: 'failed: compiler crashed' },
    })
    const outputsDone = {
      ...failed,
      test: { status: 'skipped' },
      deploy: { status: 'skipped' },
      ok: { status: 'skipped' },
      alarm: { status: 'succeeded' },
      log: { status: 'succeeded' },
    } as const
    expect(plan(outputsDone)).toEqual({ moves: [], finished: true, status: 'failed' })
    expect(plan({ ...outputsDone, build: { status: 'timed_out' } })).toMatchObject({
      finished: true,
      status: 'timed_out',
    })
  })

  it('fails a step whose input cannot be rendered, without running it, and the run with it', () => {
    const p = planNext(workflow, { type: 'push', data: { ref: 'main' } }, run, {
      build: { status: 'succeeded', output: { ok: false } },
      test: { status: 'skipped' },
    })
    expect(summary(p)).toEqual(['fail:deploy', 'skip:ok', 'start:alarm', 'start:log'])
    expect(p.moves[0]).toMatchObject({
      error: {
        code: 'STAVILY_ERR_EXPRESSION_UNKNOWN_PATH',
        message: expect.stringMatching(/^env: trigger has no key "env"/),
      },
    })
  })

  it('runs no outputs for a cancelled run and finishes it as cancelled', () => {
    const p = plan({ build: { status: 'cancelled' } })
    expect(summary(p)).toEqual(['skip:test', 'skip:deploy', 'skip:ok', 'skip:alarm', 'skip:log'])
    expect(p.moves.at(-1)).toMatchObject({ reason: 'the run was cancelled' })
    const all = Object.fromEntries(
      ['test', 'deploy', 'ok', 'alarm', 'log'].map((id) => [id, { status: 'skipped' as const }]),
    )
    expect(plan({ build: { status: 'cancelled' }, ...all })).toEqual({
      moves: [],
      finished: true,
      status: 'cancelled',
    })
  })
})

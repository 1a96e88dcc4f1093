import { describe, expect, it } from 'vitest'
import { parseExpression } from './parser.ts'
import { checkReferences, type ReferenceScope } from './references.ts'

const scope: ReferenceScope = {
  roots: ['trigger', 'event', 'steps', 'run'],
  earlierSteps: ['fetch', 'restart'],
  allSteps: ['fetch', 'restart', 'verify', 'notify'],
}

const check = (src: string, s: ReferenceScope = scope) =>
  checkReferences(parseExpression(src), s).map((e) => e.message)

describe('checkReferences', () => {
  it('accepts references to earlier steps and known roots', () => {
    expect(check("steps.restart.output.ok && trigger.labels.x == 'y' && run.id != null")).toEqual([])
    expect(check("steps['fetch'].status == 'succeeded'")).toEqual([])
    expect(check('default(steps.fetch.error, null)')).toEqual([])
  })

  it('refuses later and unknown steps, naming the ones that may be read', () => {
    expect(check('steps.verify.output')).toEqual([
      'steps.verify runs later: a step may read only steps that finish before it (in expression "steps.verify.output" at column 7)',
    ])
    expect(check('steps.restrat.output.x')[0]).toMatch(
      /no step "restrat"; steps before this one: fetch, restart/,
    )
    expect(check('steps.fetch.output', { ...scope, earlierSteps: [] })[0]).toMatch(/runs later/)
    expect(check('steps.nope', { ...scope, earlierSteps: [] })[0]).toMatch(/steps before this one: none/)
  })

  it('refuses unknown step fields, computed step ids, unknown roots and secrets', () => {
    expect(check('steps.fetch.outputs.x')[0]).toMatch(
      /steps.fetch has no field "outputs"; a step has: status, output, error/,
    )
    expect(check('steps[trigger.name].output')[0]).toMatch(/step id written out/)
    expect(check('env.HOME')[0]).toMatch(/unknown name "env"; available here: trigger, event, steps, run/)
    expect(check('secrets.TOKEN')[0]).toMatch(/secrets are not available in expressions/)
    expect(check('steps.fetch', { ...scope, roots: ['trigger', 'event'] })[0]).toMatch(/unknown name "steps"/)
  })

  it('reports every problem at once', () => {
    expect(check('steps.verify.output == steps.nope.output || env.x')).toHaveLength(3)
  })
})

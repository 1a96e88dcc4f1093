import { describe, expect, it } from 'vitest'
import { rangeFix } from './range-fix.ts'

const step = { plugin: '@acme/df', pool: 'default', version: '^0.1.0' }

describe("STAVILY_ERR_PLUGIN_NOT_ENABLED's advice when the pool's version is outside the step's range", () => {
  it('a pool that moved past the step: widen the step range in the workflow, never roll the pool back', () => {
    const fix = rangeFix(step, '0.2.0')
    expect(fix).toBe(
      'the pool moved on (on 0.x, ^0.1.0 stops before the next minor): widen the step\'s range in the workflow to include 0.2.0 (version: "^0.2.0") and apply it with `stavily workflow apply`',
    )
    expect(fix).not.toContain('plugin enable')
    expect(rangeFix({ ...step, version: '^1.0.0' }, '2.0.0')).not.toContain('on 0.x')
  })

  it('a pool behind the step: move the pool forward', () => {
    expect(rangeFix({ ...step, version: '^0.3.0' }, '0.2.0')).toBe(
      'move the pool to a version the step allows: run `stavily plugin enable @acme/df --pool default --range "^0.3.0"`',
    )
  })
})

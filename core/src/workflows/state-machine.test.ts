import { describe, expect, it } from 'vitest'
import { WorkflowError } from './errors.ts'
import {
  allowedFrom,
  assertTransition,
  canTransition,
  isTerminal,
  RUN_STATUSES,
  STEP_STATUSES,
} from './state-machine.ts'

describe('run and step state machine', () => {
  it('allows the normal life of a run and of a retried step', () => {
    for (const [from, to] of [
      ['queued', 'running'],
      ['running', 'succeeded'],
      ['running', 'timed_out'],
      ['queued', 'cancelled'],
    ]) {
      expect(() => assertTransition('run', from!, to!)).not.toThrow()
    }
    expect(canTransition('step', 'running', 'queued')).toBe(true) // a retry
    expect(canTransition('step', 'queued', 'skipped')).toBe(true)
    expect(canTransition('run', 'running', 'queued')).toBe(false)
    expect(canTransition('run', 'queued', 'skipped')).toBe(false)
  })

  it('refuses to leave a final status, naming the subject and what is allowed', () => {
    for (const status of ['succeeded', 'failed', 'cancelled', 'timed_out']) {
      expect(isTerminal('run', status)).toBe(true)
      for (const to of RUN_STATUSES) expect(canTransition('run', status, to)).toBe(false)
    }
    expect(isTerminal('step', 'skipped')).toBe(true)
    expect(isTerminal('run', 'running')).toBe(false)
    expect(() => assertTransition('step', 'succeeded', 'running', 'step restart')).toThrow(
      'step restart: cannot go from "succeeded" to "running"; "succeeded" is final',
    )
    try {
      assertTransition('run', 'queued', 'succeeded', 'run 42')
      throw new Error('expected a refusal')
    } catch (err) {
      expect(err).toBeInstanceOf(WorkflowError)
      expect((err as WorkflowError).code).toBe('STAVILY_ERR_ILLEGAL_TRANSITION')
      expect((err as WorkflowError).statusCode).toBe(409)
      expect((err as WorkflowError).message).toBe(
        'run 42: cannot go from "queued" to "succeeded"; from "queued" it may go to: running, cancelled',
      )
    }
  })

  it('refuses unknown statuses, including prototype names', () => {
    expect(() => assertTransition('run', 'paused', 'running')).toThrow(
      /unknown status "paused"; expected one of: queued, running/,
    )
    expect(() => assertTransition('run', 'queued', 'done')).toThrow(/unknown status "done"/)
    expect(canTransition('run', 'constructor', 'running')).toBe(false)
    expect(isTerminal('step', 'toString')).toBe(false)
  })

  it('lists the statuses a guarded update may start from', () => {
    expect(allowedFrom('run', 'cancelled').sort()).toEqual(['queued', 'running'])
    expect(allowedFrom('step', 'queued')).toEqual(['running'])
    expect(allowedFrom('run', 'queued')).toEqual([])
    for (const to of STEP_STATUSES)
      for (const from of allowedFrom('step', to)) expect(canTransition('step', from, to)).toBe(true)
  })
})

import { describe, expect, it } from 'vitest'
import { AGENT_API_LIMITS } from './agent-reports.ts'
import { eventProblem, resultProblem } from './report-check.ts'

const event = { source: '@acme/ticker', type: 'tick', data: { a: 1 }, occurredAt: '2024-02-28T10:00:00Z' }

describe('eventProblem: the orchestrator POST /events rules, checked by the agent', () => {
  it('accepts a well-formed event', () => {
    expect(eventProblem(event)).toBeNull()
  })

  it('refuses a date the format refuses though Date.parse takes it', () => {
    expect(Number.isNaN(Date.parse('2024-02-30T00:00:00Z'))).toBe(false)
    expect(eventProblem({ ...event, occurredAt: '2024-02-30T00:00:00Z' })).toEqual({
      path: 'event.occurredAt',
      message: expect.stringContaining('date-time'),
    })
  })

  it('names the field of a NUL, an unknown field, a missing one and a limit', () => {
    expect(eventProblem({ ...event, data: { rows: ['x\u0000'] } })?.path).toBe('event.data.rows[0]')
    expect(eventProblem({ ...event, extra: 1 })).toEqual({ path: 'event.extra', message: 'unknown field' })
    expect(eventProblem({ type: 'tick' })).toEqual({ path: 'event.source', message: 'required' })
    expect(eventProblem({ ...event, type: 't'.repeat(AGENT_API_LIMITS.eventNameLength + 1) })?.path).toBe(
      'event.type',
    )
  })
})

describe('resultProblem', () => {
  it('accepts a result and names what breaks one', () => {
    expect(resultProblem({ attempt: 1, status: 'succeeded', output: { ok: true }, logs: [] })).toBeNull()
    expect(
      resultProblem({ attempt: 1, status: 'failed', error: { code: 'x'.repeat(201), message: 'm' } })?.path,
    ).toBe('result.error.code')
    expect(resultProblem({ attempt: 0, status: 'succeeded' })?.path).toBe('result.attempt')
  })
})

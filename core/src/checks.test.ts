import { describe, expect, it } from 'vitest'
import { checkEntry } from './audit/checks.ts'
import { AuditError } from './audit/errors.ts'
import { checkOrg, checkUuid, isoTime, isoTimeOrNull, storableTime } from './checks.ts'
import { ERRORS, StavilyError } from './errors.ts'
import { EXPRESSION_ERRORS } from './expressions/index.ts'
import { SECRET_ERRORS } from './secrets/index.ts'
import { WORKFLOW_ERRORS } from './workflows/index.ts'

// The checks every module shares, in one place: ids, organization ids, times; and the
// module error tables, which are parts of the one list.

describe('shared checks', () => {
  it('takes a UUID in any case and answers it lower-cased; refuses anything else naming the field', () => {
    expect(checkUuid('run', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11')).toBe(
      'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    )
    for (const bad of ['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11x', '', 'acme', 42, null]) {
      const err = (() => {
        try {
          checkUuid('run', bad)
        } catch (e) {
          return e as StavilyError
        }
      })()
      expect(err, String(bad)).toBeInstanceOf(StavilyError)
      expect(err!.code).toBe('STAVILY_ERR_INVALID_ARGUMENT')
      expect(err!.data).toEqual({ field: 'run' })
      expect(err!.message).toMatch(/^run: expected a UUID, got /)
    }
  })

  it('refuses an organization id that is not a UUID with the same message everywhere, in the module class', () => {
    expect(() => checkOrg('acme')).toThrow('org: expected an organization id (a UUID), got "acme"')
    let audit: unknown
    try {
      checkEntry({ org: 'acme', actor: { type: 'system', id: null }, action: 'x.y', target: null })
    } catch (e) {
      audit = e
    }
    expect(audit).toBeInstanceOf(AuditError)
    expect((audit as AuditError).message).toBe('org: expected an organization id (a UUID), got "acme"')
  })

  it('turns database times into ISO text and keeps a missing one null', () => {
    expect(isoTime(new Date(Date.UTC(2026, 0, 2, 3, 4, 5)))).toBe('2026-01-02T03:04:05.000Z')
    expect(isoTime('2026-01-02 03:04:05+00')).toBe('2026-01-02T03:04:05.000Z')
    expect(isoTime(Date.UTC(2026, 0, 2))).toBe('2026-01-02T00:00:00.000Z')
    // An agent's log line may carry any finite number: past what a Date holds it reads as the epoch.
    expect(isoTime(1e20)).toBe('1970-01-01T00:00:00.000Z')
    expect(isoTimeOrNull(null)).toBeNull()
    expect(isoTimeOrNull(undefined)).toBeNull()
  })

  it('accepts only times PostgreSQL stores (years 1 to 9999)', () => {
    expect(storableTime('2026-05-01T00:00:00Z')).toBe('2026-05-01T00:00:00.000Z')
    for (const bad of ['0000-01-01T00:00:00Z', '+010000-01-01T00:00:00Z', 'soon', ''])
      expect(storableTime(bad), bad).toBeUndefined()
  })

  it("derives each module's error table from the one list", () => {
    for (const table of [WORKFLOW_ERRORS, SECRET_ERRORS, EXPRESSION_ERRORS])
      for (const [code, status] of Object.entries(table))
        expect(ERRORS[code as keyof typeof ERRORS]).toBe(status)
  })
})

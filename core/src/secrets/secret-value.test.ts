import { format, inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { SecretValue } from './secret-value.ts'

describe('SecretValue', () => {
  it('gives the value only through reveal()', () => {
    const v = new SecretValue('DB_PASSWORD', 'hunter2')
    expect(v.reveal()).toBe('hunter2')
    const shown = [
      String(v),
      `${v}`,
      `${v}!`,
      JSON.stringify({ v }),
      JSON.stringify([v]),
      inspect(v),
      inspect({ nested: { v } }, { depth: 10, showHidden: true }),
      format('%s %o %O %j', v, v, v, v),
      Object.keys(v).join(','),
      JSON.stringify(Object.entries(v)),
    ]
    for (const s of shown) expect(s).not.toContain('hunter2')
    expect(String(v)).toBe('[redacted]')
    expect(inspect(v)).toBe('SecretValue(DB_PASSWORD) [redacted]')
    expect(JSON.stringify({ v })).toBe('{"v":"[redacted]"}')
  })
})

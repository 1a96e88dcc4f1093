import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { checkEntry, checkOrg } from './checks.ts'
import { entryHash } from './entry.ts'
import { AuditError } from './errors.ts'
import { AUDIT_POLICY } from './policy.ts'

// The audit API's argument checks and the chain hash, without a database: each limit at its
// bound and one past it, and the hash recipe pinned (a change to it would make every stored
// chain fail verification).

const ORG = '0b7e4f8a-1c2d-4e5f-8a9b-0c1d2e3f4a5b'
const base = { org: ORG, actor: { type: 'system' as const }, action: 'workflow.created' }

function refusal(input: Record<string, unknown>): string {
  try {
    checkEntry({ ...base, ...input } as never)
  } catch (err) {
    expect(err).toBeInstanceOf(AuditError)
    return (err as AuditError).message
  }
  throw new Error(`accepted ${JSON.stringify(input)}`)
}

describe('audit entry checks', () => {
  it('takes an organization id as a whole UUID, in any case, and returns it lower-case', () => {
    expect(checkOrg(ORG.toUpperCase())).toBe(ORG)
    for (const org of [`x${ORG}`, `${ORG}x`, ORG.slice(1), 42, undefined]) {
      expect(() => checkOrg(org), String(org)).toThrow(/^org: expected an organization id \(a UUID\)/)
    }
    expect(checkEntry({ ...base, org: ORG.toUpperCase() }).org).toBe(ORG)
  })

  it('takes an actor of a known type with an id of 1 to 200 characters, or none', () => {
    expect(checkEntry(base).actor).toEqual({ type: 'system', id: null })
    expect(checkEntry({ ...base, actor: { type: 'user', id: null } }).actor).toEqual({
      type: 'user',
      id: null,
    })
    expect(checkEntry({ ...base, actor: { type: 'agent', id: 'a'.repeat(200) } }).actor.id).toHaveLength(200)
    expect(refusal({ actor: undefined })).toBe('actor.type: expected one of user, api_token, agent, system')
    expect(refusal({ actor: { type: 'robot' } })).toBe(
      'actor.type: expected one of user, api_token, agent, system, got "robot"',
    )
    for (const id of ['', 'a'.repeat(201), 7]) {
      expect(refusal({ actor: { type: 'user', id } }), String(id)).toMatch(
        /^actor\.id: expected a string of 1 to 200 characters, or null, got /,
      )
    }
  })

  it('takes a dotted lower-case action of at most 100 characters', () => {
    const long = `a.${'b'.repeat(98)}`
    expect(checkEntry({ ...base, action: long }).action).toBe(long)
    expect(checkEntry({ ...base, action: 'run.step_2.succeeded' }).action).toBe('run.step_2.succeeded')
    for (const action of [
      `${long}c`,
      'Workflow.created',
      'workflow.Created',
      'workflow..created',
      'workflow.',
      '.x',
      '1x',
      'a b',
      7,
      // Not a string, though it reads as one: would be stored as a JSON array.
      ['workflow.created'],
    ]) {
      expect(refusal({ action }), String(action)).toMatch(
        /^action: expected a dotted lower-case verb such as "workflow.created" \(at most 100 characters\), got /,
      )
    }
  })

  it('takes a target with a lower-case type of 1 to 63 characters and an id of 1 to 200', () => {
    expect(checkEntry(base).target).toBeNull()
    expect(checkEntry({ ...base, target: null }).target).toBeNull()
    const target = { type: `w${'x'.repeat(62)}`, id: 'i'.repeat(200) }
    // Only the type and the id are kept.
    expect(checkEntry({ ...base, target: { ...target, extra: 1 } as never }).target).toEqual(target)
    for (const type of [`w${'x'.repeat(63)}`, 'Workflow', '1w', 'w-x', '', 7, ['workflow']]) {
      expect(refusal({ target: { type, id: 'i' } }), String(type)).toMatch(
        /^target\.type: expected a lower-case name such as "workflow", got /,
      )
    }
    for (const id of ['', 'i'.repeat(201), 7]) {
      expect(refusal({ target: { type: 'workflow', id } }), String(id)).toMatch(
        /^target\.id: expected a string of 1 to 200 characters, got /,
      )
    }
  })

  it('takes an IP address or nothing', () => {
    expect(checkEntry(base).ip).toBeNull()
    expect(checkEntry({ ...base, ip: '::1' }).ip).toBe('::1')
    expect(checkEntry({ ...base, ip: '192.0.2.1' }).ip).toBe('192.0.2.1')
    for (const ip of ['localhost', '', 7, ['::1']]) {
      expect(refusal({ ip }), String(ip)).toMatch(/^ip: expected an IPv4 or IPv6 address, or null, got /)
    }
  })

  it('takes data through a JSON round trip, without NUL, up to maxDataBytes of canonical JSON', () => {
    expect(checkEntry(base).data).toEqual({})
    expect(checkEntry({ ...base, data: { at: new Date(0), gone: undefined } }).data).toEqual({
      at: '1970-01-01T00:00:00.000Z',
    })
    expect(checkEntry({ ...base, data: () => 1 }).data).toBeNull()
    expect(refusal({ data: { n: 1n } })).toMatch(/^data: expected JSON data \(.*BigInt/)
    expect(refusal({ data: { s: 'a\u0000b' } })).toBe(
      'data: expected JSON without NUL characters (PostgreSQL jsonb cannot store them)',
    )
    // {"s":"…"} is 8 bytes around the string.
    const max = AUDIT_POLICY.maxDataBytes
    expect(max).toBe(65_536)
    expect(checkEntry({ ...base, data: { s: 'x'.repeat(max - 8) } }).data).toEqual({ s: 'x'.repeat(max - 8) })
    expect(refusal({ data: { s: 'x'.repeat(max - 7) } })).toBe(
      `data: expected at most ${max} bytes of JSON, got "${max + 1} bytes"`,
    )
  })
})

describe('audit chain hash', () => {
  const entry = {
    org: ORG,
    seq: 3,
    at: '2026-01-02T03:04:05.000Z',
    actor: { type: 'user' as const, id: 'u-1' },
    action: 'workflow.created',
    target: { type: 'workflow', id: 'wf-1' },
    data: { b: 1, a: [true, null] },
    ip: '192.0.2.1',
    prevHash: 'ab'.repeat(32),
  }

  it('is SHA-256 over the canonical JSON of every field, version 1 (pinned: stored chains depend on it)', () => {
    // Keys sorted, written out by hand: the recipe an outside verifier would rebuild.
    const material =
      '{"action":"workflow.created","actorId":"u-1","actorType":"user","at":"2026-01-02T03:04:05.000Z",' +
      `"data":{"a":[true,null],"b":1},"ip":"192.0.2.1","org":"${ORG}","prevHash":"${'ab'.repeat(32)}",` +
      '"seq":3,"targetId":"wf-1","targetType":"workflow","v":1}'
    expect(entryHash(entry)).toBe(createHash('sha256').update(material).digest('hex'))
  })

  it('changes with every field', () => {
    const hash = entryHash(entry)
    for (const changed of [
      { org: ORG.replace('0b', '0c') },
      { seq: 4 },
      { at: '2026-01-02T03:04:06.000Z' },
      { actor: { type: 'agent' as const, id: 'u-1' } },
      { actor: { type: 'user' as const, id: 'u-2' } },
      { action: 'workflow.deleted' },
      { target: { type: 'run', id: 'wf-1' } },
      { target: { type: 'workflow', id: 'wf-2' } },
      { target: null },
      { data: { b: 2, a: [true, null] } },
      { ip: null },
      { prevHash: 'cd'.repeat(32) },
    ]) {
      expect(entryHash({ ...entry, ...changed }), JSON.stringify(changed)).not.toBe(hash)
    }
  })
})

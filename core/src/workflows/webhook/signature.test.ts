import { describe, expect, it } from 'vitest'
import { SIGNATURE_HEADER, signWebhook, verifyWebhook, WEBHOOK_POLICY } from './signature.ts'

const secret = 'whsec_test'
const body = '{"action":"published"}'
const t = 1_800_000_000
const now = new Date(t * 1000 + 30_000)

describe('webhook signatures', () => {
  it('accepts a correctly signed body within the tolerance', () => {
    const header = signWebhook(secret, body, t)
    expect(header).toMatch(/^t=1800000000,v1=[0-9a-f]{64}$/)
    const r = verifyWebhook({ secret, body: Buffer.from(body), header, now })
    expect(r).toMatchObject({ ok: true, timestamp: t })
    expect(r.ok && r.signatureId).toBe(`v1:${header.split('v1=')[1]}`)
  })

  it('v2 binds the signature to its hook: it does not verify on another workflow with the same secret', () => {
    const header = signWebhook(secret, body, t, 'hook-a')
    expect(header).toMatch(/^t=1800000000,v2=[0-9a-f]{64}$/)
    expect(verifyWebhook({ secret, body, header, now, workflowId: 'hook-a' })).toMatchObject({
      ok: true,
      scheme: 'v2',
      signatureId: `v2:${header.split('v2=')[1]}`,
    })
    expect(verifyWebhook({ secret, body, header, now, workflowId: 'hook-b' })).toMatchObject({
      ok: false,
      reason: 'mismatch',
    })
    // A v2 value offered as v1 (or the reverse) does not verify either.
    expect(
      verifyWebhook({ secret, body, header: header.replace('v2=', 'v1='), now, workflowId: 'hook-a' }).ok,
    ).toBe(false)
  })

  it('accepts any of several signatures (secret rotation) in any order', () => {
    const good = signWebhook(secret, body, t).split(',')[1]!
    const old = signWebhook('old-secret', body, t).split(',')[1]!
    expect(verifyWebhook({ secret, body, header: `t=${t},${old},${good}`, now }).ok).toBe(true)
  })

  it('refuses a changed body, another secret, or a changed timestamp', () => {
    const header = signWebhook(secret, body, t)
    expect(verifyWebhook({ secret, body: `${body} `, header, now })).toMatchObject({
      ok: false,
      reason: 'mismatch',
    })
    expect(verifyWebhook({ secret: 'other', body, header, now })).toMatchObject({
      ok: false,
      reason: 'mismatch',
    })
    const moved = header.replace(`t=${t}`, `t=${t + 10}`)
    expect(verifyWebhook({ secret, body, header: moved, now })).toMatchObject({
      ok: false,
      reason: 'mismatch',
    })
  })

  it('refuses old and future timestamps, naming by how much', () => {
    const header = signWebhook(secret, body, t)
    const late = verifyWebhook({ secret, body, header, now: new Date(t * 1000 + 301_000) })
    expect(late).toEqual({
      ok: false,
      reason: 'expired',
      message: 'the signature timestamp is 301 s old; at most 300 s are accepted',
    })
    const early = verifyWebhook({ secret, body, header, now: new Date(t * 1000 - 400_000) })
    expect(early).toMatchObject({ ok: false, reason: 'future' })
  })

  it('refuses missing and malformed headers', () => {
    expect(verifyWebhook({ secret, body, header: undefined, now })).toMatchObject({ reason: 'missing' })
    for (const header of [
      'v1=abc',
      `t=${t}`,
      `t=x,v1=${'a'.repeat(64)}`,
      `t=${t},v1=${'A'.repeat(64)}`,
      'garbage',
    ]) {
      expect(verifyWebhook({ secret, body, header, now }), header).toMatchObject({
        ok: false,
        reason: 'malformed',
      })
    }
    const many = Array.from({ length: 5 }, () => `v1=${'a'.repeat(64)}`).join(',')
    expect(verifyWebhook({ secret, body, header: `t=${t},${many}`, now })).toMatchObject({
      reason: 'malformed',
    })
  })

  it('reads the header named stavily-signature, and names it when it is missing or malformed', () => {
    // The header's name is what every sender configures: it must not change.
    expect(SIGNATURE_HEADER).toBe('stavily-signature')
    expect(verifyWebhook({ secret, body, header: undefined, now })).toEqual({
      ok: false,
      reason: 'missing',
      message: 'the stavily-signature header is missing',
    })
    const malformed = verifyWebhook({ secret, body, header: 'garbage', now })
    expect(malformed.ok === false && malformed.message).toMatch(
      /^the stavily-signature header must be "t=<unix seconds>,v2=/,
    )
  })

  it('allows spaces after the commas, and ignores parts it does not know', () => {
    const [stamp, mac] = signWebhook(secret, body, t, 'hook-a').split(',')
    for (const header of [
      `${stamp}, ${mac}`,
      `${stamp},x=12,${mac}`,
      `${stamp},12,${mac}`,
      `x=12,${stamp},${mac}`,
    ]) {
      expect(verifyWebhook({ secret, body, header, now, workflowId: 'hook-a' }), header).toMatchObject({
        ok: true,
        timestamp: t,
      })
    }
  })

  it('refuses a timestamp or signature with anything before or after it (never a partial match)', () => {
    const mac = signWebhook(secret, body, t, 'hook-a').split('v2=')[1]!
    for (const header of [
      `t=x${t},v2=${mac}`,
      `t=${t}x,v2=${mac}`,
      `t=${t},v2=${mac}0`,
      `t=${t},v2=${mac}zz`,
      `t=${t},v2=zz${mac}`,
      `t=${t},v2=0${mac}`,
    ]) {
      expect(verifyWebhook({ secret, body, header, now, workflowId: 'hook-a' }), header).toMatchObject({
        ok: false,
        reason: 'malformed',
      })
    }
  })

  it('accepts up to maxSignatures signatures in one header, and refuses one more', () => {
    expect(WEBHOOK_POLICY.maxSignatures).toBe(4)
    const good = signWebhook(secret, body, t).split(',')[1]!
    const others = (n: number) =>
      Array.from({ length: n }, (_, i) => signWebhook(`old-${i}`, body, t).split(',')[1]!)
    expect(verifyWebhook({ secret, body, header: [`t=${t}`, ...others(3), good].join(','), now }).ok).toBe(
      true,
    )
    expect(
      verifyWebhook({ secret, body, header: [`t=${t}`, ...others(4), good].join(','), now }),
    ).toMatchObject({ ok: false, reason: 'malformed' })
  })

  it('accepts a timestamp exactly at the tolerance, in the past and in the future', () => {
    const header = signWebhook(secret, body, t)
    const tolerance = WEBHOOK_POLICY.toleranceMs
    expect(verifyWebhook({ secret, body, header, now: new Date(t * 1000 + tolerance) }).ok).toBe(true)
    expect(verifyWebhook({ secret, body, header, now: new Date(t * 1000 - tolerance) }).ok).toBe(true)
    expect(verifyWebhook({ secret, body, header, now: new Date(t * 1000 + tolerance + 1) })).toMatchObject({
      reason: 'expired',
    })
    expect(verifyWebhook({ secret, body, header, now: new Date(t * 1000 - tolerance - 1) })).toMatchObject({
      reason: 'future',
    })
  })

  it('names how far in the future a timestamp is, and what does not match', () => {
    const header = signWebhook(secret, body, t)
    expect(verifyWebhook({ secret, body, header, now: new Date(t * 1000 - 400_000) })).toEqual({
      ok: false,
      reason: 'future',
      message: "the signature timestamp is 400 s in the future; check the sender's clock",
    })
    expect(verifyWebhook({ secret: 'other', body, header, now })).toEqual({
      ok: false,
      reason: 'mismatch',
      message: 'the signature does not match the body, this hook and its webhook secret',
    })
  })
})

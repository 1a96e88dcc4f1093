import { createHmac, timingSafeEqual } from 'node:crypto'

// Webhook requests are signed like this (the scheme Stripe popularised, so senders have
// libraries for it):
//
//   Stavily-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">
//
// The timestamp is signed with the body, so a captured request cannot be replayed later
// than the tolerance; within it, the signature id is remembered (deliveries.ts) so it
// cannot be replayed at all. Several v1 entries may be sent while a secret is rotated.

export const SIGNATURE_HEADER = 'stavily-signature'

export const WEBHOOK_POLICY = {
  /** How far a request's timestamp may be from the server's clock: covers clock skew and slow senders. */
  toleranceMs: 300_000,
  /** Most v1 signatures one header may carry. */
  maxSignatures: 4,
} as const

export type SignatureFailure = 'missing' | 'malformed' | 'expired' | 'future' | 'mismatch'

export type SignatureCheck =
  | { ok: true; timestamp: number; signatureId: string }
  | { ok: false; reason: SignatureFailure; message: string }

function hmac(secret: string, timestamp: number, body: Buffer | string): Buffer {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest()
}

/** The header value a sender puts on a request (also used by `stavily` and tests). */
export function signWebhook(secret: string, body: Buffer | string, timestampSec: number): string {
  return `t=${timestampSec},v1=${hmac(secret, timestampSec, body).toString('hex')}`
}

export function verifyWebhook(input: {
  secret: string
  body: Buffer | string
  header: string | undefined
  now?: Date
  toleranceMs?: number
}): SignatureCheck {
  const fail = (reason: SignatureFailure, message: string): SignatureCheck => ({ ok: false, reason, message })
  if (!input.header) return fail('missing', `the ${SIGNATURE_HEADER} header is missing`)
  let timestamp: number | undefined
  const signatures: Buffer[] = []
  for (const part of input.header.split(',')) {
    const [k, v] = part.trim().split('=', 2)
    if (k === 't' && v && /^\d{1,12}$/.test(v)) timestamp = Number(v)
    else if (k === 'v1' && v && /^[0-9a-f]{64}$/.test(v)) signatures.push(Buffer.from(v, 'hex'))
  }
  if (
    timestamp === undefined ||
    signatures.length === 0 ||
    signatures.length > WEBHOOK_POLICY.maxSignatures
  ) {
    return fail('malformed', `the ${SIGNATURE_HEADER} header must be "t=<unix seconds>,v1=<hex HMAC-SHA256>"`)
  }
  const now = (input.now ?? new Date()).getTime()
  const tolerance = input.toleranceMs ?? WEBHOOK_POLICY.toleranceMs
  const skew = now - timestamp * 1000
  if (skew > tolerance)
    return fail(
      'expired',
      `the signature timestamp is ${Math.round(skew / 1000)} s old; at most ${tolerance / 1000} s are accepted`,
    )
  if (-skew > tolerance)
    return fail(
      'future',
      `the signature timestamp is ${Math.round(-skew / 1000)} s in the future; check the sender's clock`,
    )
  const expected = hmac(input.secret, timestamp, input.body)
  // Compare against every offered signature, in constant time each, without stopping early.
  let match: Buffer | undefined
  for (const s of signatures) if (timingSafeEqual(s, expected) && !match) match = s
  if (!match) return fail('mismatch', 'the signature does not match the body and the webhook secret')
  return { ok: true, timestamp, signatureId: match.toString('hex') }
}

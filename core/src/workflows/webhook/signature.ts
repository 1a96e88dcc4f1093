import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

// Webhook requests are signed like this (the scheme Stripe popularised, so senders have
// libraries for it), with the hook's workflow id inside the signed text:
//
//   Stavily-Signature: t=<unix seconds>,v2=<hex HMAC-SHA256 of "<t>.<workflow id>.<raw body>">
//
// The timestamp is signed with the body, so a captured request cannot be replayed later
// than the tolerance; within it, the signature id is remembered (deliveries.ts) so it
// cannot be replayed at all. The workflow id binds a request to its hook: one signed for a
// hook does not verify on another hook that uses the same secret. Several signatures may be
// sent while a secret is rotated.
//
// v1 (HMAC of "<t>.<raw body>", no workflow id) is still accepted so existing senders keep
// working, but it is deprecated: a v1 signature is accepted once across every hook of the
// instance (deliveries.ts), which stops a replay on a second hook only after the first
// delivery arrived. docs/workflows.md says how to move to v2.

export const SIGNATURE_HEADER = 'stavily-signature'

export const WEBHOOK_POLICY = {
  /** How far a request's timestamp may be from the server's clock: covers clock skew and slow senders. */
  toleranceMs: 300_000,
  /** Most signatures (v1 and v2 together) one header may carry: a rotation needs two. */
  maxSignatures: 4,
} as const

export type SignatureScheme = 'v1' | 'v2'

export type SignatureFailure = 'missing' | 'malformed' | 'expired' | 'future' | 'mismatch'

export type SignatureCheck =
  | { ok: true; timestamp: number; scheme: SignatureScheme; signatureId: string }
  | { ok: false; reason: SignatureFailure; message: string }

/** A header that is present, well formed and within the tolerance: not yet checked against a secret. */
export type ParsedSignature =
  | { ok: true; timestamp: number; signatures: { scheme: SignatureScheme; mac: Buffer }[] }
  | { ok: false; reason: SignatureFailure; message: string }

function hmac(
  secret: string,
  scheme: SignatureScheme,
  timestamp: number,
  workflowId: string,
  body: Buffer | string,
): Buffer {
  const h = createHmac('sha256', secret).update(`${timestamp}.`)
  if (scheme === 'v2') h.update(`${workflowId}.`)
  return h.update(body).digest()
}

/**
 * The header value a sender puts on a request (also used by `stavily` and tests): v2, bound
 * to the hook's workflow id. Without a workflow id, the deprecated v1.
 */
export function signWebhook(
  secret: string,
  body: Buffer | string,
  timestampSec: number,
  workflowId?: string,
): string {
  if (workflowId === undefined)
    return `t=${timestampSec},v1=${hmac(secret, 'v1', timestampSec, '', body).toString('hex')}`
  return `t=${timestampSec},v2=${hmac(secret, 'v2', timestampSec, workflowId, body).toString('hex')}`
}

const fail = (reason: SignatureFailure, message: string) => ({ ok: false as const, reason, message })

/** Checks what can be checked without knowing the hook: presence, shape and timestamp. */
export function parseSignature(
  header: string | undefined,
  opts: { now?: Date; toleranceMs?: number } = {},
): ParsedSignature {
  if (!header) return fail('missing', `the ${SIGNATURE_HEADER} header is missing`)
  let timestamp: number | undefined
  const signatures: { scheme: SignatureScheme; mac: Buffer }[] = []
  for (const part of header.split(',')) {
    const [k, v] = part.trim().split('=', 2)
    if (k === 't' && v && /^\d{1,12}$/.test(v)) timestamp = Number(v)
    else if ((k === 'v1' || k === 'v2') && v && /^[0-9a-f]{64}$/.test(v))
      signatures.push({ scheme: k, mac: Buffer.from(v, 'hex') })
  }
  if (
    timestamp === undefined ||
    signatures.length === 0 ||
    signatures.length > WEBHOOK_POLICY.maxSignatures
  ) {
    return fail(
      'malformed',
      `the ${SIGNATURE_HEADER} header must be "t=<unix seconds>,v2=<hex HMAC-SHA256 of "<t>.<workflow id>.<body>">"`,
    )
  }
  const now = (opts.now ?? new Date()).getTime()
  const tolerance = opts.toleranceMs ?? WEBHOOK_POLICY.toleranceMs
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
  return { ok: true, timestamp, signatures }
}

/**
 * Checks a parsed header against the hook's secret. Without a secret (no such hook, or its
 * secret is not set) a random one is used, so the answer and the work are those of a wrong
 * signature: an unsigned caller cannot tell these cases apart.
 */
export function matchSignature(
  parsed: Extract<ParsedSignature, { ok: true }>,
  input: { secret: string | undefined; workflowId: string; body: Buffer | string },
): SignatureCheck {
  const secret = input.secret ?? randomBytes(32).toString('hex')
  const expected = {
    v1: hmac(secret, 'v1', parsed.timestamp, '', input.body),
    v2: hmac(secret, 'v2', parsed.timestamp, input.workflowId, input.body),
  }
  // Compare against every offered signature, in constant time each, without stopping early.
  let match: { scheme: SignatureScheme; mac: Buffer } | undefined
  for (const s of parsed.signatures) if (timingSafeEqual(s.mac, expected[s.scheme]) && !match) match = s
  if (!match || input.secret === undefined)
    return fail('mismatch', 'the signature does not match the body, this hook and its webhook secret')
  return {
    ok: true,
    timestamp: parsed.timestamp,
    scheme: match.scheme,
    signatureId: `${match.scheme}:${match.mac.toString('hex')}`,
  }
}

/** parseSignature then matchSignature, for callers that know the hook and its secret. */
export function verifyWebhook(input: {
  secret: string
  body: Buffer | string
  header: string | undefined
  workflowId?: string
  now?: Date
  toleranceMs?: number
}): SignatureCheck {
  const parsed = parseSignature(input.header, {
    ...(input.now ? { now: input.now } : {}),
    ...(input.toleranceMs !== undefined ? { toleranceMs: input.toleranceMs } : {}),
  })
  if (!parsed.ok) return parsed
  return matchSignature(parsed, {
    secret: input.secret,
    workflowId: input.workflowId ?? '',
    body: input.body,
  })
}

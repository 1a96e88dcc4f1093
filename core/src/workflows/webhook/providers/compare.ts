import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

// Credential comparisons for the providers: constant time, and the same work whether the
// secret is set or not (a random one stands in), so timing tells a caller nothing.

const standIn = randomBytes(32).toString('hex')

/** Whether `given` equals `secret`, compared through fixed-length digests. */
export function sameSecret(given: string | undefined, secret: string | undefined): boolean {
  const a = createHash('sha256')
    .update(given ?? '')
    .digest()
  const b = createHash('sha256')
    .update(secret ?? standIn)
    .digest()
  return timingSafeEqual(a, b) && given !== undefined && secret !== undefined
}

/** Whether `hex` is the HMAC-SHA256 of `body` keyed with `secret`. */
export function sameHmac(hex: string | undefined, secret: string | undefined, body: Buffer): boolean {
  const expected = createHmac('sha256', secret ?? standIn)
    .update(body)
    .digest()
  if (hex === undefined || !/^[0-9a-f]{64}$/i.test(hex)) return false
  return timingSafeEqual(Buffer.from(hex, 'hex'), expected) && secret !== undefined
}

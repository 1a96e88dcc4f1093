import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

// Credentials are 256 random bits shown once; only their SHA-256 is stored. A slow password
// hash is not needed: the secret is random, not chosen by a person, so it cannot be guessed
// from its hash, and lookups stay one index probe.

export type SecretKind = 'admin' | 'api' | 'enroll' | 'agent'

export function newSecret(kind: SecretKind): string {
  return `stv_${kind}_${randomBytes(32).toString('base64url')}`
}

export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret).digest()
}

const SHAPE = /^stv_(admin|api|enroll|agent)_[A-Za-z0-9_-]{43}$/

/** The kind of a well-formed secret, or undefined: malformed input never reaches the database. */
export function secretKind(secret: string): SecretKind | undefined {
  const m = SHAPE.exec(secret)
  return m ? (m[1] as SecretKind) : undefined
}

export function sameHash(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b)
}

import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { open, seal } from './cipher.ts'
import { SecretError } from './errors.ts'
import { createKeyring } from './keyring.ts'

const ORG = '0b5e4b0a-4c1f-4f4e-9d7a-1c2b3d4e5f60'
const OTHER = '1b5e4b0a-4c1f-4f4e-9d7a-1c2b3d4e5f60'

function unreadable(fn: () => unknown): SecretError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(SecretError)
    expect((err as SecretError).code).toBe('STAVILY_ERR_SECRET_UNREADABLE')
    return err as SecretError
  }
  throw new Error('expected the secret not to decrypt')
}

describe('secret cipher (AES-256-GCM)', () => {
  const keyring = createKeyring(randomBytes(32))

  it('round-trips, with a fresh nonce each time and no plaintext in the ciphertext', () => {
    const a = seal(keyring, ORG, 'SLACK_TOKEN', 'xoxb-secret-value')
    const b = seal(keyring, ORG, 'SLACK_TOKEN', 'xoxb-secret-value')
    expect(a.nonce).toHaveLength(12)
    expect(a.nonce.equals(b.nonce)).toBe(false)
    expect(a.ciphertext.equals(b.ciphertext)).toBe(false)
    expect(a.ciphertext.toString('latin1')).not.toContain('secret-value')
    expect(open(keyring, ORG, 'SLACK_TOKEN', a)).toBe('xoxb-secret-value')
    expect(open(keyring, ORG, 'UNICODE', seal(keyring, ORG, 'UNICODE', 'pässwörd ✓'))).toBe('pässwörd ✓')
  })

  it('detects a flipped bit in the ciphertext, the tag or the nonce', () => {
    const s = seal(keyring, ORG, 'DB_PASSWORD', 'hunter2')
    for (const i of [0, s.ciphertext.length - 1]) {
      const c = Buffer.from(s.ciphertext)
      c[i]! ^= 1
      const e = unreadable(() => open(keyring, ORG, 'DB_PASSWORD', { ...s, ciphertext: c }))
      expect(e.message).toBe(
        'secret DB_PASSWORD: it does not decrypt; the stored value was altered or copied from another secret',
      )
    }
    const n = Buffer.from(s.nonce)
    n[0]! ^= 1
    unreadable(() => open(keyring, ORG, 'DB_PASSWORD', { ...s, nonce: n }))
    unreadable(() => open(keyring, ORG, 'DB_PASSWORD', { ...s, ciphertext: s.ciphertext.subarray(0, 4) }))
  })

  it('binds the ciphertext to its organization, name and key id', () => {
    const s = seal(keyring, ORG, 'DB_PASSWORD', 'hunter2')
    unreadable(() => open(keyring, OTHER, 'DB_PASSWORD', s))
    unreadable(() => open(keyring, ORG, 'DB_PASSWORD2', s))
    // Relabelled with another configured key's id: the AAD differs, so it fails too.
    const two = createKeyring(randomBytes(32), [keyring.get(keyring.currentId)!])
    const relabelled = seal(two, ORG, 'X', 'v')
    const prevId = two.ids[1]!
    unreadable(() => open(two, ORG, 'X', { ...relabelled, keyId: prevId }))
  })

  it('says which key is missing when a secret was sealed under an unconfigured key', () => {
    const s = seal(keyring, ORG, 'API_KEY', 'v')
    const other = createKeyring(randomBytes(32))
    const e = unreadable(() => open(other, ORG, 'API_KEY', s))
    expect(e.message).toMatch(
      new RegExp(`encrypted under key ${s.keyId}, which is not configured.*previousKeys`),
    )
  })
})

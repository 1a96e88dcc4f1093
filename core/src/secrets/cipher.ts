import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { SecretError } from './errors.ts'
import type { Keyring } from './keyring.ts'

// AES-256-GCM with a fresh random 96-bit nonce per encryption. The organization, the
// secret's name and the key id are the additional authenticated data: a ciphertext copied
// to another secret or organization, or relabelled with another key id, fails to decrypt.

export interface Sealed {
  keyId: string
  nonce: Buffer
  /** Ciphertext followed by the 16-byte GCM tag. */
  ciphertext: Buffer
}

const TAG_BYTES = 16

function aad(org: string, name: string, keyId: string): Buffer {
  // Length-prefixed, so no choice of org and name can produce another secret's AAD.
  return Buffer.from(
    ['stavily-secret-v1', org, name, keyId].map((p) => `${Buffer.byteLength(p)}:${p}`).join('|'),
  )
}

export function seal(keyring: Keyring, org: string, name: string, plaintext: string): Sealed {
  const keyId = keyring.currentId
  const nonce = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', keyring.get(keyId)!, nonce, { authTagLength: TAG_BYTES })
  cipher.setAAD(aad(org, name, keyId))
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
  return { keyId, nonce, ciphertext: Buffer.concat([body, cipher.getAuthTag()]) }
}

export function open(keyring: Keyring, org: string, name: string, sealed: Sealed): string {
  const key = keyring.get(sealed.keyId)
  if (!key) {
    throw new SecretError(
      'STAVILY_ERR_SECRET_UNREADABLE',
      `secret ${name}: it is encrypted under key ${sealed.keyId}, which is not configured (configured: ${keyring.ids.join(', ')}); add the old key to secrets.previousKeys`,
      { data: { org, name, keyId: sealed.keyId } },
    )
  }
  try {
    if (sealed.nonce.length !== 12 || sealed.ciphertext.length < TAG_BYTES)
      throw new Error('malformed sealed value')
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.nonce, { authTagLength: TAG_BYTES })
    decipher.setAAD(aad(org, name, sealed.keyId))
    decipher.setAuthTag(sealed.ciphertext.subarray(sealed.ciphertext.length - TAG_BYTES))
    const body = sealed.ciphertext.subarray(0, sealed.ciphertext.length - TAG_BYTES)
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8')
  } catch (err) {
    throw new SecretError(
      'STAVILY_ERR_SECRET_UNREADABLE',
      `secret ${name}: it does not decrypt; the stored value was altered or copied from another secret`,
      { cause: err, data: { org, name, keyId: sealed.keyId } },
    )
  }
}

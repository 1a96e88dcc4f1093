import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
} from 'node:crypto'
import { canonicalize } from '@tufjs/canonical-json'
import { Key, Signature } from '@tufjs/models'
import { RegistryError } from '../errors.ts'

// Ed25519 keys for TUF roles. Private keys are PKCS#8 PEM text (what `openssl genpkey
// -algorithm ed25519` writes); public keys go into root metadata as TUF `ed25519` keys with a
// hex `public` value, and a key id that is the sha256 of the key's canonical JSON.

export interface SigningKey {
  readonly keyId: string
  /** The public half, as it appears in root metadata. */
  readonly publicKey: Key
  /** Signs canonical JSON bytes (what `Metadata.sign` hands over). */
  sign(data: Buffer): Signature
}

/** A fresh Ed25519 private key as PKCS#8 PEM. */
export function generateKeyPem(): string {
  const { privateKey } = generateKeyPairSync('ed25519')
  return privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
}

export function tufKeyFromPublic(publicKey: KeyObject): Key {
  // The raw 32-byte key is the tail of the SPKI DER encoding (a fixed 12-byte prefix for Ed25519).
  const der = publicKey.export({ format: 'der', type: 'spki' })
  const keyVal = { public: der.subarray(der.length - 32).toString('hex') }
  const body = { keytype: 'ed25519', scheme: 'ed25519', keyval: keyVal }
  const keyID = createHash('sha256').update(canonicalize(body)).digest('hex')
  return new Key({ keyID, keyType: 'ed25519', scheme: 'ed25519', keyVal: keyVal })
}

/** Loads a PKCS#8 PEM Ed25519 private key; `field` names the configuration entry in errors. */
export function signingKeyFromPem(field: string, pem: unknown): SigningKey {
  if (typeof pem !== 'string' || !pem.includes('PRIVATE KEY'))
    throw new RegistryError(
      'STAVILY_ERR_REGISTRY_KEYS',
      `${field}: expected a PKCS#8 PEM Ed25519 private key`,
      {
        data: { field },
      },
    )
  let privateKey: KeyObject
  try {
    privateKey = createPrivateKey(pem)
  } catch (err) {
    throw new RegistryError('STAVILY_ERR_REGISTRY_KEYS', `${field}: not a readable PEM private key`, {
      cause: err,
      data: { field },
    })
  }
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new RegistryError(
      'STAVILY_ERR_REGISTRY_KEYS',
      `${field}: expected an Ed25519 key, got ${privateKey.asymmetricKeyType ?? 'unknown'}`,
      { data: { field } },
    )
  const publicKey = tufKeyFromPublic(createPublicKey(privateKey))
  return {
    keyId: publicKey.keyID,
    publicKey,
    sign: (data) =>
      new Signature({ keyID: publicKey.keyID, sig: sign(null, data, privateKey).toString('hex') }),
  }
}

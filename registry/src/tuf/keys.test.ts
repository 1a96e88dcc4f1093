import { createHash, createPublicKey, generateKeyPairSync, verify } from 'node:crypto'
import { canonicalize } from '@tufjs/canonical-json'
import { describe, expect, it } from 'vitest'
import { isRegistryError, type RegistryError } from '../errors.ts'
import { generateKeyPem, signingKeyFromPem, tufKeyFromPublic } from './keys.ts'
import { expiresIn, metaFileFor } from './metadata-io.ts'
import { loadKeys, loadRoleKeys } from './roles.ts'
import { parseTargetDownload, parseTargetPath, targetPath } from './target-path.ts'

// The registry's signing keys and the small formats around TUF metadata, without storage:
// what a configuration error says (the field named), and the recipes clients depend on.

function refused(fn: () => unknown): RegistryError {
  try {
    fn()
  } catch (err) {
    expect(isRegistryError(err, 'STAVILY_ERR_REGISTRY_KEYS')).toBe(true)
    return err as RegistryError
  }
  throw new Error('expected a refusal')
}

describe('signing keys', () => {
  it('loads a PKCS#8 Ed25519 PEM and signs with it under the TUF key id of its public half', () => {
    const pem = generateKeyPem()
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/)
    const key = signingKeyFromPem('keys.targets.keys[0]', pem)
    const raw = createPublicKey(pem).export({ format: 'der', type: 'spki' }).subarray(12).toString('hex')
    expect(key.publicKey.keyVal).toEqual({ public: raw })
    expect(key.publicKey.keyType).toBe('ed25519')
    expect(key.publicKey.scheme).toBe('ed25519')
    // The key id is the sha256 of the key's canonical JSON (what clients recompute).
    const body = { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: raw } }
    expect(key.keyId).toBe(createHash('sha256').update(canonicalize(body)).digest('hex'))
    expect(key.publicKey.keyID).toBe(key.keyId)
    const data = Buffer.from('{"signed":1}')
    const sig = key.sign(data)
    expect(sig.keyID).toBe(key.keyId)
    expect(verify(null, data, createPublicKey(pem), Buffer.from(sig.sig, 'hex'))).toBe(true)
    expect(tufKeyFromPublic(createPublicKey(pem)).keyID).toBe(key.keyId)
  })

  it('names the field of a key that is missing, unreadable or not Ed25519', () => {
    for (const pem of [undefined, 42, 'not a key']) {
      const err = refused(() => signingKeyFromPem('keys.root.keys[1]', pem))
      expect(err.message).toBe('keys.root.keys[1]: expected a PKCS#8 PEM Ed25519 private key')
      expect(err.data).toEqual({ field: 'keys.root.keys[1]' })
    }
    const garbled = refused(() =>
      signingKeyFromPem('k', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'),
    )
    expect(garbled.message).toBe('k: not a readable PEM private key')
    expect(garbled.data).toEqual({ field: 'k' })
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ format: 'pem', type: 'pkcs8' })
      .toString()
    const wrong = refused(() => signingKeyFromPem('k', ec))
    expect(wrong.message).toBe('k: expected an Ed25519 key, got ec')
    expect(wrong.data).toEqual({ field: 'k' })
  })
})

describe('role keys', () => {
  it('loads each role with a threshold of 1 by default, and root only when given', () => {
    const pems = [generateKeyPem(), generateKeyPem()]
    const role = loadRoleKeys('keys.targets', { keys: pems, threshold: 2 })
    expect(role.threshold).toBe(2)
    expect(role.keys.map((k) => k.keyId)).toEqual(pems.map((p) => signingKeyFromPem('x', p).keyId))
    expect(loadRoleKeys('keys.targets', { keys: [pems[0]] }).threshold).toBe(1)
    const online = {
      targets: { keys: [generateKeyPem()] },
      snapshot: { keys: [generateKeyPem()] },
      timestamp: { keys: [generateKeyPem()] },
    }
    const loaded = loadKeys('keys', online)
    expect(loaded.root).toBeUndefined()
    expect(loaded.snapshot.keys[0]!.keyId).toBe(signingKeyFromPem('x', online.snapshot.keys[0]).keyId)
    expect(loadKeys('keys', { ...online, root: { keys: [generateKeyPem()] } }).root?.keys).toHaveLength(1)
    // The index of a bad key is named.
    expect(
      refused(() => loadKeys('keys', { ...online, timestamp: { keys: [generateKeyPem(), 'x'] } })).message,
    ).toBe('keys.timestamp.keys[1]: expected a PKCS#8 PEM Ed25519 private key')
    // Each role is named in its own errors.
    for (const role of ['root', 'targets', 'snapshot', 'timestamp'])
      expect(refused(() => loadKeys('keys', { ...online, [role]: { keys: [] } })).message).toBe(
        `keys.${role}.keys: expected at least one PEM private key`,
      )
  })

  it('refuses no keys, a key listed twice and a threshold outside 1..keys, naming the field', () => {
    // null: a YAML role with nothing under it.
    for (const config of [undefined, null, 'pem', {}, { keys: 'pem' }, { keys: [] }]) {
      const err = refused(() => loadRoleKeys('keys.snapshot', config))
      expect(err.message, JSON.stringify(config)).toBe(
        'keys.snapshot.keys: expected at least one PEM private key',
      )
      expect(err.data).toEqual({ field: 'keys.snapshot.keys' })
    }
    const pem = generateKeyPem()
    const twice = refused(() => loadRoleKeys('keys.root', { keys: [pem, pem] }))
    expect(twice.message).toBe('keys.root.keys: the same key is listed twice')
    expect(twice.data).toEqual({ field: 'keys.root.keys' })
    const two = [generateKeyPem(), generateKeyPem()]
    for (const threshold of [0, 3, 1.5, '1']) {
      const err = refused(() => loadRoleKeys('keys.root', { keys: two, threshold }))
      expect(err.message).toBe(
        `keys.root.threshold: expected an integer from 1 to 2 (the number of keys), got ${JSON.stringify(threshold)}`,
      )
      expect(err.data).toEqual({ field: 'keys.root.threshold' })
    }
    expect(refused(() => loadKeys('keys', undefined as never)).message).toBe(
      'keys: expected keys for root, targets, snapshot and timestamp',
    )
    expect(refused(() => loadKeys('keys', 'x' as never)).message).toMatch(/^keys: expected keys for/)
  })
})

describe('metadata formats', () => {
  it('writes expiry times in UTC to the second, as TUF expects', () => {
    expect(expiresIn(new Date('2030-01-01T00:00:00.999Z'), 86_400)).toBe('2030-01-02T00:00:00Z')
    expect(expiresIn(new Date('2030-01-01T10:20:30.000Z'), 1)).toBe('2030-01-01T10:20:31Z')
  })

  it('pins the version, length and sha256 of a metadata file', () => {
    const body = '{"signed":{"ä":1}}'
    const meta = metaFileFor(7, body)
    expect(meta.version).toBe(7)
    expect(meta.length).toBe(Buffer.byteLength(body))
    expect(meta.length).toBe(body.length + 1)
    expect(meta.hashes).toEqual({ sha256: createHash('sha256').update(body).digest('hex') })
  })

  it('places a plugin version at name/version.js, with or without a digest prefix when served', () => {
    expect(targetPath('@acme/x', '1.2.3')).toBe('@acme/x/1.2.3.js')
    expect(parseTargetPath('@acme/x/1.2.3.js')).toEqual({ name: '@acme/x', version: '1.2.3' })
    expect(parseTargetPath('x/1.0.0.js')).toEqual({ name: 'x', version: '1.0.0' })
    for (const p of ['x/1.0.0.jsx', '1.0.0.js', 'x/.js', '/1.0.0.js', 'x/1.0.0.js/'])
      expect(parseTargetPath(p), p).toBeUndefined()
    const sha = 'a1'.repeat(32)
    expect(parseTargetDownload(`@acme/x/${sha}.1.2.3.js`)).toEqual({
      name: '@acme/x',
      version: '1.2.3',
      sha256: sha,
    })
    expect(parseTargetDownload('@acme/x/1.2.3.js')).toEqual({ name: '@acme/x', version: '1.2.3' })
    // Not a digest: 63 hex digits, or upper case, stay part of the version.
    expect(parseTargetDownload(`x/${sha.slice(1)}.1.0.0.js`)).toEqual({
      name: 'x',
      version: `${sha.slice(1)}.1.0.0`,
    })
    expect(parseTargetDownload(`x/${sha.toUpperCase()}.1.0.0.js`)).toEqual({
      name: 'x',
      version: `${sha.toUpperCase()}.1.0.0`,
    })
    for (const p of ['x/1.0.0.jsx', '1.0.0.js', 'x/.js', '/1.0.0.js'])
      expect(parseTargetDownload(p), p).toBeUndefined()
  })
})

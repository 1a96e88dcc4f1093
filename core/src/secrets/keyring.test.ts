import { createHash, randomBytes } from 'node:crypto'
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { SecretError } from './errors.ts'
import { keyId, loadKeyring } from './keyring.ts'

const dirs: string[] = []
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'stavily-keys-'))
  dirs.push(d)
  return d
}
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
})

async function configError(p: Promise<unknown>): Promise<string> {
  const err = await p.catch((e) => e)
  expect(err).toBeInstanceOf(SecretError)
  expect((err as SecretError).code).toBe('STAVILY_ERR_CONFIG')
  return (err as SecretError).message
}

describe('loadKeyring', () => {
  it('uses the configured key and accepts previous keys for reading', async () => {
    const key = randomBytes(32)
    const old = randomBytes(32)
    const k = await loadKeyring({ key: key.toString('base64'), previousKeys: [old.toString('base64')] })
    expect(k.currentId).toBe(keyId(key))
    expect(k.currentId).toMatch(/^k_[0-9a-f]{16}$/)
    // Stored secrets name their key by this id: its recipe must not change.
    expect(k.currentId).toBe(
      `k_${createHash('sha256').update('stavily-secret-key-id').update(key).digest('hex').slice(0, 16)}`,
    )
    expect(k.get(keyId(old))?.equals(old)).toBe(true)
    expect(k.ids).toEqual([keyId(key), keyId(old)])
  })

  it('refuses malformed keys, naming the setting', async () => {
    expect(await configError(loadKeyring({ key: randomBytes(16).toString('base64') }))).toBe(
      'secrets.key: expected a 32-byte key in base64 (generate one with "openssl rand -base64 32"), got 16 bytes',
    )
    expect(await configError(loadKeyring({ key: 'not base64!' }))).toMatch(/got text that is not base64/)
    expect(
      await configError(loadKeyring({ key: randomBytes(32).toString('base64'), previousKeys: ['x'] })),
    ).toMatch(/^secrets.previousKeys\[0\]: expected a 32-byte key/)
    expect(await configError(loadKeyring({}))).toMatch(/secrets.key: expected a key, or a data folder/)
  })

  it('generates a key into the data folder on first start (mode 0600) and reuses it', async () => {
    const dir = join(await tempDir(), 'data')
    const [a, b] = await Promise.all([loadKeyring({ dataDir: dir }), loadKeyring({ dataDir: dir })])
    expect(a.currentId).toBe(b.currentId)
    const file = join(dir, 'secrets.key')
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    expect(Buffer.from((await readFile(file, 'utf8')).trim(), 'base64')).toHaveLength(32)
    expect((await loadKeyring({ dataDir: dir })).currentId).toBe(a.currentId)
  })

  it('refuses a key file other users can read', async () => {
    const dir = await tempDir()
    await loadKeyring({ dataDir: dir })
    await chmod(join(dir, 'secrets.key'), 0o644)
    expect(await configError(loadKeyring({ dataDir: dir }))).toMatch(
      /readable by other users \(mode 644\); run "chmod 600/,
    )
  })
})

import { createHash, randomBytes } from 'node:crypto'
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { SecretError } from './errors.ts'
import { SECRET_POLICY } from './policy.ts'

// The keys secrets are encrypted with. One current key encrypts; older keys stay readable
// until rotation has re-encrypted everything under the current one. A key's id is derived
// from the key itself, so it needs no bookkeeping and cannot point at the wrong key.

export interface KeyringConfig {
  /** The current key: 32 bytes, base64 (`openssl rand -base64 32`). */
  key?: string
  /** Keys secrets may still be encrypted under (before a rotation finished), base64. */
  previousKeys?: readonly string[]
  /** Without `key`: the data folder where a key is generated on first start and read afterwards. */
  dataDir?: string
}

export interface Keyring {
  readonly currentId: string
  /** The key with this id, or undefined when it is not configured. */
  get(id: string): Buffer | undefined
  readonly ids: readonly string[]
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/

export function keyId(key: Buffer): string {
  return `k_${createHash('sha256').update('stavily-secret-key-id').update(key).digest('hex').slice(0, 16)}`
}

export function decodeKey(field: string, text: string): Buffer {
  const trimmed = text.trim()
  const key = BASE64.test(trimmed) ? Buffer.from(trimmed, 'base64') : undefined
  if (key?.length !== 32) {
    const got = key ? `${key.length} bytes` : 'text that is not base64'
    throw new SecretError(
      'STAVILY_ERR_CONFIG',
      `${field}: expected a 32-byte key in base64 (generate one with "openssl rand -base64 32"), got ${got}`,
      { data: { field } },
    )
  }
  return key
}

export function createKeyring(current: Buffer, previous: readonly Buffer[] = []): Keyring {
  const keys = new Map<string, Buffer>()
  for (const k of [current, ...previous]) keys.set(keyId(k), k)
  const currentId = keyId(current)
  return {
    currentId,
    get: (id) => keys.get(id),
    ids: [...keys.keys()],
  }
}

/**
 * The keyring from configuration: the configured key, or else the key in the data folder,
 * generated there (mode 0600) on first start. Two instances starting together on one folder
 * agree on the key: the file is created exclusively and the loser reads the winner's.
 */
export async function loadKeyring(config: KeyringConfig): Promise<Keyring> {
  const previous = (config.previousKeys ?? []).map((k, i) => decodeKey(`secrets.previousKeys[${i}]`, k))
  if (config.key !== undefined) return createKeyring(decodeKey('secrets.key', config.key), previous)
  if (!config.dataDir) {
    throw new SecretError(
      'STAVILY_ERR_CONFIG',
      'secrets.key: expected a key, or a data folder to keep a generated one in',
      {
        data: { field: 'secrets.key' },
      },
    )
  }
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 })
  const path = join(config.dataDir, SECRET_POLICY.keyFileName)
  const fresh = randomBytes(32)
  try {
    await writeFile(path, `${fresh.toString('base64')}\n`, { flag: 'wx', mode: 0o600 })
    return createKeyring(fresh, previous)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  }
  if (process.platform !== 'win32') {
    const { mode } = await stat(path)
    // Like ssh with a private key: a key file others can read is refused, not used.
    if ((mode & 0o077) !== 0) {
      throw new SecretError(
        'STAVILY_ERR_CONFIG',
        `${path}: the secrets key file is readable by other users (mode ${(mode & 0o777).toString(8)}); run "chmod 600 ${path}"`,
        { data: { field: 'secrets.key' } },
      )
    }
  }
  return createKeyring(decodeKey(path, await readFile(path, 'utf8')), previous)
}

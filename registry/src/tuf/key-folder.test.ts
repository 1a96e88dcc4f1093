import { mkdtempSync, rmSync, statSync, unlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { isRegistryError, type RegistryError } from '../errors.ts'
import { loadOrCreateKeyFolder } from './key-folder.ts'
import { loadKeys } from './roles.ts'

const root = mkdtempSync(join(tmpdir(), 'stavily-key-folder-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

describe('loadOrCreateKeyFolder', () => {
  it('generates one private key per role on first start, readable only by the owner, and reuses them', async () => {
    const dir = join(root, 'a', 'keys')
    const first = await loadOrCreateKeyFolder(dir)
    expect(first.created).toBe(true)
    expect(statSync(dir).mode & 0o777).toBe(0o700)
    for (const role of ['root', 'targets', 'snapshot', 'timestamp'])
      expect(statSync(join(dir, `${role}.pem`)).mode & 0o777).toBe(0o600)
    const ids = loadKeys('keys', first.keys)
    const second = await loadOrCreateKeyFolder(dir)
    expect(second.created).toBe(false)
    expect(loadKeys('keys', second.keys).targets.keys[0]!.keyId).toBe(ids.targets.keys[0]!.keyId)
    expect(
      new Set([ids.root!, ids.targets, ids.snapshot, ids.timestamp].map((r) => r.keys[0]!.keyId)).size,
    ).toBe(4)
  })

  it('refuses a folder that lost some of its keys, instead of generating new ones', async () => {
    const dir = join(root, 'b')
    await loadOrCreateKeyFolder(dir)
    unlinkSync(join(dir, 'snapshot.pem'))
    const err = await loadOrCreateKeyFolder(dir).catch((e: unknown) => e)
    expect(isRegistryError(err, 'STAVILY_ERR_REGISTRY_KEYS')).toBe(true)
    expect((err as Error).message).toBe(
      `keysDir: ${dir} holds only some of root.pem, targets.pem, snapshot.pem, timestamp.pem; restore the missing files or configure keys explicitly`,
    )
    expect((err as RegistryError).data).toEqual({ field: 'keysDir' })
  })
})

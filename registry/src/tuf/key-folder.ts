import { existsSync } from 'node:fs'
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { RegistryError } from '../errors.ts'
import { generateKeyPem } from './keys.ts'
import { type KeyConfig, ROLES } from './roles.ts'

// The embedded default's keys: one PEM file per role in a folder that only the registry's
// user may read, generated on first start. Production configures keys explicitly instead
// (docs/trust.md); a folder is used rather than the database so a database backup never
// carries the signing keys.

export async function loadOrCreateKeyFolder(dir: string): Promise<{ keys: KeyConfig; created: boolean }> {
  const files = ROLES.map((role) => join(dir, `${role}.pem`))
  const present = files.filter((f) => existsSync(f))
  if (present.length > 0 && present.length < files.length)
    throw new RegistryError(
      'STAVILY_ERR_REGISTRY_KEYS',
      `keysDir: ${dir} holds only some of root.pem, targets.pem, snapshot.pem, timestamp.pem; restore the missing files or configure keys explicitly`,
      { data: { field: 'keysDir' } },
    )
  let created = false
  if (present.length === 0) {
    await mkdir(dir, { recursive: true, mode: 0o700 })
    await chmod(dir, 0o700)
    // `wx` refuses to overwrite: two processes generating at once cannot swap a key under the other.
    for (const file of files) await writeFile(file, generateKeyPem(), { mode: 0o600, flag: 'wx' })
    created = true
  }
  const [root, targets, snapshot, timestamp] = await Promise.all(files.map((f) => readFile(f, 'utf8')))
  return {
    keys: {
      root: { keys: [root!] },
      targets: { keys: [targets!] },
      snapshot: { keys: [snapshot!] },
      timestamp: { keys: [timestamp!] },
    },
    created,
  }
}

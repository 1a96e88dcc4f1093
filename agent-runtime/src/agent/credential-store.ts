// The agent's identity on disk: <dataDir>/credential.json, mode 0600, replaced atomically
// (a rotation that crashes halfway leaves the old or the new credential, never neither).
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { configError } from './errors.ts'
import { writeFileDurable } from './files.ts'

export interface StoredCredential {
  agentId: string
  orgId: string
  kind: 'sensor' | 'action'
  pool: string
  credential: string
  orchestratorUrl: string
  /** When this credential was issued (ISO 8601); older files lack it (their mtime stands in). */
  issuedAt?: string
}

export function credentialFile(dataDir: string): string {
  return join(dataDir, 'credential.json')
}

export function readCredential(dataDir: string): StoredCredential | undefined {
  const file = credentialFile(dataDir)
  if (!existsSync(file)) return undefined
  let parsed: Partial<StoredCredential>
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<StoredCredential>
  } catch (err) {
    throw configError(
      file,
      `unreadable stored credential (${(err as Error).message}); delete it and enroll again`,
    )
  }
  if (typeof parsed.credential !== 'string' || typeof parsed.agentId !== 'string')
    throw configError(file, 'stored credential lacks agentId/credential; delete it and enroll again')
  return parsed as StoredCredential
}

export function writeCredential(dataDir: string, c: StoredCredential): void {
  writeFileDurable(credentialFile(dataDir), `${JSON.stringify(c, null, 2)}\n`, 0o600)
}

/** When the stored credential was issued, in ms since the epoch. */
export function credentialIssuedAt(dataDir: string, c: StoredCredential): number {
  const t = c.issuedAt === undefined ? Number.NaN : Date.parse(c.issuedAt)
  return Number.isFinite(t) ? t : statSync(credentialFile(dataDir)).mtimeMs
}

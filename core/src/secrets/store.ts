import { checkOrg as checkOrgId, isoTime } from '../checks.ts'
import type { SqlClient } from '../db/sql-client.ts'
import { invalid } from '../errors.ts'
import { open, seal } from './cipher.ts'
import { SecretError } from './errors.ts'
import type { Keyring } from './keyring.ts'
import {
  deleteSecret,
  listSecretNames,
  reseal,
  type Statement,
  selectSealed,
  selectStale,
  upsertSecret,
} from './plans.ts'
import { SECRET_NAME, SECRET_POLICY } from './policy.ts'
import { SecretValue } from './secret-value.ts'

// Secrets per organization, encrypted at rest. Write-only at the API level: operators set,
// list (names only) and delete; values leave the store only through getForInvocation, for
// the invocation that declared and was granted them.

export interface SecretInfo {
  name: string
  keyId: string
  createdAt: string
  updatedAt: string
}

export interface SecretStore {
  /** Creates or replaces a secret; `created` tells which. */
  set(org: string, name: string, value: string): Promise<{ created: boolean }>
  list(org: string): Promise<SecretInfo[]>
  /** True when there was a secret to delete. */
  delete(org: string, name: string): Promise<boolean>
  /** Decrypts the named secrets for one invocation; fails naming every missing one. */
  getForInvocation(org: string, names: readonly string[]): Promise<Map<string, SecretValue>>
  /**
   * Decrypts those of the named secrets that exist, skipping the others: what an agent
   * receives with an instruction (the plugin declares names; the organization may not have set them all).
   */
  getExisting(org: string, names: readonly string[]): Promise<Record<string, string>>
  /** Re-encrypts every secret not under the keyring's current key; returns how many. */
  rotate(): Promise<{ reencrypted: number }>
}

const checkOrg = (org: unknown): string => checkOrgId(org, SecretError)

function checkName(field: string, name: unknown): string {
  if (typeof name !== 'string' || !SECRET_NAME.test(name)) {
    throw invalid(
      field,
      'a secret name of letters, digits and "_" that does not start with a digit (at most 128 characters)',
      name,
      SecretError,
    )
  }
  return name
}

function exec<R extends Record<string, unknown>>(sql: SqlClient, s: Statement) {
  return sql.query<R>(s.text, s.values)
}

interface SealedRow extends Record<string, unknown> {
  name: string
  keyId: string
  nonce: Uint8Array
  ciphertext: Uint8Array
}

function unseal(keyring: Keyring, org: string, row: SealedRow): string {
  return open(keyring, org, row.name, {
    keyId: row.keyId,
    nonce: Buffer.from(row.nonce),
    ciphertext: Buffer.from(row.ciphertext),
  })
}

export function createSecretStore(sql: SqlClient, keyring: Keyring): SecretStore {
  return {
    async set(org, name, value) {
      const o = checkOrg(org)
      const n = checkName('name', name)
      // The value is never echoed in an error: only its type or size.
      if (typeof value !== 'string') throw invalid('value', 'a string', typeof value, SecretError)
      const bytes = Buffer.byteLength(value)
      if (bytes === 0 || bytes > SECRET_POLICY.maxValueBytes) {
        throw invalid('value', `1 to ${SECRET_POLICY.maxValueBytes} bytes`, `${bytes} bytes`, SecretError)
      }
      const s = seal(keyring, o, n, value)
      const { rows } = await exec<{ created: boolean }>(
        sql,
        upsertSecret(o, n, s.keyId, s.nonce, s.ciphertext),
      )
      return { created: rows[0]!.created }
    },

    async list(org) {
      const { rows } = await exec<{ name: string; keyId: string; createdAt: Date; updatedAt: Date }>(
        sql,
        listSecretNames(checkOrg(org)),
      )
      return rows.map((r) => ({
        name: r.name,
        keyId: r.keyId,
        createdAt: isoTime(r.createdAt),
        updatedAt: isoTime(r.updatedAt),
      }))
    },

    async delete(org, name) {
      const { rows } = await exec(sql, deleteSecret(checkOrg(org), checkName('name', name)))
      return rows.length > 0
    },

    async getForInvocation(org, names) {
      const o = checkOrg(org)
      if (!Array.isArray(names) || names.length > SECRET_POLICY.maxPerInvocation) {
        throw invalid(
          'names',
          `a list of at most ${SECRET_POLICY.maxPerInvocation} secret names`,
          undefined,
          SecretError,
        )
      }
      const wanted = [...new Set(names.map((n, i) => checkName(`names[${i}]`, n)))]
      const out = new Map<string, SecretValue>()
      if (wanted.length === 0) return out
      const { rows } = await exec<SealedRow>(sql, selectSealed(o, wanted))
      const byName = new Map(rows.map((r) => [r.name, r]))
      const missing = wanted.filter((n) => !byName.has(n))
      if (missing.length > 0) {
        throw new SecretError(
          'STAVILY_ERR_SECRET_NOT_FOUND',
          `secret${missing.length === 1 ? '' : 's'} not set in this organization: ${missing.join(', ')}; set ${missing.length === 1 ? 'it' : 'them'} with "stavily secret set"`,
          { data: { missing } },
        )
      }
      // In the order asked for, so callers and logs see a stable order.
      for (const n of wanted) out.set(n, new SecretValue(n, unseal(keyring, o, byName.get(n)!)))
      return out
    },

    async getExisting(org, names) {
      const o = checkOrg(org)
      const wanted = [...new Set(names.filter((n) => typeof n === 'string' && SECRET_NAME.test(n)))].slice(
        0,
        SECRET_POLICY.maxPerInvocation,
      )
      const out: Record<string, string> = {}
      if (wanted.length === 0) return out
      const { rows } = await exec<SealedRow>(sql, selectSealed(o, wanted))
      for (const r of rows) out[r.name] = unseal(keyring, o, r)
      return out
    },

    async rotate() {
      let reencrypted = 0
      for (;;) {
        const n = await sql.transaction(async (tx) => {
          const { rows } = await exec<SealedRow & { org: string }>(
            tx,
            selectStale(keyring.currentId, SECRET_POLICY.rotateBatch),
          )
          for (const r of rows) {
            const s = seal(keyring, r.org, r.name, unseal(keyring, r.org, r))
            await exec(tx, reseal(r.org, r.name, s.keyId, s.nonce, s.ciphertext))
          }
          return rows.length
        })
        reencrypted += n
        if (n < SECRET_POLICY.rotateBatch) return { reencrypted }
      }
    },
  }
}

import { RegistryError } from '../errors.ts'
import { type SigningKey, signingKeyFromPem } from './keys.ts'

// The four top-level TUF roles and the key configuration the registry is given.

export const ROLES = ['root', 'targets', 'snapshot', 'timestamp'] as const
export type RoleName = (typeof ROLES)[number]

/** One role's keys as configured: PKCS#8 PEM private keys and how many must sign. */
export interface RoleKeyConfig {
  keys: readonly string[]
  /** Signatures required; defaults to 1. At most the number of keys. */
  threshold?: number
}

/**
 * Keys for the TUF roles. `root` may be left out once a root is stored: the online roles
 * (targets, snapshot, timestamp) are all a running registry needs; root keys are needed to
 * create the first root, to re-sign it before it expires, and to rotate keys.
 */
export interface KeyConfig {
  root?: RoleKeyConfig
  targets: RoleKeyConfig
  snapshot: RoleKeyConfig
  timestamp: RoleKeyConfig
}

export interface RoleKeys {
  keys: SigningKey[]
  threshold: number
}

export type LoadedKeys = { [R in RoleName]: RoleKeys | undefined } & {
  targets: RoleKeys
  snapshot: RoleKeys
  timestamp: RoleKeys
}

export function loadRoleKeys(field: string, config: unknown): RoleKeys {
  const c = config as RoleKeyConfig | undefined
  if (!c || typeof c !== 'object' || !Array.isArray(c.keys) || c.keys.length === 0)
    throw new RegistryError(
      'STAVILY_ERR_REGISTRY_KEYS',
      `${field}.keys: expected at least one PEM private key`,
      {
        data: { field: `${field}.keys` },
      },
    )
  const keys = c.keys.map((pem, i) => signingKeyFromPem(`${field}.keys[${i}]`, pem))
  if (new Set(keys.map((k) => k.keyId)).size !== keys.length)
    throw new RegistryError('STAVILY_ERR_REGISTRY_KEYS', `${field}.keys: the same key is listed twice`, {
      data: { field: `${field}.keys` },
    })
  const threshold = c.threshold ?? 1
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > keys.length)
    throw new RegistryError(
      'STAVILY_ERR_REGISTRY_KEYS',
      `${field}.threshold: expected an integer from 1 to ${keys.length} (the number of keys), got ${JSON.stringify(threshold)}`,
      { data: { field: `${field}.threshold` } },
    )
  return { keys, threshold }
}

export function loadKeys(field: string, config: KeyConfig): LoadedKeys {
  if (!config || typeof config !== 'object')
    throw new RegistryError(
      'STAVILY_ERR_REGISTRY_KEYS',
      `${field}: expected keys for root, targets, snapshot and timestamp`,
    )
  return {
    root: config.root === undefined ? undefined : loadRoleKeys(`${field}.root`, config.root),
    targets: loadRoleKeys(`${field}.targets`, config.targets),
    snapshot: loadRoleKeys(`${field}.snapshot`, config.snapshot),
    timestamp: loadRoleKeys(`${field}.timestamp`, config.timestamp),
  }
}

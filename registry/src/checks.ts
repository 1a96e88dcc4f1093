import semver from 'semver'
import { DEFAULTS } from './defaults.ts'
import { invalidArgument } from './errors.ts'
import { checkRef } from './git/refs.ts'
import type { RemotePolicy } from './git/remote-policy.ts'
import { parseRemoteUrl, type RemoteUrl } from './git/remote-url.ts'

// Argument checks for the programmatic API, in one place; each message names the field and
// what was expected. The HTTP routes validate shapes with their schemas first, then call these.

// npm's rules for package names (the SDK's manifest validator applies the same at publish).
const NPM_NAME = /^(?:@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/

export interface PublishInput {
  /** Git URL: https://, ssh://, git://, file:// or user@host:path. */
  repo: string
  /** Tag, branch or full commit SHA. */
  ref: string
  /** Sub-folder of the repository holding the plugin's package.json (monorepos). */
  path?: string
}

export interface CheckedPublishInput {
  remote: RemoteUrl
  ref: string
  /** Normalised: '' for the repository root, else `a/b` without leading or trailing slash. */
  path: string
}

export function checkPublishInput(input: unknown): CheckedPublishInput {
  if (!input || typeof input !== 'object')
    throw invalidArgument('publish', 'expected an object { repo, ref, path? }')
  const { repo, ref, path } = input as Record<string, unknown>
  return {
    remote: parseRemoteUrl('repo', repo),
    ref: checkRef('ref', ref),
    path: checkPluginPath('path', path),
  }
}

export function checkPluginPath(field: string, value: unknown): string {
  if (value === undefined || value === '' || value === '.') return ''
  if (typeof value !== 'string')
    throw invalidArgument(field, 'expected a folder path inside the repository', value)
  const trimmed = value.replace(/^\.\//, '').replace(/\/+$/, '')
  const segments = trimmed.split('/')
  if (
    value.startsWith('/') ||
    segments.some((s) => s === '' || s === '.' || s === '..') ||
    !/^[A-Za-z0-9._@+/-]+$/.test(trimmed)
  )
    throw invalidArgument(
      field,
      'expected a relative folder inside the repository, such as plugins/restart (no "..")',
      value,
    )
  return trimmed
}

export function checkName(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length > 214 || !NPM_NAME.test(value))
    throw invalidArgument(field, 'expected a plugin (npm package) name such as @acme/restart', value)
  return value
}

export function checkVersion(field: string, value: unknown): string {
  if (typeof value !== 'string' || semver.valid(value) !== value)
    throw invalidArgument(field, 'expected an exact semver version such as 1.2.0', value)
  return value
}

export function checkRange(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length > 256 || semver.validRange(value) === null)
    throw invalidArgument(field, 'expected a semver range such as ^1.2.0, ~1.2 or 1.x', value)
  return value
}

export function checkListParams(value: unknown): { query: string; limit: number; offset: number } {
  const v = (value ?? {}) as { query?: unknown; limit?: unknown; offset?: unknown }
  const query = v.query ?? ''
  if (typeof query !== 'string' || query.length > 200)
    throw invalidArgument('query', 'expected a search text of at most 200 characters', query)
  const limit = v.limit ?? DEFAULTS.listLimit
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > DEFAULTS.maxListLimit)
    throw invalidArgument('limit', `expected an integer from 1 to ${DEFAULTS.maxListLimit}`, limit)
  const offset = v.offset ?? 0
  if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0)
    throw invalidArgument('offset', 'expected a non-negative integer', offset)
  return { query, limit, offset }
}

export function checkReason(field: string, value: unknown): string {
  if (value === undefined) return ''
  if (typeof value !== 'string' || value.length > 500)
    throw invalidArgument(field, 'expected a text of at most 500 characters', value)
  return value
}

const positiveInt = (field: string, value: unknown, what: string): void => {
  if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value < 1))
    throw invalidArgument(field, `expected a positive integer (${what})`, value)
}

/** The `build` options of createRegistry. */
export function checkBuildOptions(value: unknown): void {
  if (value === undefined) return
  if (!value || typeof value !== 'object') throw invalidArgument('build', 'expected an object')
  const b = value as Record<string, unknown>
  positiveInt('build.maxBundleBytes', b.maxBundleBytes, 'bytes')
  positiveInt('build.cloneTimeoutMs', b.cloneTimeoutMs, 'milliseconds')
  positiveInt('build.installTimeoutMs', b.installTimeoutMs, 'milliseconds')
  if (b.workDir !== undefined && (typeof b.workDir !== 'string' || !b.workDir.startsWith('/')))
    throw invalidArgument('build.workDir', 'expected an absolute folder path', b.workDir)
  if (b.npmRegistry !== undefined) {
    let ok = false
    try {
      ok = typeof b.npmRegistry === 'string' && /^https?:$/.test(new URL(b.npmRegistry).protocol)
    } catch {}
    if (!ok)
      throw invalidArgument(
        'build.npmRegistry',
        'expected an http(s) URL such as https://registry.npmjs.org/',
        b.npmRegistry,
      )
  }
  if (b.provided !== undefined) {
    if (!b.provided || typeof b.provided !== 'object')
      throw invalidArgument('build.provided', 'expected { specifier: absolute file }')
    for (const [spec, file] of Object.entries(b.provided))
      if (typeof file !== 'string' || !file.startsWith('/'))
        throw invalidArgument(
          `build.provided["${spec}"]`,
          'expected the absolute path of the file to use for this import',
          file,
        )
  }
  if (
    b.hostOnlyPackages !== undefined &&
    (!Array.isArray(b.hostOnlyPackages) || b.hostOnlyPackages.some((p) => typeof p !== 'string'))
  )
    throw invalidArgument('build.hostOnlyPackages', 'expected an array of package names')
}

/** TUF lifetimes: each positive, and each role outliving the one that points to it. */
export function checkExpiry(value: unknown): void {
  if (value === undefined) return
  if (!value || typeof value !== 'object')
    throw invalidArgument('expiry', 'expected { root?, targets?, snapshot?, timestamp? } in seconds')
  const e = value as Record<string, unknown>
  for (const role of ['root', 'targets', 'snapshot', 'timestamp'])
    positiveInt(`expiry.${role}`, e[role], 'seconds')
  for (const key of Object.keys(e))
    if (!['root', 'targets', 'snapshot', 'timestamp'].includes(key))
      throw invalidArgument(`expiry.${key}`, 'unknown role; expected root, targets, snapshot or timestamp')
}

/** The `remotes` option of createRegistry. */
export function checkRemotePolicy(field: string, value: unknown): RemotePolicy {
  if (value === undefined) return {}
  if (!value || typeof value !== 'object')
    throw invalidArgument(field, 'expected { allowFile?: boolean, allowPrivate?: boolean }')
  const v = value as Record<string, unknown>
  for (const key of Object.keys(v))
    if (key !== 'allowFile' && key !== 'allowPrivate')
      throw invalidArgument(`${field}.${key}`, 'unknown option; expected allowFile or allowPrivate')
  for (const key of ['allowFile', 'allowPrivate'] as const)
    if (v[key] !== undefined && typeof v[key] !== 'boolean')
      throw invalidArgument(`${field}.${key}`, 'expected true or false', v[key])
  return { allowFile: v.allowFile === true, allowPrivate: v.allowPrivate === true }
}

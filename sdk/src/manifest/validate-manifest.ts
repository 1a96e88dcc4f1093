import semver from 'semver'
import type { PluginKind } from '../definition.ts'
import { ManifestError } from './manifest-error.ts'
import { describe, isRecord, validatePermissions } from './permission-rules.ts'
import type { ManifestProblem, PluginManifest } from './types.ts'

const STAVILY_KEYS = ['kind', 'entry', 'sdk', 'description', 'permissions'] as const
const KINDS: readonly PluginKind[] = ['sensor', 'action', 'output']
// npm's rules for new package names: lower case, URL-safe, optional scope, at most 214.
const NPM_NAME = /^(?:@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/
const MAX_NAME_LENGTH = 214
const MAX_DESCRIPTION_LENGTH = 500 // a one-line summary for listings, not documentation

/**
 * The result of {@link validateManifest}: the normalised manifest, or every problem found.
 *
 * @example
 * ```ts
 * const result: ManifestValidation = validateManifest(pkg)
 * if (!result.ok) console.error(result.problems)
 * ```
 */
export type ManifestValidation =
  | { ok: true; manifest: PluginManifest }
  | { ok: false; problems: ManifestProblem[] }

/**
 * Validates a plugin's package.json (its `name`, `version` and `stavily` manifest) and
 * returns EVERY problem at once, each with its field path, e.g.
 * `stavily.permissions.net[2]: "http://x" is a URL, expected a host pattern such as ...`.
 * Unknown keys in `stavily`, `stavily.permissions` and `stavily.permissions.fs` are
 * problems, never ignored. On success the manifest is normalised: every permission list is
 * present, host patterns are lower case, path prefixes have no trailing slash.
 *
 * @example
 * ```ts
 * import { validateManifest } from '@stavily/sdk/manifest'
 * const result = validateManifest(JSON.parse(await readFile('package.json', 'utf8')))
 * if (!result.ok) for (const p of result.problems) console.error(`${p.path}: ${p.message}`)
 * ```
 */
export function validateManifest(packageJson: unknown): ManifestValidation {
  const problems: ManifestProblem[] = []
  if (!isRecord(packageJson)) {
    return {
      ok: false,
      problems: [{ path: 'package.json', message: `expected an object, got ${describe(packageJson)}` }],
    }
  }
  const name = checkName(packageJson.name, problems)
  const version = checkVersion(packageJson.version, problems)
  const stavily = packageJson.stavily
  if (!isRecord(stavily)) {
    problems.push({
      path: 'stavily',
      message:
        stavily === undefined
          ? 'required: the plugin manifest object { kind, entry, sdk, permissions }'
          : `expected an object { kind, entry, sdk, permissions }, got ${describe(stavily)}`,
    })
    return { ok: false, problems }
  }
  for (const key of Object.keys(stavily)) {
    if (!(STAVILY_KEYS as readonly string[]).includes(key)) {
      problems.push({
        path: `stavily.${key}`,
        message: `unknown key "${key}"; expected one of ${STAVILY_KEYS.join(', ')}`,
      })
    }
  }
  const kind = checkKind(stavily.kind, problems)
  const entry = checkEntry(stavily.entry, problems)
  const sdk = checkSdk(stavily.sdk, problems)
  const description = checkDescription(stavily.description, problems)
  const permissions = validatePermissions(stavily.permissions, 'stavily.permissions', problems, kind)
  if (problems.length > 0) return { ok: false, problems }
  const manifest: PluginManifest = {
    name: name!,
    version: version!,
    kind: kind!,
    entry: entry!,
    sdk: sdk!,
    permissions,
  }
  if (description !== undefined) manifest.description = description
  return { ok: true, manifest }
}

/**
 * Like {@link validateManifest}, but returns the manifest or throws a `ManifestError`
 * (code `STAVILY_ERR_MANIFEST_INVALID`) whose `.problems` and message list every problem.
 *
 * @example
 * ```ts
 * import { parseManifest } from '@stavily/sdk/manifest'
 * const manifest = parseManifest(JSON.parse(await readFile('package.json', 'utf8')))
 * ```
 */
export function parseManifest(packageJson: unknown): PluginManifest {
  const result = validateManifest(packageJson)
  if (!result.ok) throw new ManifestError(result.problems)
  return result.manifest
}

function checkName(value: unknown, problems: ManifestProblem[]): string | undefined {
  const hint = 'expected an npm package name such as "@acme/stavily-plugin-restart"'
  if (typeof value !== 'string') {
    problems.push({
      path: 'name',
      message: value === undefined ? `required; ${hint}` : `${hint}, got ${describe(value)}`,
    })
    return undefined
  }
  if (value.length > MAX_NAME_LENGTH || !NPM_NAME.test(value)) {
    problems.push({
      path: 'name',
      message: `${JSON.stringify(value)} is not a valid npm package name (lower case, URL-safe, at most ${MAX_NAME_LENGTH} characters); ${hint}`,
    })
    return undefined
  }
  return value
}

function checkVersion(value: unknown, problems: ManifestProblem[]): string | undefined {
  const hint = 'expected a semantic version such as "1.2.0"'
  if (typeof value !== 'string') {
    problems.push({
      path: 'version',
      message: value === undefined ? `required; ${hint}` : `${hint}, got ${describe(value)}`,
    })
    return undefined
  }
  if (semver.valid(value) !== value) {
    problems.push({ path: 'version', message: `${JSON.stringify(value)} is not a valid version; ${hint}` })
    return undefined
  }
  return value
}

function checkKind(value: unknown, problems: ManifestProblem[]): PluginKind | undefined {
  if (typeof value === 'string' && (KINDS as readonly string[]).includes(value)) return value as PluginKind
  const got = value === undefined ? 'nothing' : describe(value)
  problems.push({ path: 'stavily.kind', message: `expected "sensor", "action" or "output", got ${got}` })
  return undefined
}

function checkEntry(value: unknown, problems: ManifestProblem[]): string | undefined {
  const hint = 'expected a path relative to the package root such as "src/index.ts"'
  if (typeof value !== 'string' || value === '') {
    const got = value === undefined ? 'nothing' : describe(value)
    problems.push({ path: 'stavily.entry', message: `${hint}, got ${got}` })
    return undefined
  }
  const shown = JSON.stringify(value)
  if (value.startsWith('/') || /^[A-Za-z]:/.test(value) || value.includes('\\')) {
    problems.push({ path: 'stavily.entry', message: `${shown} is not a relative POSIX path; ${hint}` })
    return undefined
  }
  const segments = value.split('/').filter((segment) => segment !== '' && segment !== '.')
  if (segments.includes('..')) {
    problems.push({ path: 'stavily.entry', message: `${shown} leaves the package (".."); ${hint}` })
    return undefined
  }
  if (segments.length === 0 || value.endsWith('/')) {
    problems.push({ path: 'stavily.entry', message: `${shown} is not a file; ${hint}` })
    return undefined
  }
  return segments.join('/')
}

function checkSdk(value: unknown, problems: ManifestProblem[]): string | undefined {
  const hint = 'expected a semver range of the SDK API such as "^1.0.0"'
  if (typeof value !== 'string' || value.trim() === '') {
    const got = value === undefined ? 'nothing' : describe(value)
    problems.push({ path: 'stavily.sdk', message: `${hint}, got ${got}` })
    return undefined
  }
  if (semver.validRange(value) === null) {
    problems.push({
      path: 'stavily.sdk',
      message: `${JSON.stringify(value)} is not a valid semver range; ${hint}`,
    })
    return undefined
  }
  return value
}

function checkDescription(value: unknown, problems: ManifestProblem[]): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string') {
    problems.push({ path: 'stavily.description', message: `expected a string, got ${describe(value)}` })
    return undefined
  }
  if (value.length > MAX_DESCRIPTION_LENGTH) {
    problems.push({
      path: 'stavily.description',
      message: `must be at most ${MAX_DESCRIPTION_LENGTH} characters (a one-line summary), got ${value.length}`,
    })
    return undefined
  }
  return value
}

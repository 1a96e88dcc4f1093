// The ONE place permission checks live. The sandbox host and the test harness both call it,
// so a plugin is allowed and denied exactly the same in its unit tests and on an agent.
import { ErrorCodes, PluginError } from '../errors.ts'
import { ENV_NAME, envAllowed, reservedEnvReason } from './env-names.ts'
import { isPathUnder, normalizeAbsolutePath } from './fs-path.ts'
import { GRANTED, type GrantedNet, grantedNetAdmits, looksGranted, parseGrantedNet } from './granted.ts'
import { canonicalHost, type HostPattern, matchCanonical, parseHostPattern } from './host-pattern.ts'
import { ManifestError } from './manifest-error.ts'
import { CONNECTION_NAME, validatePermissions } from './permission-rules.ts'
import type { Grants, ManifestProblem, Permissions } from './types.ts'

/**
 * The capability a permission check was about, as in `data.permission` of a denial.
 *
 * @example
 * ```ts
 * const which: PermissionName = 'fs.read'
 * ```
 */
export type PermissionName = 'net' | 'exec' | 'secrets' | 'fs.read' | 'fs.write' | 'env' | 'sql' | 'smtp'

/**
 * `data` of a `STAVILY_ERR_PERMISSION_DENIED` error: which capability, the value asked for
 * (normalised), and whether the manifest did not declare it, the operator did not grant it,
 * or it is reserved (an environment variable no declaration or grant can pass).
 *
 * @example
 * ```ts
 * const data: PermissionDeniedData = { permission: 'net', value: 'evil.com:443', reason: 'undeclared' }
 * ```
 */
export interface PermissionDeniedData {
  permission: PermissionName
  value: string
  reason: 'undeclared' | 'ungranted' | 'reserved'
}

/**
 * What {@link PermissionGuard.net} allows: the parsed URL and its canonical host and
 * effective port (443/80 when the URL names none).
 *
 * @example
 * ```ts
 * const target: NetTarget = guard.net('https://api.example.com/v1')
 * target.port // 443
 * ```
 */
export interface NetTarget {
  url: URL
  host: string
  port: number
}

/**
 * Checks one capability use against declared ∩ granted permissions. Each method returns
 * the normalised value to use (so the caller acts on exactly what was checked) or throws
 * `PluginError` `STAVILY_ERR_PERMISSION_DENIED` with {@link PermissionDeniedData}, or
 * `STAVILY_ERR_SANDBOX_INVALID_ARGUMENT` for a malformed argument.
 *
 * @example
 * ```ts
 * const { url } = guard.net(requestedUrl)
 * const path = guard.fsRead(requestedPath) // normalised, e.g. '/var/log/app.log'
 * ```
 */
export interface PermissionGuard {
  readonly declared: Permissions
  readonly granted: Grants
  net(url: string): NetTarget
  exec(command: string): string
  secret(name: string): string
  fsRead(path: string): string
  fsWrite(path: string): string
  /** An environment variable name for a command: declared, granted and not reserved. */
  env(name: string): string
  /** The name of an operator-defined PostgreSQL connection: declared (or `$granted`) and granted. */
  sql(connection: string): string
  /** The name of an operator-defined SMTP relay: declared (or `$granted`) and granted. */
  smtp(relay: string): string
}

/**
 * Builds the permission guard for one plugin from what its manifest declares and what the
 * operator granted (both validated; a bad pattern throws `ManifestError`). The sandbox adds
 * DNS and redirect checks on top of `net`, and symlink checks on top of the fs methods.
 *
 * @example
 * ```ts
 * import { createPermissionGuard } from '@stavily/sdk/manifest'
 * const guard = createPermissionGuard(manifest.permissions, grantsFromOperator)
 * guard.net('https://api.example.com/v1/items') // ok
 * guard.net('https://evil.com/') // throws STAVILY_ERR_PERMISSION_DENIED, reason 'undeclared'
 * ```
 */
export function createPermissionGuard(declared: Permissions, granted: Grants): PermissionGuard {
  const declaredProblems: ManifestProblem[] = []
  const declaredClean = validatePermissions(declared, 'permissions', declaredProblems)
  if (declaredProblems.length > 0) throw new ManifestError(declaredProblems, 'declared permissions')
  const grantedProblems: ManifestProblem[] = []
  const grantedClean = validatePermissions(granted, 'grants', grantedProblems, undefined, { grants: true })
  if (grantedProblems.length > 0) throw new ManifestError(grantedProblems, 'grants')

  const declaredHosts = declaredClean.net.filter((e) => !looksGranted(e)).map(toPattern)
  const declaredGrantedNet = declaredClean.net.filter(looksGranted).map(toGrantedNet)
  const grantedHosts = grantedClean.net.map(toPattern)
  const leftToOperator = (entries: string[] | undefined) => entries?.includes(GRANTED) === true

  // `viaGranted`: the value is declared only through "$granted", so an ungranted one is the
  // operator's to grant, and the message says so.
  function decide(
    permission: PermissionName,
    value: string,
    isDeclared: boolean,
    isGranted: boolean,
    viaGranted = false,
  ): void {
    if (!isDeclared) throw denied(permission, value, 'undeclared')
    if (!isGranted) throw denied(permission, value, 'ungranted', viaGranted)
  }

  return Object.freeze({
    declared: declaredClean,
    granted: grantedClean,
    net(input: string): NetTarget {
      const url = parseUrl(input)
      const host = canonicalHost(url.hostname)!
      const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port)
      const value = `${host}:${port}`
      const matches = (patterns: HostPattern[]) =>
        patterns.some((pattern) => matchCanonical(pattern, host, port))
      const named = matches(declaredHosts)
      const scheme = url.protocol.slice(0, -1)
      const chosen = declaredGrantedNet.some((entry) => grantedNetAdmits(entry, scheme, port))
      if (!named && !chosen && declaredGrantedNet.length > 0) {
        const forms = declaredClean.net.filter(looksGranted).join('", "')
        const data: PermissionDeniedData = { permission: 'net', value, reason: 'undeclared' }
        throw new PluginError(
          ErrorCodes.PERMISSION_DENIED,
          `permission denied: net host ${JSON.stringify(value)} over ${scheme} is outside what permissions.net leaves to the operator ("${forms}"); use a URL of that scheme and port, or declare it in stavily.permissions.net`,
          { data: { ...data } },
        )
      }
      decide('net', value, named || chosen, matches(grantedHosts), !named)
      return { url, host, port }
    },
    exec(command: string): string {
      if (typeof command !== 'string' || command === '') throw invalidArgument('exec', 'command', command)
      const named = declaredClean.exec.includes(command)
      decide(
        'exec',
        command,
        named || leftToOperator(declaredClean.exec),
        grantedClean.exec.includes(command),
        !named,
      )
      return command
    },
    secret(name: string): string {
      if (typeof name !== 'string' || name === '') throw invalidArgument('secrets.get', 'name', name)
      decide('secrets', name, declaredClean.secrets.includes(name), grantedClean.secrets.includes(name))
      return name
    },
    fsRead(path: string): string {
      const normalized = checkPath('fs.read', path)
      const named = under(declaredClean.fs.read, normalized)
      decide(
        'fs.read',
        normalized,
        named || leftToOperator(declaredClean.fs.read),
        under(grantedClean.fs.read, normalized),
        !named,
      )
      return normalized
    },
    fsWrite(path: string): string {
      const normalized = checkPath('fs.write', path)
      const named = under(declaredClean.fs.write, normalized)
      decide(
        'fs.write',
        normalized,
        named || leftToOperator(declaredClean.fs.write),
        under(grantedClean.fs.write, normalized),
        !named,
      )
      return normalized
    },
    env(name: string): string {
      if (typeof name !== 'string' || !ENV_NAME.test(name)) {
        throw new PluginError(
          ErrorCodes.INVALID_ARGUMENT,
          `exec options.env: ${JSON.stringify(name)} is not an environment variable name (letters, digits and _, not starting with a digit)`,
          { data: { argument: 'env' } },
        )
      }
      // Checked before the lists: a pattern such as "P*" may cover a reserved name.
      const reserved = reservedEnvReason(name)
      if (reserved !== undefined) {
        const data: PermissionDeniedData = { permission: 'env', value: name, reason: 'reserved' }
        throw new PluginError(
          ErrorCodes.PERMISSION_DENIED,
          `exec options.env.${name}: permission denied: ${reserved}; commands never receive it, whatever the manifest declares and the operator grants`,
          { data: { ...data } },
        )
      }
      decide('env', name, envAllowed(declaredClean.env ?? [], name), envAllowed(grantedClean.env ?? [], name))
      return name
    },
    sql(connection: string): string {
      return connectionName('sql', connection)
    },
    smtp(relay: string): string {
      return connectionName('smtp', relay)
    },
  })

  function connectionName(permission: 'sql' | 'smtp', name: string): string {
    if (typeof name !== 'string' || !CONNECTION_NAME.test(name)) {
      const what = permission === 'sql' ? 'a PostgreSQL connection' : 'an SMTP relay'
      throw new PluginError(
        ErrorCodes.INVALID_ARGUMENT,
        `${permission}: ${JSON.stringify(name) ?? String(name)} is not the name of ${what}; expected a name the operator gave it on the agent, such as "main"`,
        { data: { argument: permission === 'sql' ? 'connection' : 'relay' } },
      )
    }
    const declaredNames = declaredClean[permission] ?? []
    const named = declaredNames.includes(name)
    decide(
      permission,
      name,
      named || leftToOperator(declaredNames),
      (grantedClean[permission] ?? []).includes(name),
      !named,
    )
    return name
  }
}

function under(prefixes: string[], path: string): boolean {
  return prefixes.some((prefix) => prefix !== GRANTED && isPathUnder(prefix, path))
}

function toGrantedNet(text: string): GrantedNet {
  const parsed = parseGrantedNet(text)
  if (!parsed.ok) throw new ManifestError([{ path: 'permissions.net', message: parsed.message }])
  return parsed.value
}

function toPattern(text: string): HostPattern {
  const parsed = parseHostPattern(text)
  // validatePermissions already rejected every invalid pattern.
  if (!parsed.ok) throw new ManifestError([{ path: 'permissions.net', message: parsed.message }])
  return parsed.pattern
}

function parseUrl(input: string): URL {
  if (typeof input !== 'string') throw invalidArgument('fetch', 'url', input)
  let url: URL
  try {
    url = new URL(input)
  } catch {
    throw new PluginError(
      ErrorCodes.INVALID_ARGUMENT,
      `fetch: ${JSON.stringify(input)} is not an absolute URL; expected a URL such as "https://api.example.com/path"`,
      { data: { argument: 'url' } },
    )
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new PluginError(
      ErrorCodes.INVALID_ARGUMENT,
      `fetch: only http and https URLs are allowed, got ${JSON.stringify(url.protocol)}`,
      { data: { argument: 'url' } },
    )
  }
  if (url.username !== '' || url.password !== '') {
    // Credentials in URLs end up in logs; headers do not.
    throw new PluginError(
      ErrorCodes.INVALID_ARGUMENT,
      'fetch: URLs with credentials ("user:pass@") are not allowed; send them in an authorization header',
      { data: { argument: 'url' } },
    )
  }
  return url
}

function checkPath(permission: 'fs.read' | 'fs.write', path: string): string {
  const operation = permission === 'fs.read' ? 'fs.readText/fs.list' : 'fs.writeText'
  if (typeof path !== 'string') throw invalidArgument(operation, 'path', path)
  const normalized = normalizeAbsolutePath(path)
  if (normalized === undefined) {
    throw new PluginError(
      ErrorCodes.INVALID_ARGUMENT,
      `${operation}: ${JSON.stringify(path)} is not an absolute path; expected a path such as "/var/log/app.log"`,
      { data: { argument: 'path' } },
    )
  }
  return normalized
}

const SECTION: Record<PermissionName, string> = {
  net: 'permissions.net',
  exec: 'permissions.exec',
  secrets: 'permissions.secrets',
  'fs.read': 'permissions.fs.read',
  'fs.write': 'permissions.fs.write',
  env: 'permissions.env',
  sql: 'permissions.sql',
  smtp: 'permissions.smtp',
}

function subject(permission: PermissionName, value: string): string {
  const shown = JSON.stringify(value)
  switch (permission) {
    case 'net':
      return `net host ${shown}`
    case 'exec':
      return `command ${shown}`
    case 'secrets':
      return `secret ${shown}`
    case 'fs.read':
      return `reading ${shown}`
    case 'fs.write':
      return `writing ${shown}`
    case 'env':
      return `environment variable ${shown}`
    case 'sql':
      return `PostgreSQL connection ${shown}`
    case 'smtp':
      return `SMTP relay ${shown}`
  }
}

const GRANT_HINT: Record<PermissionName, string> = {
  net: 'grants.net or --allow-host',
  exec: 'grants.exec or --allow-command',
  secrets: 'grants.secrets or --allow-secret',
  'fs.read': 'grants.fs.read or --allow-read',
  'fs.write': 'grants.fs.write or --allow-write',
  env: 'grants.env or --allow-env',
  sql: 'grants.sql',
  smtp: 'grants.smtp',
}

function denied(
  permission: PermissionName,
  value: string,
  reason: 'undeclared' | 'ungranted',
  viaGranted = false,
): PluginError {
  const section = SECTION[permission]
  const what = subject(permission, value)
  // An env denial names the option the plugin passed, as every exec argument error does.
  const place = permission === 'env' ? `exec options.env.${value}: ` : ''
  const message =
    place +
    (reason === 'undeclared'
      ? `permission denied: ${what} is not declared in ${section} of the manifest; add it to stavily.${section} in package.json`
      : viaGranted
        ? `permission denied: ${what} is not granted: the manifest leaves ${section} to the operator ("${GRANTED}") and the agent grants this plugin no such target; the operator grants it (${GRANT_HINT[permission]})`
        : `permission denied: ${what} is declared in ${section} but not granted by the operator; ask the operator to grant it to this plugin`)
  const data: PermissionDeniedData = { permission, value, reason }
  return new PluginError(ErrorCodes.PERMISSION_DENIED, message, { data: { ...data } })
}

function invalidArgument(operation: string, argument: string, value: unknown): PluginError {
  const got = value === '' ? 'an empty string' : value === null ? 'null' : typeof value
  return new PluginError(
    ErrorCodes.INVALID_ARGUMENT,
    `${operation}: ${argument} must be a non-empty string, got ${got}`,
    { data: { argument } },
  )
}

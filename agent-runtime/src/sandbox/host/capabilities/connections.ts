// The operator's definitions of the PostgreSQL connections (ctx.sql) and SMTP relays
// (ctx.smtp) an agent grants, by name. A plugin names a connection; the URL, the credentials
// and whether it may write are the operator's and never reach the plugin. Checked when the
// agent starts (config.ts) and again when a plugin is loaded (load-spec.ts): one module for
// both, pure code, used by the agent process and the sandbox host.
import { CONNECTION_NAME, type Grants, SECRET_NAME } from '@stavily/sdk/manifest'

export interface SqlConnectionGrant {
  /** `postgres://user@host:5432/database?sslmode=require`, without a password. */
  url: string
  /** The secret holding the password (supplied with each call, like any secret). */
  passwordSecret?: string
  /** A file on the agent holding the password (read at connect time). */
  passwordFile?: string
  /** Queries of actions and outputs may write; default false (READ ONLY). Sensors never write. */
  write?: boolean
}

export interface SmtpRelayGrant {
  /** `smtp://user@host:587` (STARTTLS) or `smtps://user@host:465` (TLS from the start). */
  url: string
  passwordSecret?: string
  passwordFile?: string
  /** The From address when the message names none. */
  from?: string
  /** `starttls` (default for smtp://: required), `tls` (smtps://), or `none` (loopback relays only). */
  tls?: 'starttls' | 'tls' | 'none'
  /** A PEM file of the CA that signed the relay's certificate (default: the system's). */
  caFile?: string
}

export interface Connections {
  sql: Record<string, SqlConnectionGrant>
  smtp: Record<string, SmtpRelayGrant>
}

/** Grants as they travel to the sandbox host: the names in `sql`/`smtp`, the definitions beside. */
export type GrantsWithConnections = Grants & { connections?: Connections }

export function emptyConnections(): Connections {
  return { sql: {}, smtp: {} }
}

/** The grants for the permission guard (names only) and the definitions, apart. */
export function splitGrants(granted: GrantsWithConnections): { grants: Grants; connections: Connections } {
  const { connections, ...grants } = granted
  return { grants, connections: connections ?? emptyConnections() }
}

/** Every secret a connection or relay uses as its password: never handed to plugin code. */
export function credentialSecrets(connections: Connections): Map<string, string> {
  const out = new Map<string, string>()
  for (const [name, c] of Object.entries(connections.sql))
    if (c.passwordSecret) out.set(c.passwordSecret, `sql connection "${name}"`)
  for (const [name, r] of Object.entries(connections.smtp))
    if (r.passwordSecret) out.set(r.passwordSecret, `smtp relay "${name}"`)
  return out
}

/**
 * Checks a map of definitions (`grants.sql` or `grants.smtp` of the agent's configuration)
 * and returns it normalised; throws `fail(where, message)` naming the field.
 */
export function checkDefinitions<K extends keyof Connections>(
  kind: K,
  value: unknown,
  where: string,
  fail: (where: string, message: string) => Error,
): Connections[K] {
  if (value === undefined) return {}
  if (!isObject(value))
    throw fail(
      where,
      kind === 'sql'
        ? 'expected an object of connections by name, e.g. { main: { url: "postgres://reader@db:5432/app", passwordSecret: PG_PASSWORD } }'
        : 'expected an object of relays by name, e.g. { mail: { url: "smtp://stavily@mail:587", passwordSecret: SMTP_PASSWORD } }',
    )
  const out: Record<string, SqlConnectionGrant | SmtpRelayGrant> = {}
  for (const [name, def] of Object.entries(value)) {
    const at = `${where}.${name}`
    if (!CONNECTION_NAME.test(name))
      throw fail(at, 'a name uses a-z, 0-9, _ and -, starting with a letter (the plugin refers to it)')
    if (!isObject(def)) throw fail(at, 'expected an object { url, passwordSecret?, passwordFile?, ... }')
    const allowed =
      kind === 'sql'
        ? ['url', 'passwordSecret', 'passwordFile', 'write']
        : ['url', 'passwordSecret', 'passwordFile', 'from', 'tls', 'caFile']
    for (const key of Object.keys(def))
      if (!allowed.includes(key))
        throw fail(`${at}.${key}`, `unknown setting; expected one of ${allowed.join(', ')}`)
    const url = checkUrl(kind, def.url, `${at}.url`, fail)
    const entry: Record<string, unknown> = { url }
    if (def.passwordSecret !== undefined) {
      if (typeof def.passwordSecret !== 'string' || !SECRET_NAME.test(def.passwordSecret))
        throw fail(`${at}.passwordSecret`, 'expected a secret name such as "PG_PASSWORD"')
      entry.passwordSecret = def.passwordSecret
    }
    if (def.passwordFile !== undefined) {
      if (typeof def.passwordFile !== 'string' || !def.passwordFile.startsWith('/'))
        throw fail(`${at}.passwordFile`, 'expected an absolute path')
      entry.passwordFile = def.passwordFile
    }
    if (entry.passwordSecret && entry.passwordFile)
      throw fail(at, 'set passwordSecret or passwordFile, not both')
    if (kind === 'sql' && def.write !== undefined) {
      if (typeof def.write !== 'boolean') throw fail(`${at}.write`, 'expected true or false')
      entry.write = def.write
    }
    if (kind === 'smtp') {
      if (def.from !== undefined) {
        if (typeof def.from !== 'string' || def.from === '' || /[\r\n]/.test(def.from))
          throw fail(`${at}.from`, 'expected an address such as "Stavily <stavily@example.com>"')
        entry.from = def.from
      }
      if (def.tls !== undefined) {
        if (!['starttls', 'tls', 'none'].includes(def.tls as string))
          throw fail(`${at}.tls`, 'expected "starttls", "tls" or "none"')
        entry.tls = def.tls
        // Without TLS the message and the AUTH password cross the network in clear text:
        // only a relay on this host (a local MTA) may be reached that way.
        const host = new URL(url).hostname.replace(/^\[|\]$/g, '')
        if (def.tls === 'none' && !['localhost', '::1'].includes(host) && !/^127\./.test(host))
          throw fail(
            `${at}.tls`,
            `"none" is only for a relay on this host (localhost, 127.0.0.1, ::1); ${host} needs "starttls" or "tls"`,
          )
      }
      if (def.caFile !== undefined) {
        if (typeof def.caFile !== 'string' || !def.caFile.startsWith('/'))
          throw fail(`${at}.caFile`, 'expected an absolute path to a PEM file')
        entry.caFile = def.caFile
      }
    }
    out[name] = entry as unknown as SqlConnectionGrant
  }
  return out as Connections[K]
}

function checkUrl(
  kind: 'sql' | 'smtp',
  value: unknown,
  where: string,
  fail: (where: string, message: string) => Error,
): string {
  const example =
    kind === 'sql' ? 'postgres://reader@db.internal:5432/app' : 'smtp://stavily@mail.internal:587'
  let url: URL
  try {
    url = new URL(String(value))
  } catch {
    throw fail(where, `expected a URL such as "${example}", got ${JSON.stringify(value)}`)
  }
  const schemes = kind === 'sql' ? ['postgres:', 'postgresql:'] : ['smtp:', 'smtps:']
  if (typeof value !== 'string' || !schemes.includes(url.protocol) || url.hostname === '')
    throw fail(where, `expected a ${schemes.join(' or ')}// URL with a host such as "${example}"`)
  // A password written into the configuration ends up in logs and backups: a secret or a
  // file keeps it out.
  if (url.password !== '')
    throw fail(where, 'must not contain a password; use passwordSecret (a Stavily secret) or passwordFile')
  return value
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

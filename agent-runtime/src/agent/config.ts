// The agent's configuration from flags, STAVILY_* environment variables and a JSON/YAML
// file, in that order of precedence. Every bad value is reported with the field it came from.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { homedir, hostname } from 'node:os'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { envEntryProblem, type Grants } from '@stavily/sdk/manifest'
import type { PluginLimits } from '../defaults.ts'
import {
  type Connections,
  checkDefinitions,
  emptyConnections,
} from '../sandbox/host/capabilities/connections.ts'
import { AGENT_DEFAULTS } from './defaults.ts'
import { configError } from './errors.ts'
import { type ListenAddress, parseListen } from './health-server.ts'
import { type LocalPolicy, parsePolicy } from './local-policy.ts'
import type { TlsClientFiles } from './tls-client.ts'

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent'
const LOG_LEVELS: LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']

/**
 * What the operator grants a plugin (the sandbox's grants shape) plus private-network access,
 * and the PostgreSQL connections and SMTP relays it defines (their names are in `sql`/`smtp`).
 */
export interface GrantConfig extends Grants {
  allowPrivateNetwork: boolean
  connections: Connections
}

export interface AgentConfig {
  orchestratorUrl: string
  /** Only needed on the first start (no stored credential yet). */
  enrollmentToken: string | undefined
  dataDir: string
  /** Expected kind/pool: checked against what the enrollment token bound (optional). */
  kind: 'sensor' | 'action' | undefined
  pool: string | undefined
  name: string
  labels: Record<string, string>
  registryUrl: string
  /** The registry's root.json (out of band); without it the first start trusts what it fetches. */
  trustedRootFile: string | undefined
  /** Granted to every plugin. */
  grants: GrantConfig
  /** Per plugin: added to the global grants; limits override the global limits. */
  plugins: Record<string, { grants: GrantConfig; limits: Partial<PluginLimits> }>
  limits: Partial<PluginLimits>
  concurrency: number
  logLevel: LogLevel
  shutdownGraceMs: number
  /** How often /plugins is re-read without a `pluginsChanged` hint; at most 60 s. */
  pluginSyncMs: number
  /** The outbox's size cap; past it new sensor events are dropped (results are always kept). */
  outboxMaxBytes: number
  /** The local /healthz, /readyz, /metrics listener; off when undefined. */
  healthListen: ListenAddress | undefined
  /** Plugins (name patterns, version ranges) this agent will load; empty allows all. */
  allowPlugins: LocalPolicy
  /** The agent rotates its credential `credentialRotateMarginMs` before it is this old. */
  credentialLifetimeMs: number
  credentialRotateMarginMs: number
  /** TLS towards the orchestrator: a CA bundle, and a client certificate and key (mTLS). */
  tls: TlsClientFiles
}

export const USAGE = `usage: stavily-agent [options]

  --config FILE             JSON or YAML configuration file (STAVILY_AGENT_CONFIG)
  --orchestrator URL        orchestrator agent API base URL (STAVILY_ORCHESTRATOR_URL)
  --enrollment-token TOKEN  one-time token for the first start (STAVILY_ENROLLMENT_TOKEN)
  --data-dir DIR            credential, plugin cache, outbox (STAVILY_DATA_DIR; default ~/.stavily-agent)
  --kind sensor|action      expected kind; the enrollment token decides (STAVILY_KIND)
  --pool NAME               expected pool; the enrollment token decides (STAVILY_POOL)
  --name NAME               agent name (STAVILY_NAME; default the host name)
  --label KEY=VALUE         label, repeatable (STAVILY_LABELS=k=v,k2=v2)
  --registry URL            registry base URL (STAVILY_REGISTRY_URL; default <orchestrator>/api/v1/registry)
  --trusted-root FILE       the registry's root.json (STAVILY_TRUSTED_ROOT)
  --allow-host PATTERN      grant network access to every plugin, repeatable (STAVILY_ALLOW_HOSTS)
  --allow-command CMD       grant exec, repeatable (STAVILY_ALLOW_COMMANDS)
  --allow-secret NAME       grant a secret, repeatable (STAVILY_ALLOW_SECRETS)
  --allow-read PATH         grant read access under PATH, repeatable (STAVILY_ALLOW_READ)
  --allow-write PATH        grant write access under PATH, repeatable (STAVILY_ALLOW_WRITE)
  --allow-env NAME          grant an environment variable (or PREFIX_*) to commands, repeatable (STAVILY_ALLOW_ENV)
  --allow-private-network   host names may resolve to private addresses (STAVILY_ALLOW_PRIVATE_NETWORK=1)
  --concurrency N           instructions run at once (STAVILY_CONCURRENCY; default 4)
  --shutdown-grace-ms N     SIGTERM: how long calls in flight may finish (STAVILY_SHUTDOWN_GRACE_MS; default 30000)
  --plugin-sync-ms N        re-read the desired plugins at least this often (STAVILY_PLUGIN_SYNC_MS; default and max 60000)
  --outbox-max-bytes N      outbox size cap; past it new sensor events are dropped (STAVILY_OUTBOX_MAX_BYTES; default 268435456)
  --health-listen HOST:PORT  serve /healthz, /readyz, /metrics there, e.g. 127.0.0.1:9464 (STAVILY_HEALTH_LISTEN; default off)
  --allow-plugin PATTERN[@RANGE]  load only these plugins (glob name, semver range), repeatable (STAVILY_ALLOW_PLUGINS; default all)
  --credential-lifetime-ms N  rotate the credential before it is this old (STAVILY_CREDENTIAL_LIFETIME_MS; default 2592000000, 30 days)
  --credential-rotate-margin-ms N  rotate this long before the lifetime ends (STAVILY_CREDENTIAL_ROTATE_MARGIN_MS; default 86400000)
  --tls-ca FILE             PEM CA bundle to trust for the orchestrator (STAVILY_TLS_CA_FILE)
  --tls-client-cert FILE    PEM client certificate, when the orchestrator requires one (STAVILY_TLS_CLIENT_CERT_FILE)
  --tls-client-key FILE     PEM key of that certificate (STAVILY_TLS_CLIENT_KEY_FILE)
  --log-level LEVEL         trace|debug|info|warn|error|fatal|silent (STAVILY_LOG_LEVEL; default info)
  --version                 print the agent's version
  --help                    this text
`

type Raw = Record<string, unknown>

const FLAGS = {
  config: { type: 'string' },
  orchestrator: { type: 'string' },
  'enrollment-token': { type: 'string' },
  'data-dir': { type: 'string' },
  kind: { type: 'string' },
  pool: { type: 'string' },
  name: { type: 'string' },
  label: { type: 'string', multiple: true },
  registry: { type: 'string' },
  'trusted-root': { type: 'string' },
  'allow-host': { type: 'string', multiple: true },
  'allow-command': { type: 'string', multiple: true },
  'allow-secret': { type: 'string', multiple: true },
  'allow-read': { type: 'string', multiple: true },
  'allow-write': { type: 'string', multiple: true },
  'allow-env': { type: 'string', multiple: true },
  'allow-private-network': { type: 'boolean' },
  concurrency: { type: 'string' },
  'log-level': { type: 'string' },
  'shutdown-grace-ms': { type: 'string' },
  'plugin-sync-ms': { type: 'string' },
  'outbox-max-bytes': { type: 'string' },
  'health-listen': { type: 'string' },
  'allow-plugin': { type: 'string', multiple: true },
  'credential-lifetime-ms': { type: 'string' },
  'credential-rotate-margin-ms': { type: 'string' },
  'tls-ca': { type: 'string' },
  'tls-client-cert': { type: 'string' },
  'tls-client-key': { type: 'string' },
  help: { type: 'boolean' },
  version: { type: 'boolean' },
} as const

/** `--help` was asked for: print USAGE and exit 0. */
export class HelpRequested extends Error {}

/** `--version` was asked for: print the version and exit 0. */
export class VersionRequested extends Error {}

export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): AgentConfig {
  let flags: Record<string, unknown>
  try {
    flags = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false }).values
  } catch (err) {
    throw configError('flags', `${(err as Error).message}; see --help`)
  }
  if (flags.help) throw new HelpRequested()
  if (flags.version) throw new VersionRequested()
  const file = (flags.config as string | undefined) ?? env.STAVILY_AGENT_CONFIG
  const fromFile = file ? readConfigFile(file) : {}
  const list = (s: string | undefined) =>
    s === undefined
      ? undefined
      : s
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean)
  // One merged view; `source` says where each top-level value came from, for error messages.
  const pick = (flag: string, envName: string, key: string): { value: unknown; source: string } => {
    if (flags[flag] !== undefined) return { value: flags[flag], source: `--${flag}` }
    if (env[envName] !== undefined && env[envName] !== '') return { value: env[envName], source: envName }
    return { value: fromFile[key], source: file ? `${file}: ${key}` : key }
  }

  const url = pick('orchestrator', 'STAVILY_ORCHESTRATOR_URL', 'orchestratorUrl')
  const orchestratorUrl = httpUrl(url.value, url.source, true)!
  const reg = pick('registry', 'STAVILY_REGISTRY_URL', 'registryUrl')
  const registryUrl =
    httpUrl(reg.value, reg.source, false) ?? `${orchestratorUrl}${AGENT_DEFAULTS.registryPath}`
  const token = pick('enrollment-token', 'STAVILY_ENROLLMENT_TOKEN', 'enrollmentToken')
  const dataDir = pick('data-dir', 'STAVILY_DATA_DIR', 'dataDir')
  const kind = pick('kind', 'STAVILY_KIND', 'kind')
  const pool = pick('pool', 'STAVILY_POOL', 'pool')
  const name = pick('name', 'STAVILY_NAME', 'name')
  const root = pick('trusted-root', 'STAVILY_TRUSTED_ROOT', 'trustedRoot')
  const level = pick('log-level', 'STAVILY_LOG_LEVEL', 'logLevel')
  const conc = pick('concurrency', 'STAVILY_CONCURRENCY', 'concurrency')
  const grace = pick('shutdown-grace-ms', 'STAVILY_SHUTDOWN_GRACE_MS', 'shutdownGraceMs')
  const syncMs = pick('plugin-sync-ms', 'STAVILY_PLUGIN_SYNC_MS', 'pluginSyncMs')
  const outboxMax = pick('outbox-max-bytes', 'STAVILY_OUTBOX_MAX_BYTES', 'outboxMaxBytes')
  const health = pick('health-listen', 'STAVILY_HEALTH_LISTEN', 'healthListen')
  const lifetime = pick('credential-lifetime-ms', 'STAVILY_CREDENTIAL_LIFETIME_MS', 'credentialLifetimeMs')
  const margin = pick(
    'credential-rotate-margin-ms',
    'STAVILY_CREDENTIAL_ROTATE_MARGIN_MS',
    'credentialRotateMarginMs',
  )
  const credentialLifetimeMs =
    positiveInt(lifetime.value, lifetime.source) ?? AGENT_DEFAULTS.credentialLifetimeMs
  const credentialRotateMarginMs =
    positiveInt(margin.value, margin.source) ??
    Math.min(AGENT_DEFAULTS.credentialRotateMarginMs, Math.floor(credentialLifetimeMs / 2))
  if (credentialRotateMarginMs >= credentialLifetimeMs)
    throw configError(
      margin.source,
      `must be less than the credential lifetime (${credentialLifetimeMs} ms), got ${credentialRotateMarginMs}`,
    )
  const allowPluginFlags = flags['allow-plugin'] as string[] | undefined
  const allowPlugins = allowPluginFlags
    ? parsePolicy(allowPluginFlags, '--allow-plugin')
    : env.STAVILY_ALLOW_PLUGINS
      ? parsePolicy(list(env.STAVILY_ALLOW_PLUGINS)!, 'STAVILY_ALLOW_PLUGINS')
      : parsePolicy(stringList(fromFile.allowPlugins, `${file}: allowPlugins`), `${file}: allowPlugins`)
  const tlsCa = pick('tls-ca', 'STAVILY_TLS_CA_FILE', 'tlsCaFile')
  const tlsCert = pick('tls-client-cert', 'STAVILY_TLS_CLIENT_CERT_FILE', 'tlsClientCertFile')
  const tlsKey = pick('tls-client-key', 'STAVILY_TLS_CLIENT_KEY_FILE', 'tlsClientKeyFile')
  if ((tlsCert.value === undefined) !== (tlsKey.value === undefined))
    throw configError(
      tlsCert.value === undefined ? tlsCert.source : tlsKey.source,
      'set both the client certificate (--tls-client-cert) and its key (--tls-client-key), or neither',
    )
  const pluginSyncMs = positiveInt(syncMs.value, syncMs.source) ?? AGENT_DEFAULTS.pluginSyncMs
  if (pluginSyncMs > AGENT_DEFAULTS.pluginSyncMs)
    throw configError(
      syncMs.source,
      `at most ${AGENT_DEFAULTS.pluginSyncMs} (the protocol asks for a re-read at least every 60 s), got ${pluginSyncMs}`,
    )

  if (kind.value !== undefined && kind.value !== 'sensor' && kind.value !== 'action')
    throw configError(kind.source, `expected "sensor" or "action", got ${show(kind.value)}`)
  if (level.value !== undefined && !LOG_LEVELS.includes(level.value as LogLevel))
    throw configError(level.source, `expected one of ${LOG_LEVELS.join(', ')}, got ${show(level.value)}`)

  // Labels: flags and env are KEY=VALUE lists; the file has an object. Flags > env > file.
  let labels: Record<string, string> = {}
  const labelFlags = flags.label as string[] | undefined
  if (labelFlags) labels = keyValues(labelFlags, '--label')
  else if (env.STAVILY_LABELS) labels = keyValues(list(env.STAVILY_LABELS)!, 'STAVILY_LABELS')
  else if (fromFile.labels !== undefined) labels = stringRecord(fromFile.labels, `${file}: labels`)

  const fileGrants = grantConfig(fromFile.grants, `${file}: grants`)
  const flagList = (flag: string, envName: string) =>
    namedTargets(
      (flags[flag] as string[] | undefined) ?? list(env[envName]),
      flags[flag] ? `--${flag}` : envName,
    )
  const grants: GrantConfig = {
    net: flagList('allow-host', 'STAVILY_ALLOW_HOSTS') ?? fileGrants.net,
    exec: flagList('allow-command', 'STAVILY_ALLOW_COMMANDS') ?? fileGrants.exec,
    secrets: flagList('allow-secret', 'STAVILY_ALLOW_SECRETS') ?? fileGrants.secrets,
    fs: {
      read: flagList('allow-read', 'STAVILY_ALLOW_READ') ?? fileGrants.fs.read,
      write: flagList('allow-write', 'STAVILY_ALLOW_WRITE') ?? fileGrants.fs.write,
    },
    env:
      envGrant(flags['allow-env'] as string[] | undefined, '--allow-env') ??
      envGrant(list(env.STAVILY_ALLOW_ENV), 'STAVILY_ALLOW_ENV') ??
      fileGrants.env,
    allowPrivateNetwork:
      (flags['allow-private-network'] as boolean | undefined) ??
      (env.STAVILY_ALLOW_PRIVATE_NETWORK !== undefined
        ? /^(1|true|yes)$/i.test(env.STAVILY_ALLOW_PRIVATE_NETWORK)
        : fileGrants.allowPrivateNetwork),
    // Connections and relays come only from the file: a URL, a secret name, a CA file.
    ...(fileGrants.sql ? { sql: fileGrants.sql } : {}),
    ...(fileGrants.smtp ? { smtp: fileGrants.smtp } : {}),
    connections: fileGrants.connections,
  }

  const plugins: AgentConfig['plugins'] = {}
  if (fromFile.plugins !== undefined) {
    const where = `${file}: plugins`
    if (!isObject(fromFile.plugins)) throw configError(where, 'expected an object keyed by plugin name')
    for (const [pluginName, v] of Object.entries(fromFile.plugins)) {
      const at = `${where}.${pluginName}`
      if (!isObject(v)) throw configError(at, 'expected an object { grants?, limits? }')
      plugins[pluginName] = {
        grants: grantConfig(v.grants, `${at}.grants`),
        limits: limits(v.limits, `${at}.limits`),
      }
    }
  }

  return {
    orchestratorUrl,
    enrollmentToken: optionalString(token.value, token.source),
    dataDir: resolve(optionalString(dataDir.value, dataDir.source) ?? `${homedir()}/.stavily-agent`),
    kind: kind.value as AgentConfig['kind'],
    pool: optionalString(pool.value, pool.source),
    name: optionalString(name.value, name.source) ?? hostname(),
    labels,
    registryUrl,
    trustedRootFile: optionalString(root.value, root.source),
    grants,
    plugins,
    limits: limits(fromFile.limits, `${file}: limits`),
    concurrency: positiveInt(conc.value, conc.source) ?? AGENT_DEFAULTS.concurrency,
    logLevel: (level.value as LogLevel | undefined) ?? 'info',
    shutdownGraceMs: positiveInt(grace.value, grace.source) ?? AGENT_DEFAULTS.shutdownGraceMs,
    pluginSyncMs,
    outboxMaxBytes: positiveInt(outboxMax.value, outboxMax.source) ?? AGENT_DEFAULTS.outboxMaxBytes,
    healthListen:
      health.value === undefined
        ? undefined
        : parseListen(optionalString(health.value, health.source)!, health.source),
    allowPlugins,
    credentialLifetimeMs,
    credentialRotateMarginMs,
    tls: {
      caFile: optionalPath(tlsCa.value, tlsCa.source),
      certFile: optionalPath(tlsCert.value, tlsCert.source),
      keyFile: optionalPath(tlsKey.value, tlsKey.source),
    },
  }
}

function optionalPath(value: unknown, where: string): string | undefined {
  const v = optionalString(value, where)
  return v === undefined ? undefined : resolve(v)
}

function readConfigFile(file: string): Raw {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw configError('--config', `cannot read ${file}: ${(err as Error).message}`)
  }
  let parsed: unknown
  try {
    // yaml is loaded only for a YAML file: a few MB an agent configured by flags never needs.
    parsed = /\.json$/i.test(file)
      ? JSON.parse(text)
      : (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse(text)
  } catch (err) {
    throw configError(file, `not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${(err as Error).message}`)
  }
  if (parsed === null || parsed === undefined) return {}
  if (!isObject(parsed)) throw configError(file, 'expected an object of settings at the top level')
  const known = new Set([
    'orchestratorUrl',
    'enrollmentToken',
    'dataDir',
    'kind',
    'pool',
    'name',
    'labels',
    'registryUrl',
    'trustedRoot',
    'grants',
    'plugins',
    'limits',
    'concurrency',
    'logLevel',
    'shutdownGraceMs',
    'pluginSyncMs',
    'outboxMaxBytes',
    'healthListen',
    'allowPlugins',
    'credentialLifetimeMs',
    'credentialRotateMarginMs',
    'tlsCaFile',
    'tlsClientCertFile',
    'tlsClientKeyFile',
  ])
  for (const key of Object.keys(parsed)) {
    if (!known.has(key))
      throw configError(`${file}: ${key}`, `unknown setting; expected one of ${[...known].join(', ')}`)
  }
  return parsed
}

function httpUrl(value: unknown, source: string, required: boolean): string | undefined {
  if (value === undefined) {
    if (required) throw configError(source, 'required: the orchestrator URL, e.g. http://orchestrator:8080')
    return undefined
  }
  let u: URL
  try {
    u = new URL(String(value))
  } catch {
    throw configError(source, `must be an absolute http(s) URL, got ${show(value)}`)
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw configError(source, `must be an absolute http(s) URL, got ${show(value)}`)
  return u.href.replace(/\/+$/, '')
}

function grantConfig(value: unknown, where: string): GrantConfig {
  const out: GrantConfig = {
    net: [],
    exec: [],
    secrets: [],
    fs: { read: [], write: [] },
    env: [],
    allowPrivateNetwork: false,
    connections: emptyConnections(),
  }
  if (value === undefined) return out
  if (!isObject(value))
    throw configError(
      where,
      'expected an object { net, exec, secrets, fs: { read, write }, env, sql, smtp, allowPrivateNetwork }',
    )
  for (const key of Object.keys(value)) {
    if (!['net', 'exec', 'secrets', 'fs', 'env', 'sql', 'smtp', 'allowPrivateNetwork'].includes(key))
      throw configError(
        `${where}.${key}`,
        'unknown grant; expected net, exec, secrets, fs, env, sql, smtp or allowPrivateNetwork',
      )
  }
  out.net = namedTargets(stringList(value.net, `${where}.net`), `${where}.net`)
  out.exec = namedTargets(stringList(value.exec, `${where}.exec`), `${where}.exec`)
  out.secrets = stringList(value.secrets, `${where}.secrets`)
  out.env = envGrant(stringList(value.env, `${where}.env`), `${where}.env`)
  if (value.fs !== undefined) {
    if (!isObject(value.fs)) throw configError(`${where}.fs`, 'expected an object { read, write }')
    out.fs.read = namedTargets(stringList(value.fs.read, `${where}.fs.read`), `${where}.fs.read`)
    out.fs.write = namedTargets(stringList(value.fs.write, `${where}.fs.write`), `${where}.fs.write`)
  }
  out.connections = {
    sql: checkDefinitions('sql', value.sql, `${where}.sql`, configError),
    smtp: checkDefinitions('smtp', value.smtp, `${where}.smtp`, configError),
  }
  if (Object.keys(out.connections.sql).length > 0) out.sql = Object.keys(out.connections.sql)
  if (Object.keys(out.connections.smtp).length > 0) out.smtp = Object.keys(out.connections.smtp)
  // A connection's password secret is granted with it (the orchestrator sends it only for a
  // plugin that declares it); the sandbox hands it to the connection, never to plugin code.
  for (const c of [...Object.values(out.connections.sql), ...Object.values(out.connections.smtp)])
    if (c.passwordSecret && !out.secrets.includes(c.passwordSecret)) out.secrets.push(c.passwordSecret)
  if (value.allowPrivateNetwork !== undefined) {
    if (typeof value.allowPrivateNetwork !== 'boolean')
      throw configError(
        `${where}.allowPrivateNetwork`,
        `expected true or false, got ${show(value.allowPrivateNetwork)}`,
      )
    out.allowPrivateNetwork = value.allowPrivateNetwork
  }
  return out
}

/**
 * A grant names its targets: "$granted" is how a manifest leaves them to the operator, and
 * in a grant it would mean nothing (the load would refuse it); refused at start instead.
 */
function namedTargets<T extends string[] | undefined>(names: T, where: string): T {
  names?.forEach((name, i) => {
    if (name.includes('$granted'))
      throw configError(
        `${where}[${i}]`,
        `"${name}" is for plugin manifests (targets the operator chooses); a grant names the hosts, commands or paths themselves`,
      )
  })
  return names
}

/**
 * Environment names granted to commands, each checked as the manifest's are: a reserved
 * hook (LD_*, BASH_ENV, PYTHON*, ...) fails the start, since no grant could pass it.
 */
function envGrant<T extends string[] | undefined>(names: T, where: string): T {
  names?.forEach((name, i) => {
    const problem = envEntryProblem(name)
    if (problem !== undefined) throw configError(`${where}[${i}]`, problem)
  })
  return names
}

function limits(value: unknown, where: string): Partial<PluginLimits> {
  if (value === undefined) return {}
  if (!isObject(value))
    throw configError(where, 'expected an object of limits, e.g. { memoryMb: 64, wallMs: 30000 }')
  const out: Record<string, number> = {}
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0)
      throw configError(`${where}.${k}`, `expected a positive integer, got ${show(v)}`)
    out[k] = v
  }
  // The sandbox checks names and minimums at load and names the field then.
  return out as Partial<PluginLimits>
}

function stringList(value: unknown, where: string): string[] {
  if (value === undefined) return []
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
    throw configError(where, `expected a list of strings, got ${show(value)}`)
  return value as string[]
}

function stringRecord(value: unknown, where: string): Record<string, string> {
  if (!isObject(value)) throw configError(where, 'expected an object of string values')
  for (const [k, v] of Object.entries(value))
    if (typeof v !== 'string') throw configError(`${where}.${k}`, `expected a string, got ${show(v)}`)
  return value as Record<string, string>
}

function keyValues(items: string[], where: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const item of items) {
    const i = item.indexOf('=')
    if (i <= 0) throw configError(where, `expected KEY=VALUE, got ${show(item)}`)
    out[item.slice(0, i)] = item.slice(i + 1)
  }
  return out
}

function optionalString(value: unknown, where: string): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value === '')
    throw configError(where, `expected a non-empty string, got ${show(value)}`)
  return value
}

function positiveInt(value: unknown, where: string): number | undefined {
  if (value === undefined) return undefined
  const n = typeof value === 'string' ? Number(value) : value
  if (typeof n !== 'number' || !Number.isInteger(n) || n <= 0)
    throw configError(where, `expected a positive integer, got ${show(value)}`)
  return n
}

function isObject(v: unknown): v is Raw {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}…` : v)
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'a list'
  return typeof v === 'object' ? 'an object' : String(v)
}

import { isIP } from 'node:net'
import type { PGlite } from '@electric-sql/pglite'
import { checkSchemaName } from './db/identifiers.ts'
import { DEFAULTS } from './defaults.ts'
import { ENGINE_POLICY } from './engine/policy.ts'
import { invalid } from './errors.ts'

type Widen<T> = {
  -readonly [K in keyof T]: T[K] extends number ? number : T[K] extends string ? string : T[K]
}

/** Every interval and limit; each defaults to DEFAULTS (see defaults.ts for the reasons). */
export type Tuning = Widen<typeof DEFAULTS>

export interface ListenAddress {
  host: string
  /** 0 picks a free port (tests). */
  port: number
}

export interface OrchestratorConfig {
  database?: {
    /** PostgreSQL URL; without one the embedded PGlite in `dataDir` is used. */
    url?: string
    /** PGlite data folder; `null` keeps it in memory. */
    dataDir?: string | null
    schema?: string
    /** An open PGlite to share (tests: one per file, one schema per orchestrator). */
    pglite?: PGlite
  }
  /** Redis URL; without one fleet state is in-process (one instance only). */
  redis?: { url?: string; prefix?: string }
  /** The agent API's address; the operator API shares it unless `operatorListen` is set. */
  listen?: Partial<ListenAddress>
  operatorListen?: Partial<ListenAddress>
  /** An admin token to accept on first start instead of printing a generated one. */
  bootstrapToken?: string
  /** Run pg-boss maintenance and cron in this instance (default true). */
  supervise?: boolean
  /** Fastify's request log (default false). */
  logger?: boolean
  /**
   * Addresses or CIDR ranges of the proxies in front of the orchestrator (load balancers):
   * only a request that comes from one of them has its client address taken from
   * X-Forwarded-For. Empty (the default): the header is ignored, so rate limits and audit
   * addresses cannot be forged with it.
   */
  trustedProxies?: string[]
  /** The built web dashboard served at / (default: the installed @stavily/dashboard's build folder). */
  dashboardDir?: string
  tuning?: Partial<Tuning>
  /** Secrets encryption (AES-256-GCM). Without a key, one is generated in the data folder, or kept in memory when there is none. */
  secrets?: { key?: string; previousKeys?: string[] }
  /**
   * The plugin registry: its TUF keys folder (default `<dataDir>/registry-keys`, or a
   * temporary folder without a data folder), and which Git remotes a publish may fetch:
   * by default neither file:// nor hosts at private or loopback addresses (`npm run dev`
   * allows file://; STAVILY_REGISTRY_ALLOW_FILE=1, STAVILY_REGISTRY_ALLOW_PRIVATE=1).
   */
  registry?: { keysDir?: string; remotes?: { allowFile?: boolean; allowPrivate?: boolean } }
  /** The engine's background work: schedules, debounce timers, reconcile (default true; off in tests that drive it by hand). */
  engine?: { background?: boolean; reconcileIntervalMs?: number }
  /**
   * HTTPS on both listeners: PEM certificate (chain) and key files, read again on reload
   * (SIGHUP). With `clientCaFile`, the listener serving the agent API requires client
   * certificates signed by that CA (mTLS); a separate operator listener does not.
   */
  tls?: { certFile: string; keyFile: string; clientCaFile?: string }
}

export interface ResolvedConfig {
  database:
    | { backend: 'postgres'; url: string; schema: string }
    | { backend: 'pglite'; dataDir: string | undefined; schema: string; shared: PGlite | undefined }
  redis: { url: string; prefix: string } | undefined
  listen: ListenAddress
  operatorListen: ListenAddress | undefined
  bootstrapToken: string | undefined
  supervise: boolean
  logger: boolean
  trustedProxies: string[]
  dashboardDir: string | undefined
  tuning: Tuning
  secrets: { key: string | undefined; previousKeys: string[] }
  registry: { keysDir: string | undefined; remotes: { allowFile: boolean; allowPrivate: boolean } }
  /** Where generated keys live: the PGlite data folder, or `database.dataDir` given with PostgreSQL. */
  dataDir: string | undefined
  engine: { background: boolean; reconcileIntervalMs: number }
  tls: { certFile: string; keyFile: string; clientCaFile: string | undefined } | undefined
}

function checkPort(field: string, v: unknown): number {
  if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 65_535)
    throw invalid(field, 'an integer port 0-65535', v)
  return v as number
}

function address(field: string, a: Partial<ListenAddress> | undefined): ListenAddress {
  const host = a?.host ?? DEFAULTS.host
  if (typeof host !== 'string' || host.length === 0)
    throw invalid(`${field}.host`, 'a host name or IP address', host)
  return { host, port: checkPort(`${field}.port`, a?.port ?? DEFAULTS.port) }
}

function checkProxies(v: unknown): string[] {
  if (v === undefined) return []
  if (!Array.isArray(v)) throw invalid('trustedProxies', 'a list of IP addresses or CIDR ranges', v)
  for (const [i, p] of v.entries()) {
    const [ip, bits, extra] = typeof p === 'string' ? p.split('/') : []
    const family = isIP(ip ?? '')
    const okBits = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32))
    if (family === 0 || !okBits || extra !== undefined)
      throw invalid(`trustedProxies[${i}]`, 'an IP address or CIDR range (10.0.0.0/8)', p)
  }
  return [...v]
}

function trustedProxiesFromEnv(env: NodeJS.ProcessEnv): Pick<OrchestratorConfig, 'trustedProxies'> {
  // The old switch trusted X-Forwarded-For from anyone; refuse it rather than guess a list.
  if (env.STAVILY_TRUST_PROXY !== undefined)
    throw invalid(
      'STAVILY_TRUST_PROXY',
      'no longer read (it trusted X-Forwarded-For from anyone); list your proxies in STAVILY_TRUSTED_PROXIES=<addresses or CIDR ranges>',
      env.STAVILY_TRUST_PROXY,
    )
  const list = (env.STAVILY_TRUSTED_PROXIES ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0)
  return list.length > 0 ? { trustedProxies: list } : {}
}

function checkTls(t: OrchestratorConfig['tls']): ResolvedConfig['tls'] {
  if (t === undefined) return undefined
  const file = (field: string, v: unknown) => {
    if (typeof v !== 'string' || v.length === 0) throw invalid(`tls.${field}`, 'a path to a PEM file', v)
    return v
  }
  if (t.certFile === undefined || t.keyFile === undefined)
    throw invalid('tls', 'both certFile and keyFile (STAVILY_TLS_CERT_FILE, STAVILY_TLS_KEY_FILE)')
  return {
    certFile: file('certFile', t.certFile),
    keyFile: file('keyFile', t.keyFile),
    clientCaFile: t.clientCaFile === undefined ? undefined : file('clientCaFile', t.clientCaFile),
  }
}

/** Checks a programmatic configuration and fills in the defaults. */
export function resolveConfig(c: OrchestratorConfig = {}): ResolvedConfig {
  const tuning: Tuning = { ...DEFAULTS }
  for (const [key, value] of Object.entries(c.tuning ?? {})) {
    if (!(key in DEFAULTS)) throw invalid(`tuning.${key}`, `one of ${Object.keys(DEFAULTS).join(', ')}`)
    const expected = typeof DEFAULTS[key as keyof Tuning]
    if (
      typeof value !== expected ||
      (expected === 'number' && !(Number.isFinite(value) && (value as number) >= 0))
    ) {
      throw invalid(`tuning.${key}`, expected === 'number' ? 'a finite number ≥ 0' : `a ${expected}`, value)
    }
    ;(tuning as Record<string, unknown>)[key] = value
  }
  if (tuning.headersTimeoutMs > tuning.requestTimeoutMs)
    throw invalid(
      'tuning.headersTimeoutMs',
      `at most tuning.requestTimeoutMs (${tuning.requestTimeoutMs})`,
      tuning.headersTimeoutMs,
    )
  if (tuning.pollWaitMs > tuning.pollWaitMaxMs)
    throw invalid(
      'tuning.pollWaitMs',
      `at most tuning.pollWaitMaxMs (${tuning.pollWaitMaxMs})`,
      tuning.pollWaitMs,
    )
  const schema = checkSchemaName('database.schema', c.database?.schema ?? DEFAULTS.schema)
  const url = c.database?.url
  if (url !== undefined && !/^postgres(ql)?:\/\//.test(url))
    throw invalid('database.url', 'a postgres:// URL', url)
  const database: ResolvedConfig['database'] = url
    ? { backend: 'postgres', url, schema }
    : {
        backend: 'pglite',
        dataDir:
          c.database?.dataDir === null || c.database?.pglite
            ? undefined
            : (c.database?.dataDir ?? DEFAULTS.dataDir),
        schema,
        shared: c.database?.pglite,
      }
  const redisUrl = c.redis?.url
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl))
    throw invalid('redis.url', 'a redis:// or rediss:// URL', redisUrl)
  if (c.bootstrapToken !== undefined && !/^stv_admin_[A-Za-z0-9_-]{43}$/.test(c.bootstrapToken)) {
    throw invalid(
      'bootstrapToken',
      'a token of the form stv_admin_<43 base64url characters> (`stavily token generate` makes one)',
    )
  }
  for (const [i, k] of [c.secrets?.key, ...(c.secrets?.previousKeys ?? [])].entries()) {
    if (k !== undefined && (typeof k !== 'string' || Buffer.from(k, 'base64').length !== 32))
      throw invalid(
        i === 0 ? 'secrets.key' : `secrets.previousKeys[${i - 1}]`,
        'a 32-byte key in base64 (openssl rand -base64 32)',
      )
  }
  const reconcile = c.engine?.reconcileIntervalMs
  if (reconcile !== undefined && !(Number.isFinite(reconcile) && reconcile >= 0))
    throw invalid('engine.reconcileIntervalMs', 'a finite number of milliseconds ≥ 0', reconcile)
  const dataDir =
    database.backend === 'pglite'
      ? database.dataDir
      : typeof c.database?.dataDir === 'string'
        ? c.database.dataDir
        : undefined
  return {
    tls: checkTls(c.tls),
    database,
    redis: redisUrl ? { url: redisUrl, prefix: c.redis?.prefix ?? DEFAULTS.redisPrefix } : undefined,
    listen: address('listen', c.listen),
    operatorListen: c.operatorListen ? address('operatorListen', c.operatorListen) : undefined,
    bootstrapToken: c.bootstrapToken,
    supervise: c.supervise ?? true,
    logger: c.logger ?? false,
    trustedProxies: checkProxies(c.trustedProxies),
    dashboardDir: c.dashboardDir,
    tuning,
    secrets: { key: c.secrets?.key, previousKeys: c.secrets?.previousKeys ?? [] },
    registry: {
      keysDir: c.registry?.keysDir,
      remotes: {
        allowFile: c.registry?.remotes?.allowFile === true,
        allowPrivate: c.registry?.remotes?.allowPrivate === true,
      },
    },
    dataDir,
    engine: {
      background: c.engine?.background ?? true,
      reconcileIntervalMs: c.engine?.reconcileIntervalMs ?? ENGINE_POLICY.reconcileIntervalMs,
    },
  }
}

function tlsFromEnv(env: NodeJS.ProcessEnv): Pick<OrchestratorConfig, 'tls'> {
  const { STAVILY_TLS_CERT_FILE: certFile, STAVILY_TLS_KEY_FILE: keyFile } = env
  const clientCaFile = env.STAVILY_TLS_CLIENT_CA_FILE
  if (!certFile && !keyFile && !clientCaFile) return {}
  if (!certFile || !keyFile)
    throw invalid(
      certFile ? 'STAVILY_TLS_KEY_FILE' : 'STAVILY_TLS_CERT_FILE',
      'set both STAVILY_TLS_CERT_FILE and STAVILY_TLS_KEY_FILE to serve HTTPS',
    )
  return { tls: { certFile, keyFile, ...(clientCaFile ? { clientCaFile } : {}) } }
}

/** Configuration from the environment (the `stavily` process and the test child process). */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): OrchestratorConfig {
  const num = (name: string): number | undefined => {
    const v = env[name]
    if (v === undefined || v === '') return undefined
    const n = Number(v)
    if (!Number.isFinite(n)) throw invalid(name, 'a number', v)
    return n
  }
  const tuning: Partial<Tuning> = {}
  for (const key of Object.keys(DEFAULTS) as (keyof Tuning)[]) {
    const envName = `STAVILY_${key.replace(/[A-Z]/g, (m) => `_${m}`).toUpperCase()}`
    if (typeof DEFAULTS[key] === 'number') {
      const n = num(envName)
      if (n !== undefined) (tuning as Record<string, unknown>)[key] = n
    }
  }
  const operatorPort = num('STAVILY_OPERATOR_PORT')
  return {
    database: {
      ...(env.DATABASE_URL ? { url: env.DATABASE_URL } : {}),
      ...(env.STAVILY_DATA_DIR ? { dataDir: env.STAVILY_DATA_DIR } : {}),
      ...(env.STAVILY_SCHEMA ? { schema: env.STAVILY_SCHEMA } : {}),
    },
    ...(env.REDIS_URL
      ? {
          redis: {
            url: env.REDIS_URL,
            ...(env.STAVILY_REDIS_PREFIX ? { prefix: env.STAVILY_REDIS_PREFIX } : {}),
          },
        }
      : {}),
    listen: { host: env.STAVILY_HOST ?? DEFAULTS.host, port: num('STAVILY_PORT') ?? DEFAULTS.port },
    ...(operatorPort !== undefined
      ? { operatorListen: { host: env.STAVILY_OPERATOR_HOST ?? DEFAULTS.host, port: operatorPort } }
      : {}),
    ...(env.STAVILY_BOOTSTRAP_TOKEN ? { bootstrapToken: env.STAVILY_BOOTSTRAP_TOKEN } : {}),
    ...tlsFromEnv(env),
    logger: env.STAVILY_LOG === '1',
    ...trustedProxiesFromEnv(env),
    ...(env.STAVILY_DASHBOARD_DIR ? { dashboardDir: env.STAVILY_DASHBOARD_DIR } : {}),
    tuning,
    ...(env.STAVILY_SECRETS_KEY
      ? {
          secrets: {
            key: env.STAVILY_SECRETS_KEY,
            previousKeys: (env.STAVILY_SECRETS_PREVIOUS_KEYS ?? '')
              .split(',')
              .map((k) => k.trim())
              .filter((k) => k.length > 0),
          },
        }
      : {}),
    registry: {
      ...(env.STAVILY_REGISTRY_KEYS_DIR ? { keysDir: env.STAVILY_REGISTRY_KEYS_DIR } : {}),
      remotes: {
        allowFile: env.STAVILY_REGISTRY_ALLOW_FILE === '1',
        allowPrivate: env.STAVILY_REGISTRY_ALLOW_PRIVATE === '1',
      },
    },
  }
}

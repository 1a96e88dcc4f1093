import { join } from 'node:path'
import type { BundleOptions } from './build/bundle.ts'
import { artifactBytes, pluginVersion, pluginVersions, searchCatalog } from './catalog/queries.ts'
import { resolveRange } from './catalog/resolve.ts'
import { yank } from './catalog/yank.ts'
import {
  checkBuildOptions,
  checkExpiry,
  checkListParams,
  checkName,
  checkRange,
  checkReason,
  checkRemotePolicy,
  checkVersion,
} from './checks.ts'
import { invalidArgument, isRegistryError, RegistryError } from './errors.ts'
import { checkCredentials, type GitCredential } from './git/credentials.ts'
import type { RemotePolicy } from './git/remote-policy.ts'
import { publishFromGit } from './publish/publish.ts'
import { checkSchemaName, DEFAULT_SCHEMA } from './storage/identifiers.ts'
import { migrate } from './storage/migrate.ts'
import type { SqlClient } from './storage/sql-client.ts'
import { loadOrCreateKeyFolder } from './tuf/key-folder.ts'
import { type Expiry, TufRepository } from './tuf/repository.ts'
import { type KeyConfig, type LoadedKeys, loadKeys, type RoleKeys } from './tuf/roles.ts'
import { parseTargetDownload } from './tuf/target-path.ts'
import type { PluginSummary, PluginVersion, Publisher, PublishProgress, PublishResult } from './types.ts'

// createRegistry: the programmatic API the HTTP routes and the orchestrator use.

export interface RegistryOptions {
  /** The host's SQL client (PostgreSQL or PGlite); the registry never opens a connection. */
  sql: SqlClient
  /** Schema for the registry's tables; default `stavily_registry`. */
  schema?: string
  /** Production: the TUF role keys (docs/trust.md). */
  keys?: KeyConfig
  /** Embedded default: a folder where keys are generated on first start (mode 0700). */
  keysDir?: string
  /** The data folder; without `keys` or `keysDir`, keys live in `<dataDir>/registry-keys`. */
  dataDir?: string
  /** Credentials for private Git hosts, for publishes that do not bring their own (`Publisher`). */
  credentials?: GitCredential[]
  /** Which remotes a publish may fetch: by default public hosts only, no file:// (git/remote-policy.ts). */
  remotes?: RemotePolicy
  build?: BundleOptions & {
    cloneTimeoutMs?: number
    installTimeoutMs?: number
    /** Scratch folder for checkouts; default the OS temp folder. */
    workDir?: string
    /** The npm registry dependencies are installed from (and lockfile tarballs must be on). */
    npmRegistry?: string
  }
  /** TUF metadata lifetimes in seconds (defaults.ts). */
  expiry?: Partial<Expiry>
  /** The clock for build times and metadata expiry. */
  now?: () => Date
  /**
   * Called after a new version is published and signed (not for a no-op republish), before
   * `publish` resolves: the orchestrator rolls it out to pools whose range allows it. The
   * version is stored whatever this does; an error it throws is reported as a process
   * warning, never to the publisher.
   */
  onPublished?: (version: PluginVersion) => Promise<void> | void
}

export interface Registry {
  readonly schema: string
  /** Whether this start generated new keys (embedded default, first start). */
  readonly generatedKeys: boolean
  publish(
    input: { repo: string; ref: string; path?: string },
    opts?: { onProgress?: (p: PublishProgress) => void; publisher?: Publisher },
  ): Promise<PublishResult>
  yank(name: string, version: string, opts?: { reason?: string }): Promise<PluginVersion>
  list(params?: { query?: string; limit?: number; offset?: number }): Promise<PluginSummary[]>
  versions(name: string): Promise<PluginVersion[]>
  version(name: string, version: string): Promise<PluginVersion>
  resolve(name: string, range: string, opts?: { prerelease?: boolean }): Promise<PluginVersion>
  getArtifact(name: string, version: string): Promise<{ bytes: Uint8Array; version: PluginVersion }>
  /** A TUF metadata file by its served name (`1.root.json`, `timestamp.json`, …); undefined if none. */
  metadata(file: string): Promise<string | undefined>
  /** A TUF target by its served path (`@acme/x/<sha256>.1.0.0.js`); undefined if none. */
  target(path: string): Promise<{ bytes: Uint8Array; version: PluginVersion } | undefined>
  /** The current root metadata, to give agents as their trusted root. */
  trustedRoot(): Promise<string>
  /** Rotates keys (new root signed by the current and the new root keys); returns the new root version. */
  rotateKeys(next: KeyConfig): Promise<{ rootVersion: number }>
}

export async function createRegistry(opts: RegistryOptions): Promise<Registry> {
  if (!opts || typeof opts !== 'object' || !opts.sql || typeof opts.sql.query !== 'function')
    throw invalidArgument('sql', 'expected a SqlClient { query, transaction }')
  const schema = checkSchemaName('schema', opts.schema ?? DEFAULT_SCHEMA)
  const credentials = checkCredentials('credentials', opts.credentials)
  checkBuildOptions(opts.build)
  checkExpiry(opts.expiry)
  const now = opts.now ?? (() => new Date())
  const { keys, generated } = await resolveKeys(opts)
  await migrate(opts.sql, schema)
  const tuf = new TufRepository({
    sql: opts.sql,
    schema,
    keys,
    now,
    ...(opts.expiry ? { expiry: opts.expiry } : {}),
  })
  await tuf.init()
  const sql = opts.sql
  const remotes = checkRemotePolicy('remotes', opts.remotes)
  const deps = { sql, schema, tuf, credentials, remotes, build: opts.build ?? {}, now }

  return {
    schema,
    generatedKeys: generated,
    publish: async (input, o) => {
      const result = await publishFromGit(deps, input, o)
      if (result.status === 'published' && opts.onPublished) {
        try {
          await opts.onPublished(result.version)
        } catch (err) {
          process.emitWarning(
            `after publishing ${result.version.name}@${result.version.version}: ${(err as Error).message}`,
            { code: 'STAVILY_REGISTRY_ON_PUBLISHED' },
          )
        }
      }
      return result
    },
    yank: (name, version, o) =>
      yank(
        sql,
        schema,
        tuf,
        checkName('name', name),
        checkVersion('version', version),
        checkReason('reason', o?.reason),
      ),
    list: (params) => searchCatalog(sql, schema, checkListParams(params)),
    versions: (name) => pluginVersions(sql, schema, checkName('name', name)),
    version: (name, version) =>
      pluginVersion(sql, schema, checkName('name', name), checkVersion('version', version)),
    async resolve(name, range, o) {
      const n = checkName('name', name)
      return resolveRange(n, await pluginVersions(sql, schema, n), checkRange('range', range), o)
    },
    async getArtifact(name, version) {
      const v = await pluginVersion(sql, schema, checkName('name', name), checkVersion('version', version))
      return { bytes: await artifactBytes(sql, schema, v.digest), version: v }
    },
    metadata: (file) => tuf.file(file),
    async target(path) {
      const t = parseTargetDownload(path)
      if (!t) return undefined
      const v = await pluginVersion(sql, schema, t.name, t.version).catch((err: unknown) => {
        // Unknown plugin or version: no such target (404). Anything else is a real failure.
        if (isRegistryError(err) && err.statusCode === 404) return undefined
        throw err
      })
      if (!v || (t.sha256 !== undefined && `sha256:${t.sha256}` !== v.digest)) return undefined
      return { bytes: await artifactBytes(sql, schema, v.digest), version: v }
    },
    trustedRoot: () => tuf.root(),
    async rotateKeys(next) {
      const loaded = loadKeys('next', next)
      if (!loaded.root)
        throw new RegistryError(
          'STAVILY_ERR_REGISTRY_KEYS',
          'next.root: rotating keys needs the new root keys',
          {
            data: { field: 'next.root' },
          },
        )
      return { rootVersion: await tuf.rotate(loaded as LoadedKeys & { root: RoleKeys }) }
    },
  }
}

async function resolveKeys(opts: RegistryOptions): Promise<{ keys: LoadedKeys; generated: boolean }> {
  if (opts.keys) return { keys: loadKeys('keys', opts.keys), generated: false }
  const dir = opts.keysDir ?? (opts.dataDir ? join(opts.dataDir, 'registry-keys') : undefined)
  if (!dir)
    throw invalidArgument(
      'keys',
      'configure TUF keys (keys), or a keysDir/dataDir where the registry generates and keeps them',
    )
  const { keys, created } = await loadOrCreateKeyFolder(dir)
  return { keys: loadKeys(`keysDir(${dir})`, keys), generated: created }
}

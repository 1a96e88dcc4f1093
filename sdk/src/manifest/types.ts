import type { PluginKind } from '../definition.ts'

export type { PluginKind }

/**
 * What a plugin may use, as its manifest declares it (`stavily.permissions`). Every list
 * defaults to empty: a plugin that declares nothing can only log and use its state.
 *
 * @example
 * ```ts
 * import type { Permissions } from '@stavily/sdk/manifest'
 * const permissions: Permissions = {
 *   net: ['api.example.com', '*.slack.com:443'],
 *   exec: ['systemctl'],
 *   secrets: ['SLACK_TOKEN'],
 *   fs: { read: ['/var/log'], write: [] },
 *   env: ['CI', 'MY_APP_*'],
 * }
 * ```
 */
export interface Permissions {
  /**
   * Host patterns: `host`, `host:port`, `*.suffix`, `*.suffix:port`, `10.0.0.1:8080`,
   * `[::1]:8080`; in a manifest also `$granted` (the hosts the operator grants), optionally
   * constrained: `$granted:443`, `https://$granted`, `https://$granted:443`.
   */
  net: string[]
  /** Command names (looked up on the agent's PATH) or absolute paths, matched exactly; or `$granted`. */
  exec: string[]
  /** Secret names, `UPPER_SNAKE_CASE`. */
  secrets: string[]
  /** Absolute path prefixes, matched by whole path segments; or `$granted`. */
  fs: { read: string[]; write: string[] }
  /**
   * Environment variables a command may be given (`ctx.exec(..., { env })`): names, or
   * prefix patterns such as `MY_APP_*`. Loader and interpreter hooks (`LD_*`, `BASH_ENV`,
   * `PYTHON*`, `GIT_*`, ...) are never passed, whatever is declared or granted. Missing
   * means none.
   */
  env?: string[]
  /**
   * PostgreSQL connections (`ctx.sql`), by the name the operator gives them on the agent
   * (`main`), or `$granted`. The connection's URL, credentials and whether it may write are
   * the operator's: the plugin only names it. Missing means none.
   */
  sql?: string[]
  /** SMTP relays (`ctx.smtp`), by the operator's name, or `$granted`. Not for sensors. Missing means none. */
  smtp?: string[]
}

/**
 * What the operator granted a plugin: the same shape as {@link Permissions}. A capability is
 * usable only when it is both declared and granted.
 *
 * @example
 * ```ts
 * import type { Grants } from '@stavily/sdk/manifest'
 * const grants: Grants = { net: ['api.example.com'], exec: [], secrets: [], fs: { read: [], write: [] } }
 * ```
 */
export type Grants = Permissions

/**
 * A validated plugin manifest: `name`, `version` from package.json, the rest from its
 * `stavily` field, with every permission list present (empty when not declared) and host
 * patterns and paths normalised.
 *
 * @example
 * ```ts
 * import { parseManifest } from '@stavily/sdk/manifest'
 * const manifest = parseManifest(JSON.parse(await readFile('package.json', 'utf8')))
 * console.log(manifest.name, manifest.version, manifest.kind, manifest.permissions.net)
 * ```
 */
export interface PluginManifest {
  name: string
  version: string
  kind: PluginKind
  /** The source file to bundle, relative to the package root (`src/index.ts`). */
  entry: string
  /** The SDK API range the plugin was written for (`^1.0.0`). */
  sdk: string
  description?: string
  permissions: Permissions
}

/**
 * One thing wrong with a manifest: where (`stavily.permissions.net[2]`) and what.
 *
 * @example
 * ```ts
 * const problem: ManifestProblem = { path: 'stavily.kind', message: 'expected "sensor", "action" or "output", got "job"' }
 * ```
 */
export interface ManifestProblem {
  path: string
  message: string
}

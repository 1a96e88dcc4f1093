import { isDevPool, isDevVersion } from '@stavily/protocol'
import type { PluginSummary, PluginVersion, Registry } from '@stavily/registry'
import semver from 'semver'
import type { AuditEntryInput } from '../audit/index.ts'
import { checkPool, isoTime } from '../checks.ts'
import * as plans from '../db/plans/desired-plugins.ts'
import { type Database, run } from '../db/sql-client.ts'
import { LIMITS } from '../defaults.ts'
import { SYSTEM } from '../engine/types.ts'
import { invalid, StavilyError } from '../errors.ts'

// Plugins per organization and pool: search the registry, and keep the desired set that
// agents of a pool load (desired_plugins, read by /agents/v1/plugins). Enabling resolves a
// semver range to the newest published, non-yanked version and records its signed target
// (digest, permissions, the targets-role signature) and the range with the change on the
// audit log, in one transaction. A pin is a range of one exact version. When a new version
// is published, every pool whose range allows it and is on an older version moves to it
// (followRanges), so `^1.2.0` keeps rolling out 1.x releases as the operator expects.

export interface EnabledPlugin {
  name: string
  pool: string
  /** The range it was enabled at (null: enabled before ranges were kept; stays at its version). */
  range: string | null
  version: string
  digest: string
  updatedAt: string
}

/** A pool moved to a newer version its range allows (followRanges). */
export interface RangeFollowed {
  orgId: string
  pool: string
  name: string
  range: string
  from: string
  to: string
}

export interface CatalogEntry extends PluginSummary {
  /** Where the organization has it enabled, at which version and range. */
  enabled: { pool: string; version: string; range: string | null }[]
}

type Actor = { type: 'api_token' | 'user' | 'system'; id: string | null; ip?: string | null }

/** The audit log as the catalog needs it (AuditLog.record). */
interface AuditRecorder {
  record(input: AuditEntryInput, sql?: Database['sql']): Promise<unknown>
}

const NAME = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/

function checkPluginName(field: string, v: unknown): string {
  if (typeof v !== 'string' || v.length > LIMITS.pluginNameMax || !NAME.test(v))
    throw invalid(field, 'a plugin (npm package) name such as @acme/restart', v)
  return v
}

function checkRange(field: string, v: unknown): string {
  if (
    typeof v !== 'string' ||
    v.length === 0 ||
    v.length > LIMITS.versionRangeMax ||
    semver.validRange(v) === null
  )
    throw invalid(field, 'a semver range such as ^1.2.0, ~1.2, 1.x, or an exact version to pin', v)
  return v
}

/** The newest published, non-yanked version `range` allows, or null. */
function newestAllowed(published: readonly PluginVersion[], range: string): string | null {
  return semver.maxSatisfying(
    published.filter((v) => !v.yanked).map((v) => v.version),
    range,
  )
}

function toEnabled(r: Record<string, unknown>): EnabledPlugin {
  return {
    name: r.name as string,
    pool: r.pool as string,
    range: (r.range as string | null) ?? null,
    version: r.version as string,
    digest: r.digest as string,
    updatedAt: isoTime(r.updatedAt),
  }
}

export class PluginCatalog {
  readonly #db: Database
  readonly #registry: Registry
  readonly #audit: AuditRecorder

  constructor(db: Database, registry: Registry, audit: AuditRecorder) {
    this.#db = db
    this.#registry = registry
    this.#audit = audit
  }

  /** Registry search, each plugin with where this organization enabled it. */
  async search(orgId: string, q: { query?: string; limit: number; offset: number }): Promise<CatalogEntry[]> {
    const [found, enabled] = await Promise.all([
      this.#registry.list({ query: q.query ?? '', limit: q.limit, offset: q.offset }),
      this.enabled(orgId),
    ])
    return found.map((p) => ({
      ...p,
      enabled: enabled
        .filter((e) => e.name === p.name)
        .map((e) => ({ pool: e.pool, version: e.version, range: e.range })),
    }))
  }

  async enabled(orgId: string): Promise<EnabledPlugin[]> {
    return (await run<Record<string, unknown>>(this.#db.sql, plans.enabledPlugins(orgId))).rows.map(toEnabled)
  }

  /** Enables (or re-resolves) a plugin in a pool at the newest version `range` allows. */
  async enable(
    orgId: string,
    input: { name: string; pool: string; range: string },
    actor: Actor,
  ): Promise<EnabledPlugin & { range: string }> {
    const name = checkPluginName('name', input.name)
    const pool = checkPool('pool', input.pool)
    const range = checkRange('range', input.range)
    const published = await this.#versions(name)
    // Dev builds (stavily plugin dev) are candidates only in dev pools: elsewhere the range
    // picks among releases, so a dev build never hides the newest release it allows; a
    // range that only dev builds satisfy is refused as such.
    const candidates = isDevPool(pool) ? published : published.filter((v) => !isDevVersion(v.version))
    const best = newestAllowed(candidates, range)
    if (best === null) {
      const devOnly = newestAllowed(published, range)
      if (devOnly !== null) refuseDevOutsideDevPool(name, devOnly, pool)
      const shown = published.map((v) => `${v.version}${v.yanked ? ' (yanked)' : ''}`).join(', ')
      throw new StavilyError(
        'STAVILY_ERR_NOT_FOUND',
        `range: no published, non-yanked version of ${name} satisfies "${range}"; published: ${shown || 'none'}`,
        { data: { field: 'range', published: published.map((v) => v.version) } },
      )
    }
    const version = published.find((v) => v.version === best)!
    const signature = await this.#targetSignature(version)
    return this.#db.sql.transaction(async (tx) => {
      const row = toEnabled(
        (
          await run<Record<string, unknown>>(
            tx,
            plans.upsertDesiredPlugin(orgId, pool, range, version, signature),
          )
        ).rows[0]!,
      )
      await this.#audit.record(
        {
          org: orgId,
          actor: { type: actor.type, id: actor.id },
          action: 'plugin.enabled',
          target: { type: 'plugin', id: `${pool}/${name}` },
          data: { name, pool, range, version: row.version, digest: row.digest },
          ip: actor.ip ?? null,
        },
        tx,
      )
      return { ...row, range }
    })
  }

  /**
   * After a version of `name` is published: each pool that enabled it at a range allowing a
   * newer version than it runs moves to the newest such version, on the audit log as the
   * system's change (agents hot-swap on their next read). A pool enabled at an exact
   * version, or already at the newest, is left alone; so is one that has no range stored.
   */
  async followRanges(name: string): Promise<RangeFollowed[]> {
    const followers = (
      await run<{ orgId: string; pool: string; range: string; version: string }>(
        this.#db.sql,
        plans.rangeFollowers(name),
      )
    ).rows
    if (followers.length === 0) return []
    const published = await this.#registry.versions(name)
    const signatures = new Map<string, string>()
    const moved: RangeFollowed[] = []
    const releases = published.filter((v) => !isDevVersion(v.version))
    for (const f of followers) {
      // As in enable: a dev build is a candidate only for a dev pool.
      const best = newestAllowed(isDevPool(f.pool) ? published : releases, f.range)
      if (best === null || !semver.gt(best, f.version)) continue
      const version = published.find((v) => v.version === best)!
      let signature = signatures.get(best)
      if (signature === undefined) {
        signature = await this.#targetSignature(version)
        signatures.set(best, signature)
      }
      const changed = await this.#db.sql.transaction(async (tx) => {
        const row = (await run(tx, plans.followRange(f.orgId, f.pool, f.version, version, signature))).rows[0]
        if (!row) return false
        await this.#audit.record(
          {
            org: f.orgId,
            actor: SYSTEM,
            action: 'plugin.updated',
            target: { type: 'plugin', id: `${f.pool}/${name}` },
            data: {
              name,
              pool: f.pool,
              range: f.range,
              from: f.version,
              version: best,
              digest: version.digest,
            },
            ip: null,
          },
          tx,
        )
        return true
      })
      if (changed)
        moved.push({ orgId: f.orgId, pool: f.pool, name, range: f.range, from: f.version, to: best })
    }
    return moved
  }

  /** Removes a plugin from a pool's desired set; agents unload it on their next read. */
  async disable(orgId: string, input: { name: string; pool: string }, actor: Actor): Promise<EnabledPlugin> {
    const name = checkPluginName('name', input.name)
    const pool = checkPool('pool', input.pool)
    return this.#db.sql.transaction(async (tx) => {
      const r = (await run<Record<string, unknown>>(tx, plans.removeDesiredPlugin(orgId, pool, name))).rows[0]
      if (!r) {
        throw new StavilyError('STAVILY_ERR_NOT_FOUND', `plugin ${name}: not enabled in pool ${pool}`, {
          data: { field: 'name' },
        })
      }
      const row = toEnabled(r)
      await this.#audit.record(
        {
          org: orgId,
          actor: { type: actor.type, id: actor.id },
          action: 'plugin.disabled',
          target: { type: 'plugin', id: `${pool}/${name}` },
          data: { name, pool, version: row.version },
          ip: actor.ip ?? null,
        },
        tx,
      )
      return row
    })
  }

  async #versions(name: string): Promise<PluginVersion[]> {
    try {
      return await this.#registry.versions(name)
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) {
        throw new StavilyError(
          'STAVILY_ERR_NOT_FOUND',
          `name: no plugin named ${name} in the registry; publish it first`,
          {
            cause: err,
            data: { field: 'name' },
          },
        )
      }
      throw err
    }
  }

  /**
   * The signature vouching for this version: TUF signs the targets role, which lists every
   * target with its digest, so what is stored is that role's version and signatures
   * (`targets.v<N>:<keyid>:<sig>[,…]`), after checking the role lists this exact target.
   * Agents verify the artifact through TUF themselves; this records what was resolved.
   */
  async #targetSignature(v: PluginVersion): Promise<string> {
    const body = await this.#registry.metadata('targets.json')
    const meta = body
      ? (JSON.parse(body) as {
          signed: { version: number; targets: Record<string, { hashes?: { sha256?: string } }> }
          signatures: { keyid: string; sig: string }[]
        })
      : undefined
    const target = meta?.signed.targets[`${v.name}/${v.version}.js`]
    if (!meta || !target || `sha256:${target.hashes?.sha256}` !== v.digest) {
      throw new StavilyError(
        'STAVILY_ERR_INTERNAL',
        `${v.name}@${v.version}: the registry's signed targets do not list this version with digest ${v.digest}`,
      )
    }
    return meta.signatures.map((s) => `targets.v${meta.signed.version}:${s.keyid}:${s.sig}`).join(',')
  }
}

/** A dev build (`stavily plugin dev`) runs only in a dev pool: `dev` or `dev-*` (protocol's dev-versions.ts). */
function refuseDevOutsideDevPool(name: string, version: string, pool: string): void {
  if (!isDevVersion(version) || isDevPool(pool)) return
  throw new StavilyError(
    'STAVILY_ERR_DEV_POOL_ONLY',
    `range: ${name}@${version} is a dev build and pool ${pool} is not a dev pool (dev or dev-*); enable a released version, or run dev builds in a dev pool`,
    { data: { field: 'range' } },
  )
}

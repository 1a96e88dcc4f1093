import { Metadata, Root, Snapshot, type TargetFile, Targets, Timestamp } from '@tufjs/models'
import { DEFAULTS } from '../defaults.ts'
import { RegistryError } from '../errors.ts'
import {
  insertMetadata,
  latestExpiries,
  latestMetadata,
  lockTuf,
  type MetadataRow,
  metadataAt,
  pruneMetadata,
} from '../storage/plans/tuf.ts'
import { run, type SqlClient } from '../storage/sql-client.ts'
import {
  type AnyMetadata,
  expiresIn,
  metaFileFor,
  parseRoot,
  parseSnapshot,
  parseTargets,
  serialize,
  signWith,
} from './metadata-io.ts'
import { type LoadedKeys, ROLES, type RoleKeys, type RoleName } from './roles.ts'

// The repository side of TUF: keeps root, targets, snapshot and timestamp in storage and
// re-signs them in order (targets → snapshot → timestamp) whenever targets change, keys
// rotate or a role nears expiry. Every change runs in the caller's transaction under one
// advisory lock, so a failed publish leaves the metadata exactly as it was.

export interface Expiry {
  root: number
  targets: number
  snapshot: number
  timestamp: number
}

export interface TufRepositoryOptions {
  sql: SqlClient
  schema: string
  keys: LoadedKeys
  /** Lifetimes in seconds; see defaults.ts. */
  expiry?: Partial<Expiry>
  /** The clock metadata expiry is computed from (tests move it). */
  now?: () => Date
}

interface Current {
  root: Metadata<Root>
  rootVersion: number
  targets: Metadata<Targets>
  targetsBody: string
  snapshot: Metadata<Snapshot>
  snapshotBody: string
  timestampVersion: number
}

/** A metadata file name as served under `/tuf/`. */
const FILE = /^(?:(\d{1,9})\.)?(root|targets|snapshot|timestamp)\.json$/

export class TufRepository {
  private readonly sql: SqlClient
  private readonly schema: string
  private keys: LoadedKeys
  private readonly expiry: Expiry
  private readonly now: () => Date

  constructor(opts: TufRepositoryOptions) {
    this.sql = opts.sql
    this.schema = opts.schema
    this.keys = opts.keys
    this.now = opts.now ?? (() => new Date())
    this.expiry = {
      root: opts.expiry?.root ?? DEFAULTS.rootExpiresS,
      targets: opts.expiry?.targets ?? DEFAULTS.targetsExpiresS,
      snapshot: opts.expiry?.snapshot ?? DEFAULTS.snapshotExpiresS,
      timestamp: opts.expiry?.timestamp ?? DEFAULTS.timestampExpiresS,
    }
  }

  /**
   * Creates the first root (and empty targets, snapshot, timestamp) when storage has none,
   * else checks that the configured online keys are the ones the stored root trusts.
   */
  async init(): Promise<void> {
    await this.sql.transaction(async (tx) => {
      await run(tx, lockTuf(this.schema))
      const [row] = await run<MetadataRow>(tx, latestMetadata(this.schema, 'root'))
      if (row) {
        this.checkKeys(parseRoot(row.body))
        return
      }
      const rootKeys = this.keys.root
      if (!rootKeys)
        throw new RegistryError(
          'STAVILY_ERR_REGISTRY_KEYS',
          'keys.root: no root metadata is stored yet, so root keys are needed to create it',
          { data: { field: 'keys.root' } },
        )
      const root = new Metadata(this.rootFor(this.keys, 1))
      signWith(root, rootKeys)
      await this.store(tx, 'root', root)
      const targets = new Metadata(
        new Targets({
          version: 1,
          specVersion: DEFAULTS.tufSpecVersion,
          expires: this.expires('targets'),
          targets: {},
        }),
      )
      await this.commitChain(tx, targets, { snapshotVersion: 1, timestampVersion: 1 })
    })
  }

  /** Takes the TUF lock for the rest of `tx`; publish and yank call it before anything else. */
  async lock(tx: SqlClient): Promise<void> {
    await run(tx, lockTuf(this.schema))
  }

  /**
   * Applies `change` to the current targets and signs new targets, snapshot and timestamp
   * versions, inside `tx` (whose owner already holds the lock).
   */
  async updateTargets(tx: SqlClient, change: (targets: Record<string, TargetFile>) => void): Promise<number> {
    const cur = await this.current(tx)
    this.checkKeys(cur.root)
    const map: Record<string, TargetFile> = { ...cur.targets.signed.targets }
    change(map)
    const targets = new Metadata(
      new Targets({
        version: cur.targets.signed.version + 1,
        specVersion: DEFAULTS.tufSpecVersion,
        expires: this.expires('targets'),
        targets: map,
      }),
    )
    await this.commitChain(tx, targets, {
      snapshotVersion: cur.snapshot.signed.version + 1,
      timestampVersion: cur.timestampVersion + 1,
    })
    return targets.signed.version
  }

  /** The signed target entry currently listed for `path`, if any. */
  async target(path: string, sql: SqlClient = this.sql): Promise<TargetFile | undefined> {
    const [row] = await run<MetadataRow>(sql, latestMetadata(this.schema, 'targets'))
    return row ? parseTargets(row.body).signed.targets[path] : undefined
  }

  /**
   * Re-signs every role that has less than half its lifetime left (root only when root keys
   * are configured). Called before timestamp.json is served, so no background timer is needed
   * and a registry that nobody publishes to still serves fresh metadata.
   */
  async refresh(): Promise<void> {
    if (!(await this.anyStale(this.sql))) return
    await this.sql.transaction(async (tx) => {
      await run(tx, lockTuf(this.schema))
      if (!(await this.anyStale(tx))) return
      const stale = await this.staleRoles(tx)
      const cur = await this.current(tx)
      this.checkKeys(cur.root)
      if (stale.has('root') && this.keys.root) {
        const root = new Metadata(this.rootFor(this.keys, cur.rootVersion + 1, cur.root.signed))
        signWith(root, this.keys.root)
        await this.store(tx, 'root', root)
      }
      let targetsBody = cur.targetsBody
      let targetsVersion = cur.targets.signed.version
      if (stale.has('targets')) {
        const targets = new Metadata(
          new Targets({
            version: targetsVersion + 1,
            specVersion: DEFAULTS.tufSpecVersion,
            expires: this.expires('targets'),
            targets: cur.targets.signed.targets,
          }),
        )
        signWith(targets, this.keys.targets)
        targetsBody = await this.store(tx, 'targets', targets)
        targetsVersion++
      }
      let snapshotBody = cur.snapshotBody
      let snapshotVersion = cur.snapshot.signed.version
      if (stale.has('targets') || stale.has('snapshot')) {
        snapshotVersion++
        snapshotBody = await this.signSnapshot(tx, snapshotVersion, targetsVersion, targetsBody)
      }
      await this.signTimestamp(tx, cur.timestampVersion + 1, snapshotVersion, snapshotBody)
    })
  }

  /**
   * Rotates keys: writes root N+1 listing the new keys, signed by the current root keys
   * (so clients trusting root N accept it) and by the new root keys (so it is valid on its
   * own), then re-signs targets, snapshot and timestamp with the new online keys.
   */
  async rotate(next: LoadedKeys & { root: RoleKeys }): Promise<number> {
    const oldRootKeys = this.keys.root
    if (!oldRootKeys)
      throw new RegistryError(
        'STAVILY_ERR_REGISTRY_KEYS',
        'keys.root: rotating keys needs the current root keys, so the new root is signed by the old',
        { data: { field: 'keys.root' } },
      )
    return this.sql.transaction(async (tx) => {
      await run(tx, lockTuf(this.schema))
      const cur = await this.current(tx)
      const trusted = cur.root.signed.roles.root
      const signing = oldRootKeys.keys.filter((k) => trusted?.keyIDs.includes(k.keyId))
      if (!trusted || signing.length < trusted.threshold)
        throw new RegistryError(
          'STAVILY_ERR_REGISTRY_KEYS',
          `keys.root: the configured root keys are not ${trusted?.threshold ?? 1} of the stored root's keys; cannot sign its successor`,
          { data: { field: 'keys.root' } },
        )
      const root = new Metadata(this.rootFor(next, cur.rootVersion + 1))
      signWith(root, { keys: signing, threshold: trusted.threshold })
      signWith(root, next.root)
      await this.store(tx, 'root', root)
      this.keys = next
      const targets = new Metadata(
        new Targets({
          version: cur.targets.signed.version + 1,
          specVersion: DEFAULTS.tufSpecVersion,
          expires: this.expires('targets'),
          targets: cur.targets.signed.targets,
        }),
      )
      await this.commitChain(tx, targets, {
        snapshotVersion: cur.snapshot.signed.version + 1,
        timestampVersion: cur.timestampVersion + 1,
      })
      return root.signed.version
    })
  }

  /** The bytes of a metadata file by its served name (`2.root.json`, `timestamp.json`, …). */
  async file(name: string): Promise<string | undefined> {
    const m = FILE.exec(name)
    if (!m) return undefined
    const role = m[2] as RoleName
    if (role === 'timestamp') {
      if (m[1] !== undefined) return undefined
      await this.refresh()
    }
    const rows =
      m[1] === undefined
        ? await run<MetadataRow>(this.sql, latestMetadata(this.schema, role))
        : await run<MetadataRow>(this.sql, metadataAt(this.schema, role, Number(m[1])))
    return rows[0]?.body
  }

  /** The current root, for distributing to agents out of band. */
  async root(): Promise<string> {
    const [row] = await run<MetadataRow>(this.sql, latestMetadata(this.schema, 'root'))
    if (!row)
      throw new RegistryError('STAVILY_ERR_REGISTRY_METADATA_NOT_FOUND', 'no root metadata is stored yet')
    return row.body
  }

  private rootFor(keys: LoadedKeys, version: number, previous?: Root): Root {
    // Built through fromJSON: @tufjs/models exports no Role class, and the JSON form is the spec's.
    const all: Record<string, unknown> = {}
    const roles: Record<string, { keyids: string[]; threshold: number }> = {}
    for (const role of ROLES) {
      const rk = keys[role]
      const prev = previous?.roles[role]
      if (!rk) {
        // Root keys not configured (kept offline): carry the stored root role over unchanged.
        if (!prev || !previous) throw new RegistryError('STAVILY_ERR_REGISTRY_KEYS', `keys.${role}: required`)
        for (const id of prev.keyIDs) all[id] = previous.keys[id]!.toJSON()
        roles[role] = { keyids: [...prev.keyIDs], threshold: prev.threshold }
        continue
      }
      for (const k of rk.keys) all[k.keyId] = k.publicKey.toJSON()
      roles[role] = { keyids: rk.keys.map((k) => k.keyId), threshold: rk.threshold }
    }
    return Root.fromJSON({
      _type: 'root',
      spec_version: DEFAULTS.tufSpecVersion,
      version,
      expires: this.expires('root'),
      keys: all,
      roles,
      consistent_snapshot: true,
    } as Parameters<typeof Root.fromJSON>[0])
  }

  /** The configured online keys must be trusted by the stored root, or clients would refuse. */
  private checkKeys(root: Metadata<Root>): void {
    for (const role of ROLES) {
      const rk = this.keys[role]
      if (!rk) continue
      const trusted = root.signed.roles[role]
      const matching = rk.keys.filter((k) => trusted?.keyIDs.includes(k.keyId)).length
      if (!trusted || matching < trusted.threshold)
        throw new RegistryError(
          'STAVILY_ERR_REGISTRY_KEYS',
          `keys.${role}: the configured keys are not trusted by the stored root (version ${root.signed.version}, which expects ${trusted?.threshold ?? 1} of key ids ${trusted?.keyIDs.join(', ') ?? 'none'}); configure those keys or rotate`,
          { data: { field: `keys.${role}`, rootVersion: root.signed.version } },
        )
    }
  }

  private async commitChain(
    tx: SqlClient,
    targets: Metadata<Targets>,
    v: { snapshotVersion: number; timestampVersion: number },
  ): Promise<void> {
    signWith(targets, this.keys.targets)
    const targetsBody = await this.store(tx, 'targets', targets)
    const snapshotBody = await this.signSnapshot(tx, v.snapshotVersion, targets.signed.version, targetsBody)
    await this.signTimestamp(tx, v.timestampVersion, v.snapshotVersion, snapshotBody)
  }

  private async signSnapshot(tx: SqlClient, version: number, targetsVersion: number, targetsBody: string) {
    const snapshot = new Metadata(
      new Snapshot({
        version,
        specVersion: DEFAULTS.tufSpecVersion,
        expires: this.expires('snapshot'),
        meta: { 'targets.json': metaFileFor(targetsVersion, targetsBody) },
      }),
    )
    signWith(snapshot, this.keys.snapshot)
    return this.store(tx, 'snapshot', snapshot)
  }

  private async signTimestamp(tx: SqlClient, version: number, snapshotVersion: number, snapshotBody: string) {
    const timestamp = new Metadata(
      new Timestamp({
        version,
        specVersion: DEFAULTS.tufSpecVersion,
        expires: this.expires('timestamp'),
        snapshotMeta: metaFileFor(snapshotVersion, snapshotBody),
      }),
    )
    signWith(timestamp, this.keys.timestamp)
    return this.store(tx, 'timestamp', timestamp)
  }

  private async store(tx: SqlClient, role: RoleName, md: AnyMetadata) {
    const body = serialize(md)
    await run(tx, insertMetadata(this.schema, role, md.signed.version, body, md.signed.expires))
    // Clients walk every root version; older snapshot/targets/timestamp are only needed
    // briefly by a client that read timestamp just before this change.
    if (role !== 'root' && md.signed.version > DEFAULTS.keepMetadataVersions)
      await run(tx, pruneMetadata(this.schema, role, md.signed.version - DEFAULTS.keepMetadataVersions + 1))
    return body
  }

  private async current(tx: SqlClient): Promise<Current> {
    const latest = async (role: RoleName) => {
      const [row] = await run<MetadataRow>(tx, latestMetadata(this.schema, role))
      if (!row)
        throw new RegistryError(
          'STAVILY_ERR_REGISTRY_STORAGE',
          `TUF ${role} metadata is missing; was the registry initialised?`,
        )
      return row
    }
    // One at a time: a transaction's connection runs one statement at once (pg deprecates overlap).
    const root = await latest('root')
    const targets = await latest('targets')
    const snapshot = await latest('snapshot')
    const timestamp = await latest('timestamp')
    return {
      root: parseRoot(root!.body),
      rootVersion: root!.version,
      targets: parseTargets(targets!.body),
      targetsBody: targets!.body,
      snapshot: parseSnapshot(snapshot!.body),
      snapshotBody: snapshot!.body,
      timestampVersion: timestamp!.version,
    }
  }

  private async anyStale(sql: SqlClient): Promise<boolean> {
    return (await this.staleRoles(sql)).size > 0
  }

  private async staleRoles(sql: SqlClient): Promise<Set<RoleName>> {
    const rows = await run<{ role: RoleName; expires: Date | string }>(sql, latestExpiries(this.schema))
    const now = this.now().getTime()
    const stale = new Set<RoleName>()
    for (const r of rows) {
      if (r.role === 'root' && !this.keys.root) continue
      const left = new Date(r.expires).getTime() - now
      if (left < this.expiry[r.role] * 1000 * DEFAULTS.refreshWhenRemaining) stale.add(r.role)
    }
    return stale
  }

  private expires(role: RoleName): string {
    return expiresIn(this.now(), this.expiry[role])
  }
}

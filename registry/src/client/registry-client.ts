import { createHash, timingSafeEqual } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Metadata, MetadataKind, type TargetFile } from '@tufjs/models'
import { Updater } from 'tuf-js'
import { DEFAULTS } from '../defaults.ts'
import { invalidArgument, RegistryError } from '../errors.ts'
import { targetPath } from '../tuf/target-path.ts'
import type { TargetCustom } from '../types.ts'
import { HttpFetcher } from './fetcher.ts'
import { verifyFailed } from './verify-errors.ts'

// The agent side of trust: a TUF client (tuf-js's Updater) over the registry's /tuf/ files.
// `refresh` runs the TUF client workflow (root rotation, timestamp, snapshot, targets) and
// refuses bad signatures, rollback, expired metadata and mix-and-match; artifacts are then
// checked against the signed length and sha256 before anyone evaluates them.

export interface RegistryClientOptions {
  /** The registry's HTTP base (where its routes are mounted), e.g. http://orchestrator:8080/api/v1/registry. */
  baseUrl: string
  /** Folder for the trusted metadata (root.json and the last verified timestamp/snapshot/targets). */
  cacheDir: string
  /** The root to trust when `cacheDir` holds none yet (obtained from the operator, out of band). */
  trustedRoot?: string | Uint8Array
  fetchTimeoutMs?: number
  maxArtifactBytes?: number
  /** Refresh metadata before a lookup when the last refresh is older than this (default 5 min). */
  maxMetadataAgeMs?: number
}

/** A signed target: what the registry's targets role says about one plugin version. */
export interface SignedTarget extends TargetCustom {
  /** TUF target path (`name/version.js`). */
  path: string
  length: number
  sha256: string
}

export interface VerifiedArtifact {
  bytes: Uint8Array
  target: SignedTarget
}

export class RegistryClient {
  private readonly base: string
  private readonly fetcher: HttpFetcher
  private updater: Updater | undefined
  /** Earliest expiry among the trusted roles: past it, nothing is verified without a refresh. */
  private freshUntil = 0
  private refreshedAt = 0

  constructor(private readonly opts: RegistryClientOptions) {
    if (!opts || typeof opts.baseUrl !== 'string' || !/^https?:\/\//.test(opts.baseUrl))
      throw invalidArgument('baseUrl', 'expected the registry http(s) URL', opts?.baseUrl)
    if (typeof opts.cacheDir !== 'string' || opts.cacheDir === '')
      throw invalidArgument('cacheDir', 'expected a folder for trusted metadata', opts.cacheDir)
    this.base = opts.baseUrl.replace(/\/+$/, '')
    this.fetcher = new HttpFetcher(opts.fetchTimeoutMs ?? DEFAULTS.clientFetchTimeoutMs)
  }

  /**
   * Runs the TUF update: afterwards the metadata is fresh, or this threw VERIFY_FAILED.
   * `preferCache`: use the cached metadata while it has not expired, without network (an
   * agent restarting while the registry is down can still verify what it has); expired or
   * missing cache falls back to the full update.
   */
  async refresh(opts: { preferCache?: boolean } = {}): Promise<void> {
    await this.ensureRoot()
    const updater = (forceCache: boolean) =>
      new Updater({
        metadataDir: this.opts.cacheDir,
        metadataBaseUrl: `${this.base}/tuf`,
        targetBaseUrl: `${this.base}/tuf/targets`,
        fetcher: this.fetcher,
        forceCache,
      })
    let current = updater(opts.preferCache === true)
    try {
      try {
        await current.refresh()
      } catch (err) {
        // tuf-js stops on an expired cache instead of going to the network: do the full update.
        if (opts.preferCache !== true) throw err
        current = updater(false)
        await current.refresh()
      }
    } catch (err) {
      this.updater = undefined
      throw verifyFailed(err, 'registry metadata refused')
    }
    const updaterDone = current
    this.updater = updaterDone
    this.freshUntil = await this.earliestExpiry()
    this.refreshedAt = Date.now()
  }

  /** The signed target of `name@version`, from fresh metadata (refreshing first if needed). */
  async target(name: string, version: string): Promise<SignedTarget> {
    const info = await this.targetInfo(name, version)
    return toSignedTarget(info)
  }

  /** Downloads `name@version` and verifies it against its signed target. */
  async download(name: string, version: string): Promise<VerifiedArtifact> {
    const info = await this.targetInfo(name, version)
    const sha256 = info.hashes.sha256!
    const dir = info.path.slice(0, info.path.lastIndexOf('/'))
    const file = info.path.slice(info.path.lastIndexOf('/') + 1)
    // Consistent snapshots: targets are served under their digest, so a cache in between can
    // never answer with another version's bytes.
    const url = `${this.base}/tuf/targets/${dir.split('/').map(encodeURIComponent).join('/')}/${sha256}.${encodeURIComponent(file)}`
    let bytes: Buffer
    try {
      bytes = await this.fetcher.downloadBytes(url, Math.min(info.length, this.maxArtifactBytes()))
    } catch (err) {
      throw verifyFailed(err, `downloading ${name}@${version}`)
    }
    return { bytes: new Uint8Array(bytes), target: this.verifyBytes(toSignedTarget(info), bytes) }
  }

  /** Verifies bytes obtained elsewhere (an agent's cache) as `name@version`. */
  async verify(name: string, version: string, bytes: Uint8Array): Promise<SignedTarget> {
    return this.verifyBytes(await this.target(name, version), bytes)
  }

  /**
   * Checks `bytes` against an already verified target without network: the metadata must
   * still be fresh, and length and sha256 must match. Returns the target on success.
   */
  verifyBytes(target: SignedTarget, bytes: Uint8Array): SignedTarget {
    if (Date.now() >= this.freshUntil)
      throw new RegistryError(
        'STAVILY_ERR_REGISTRY_VERIFY_FAILED',
        `${target.name}@${target.version}: the trusted registry metadata has expired; refresh before verifying`,
        { data: { reason: 'expired' } },
      )
    const actual = createHash('sha256').update(bytes).digest()
    const expected = Buffer.from(target.sha256, 'hex')
    if (
      bytes.byteLength !== target.length ||
      expected.length !== actual.length ||
      !timingSafeEqual(actual, expected)
    )
      throw new RegistryError(
        'STAVILY_ERR_REGISTRY_VERIFY_FAILED',
        `${target.name}@${target.version}: the artifact does not match its signed length and sha256 (tampered); got ${bytes.byteLength} bytes with sha256 ${actual.toString('hex')}, signed ${target.length} bytes with sha256 ${target.sha256}`,
        { data: { reason: 'tampered' } },
      )
    return target
  }

  /** Every signed target (after a refresh), e.g. to identify a file by its digest. */
  async targets(): Promise<SignedTarget[]> {
    if (!this.updater || Date.now() >= this.freshUntil) await this.refresh()
    const body = await readFile(join(this.opts.cacheDir, 'targets.json'), 'utf8')
    const md = Metadata.fromJSON(MetadataKind.Targets, JSON.parse(body))
    return Object.values(md.signed.targets).map(toSignedTarget)
  }

  private async targetInfo(name: string, version: string): Promise<TargetFile> {
    const maxAge = this.opts.maxMetadataAgeMs ?? DEFAULTS.clientMetadataMaxAgeMs
    let refreshed = false
    if (!this.updater || Date.now() >= this.freshUntil || Date.now() - this.refreshedAt > maxAge) {
      await this.refresh()
      refreshed = true
    }
    let info = await this.lookup(name, version)
    // A version published since the last refresh: one refresh, then look again.
    if (!info && !refreshed) {
      await this.refresh()
      info = await this.lookup(name, version)
    }
    if (!info?.hashes.sha256)
      throw new RegistryError(
        'STAVILY_ERR_REGISTRY_TARGET_NOT_FOUND',
        `${name}@${version} is not among the registry's signed targets`,
        { data: { name, version } },
      )
    return info
  }

  private async lookup(name: string, version: string): Promise<TargetFile | undefined> {
    try {
      return await this.updater!.getTargetInfo(targetPath(name, version))
    } catch (err) {
      throw verifyFailed(err, `looking up ${name}@${version}`)
    }
  }

  private maxArtifactBytes(): number {
    return this.opts.maxArtifactBytes ?? DEFAULTS.clientMaxArtifactBytes
  }

  private async ensureRoot(): Promise<void> {
    const file = join(this.opts.cacheDir, 'root.json')
    if (existsSync(file)) return
    if (this.opts.trustedRoot === undefined)
      throw invalidArgument(
        'trustedRoot',
        `no trusted root in ${this.opts.cacheDir}; give the registry's root.json (from the operator, out of band)`,
      )
    await mkdir(this.opts.cacheDir, { recursive: true })
    await writeFile(file, this.opts.trustedRoot)
  }

  private async earliestExpiry(): Promise<number> {
    let earliest = Number.POSITIVE_INFINITY
    for (const role of ['root', 'timestamp', 'snapshot', 'targets']) {
      const body = JSON.parse(await readFile(join(this.opts.cacheDir, `${role}.json`), 'utf8')) as {
        signed: { expires: string }
      }
      earliest = Math.min(earliest, Date.parse(body.signed.expires))
    }
    return earliest
  }
}

function toSignedTarget(info: TargetFile): SignedTarget {
  const custom = info.custom as unknown as TargetCustom
  return { ...custom, path: info.path, length: info.length, sha256: info.hashes.sha256 ?? '' }
}

/**
 * One-shot: refresh trusted metadata, download `name@version` and verify it. For many
 * artifacts, keep a {@link RegistryClient} instead (one refresh, many verifies).
 */
export async function verify(
  opts: RegistryClientOptions & { name: string; version: string },
): Promise<VerifiedArtifact> {
  const client = new RegistryClient(opts)
  return client.download(opts.name, opts.version)
}

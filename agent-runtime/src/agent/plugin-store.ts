// Plugin artifacts: downloaded through the registry's TUF client, verified (signed length
// and sha256 under fresh, signed metadata), cached in <dataDir>/plugins. A cached artifact
// is verified again before every load, so a file changed on disk is refused, and a restart
// with the registry down still runs what was verified (the cached metadata has not expired).
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { isRegistryError, RegistryClient, type SignedTarget } from '@stavily/registry/client'
import { AgentError, AgentErrorCodes } from './errors.ts'
import { writeFileDurable } from './files.ts'
import type { Logger } from './logger.ts'

export interface VerifiedPlugin {
  bundle: string
  target: SignedTarget
}

export class PluginStore {
  private readonly client: RegistryClient
  private readonly cacheDir: string
  private readonly metadataDir: string

  constructor(
    private readonly o: {
      registryUrl: string
      dataDir: string
      trustedRootFile: string | undefined
      log: Logger
    },
  ) {
    this.cacheDir = join(o.dataDir, 'plugins')
    this.metadataDir = join(o.dataDir, 'tuf')
    this.client = new RegistryClient({ baseUrl: o.registryUrl, cacheDir: this.metadataDir })
  }

  /**
   * Makes sure a trusted root is in place, then loads the cached metadata without network
   * when it is still valid (else a full update). Never throws: failures show up per plugin.
   */
  async open(): Promise<void> {
    const rootFile = join(this.metadataDir, 'root.json')
    try {
      if (!existsSync(rootFile)) {
        let root: string
        if (this.o.trustedRootFile) root = readFileSync(this.o.trustedRootFile, 'utf8')
        else {
          // Trust on first use: fine on a network you trust; production gives --trusted-root.
          const res = await fetch(`${this.o.registryUrl}/tuf/1.root.json`, {
            signal: AbortSignal.timeout(15_000),
          })
          if (!res.ok) throw new Error(`GET ${this.o.registryUrl}/tuf/1.root.json answered ${res.status}`)
          root = await res.text()
          this.o.log.warn(
            { registry: this.o.registryUrl },
            'no trusted root configured: trusting the registry root fetched on first use (give --trusted-root in production)',
          )
        }
        writeFileDurable(rootFile, root, 0o644)
      }
      await this.client.refresh({ preferCache: true })
    } catch (err) {
      this.o.log.warn(
        { error: (err as Error).message },
        'registry metadata not available yet; will retry on the next sync',
      )
    }
  }

  /** A verified bundle of name@version: from the cache when it verifies, else downloaded. */
  async obtain(name: string, version: string): Promise<VerifiedPlugin> {
    const file = this.file(name, version)
    if (existsSync(file)) {
      const bytes = readFileSync(file)
      try {
        const target = await this.client.verify(name, version, bytes)
        return { bundle: bytes.toString('utf8'), target }
      } catch (err) {
        if (!isVerifyFailure(err, 'tampered')) throw refused(name, version, err)
        this.o.log.error(
          { plugin: name, version, file, error: (err as Error).message },
          'cached plugin artifact refused (it does not match its signed digest); deleting it and downloading again',
        )
        rmSync(file, { force: true })
      }
    }
    let artifact: Awaited<ReturnType<RegistryClient['download']>>
    try {
      artifact = await this.client.download(name, version)
    } catch (err) {
      throw refused(name, version, err)
    }
    writeFileDurable(file, artifact.bytes, 0o644)
    this.o.log.info(
      { plugin: name, version, sha256: artifact.target.sha256 },
      'plugin downloaded and verified',
    )
    return { bundle: Buffer.from(artifact.bytes).toString('utf8'), target: artifact.target }
  }

  file(name: string, version: string): string {
    return join(this.cacheDir, encodeURIComponent(name), `${version}.js`)
  }
}

function isVerifyFailure(err: unknown, reason?: string): boolean {
  if (!isRegistryError(err) || err.code !== 'STAVILY_ERR_REGISTRY_VERIFY_FAILED') return false
  return reason === undefined || (err.data as { reason?: string } | undefined)?.reason === reason
}

/**
 * Verification failures are final for this version (non-retryable); an unreachable registry
 * or a version not yet in the signed targets may pass (retryable).
 */
function refused(name: string, version: string, err: unknown): AgentError {
  const reason = isRegistryError(err)
    ? ((err.data as { reason?: string } | undefined)?.reason ?? err.code)
    : 'error'
  const verification = isVerifyFailure(err) && reason !== 'unavailable'
  return new AgentError(
    verification ? AgentErrorCodes.PLUGIN_REFUSED : AgentErrorCodes.PLUGIN_UNAVAILABLE,
    verification
      ? `plugin ${name}@${version} refused: verification failed (${reason}): ${(err as Error).message}`
      : `plugin ${name}@${version} could not be obtained: ${(err as Error).message}`,
    { retryable: !verification, data: { plugin: name, version, reason }, cause: err },
  )
}

// TLS towards the orchestrator: a CA bundle to trust (a private CA) and a client
// certificate and key for an orchestrator that requires them (mTLS). They go into the
// agent process's fetch dispatcher, so the agent API, the registry's TUF metadata and the
// plugin bundles all use the CA bundle. The client certificate is presented only to the
// orchestrator's origin: it identifies this agent, and another server (a registry or a
// mirror on another host) has no business receiving it. Plugins never see either: their
// fetches run in the sandbox host, another process.
import { readFileSync } from 'node:fs'
import { rootCertificates } from 'node:tls'
import { Agent, type Dispatcher, Pool, setGlobalDispatcher } from 'undici'
import { configError } from './errors.ts'

export interface TlsClientFiles {
  /** PEM CA bundle trusted besides the system's roots. */
  caFile: string | undefined
  /** PEM client certificate and key (both or neither). */
  certFile: string | undefined
  keyFile: string | undefined
}

function read(where: string, file: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (err) {
    throw configError(
      where,
      `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    )
  }
}

function originOf(url: string | URL): string {
  return new URL(url).origin
}

/** A dispatcher with the files' contents, read now (a file that cannot be read throws). */
function dispatcherFor(files: TlsClientFiles, orchestratorUrl: string): Agent {
  const ca = files.caFile ? { ca: [...rootCertificates, read('tlsCaFile', files.caFile)] } : {}
  const identity =
    files.certFile && files.keyFile
      ? { cert: read('tlsClientCertFile', files.certFile), key: read('tlsClientKeyFile', files.keyFile) }
      : {}
  const orchestrator = originOf(orchestratorUrl)
  return new Agent({
    connect: ca,
    factory: (origin: string | URL, opts: object): Dispatcher =>
      new Pool(origin, {
        ...opts,
        connect: originOf(origin) === orchestrator ? { ...ca, ...identity } : ca,
      }),
  })
}

/**
 * Installs the TLS options for every fetch of this process; nothing when none are set.
 * Returns `reload`, which reads the files again (a renewed certificate, a rotated CA) and
 * swaps the dispatcher: new requests use the new files, requests in flight finish on the
 * old connections. When a file cannot be read, reload throws and the old files stay in use.
 */
export function installTlsClient(files: TlsClientFiles, orchestratorUrl: string): { reload(): void } {
  if (!files.caFile && !files.certFile) return { reload() {} }
  let current = dispatcherFor(files, orchestratorUrl)
  setGlobalDispatcher(current)
  return {
    reload() {
      const next = dispatcherFor(files, orchestratorUrl)
      const previous = current
      current = next
      setGlobalDispatcher(next)
      void previous.close().catch(() => {})
    },
  }
}

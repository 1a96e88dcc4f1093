// TLS towards the orchestrator: a CA bundle to trust (a private CA) and a client
// certificate and key for an orchestrator that requires them (mTLS). They go into the
// agent process's fetch dispatcher, so the agent API, the registry's TUF metadata and the
// plugin bundles all use them. Plugins never see them: their fetches run in the sandbox
// host, another process.
import { readFileSync } from 'node:fs'
import { rootCertificates } from 'node:tls'
import { Agent, setGlobalDispatcher } from 'undici'
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

/** Installs the TLS options for every fetch of this process; nothing when none are set. */
export function installTlsClient(files: TlsClientFiles): void {
  if (!files.caFile && !files.certFile) return
  const connect = {
    ...(files.caFile ? { ca: [...rootCertificates, read('tlsCaFile', files.caFile)] } : {}),
    ...(files.certFile && files.keyFile
      ? { cert: read('tlsClientCertFile', files.certFile), key: read('tlsClientKeyFile', files.keyFile) }
      : {}),
  }
  setGlobalDispatcher(new Agent({ connect }))
}

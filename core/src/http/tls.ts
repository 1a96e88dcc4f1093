import { readFileSync } from 'node:fs'
import type { SecureContextOptions, TlsOptions } from 'node:tls'
import type { ResolvedConfig } from '../config.ts'
import { StavilyError } from '../errors.ts'
import type { AppRole } from './create-app.ts'

// TLS on the orchestrator's listeners: the certificate and key files (PEM) serve both; a
// client CA file makes the listener that serves the agent API require client certificates
// signed by that CA (mTLS): an agent without one, with one from another CA, or with an
// expired one is refused during the handshake, before any HTTP. The operator API on its own
// listener never asks for one. The files are read again on reload (SIGHUP): new
// connections get the new certificate, open ones and the listening socket stay.

export type TlsFiles = NonNullable<ResolvedConfig['tls']>

function read(field: string, file: string): Buffer {
  try {
    return readFileSync(file)
  } catch (err) {
    throw new StavilyError(
      'STAVILY_ERR_CONFIG',
      `${field}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      { cause: err },
    )
  }
}

/** Does this listener serve the agent API (and so take client certificates when configured)? */
const servesAgents = (role: AppRole) => role !== 'operator'

/** What the TLS context of a listener holds: the files, read now. */
export function secureContext(tls: TlsFiles, role: AppRole): SecureContextOptions {
  return {
    cert: read('tls.certFile', tls.certFile),
    key: read('tls.keyFile', tls.keyFile),
    ...(tls.clientCaFile && servesAgents(role) ? { ca: read('tls.clientCaFile', tls.clientCaFile) } : {}),
  }
}

/** The server options of a listener: its context, and client certificates required on the agent side with a client CA. */
export function tlsServerOptions(tls: TlsFiles, role: AppRole): TlsOptions {
  const mtls = tls.clientCaFile !== undefined && servesAgents(role)
  return {
    ...secureContext(tls, role),
    ...(mtls ? { requestCert: true, rejectUnauthorized: true } : {}),
    minVersion: 'TLSv1.2',
  }
}

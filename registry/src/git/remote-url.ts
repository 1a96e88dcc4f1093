import { GIT_PROTOCOLS } from '../defaults.ts'
import { invalidArgument } from '../errors.ts'

// A Git remote as the registry accepts it: a URL with an allowed scheme (https, http, ssh,
// git, file) or scp-like `user@host:path`. Credentials never travel inside the URL: they come
// from configuration (credentials.ts), so a URL is always safe to log and to store.

export interface RemoteUrl {
  /** The URL handed to git, exactly as given. */
  url: string
  scheme: (typeof GIT_PROTOCOLS)[number]
  /** `host` or `host:port`, lower case; empty for file://. */
  host: string
}

const SCP_LIKE = /^(?:[A-Za-z0-9._-]+@)?([A-Za-z0-9.-]+):(?!\/\/)[^\s]+$/

export function parseRemoteUrl(field: string, value: unknown): RemoteUrl {
  if (typeof value !== 'string' || value.trim() === '')
    throw invalidArgument(
      field,
      'expected a Git URL (https://, ssh://, git://, file:// or user@host:path)',
      value,
    )
  // A leading dash would turn the URL into a git option.
  if (value.startsWith('-') || /\s/.test(value))
    throw invalidArgument(field, 'a Git URL must not start with "-" or contain spaces', value)
  const scp = SCP_LIKE.exec(value)
  if (scp && !value.includes('://')) return { url: value, scheme: 'ssh', host: scp[1]!.toLowerCase() }
  let parsed: URL
  try {
    parsed = new URL(value)
  } catch {
    throw invalidArgument(
      field,
      'expected a Git URL (https://, ssh://, git://, file:// or user@host:path)',
      value,
    )
  }
  const scheme = parsed.protocol.slice(0, -1)
  if (!(GIT_PROTOCOLS as readonly string[]).includes(scheme))
    throw invalidArgument(
      field,
      `unsupported scheme "${scheme}:"; expected one of ${GIT_PROTOCOLS.join(', ')}`,
      value,
    )
  if (parsed.password !== '')
    throw invalidArgument(
      field,
      'the URL contains a password; remove it and configure credentials for this host in the registry (credentials[].host), so it is never logged or stored',
      redactUrl(value),
    )
  if (scheme === 'file' && parsed.host !== '')
    throw invalidArgument(field, 'a file:// URL names a local path (file:///path/to/repo)', value)
  return { url: value, scheme: scheme as RemoteUrl['scheme'], host: parsed.host.toLowerCase() }
}

/** The URL with any user-info password replaced, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)([^/@\s:]*):[^/@\s]*@/gi, '$1$2:***@')
}

import { invalidArgument } from '../errors.ts'
import type { RemoteUrl } from './remote-url.ts'

// Credentials for private repositories, from the registry's configuration, keyed by host.
// They reach git through environment variables of the one git process that needs them
// (GIT_CONFIG_* for an HTTP Authorization header, GIT_SSH_COMMAND for a key file), never
// through the URL, the command line (visible to every user in `ps`) or a log line.

export interface GitCredential {
  /** Host the credential applies to: `git.example.com` or `git.example.com:8443`. */
  host: string
  /** HTTP basic auth user; with `token` it defaults to `x-access-token` (GitHub's convention). */
  username?: string
  /** HTTP basic auth password. */
  password?: string
  /** An access token, sent as the basic auth password. */
  token?: string
  /** SSH private key file for ssh:// and user@host:path remotes. */
  sshKeyFile?: string
  /** known_hosts file for SSH; without it, the user's default applies. */
  sshKnownHostsFile?: string
}

export function checkCredentials(field: string, list: unknown): GitCredential[] {
  if (list === undefined) return []
  if (!Array.isArray(list))
    throw invalidArgument(field, 'expected an array of { host, username?, password?, token?, sshKeyFile? }')
  return list.map((c, i) => {
    const f = `${field}[${i}]`
    if (!c || typeof c !== 'object') throw invalidArgument(f, 'expected an object')
    const cred = c as GitCredential
    if (typeof cred.host !== 'string' || !/^[a-z0-9.-]+(:\d{1,5})?$/i.test(cred.host))
      throw invalidArgument(`${f}.host`, 'expected a host name, optionally with :port', cred.host)
    for (const k of ['username', 'password', 'token', 'sshKeyFile', 'sshKnownHostsFile'] as const)
      if (cred[k] !== undefined && (typeof cred[k] !== 'string' || cred[k] === ''))
        throw invalidArgument(`${f}.${k}`, 'expected a non-empty string')
    if (cred.password !== undefined && cred.token !== undefined)
      throw invalidArgument(`${f}.token`, 'give either password or token, not both')
    if (cred.password === undefined && cred.token === undefined && cred.sshKeyFile === undefined)
      throw invalidArgument(f, 'expected password, token or sshKeyFile')
    return { ...cred, host: cred.host.toLowerCase() }
  })
}

/** The credential configured for the remote's host, if any. */
export function credentialFor(remote: RemoteUrl, list: readonly GitCredential[]): GitCredential | undefined {
  if (remote.host === '') return undefined
  return (
    list.find((c) => c.host === remote.host) ?? list.find((c) => c.host === remote.host.replace(/:\d+$/, ''))
  )
}

/** Environment for git carrying the credential, and the secret strings to redact from output. */
export function credentialEnv(
  remote: RemoteUrl,
  cred: GitCredential | undefined,
): {
  env: Record<string, string>
  secrets: string[]
} {
  if (!cred) return { env: {}, secrets: [] }
  if (remote.scheme === 'http' || remote.scheme === 'https') {
    const secret = cred.password ?? cred.token
    if (secret === undefined) return { env: {}, secrets: [] }
    const user = cred.username ?? (cred.token !== undefined ? 'x-access-token' : '')
    const basic = Buffer.from(`${user}:${secret}`).toString('base64')
    // Scoped to this scheme and host, so a redirect elsewhere never receives the header.
    return {
      env: {
        GIT_CONFIG_COUNT: '1',
        GIT_CONFIG_KEY_0: `http.${remote.scheme}://${remote.host}/.extraHeader`,
        GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
      },
      secrets: [secret, basic],
    }
  }
  if (remote.scheme === 'ssh' && cred.sshKeyFile) {
    const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`
    const knownHosts = cred.sshKnownHostsFile ? ` -o UserKnownHostsFile=${quote(cred.sshKnownHostsFile)}` : ''
    return {
      env: {
        GIT_SSH_COMMAND: `ssh -i ${quote(cred.sshKeyFile)} -o IdentitiesOnly=yes -o BatchMode=yes${knownHosts}`,
      },
      secrets: [],
    }
  }
  return { env: {}, secrets: [] }
}

/** Replaces every secret (and URL password) in `text`. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text
  for (const s of secrets) if (s.length > 0) out = out.split(s).join('***')
  return out
}

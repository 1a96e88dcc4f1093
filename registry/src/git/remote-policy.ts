import { lookup } from 'node:dns/promises'
import { BlockList, isIP } from 'node:net'
import { RegistryError } from '../errors.ts'
import type { RemoteUrl } from './remote-url.ts'

// Which remotes a publish may make the registry fetch. The registry clones with the
// orchestrator's own network position and file system, on behalf of any operator of any
// organization, so by default it reaches only what that operator could reach themselves:
// public hosts. file:// (any repository on the host) and private, loopback, link-local and
// other non-public addresses (blind SSRF into the orchestrator's network) are refused
// unless the registry's configuration allows them (`remotes`). A host name is resolved and
// every address it resolves to must be public; for http(s) git is then pinned to the
// addresses checked (curl's resolve list), so a second DNS answer cannot swap them.

export interface RemotePolicy {
  /** Allow file:// remotes (any repository on the registry's host). Off by default; `npm run dev` turns it on. */
  allowFile?: boolean
  /** Allow hosts resolving to private, loopback or link-local addresses. Off by default. */
  allowPrivate?: boolean
}

export interface AllowedRemote {
  /** True when the host is not public (allowed by `allowPrivate`), or the remote is file://: git's own output is not echoed. */
  internal: boolean
  /** git config entries pinning the host to the checked addresses (http and https). */
  pin: [key: string, value: string][]
}

/** Address ranges that are not the public internet (RFC 6890 and friends). */
const NOT_PUBLIC = (() => {
  const b = new BlockList()
  for (const [net, bits] of [
    ['0.0.0.0', 8],
    ['10.0.0.0', 8],
    ['100.64.0.0', 10],
    ['127.0.0.0', 8],
    ['169.254.0.0', 16],
    ['172.16.0.0', 12],
    ['192.0.0.0', 24],
    ['192.0.2.0', 24],
    ['192.168.0.0', 16],
    ['198.18.0.0', 15],
    ['198.51.100.0', 24],
    ['203.0.113.0', 24],
    ['224.0.0.0', 4],
    ['240.0.0.0', 4],
  ] as const)
    b.addSubnet(net, bits, 'ipv4')
  for (const [net, bits] of [
    ['::', 128],
    ['::1', 128],
    ['64:ff9b::', 96],
    ['100::', 64],
    ['2001:db8::', 32],
    ['fc00::', 7],
    ['fe80::', 10],
    ['ff00::', 8],
  ] as const)
    b.addSubnet(net, bits, 'ipv6')
  return b
})()

export function isPublicAddress(address: string): boolean {
  const family = isIP(address)
  if (family === 0) return false
  if (family === 6) {
    // An IPv4-mapped address is judged as the IPv4 address it carries (not as a ::ffff:0:0/96
    // rule: BlockList matches every IPv4 address against such a rule).
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
    if (mapped) return isPublicAddress(mapped[1]!)
    const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address)
    if (hex) {
      const [hi, lo] = [Number.parseInt(hex[1]!, 16), Number.parseInt(hex[2]!, 16)]
      return isPublicAddress(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`)
    }
  }
  return !NOT_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6')
}

/** Refuses a remote the policy does not allow; resolves its host. */
export async function allowRemote(remote: RemoteUrl, policy: RemotePolicy): Promise<AllowedRemote> {
  if (remote.scheme === 'file') {
    if (!policy.allowFile)
      throw refused(
        'repo: file:// remotes are turned off on this registry (they read any repository on its host); publish from a Git server, or an administrator sets remotes.allowFile',
      )
    return { internal: true, pin: [] }
  }
  const { hostname, port } = splitHost(remote.host)
  let addresses: string[]
  if (isIP(hostname)) addresses = [hostname]
  else {
    try {
      addresses = (await lookup(hostname, { all: true, verbatim: true })).map((a) => a.address)
    } catch {
      throw new RegistryError(
        'STAVILY_ERR_REGISTRY_REPO_NOT_FOUND',
        `repo: the host "${hostname}" does not resolve`,
        {
          data: { field: 'repo' },
        },
      )
    }
  }
  const internal = addresses.some((a) => !isPublicAddress(a))
  if (internal && !policy.allowPrivate)
    throw refused(
      `repo: the host "${hostname}" is a private, loopback or link-local address; the registry clones only from public hosts unless an administrator sets remotes.allowPrivate`,
    )
  const pin: [string, string][] = []
  if ((remote.scheme === 'http' || remote.scheme === 'https') && !isIP(hostname)) {
    const p = port ?? (remote.scheme === 'https' ? '443' : '80')
    pin.push([
      'http.curloptResolve',
      `${hostname}:${p}:${addresses.map((a) => (isIP(a) === 6 ? `[${a}]` : a)).join(',')}`,
    ])
  }
  return { internal, pin }
}

function splitHost(host: string): { hostname: string; port?: string } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(host)
  if (bracketed) return { hostname: bracketed[1]!, ...(bracketed[2] ? { port: bracketed[2] } : {}) }
  const m = /^([^:]+)(?::(\d+))?$/.exec(host)
  return m ? { hostname: m[1]!, ...(m[2] ? { port: m[2] } : {}) } : { hostname: host }
}

function refused(message: string): RegistryError {
  return new RegistryError('STAVILY_ERR_REGISTRY_REMOTE_REFUSED', message, { data: { field: 'repo' } })
}

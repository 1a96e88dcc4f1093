// Host patterns of `permissions.net` and of the operator's grants: the grammar, and how a
// request's host and port match them. The sandbox adds DNS and redirect checks on top.

/**
 * A parsed host pattern. `host` is lower-case (an IPv6 literal is kept in brackets, in the
 * canonical form the WHATWG URL parser gives); `wildcard` means "any subdomain of `host`";
 * `port` undefined means any port.
 *
 * @example
 * ```ts
 * const pattern: HostPattern = { host: 'example.com', wildcard: true, port: 443 } // "*.example.com:443"
 * ```
 */
export interface HostPattern {
  host: string
  wildcard: boolean
  port: number | undefined
}

/**
 * The result of {@link parseHostPattern}: the pattern and its normalised text, or what is
 * wrong with it.
 *
 * @example
 * ```ts
 * const parsed: ParsedHostPattern = parseHostPattern('API.example.com:443')
 * if (parsed.ok) parsed.normalized // 'api.example.com:443'
 * ```
 */
export type ParsedHostPattern =
  | { ok: true; pattern: HostPattern; normalized: string }
  | { ok: false; message: string }

const EXAMPLES = 'such as "api.example.com" or "*.example.com:443"'
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/
const IPV4 = /^(?:\d{1,3})(?:\.\d{1,3}){3}$/
const MAX_HOST_LENGTH = 253 // DNS limit for a name in text form

/**
 * Parses a host pattern: `host`, `host:port`, `*.suffix`, `*.suffix:port`, an IPv4 literal
 * with optional port, or an IPv6 literal in brackets with optional port. No scheme, no
 * path, no wildcard except a whole first label. A pattern without a port matches any port.
 *
 * @example
 * ```ts
 * import { parseHostPattern } from '@stavily/sdk/manifest'
 * parseHostPattern('http://x') // { ok: false, message: '"http://x" is a URL, expected a host pattern such as ...' }
 * ```
 */
export function parseHostPattern(text: unknown): ParsedHostPattern {
  if (typeof text !== 'string') return fail(`expected a host pattern ${EXAMPLES}, got ${typeof text}`)
  const shown = JSON.stringify(text)
  if (text.trim() === '') return fail(`must not be empty; expected a host pattern ${EXAMPLES}`)
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text))
    return fail(`${shown} is a URL, expected a host pattern ${EXAMPLES}`)
  if (/\s/.test(text)) return fail(`${shown} contains whitespace; expected a host pattern ${EXAMPLES}`)
  if (/[/?#]/.test(text)) {
    return fail(`${shown} contains a path or query; expected only a host and an optional port, ${EXAMPLES}`)
  }
  if (text.includes('@'))
    return fail(`${shown} contains user info ("@"); expected a host pattern ${EXAMPLES}`)

  let hostPart: string
  let portPart: string | undefined
  if (text.startsWith('[')) {
    const match = /^\[([^\]]*)\](?::([^:]*))?$/.exec(text)
    if (!match)
      return fail(`${shown} is not a valid IPv6 literal; expected a form such as "[::1]" or "[::1]:8080"`)
    const canonical = canonicalIpv6(match[1]!)
    if (canonical === undefined) return fail(`${shown} is not a valid IPv6 address`)
    hostPart = canonical
    portPart = match[2]
  } else {
    const colons = text.split(':').length - 1
    if (colons > 1)
      return fail(`${shown} looks like an IPv6 address; write it in brackets, e.g. "[::1]:8080"`)
    const [host, port] = text.split(':') as [string, string | undefined]
    hostPart = host.toLowerCase()
    portPart = port
  }

  let port: number | undefined
  if (portPart !== undefined) {
    if (!/^\d{1,5}$/.test(portPart) || Number(portPart) < 1 || Number(portPart) > 65535) {
      return fail(`${shown}: port ${JSON.stringify(portPart)} must be a number from 1 to 65535`)
    }
    port = Number(portPart)
  }

  let wildcard = false
  if (!hostPart.startsWith('[')) {
    if (hostPart.endsWith('.')) hostPart = hostPart.slice(0, -1) // "example.com." is "example.com"
    if (hostPart.startsWith('*.')) {
      wildcard = true
      hostPart = hostPart.slice(2)
    }
    if (hostPart.includes('*')) {
      return fail(`${shown}: a wildcard is only allowed as the whole first label, as in "*.example.com"`)
    }
    if (hostPart === '') return fail(`${shown} has no host; expected a host pattern ${EXAMPLES}`)
    if (IPV4.test(hostPart)) {
      if (wildcard) return fail(`${shown}: a wildcard cannot be combined with an IP address`)
      if (
        hostPart
          .split('.')
          .some((octet) => Number(octet) > 255 || (octet.length > 1 && octet.startsWith('0')))
      ) {
        return fail(`${shown} is not a valid IPv4 address`)
      }
    } else {
      const labels = hostPart.split('.')
      if (hostPart.length > MAX_HOST_LENGTH || !labels.every((label) => LABEL.test(label))) {
        return fail(
          `${shown} is not a valid host name: labels use a-z, 0-9 and "-" (write international names in their xn-- form)`,
        )
      }
      if (/^\d+$/.test(labels[labels.length - 1]!))
        return fail(`${shown} is not a valid host name or IPv4 address`)
      if (wildcard && labels.length < 2) {
        return fail(
          `${shown}: a wildcard must cover a domain with at least two labels, as in "*.example.com"`,
        )
      }
    }
  }
  const normalized = `${wildcard ? '*.' : ''}${hostPart}${port === undefined ? '' : `:${port}`}`
  return { ok: true, pattern: { host: hostPart, wildcard, port }, normalized }
}

/**
 * Whether `host` on `port` matches `pattern`. `*.example.com` matches every subdomain at
 * any depth but not `example.com` itself; a pattern without a port matches every port.
 * `host` is compared in canonical form (lower case, no trailing dot, IPv6 in brackets).
 * An invalid pattern matches nothing.
 *
 * @example
 * ```ts
 * import { matchHostPattern } from '@stavily/sdk/manifest'
 * matchHostPattern('*.slack.com:443', 'hooks.slack.com', 443) // true
 * matchHostPattern('*.slack.com:443', 'slack.com', 443) // false
 * matchHostPattern('api.example.com', 'api.example.com', 8080) // true
 * ```
 */
export function matchHostPattern(pattern: string | HostPattern, host: string, port: number): boolean {
  let parsed: HostPattern
  if (typeof pattern === 'string') {
    const result = parseHostPattern(pattern)
    if (!result.ok) return false
    parsed = result.pattern
  } else {
    parsed = pattern
  }
  const canonical = canonicalHost(host)
  return canonical !== undefined && matchCanonical(parsed, canonical, port)
}

/** {@link matchHostPattern} for a host already in canonical form (the guard's hot path). */
export function matchCanonical(pattern: HostPattern, canonical: string, port: number): boolean {
  if (pattern.port !== undefined && pattern.port !== port) return false
  if (pattern.wildcard) return canonical.endsWith(`.${pattern.host}`)
  return canonical === pattern.host
}

/** `host` as URL parsing would give it: lower case, no trailing dot, IPv6 bracketed. */
export function canonicalHost(host: string): string | undefined {
  if (host.includes(':')) {
    const inner = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
    return canonicalIpv6(inner)
  }
  const lower = host.toLowerCase()
  return lower.endsWith('.') ? lower.slice(0, -1) : lower
}

function canonicalIpv6(address: string): string | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(address)) return undefined
  try {
    // The WHATWG URL parser validates the address and compresses it canonically ("[::1]").
    return new URL(`http://[${address}]/`).hostname
  } catch {
    return undefined
  }
}

function fail(message: string): ParsedHostPattern {
  return { ok: false, message }
}

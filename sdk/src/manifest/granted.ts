// Operator-chosen targets: a manifest entry "$granted" says "whatever the operator grants this
// plugin", instead of naming hosts, commands, paths or connections the author cannot know in
// advance (a generic http-check, a webhook, run-command). The plugin then gets exactly the
// agent's grant; every address and path rule of the sandbox still applies. Only manifests may
// use it: a grant always names its targets.

/**
 * The manifest entry that leaves a permission's targets to the operator.
 *
 * @example
 * ```ts
 * import { GRANTED } from '@stavily/sdk/manifest'
 * const permissions = { net: [GRANTED], exec: [GRANTED] } // "$granted"
 * ```
 */
export const GRANTED = '$granted'

/**
 * A parsed `permissions.net` entry of the `$granted` family: `$granted` (any host the operator
 * grants), `$granted:443` (only that port), `https://$granted` or `http://$granted:8080`
 * (only that scheme, and port). Missing parts mean "any".
 *
 * @example
 * ```ts
 * const only443: GrantedNet = { scheme: 'https', port: 443 } // "https://$granted:443"
 * ```
 */
export interface GrantedNet {
  scheme: 'http' | 'https' | undefined
  port: number | undefined
}

const GRANTED_NET = /^(?:(https?):\/\/)?\$granted(?::(\d{1,5}))?$/

/** Whether `text` is meant as a `$granted` entry (so its problems are reported as such). */
export function looksGranted(text: unknown): boolean {
  return typeof text === 'string' && text.includes('$granted')
}

/**
 * Parses a `$granted` net entry; `undefined` when `text` is not one, a message when it is
 * malformed.
 */
export function parseGrantedNet(
  text: string,
): { ok: true; value: GrantedNet; normalized: string } | { ok: false; message: string } {
  const match = GRANTED_NET.exec(text.toLowerCase())
  const forms = '"$granted", "$granted:443", "https://$granted" or "https://$granted:443"'
  if (!match)
    return {
      ok: false,
      message: `${JSON.stringify(text)} is not a valid operator-chosen entry; expected ${forms}`,
    }
  const scheme = match[1] as GrantedNet['scheme']
  let port: number | undefined
  if (match[2] !== undefined) {
    port = Number(match[2])
    if (port < 1 || port > 65535 || match[2].startsWith('0'))
      return {
        ok: false,
        message: `${JSON.stringify(text)}: port ${match[2]} must be a number from 1 to 65535`,
      }
  }
  const normalized = `${scheme ? `${scheme}://` : ''}${GRANTED}${port === undefined ? '' : `:${port}`}`
  return { ok: true, value: { scheme, port }, normalized }
}

/** Whether a `$granted` net entry admits a URL of `scheme` (without the colon) on `port`. */
export function grantedNetAdmits(entry: GrantedNet, scheme: string, port: number): boolean {
  return (
    (entry.scheme === undefined || entry.scheme === scheme) &&
    (entry.port === undefined || entry.port === port)
  )
}

/**
 * How a permission list reads for people (registry, `stavily plugin list`, docs): each entry
 * as written, `$granted` entries spelled out.
 *
 * @example
 * ```ts
 * import { describePermissionEntry } from '@stavily/sdk/manifest'
 * describePermissionEntry('net', 'https://$granted:443') // 'hosts the operator grants (https only, port 443 only)'
 * describePermissionEntry('exec', 'systemctl') // 'systemctl'
 * ```
 */
export function describePermissionEntry(permission: string, entry: string): string {
  if (!looksGranted(entry)) return entry
  const what: Record<string, string> = {
    net: 'hosts',
    exec: 'commands',
    'fs.read': 'paths',
    'fs.write': 'paths',
    sql: 'PostgreSQL connections',
    smtp: 'SMTP relays',
  }
  const base = `${what[permission] ?? 'targets'} the operator grants`
  if (permission !== 'net') return base
  const parsed = parseGrantedNet(entry)
  if (!parsed.ok) return base
  const limits: string[] = []
  if (parsed.value.scheme) limits.push(`${parsed.value.scheme} only`)
  if (parsed.value.port !== undefined) limits.push(`port ${parsed.value.port} only`)
  return limits.length === 0 ? base : `${base} (${limits.join(', ')})`
}

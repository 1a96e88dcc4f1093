// Which resolved addresses a plugin may connect to. A plugin that may reach
// "api.example.com" must not reach the agent's own machine or network through a DNS name
// that resolves to them (DNS rebinding, an attacker-controlled record): names may resolve
// only to public addresses. Non-public addresses need an explicit grant: the IP literal
// itself ("127.0.0.1:8080"), "localhost" for loopback, or the operator's
// `allowPrivateNetwork` for private ranges. Cloud metadata addresses need the literal.
import { BlockList, isIP } from 'node:net'

export type AddressClass = 'public' | 'loopback' | 'private' | 'metadata' | 'reserved'

const loopback = new BlockList()
loopback.addSubnet('127.0.0.0', 8, 'ipv4')
loopback.addAddress('::1', 'ipv6')

const metadata = new BlockList()
metadata.addAddress('169.254.169.254', 'ipv4')
metadata.addAddress('169.254.170.2', 'ipv4') // ECS task metadata
metadata.addAddress('fd00:ec2::254', 'ipv6')

const privateRanges = new BlockList()
for (const [net, bits] of [
  ['10.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['169.254.0.0', 16], // link-local
] as const) {
  privateRanges.addSubnet(net, bits, 'ipv4')
}
privateRanges.addSubnet('fc00::', 7, 'ipv6') // unique local
privateRanges.addSubnet('fe80::', 10, 'ipv6') // link-local

const reserved = new BlockList()
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['192.0.0.0', 24],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved and broadcast
] as const) {
  reserved.addSubnet(net, bits, 'ipv4')
}
reserved.addAddress('::', 'ipv6')
reserved.addSubnet('ff00::', 8, 'ipv6')

/** Classifies an IP address; IPv4-mapped IPv6 addresses count as their IPv4 address. */
export function classifyAddress(address: string): AddressClass {
  let a = address.toLowerCase()
  const mapped = a.match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/)
  if (mapped) a = mapped[1]!
  const family = isIP(a) === 6 ? 'ipv6' : 'ipv4'
  if (metadata.check(a, family)) return 'metadata'
  if (loopback.check(a, family)) return 'loopback'
  if (privateRanges.check(a, family)) return 'private'
  if (reserved.check(a, family)) return 'reserved'
  return 'public'
}

export interface AddressRule {
  /** The host as written in the URL (lower-case, no brackets), already declared and granted. */
  host: string
  allowPrivateNetwork: boolean
}

/** Why `address` may not be used for `rule.host`, or undefined when it may. */
export function addressRefusal(address: string, rule: AddressRule): string | undefined {
  const cls = classifyAddress(address)
  if (cls === 'public') return undefined
  // An IP literal the manifest and the operator both named (patterns cannot wildcard an
  // address) is exactly what they meant.
  if (isIP(rule.host) !== 0 && normalise(rule.host) === normalise(address)) return undefined
  if (cls === 'loopback' && rule.host === 'localhost') return undefined
  if (cls === 'private' && rule.allowPrivateNetwork) return undefined
  return `${rule.host} resolves to ${address}, a ${cls} address; only public addresses are allowed for host names (grant the IP literal${cls === 'private' ? ' or allowPrivateNetwork' : ''} to reach it)`
}

function normalise(address: string): string {
  const a = address.toLowerCase()
  const mapped = a.match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/)
  return mapped ? mapped[1]! : a
}

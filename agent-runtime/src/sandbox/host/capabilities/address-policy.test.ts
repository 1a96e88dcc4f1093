import { describe, expect, it } from 'vitest'
import { addressRefusal, classifyAddress } from './address-policy.ts'

describe('classifyAddress', () => {
  it.each([
    ['8.8.8.8', 'public'],
    ['2606:4700::1111', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.9.9.9', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['169.254.1.1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fe80::1', 'private'],
    ['::ffff:10.0.0.1', 'private'],
    ['169.254.169.254', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['0.0.0.0', 'reserved'],
    ['224.0.0.1', 'reserved'],
    ['::', 'reserved'],
  ])('%s is %s', (address, cls) => {
    expect(classifyAddress(address)).toBe(cls)
  })
})

describe('addressRefusal', () => {
  const name = { host: 'api.example.com', allowPrivateNetwork: false }
  it('lets a host name resolve only to public addresses', () => {
    expect(addressRefusal('93.184.216.34', name)).toBeUndefined()
    expect(addressRefusal('127.0.0.1', name)).toMatch(/loopback/)
    expect(addressRefusal('10.0.0.5', name)).toMatch(/private.*allowPrivateNetwork/)
    expect(addressRefusal('169.254.169.254', name)).toMatch(/metadata/)
  })

  it('allows private ranges, but never metadata, when the operator allows private networks', () => {
    const rule = { ...name, allowPrivateNetwork: true }
    expect(addressRefusal('10.0.0.5', rule)).toBeUndefined()
    expect(addressRefusal('169.254.169.254', rule)).toMatch(/metadata/)
    expect(addressRefusal('127.0.0.1', rule)).toMatch(/loopback/)
  })

  it('allows loopback for "localhost" and an address for its own granted literal', () => {
    expect(addressRefusal('127.0.0.1', { host: 'localhost', allowPrivateNetwork: false })).toBeUndefined()
    expect(addressRefusal('::1', { host: 'localhost', allowPrivateNetwork: false })).toBeUndefined()
    expect(
      addressRefusal('169.254.169.254', { host: '169.254.169.254', allowPrivateNetwork: false }),
    ).toBeUndefined()
    expect(addressRefusal('127.0.0.2', { host: '127.0.0.1', allowPrivateNetwork: false })).toMatch(/loopback/)
  })

  it('refuses for "localhost" anything but loopback, naming the class', () => {
    const rule = { host: 'localhost', allowPrivateNetwork: false }
    expect(addressRefusal('10.0.0.5', rule)).toMatch(/a private address/)
    expect(addressRefusal('169.254.169.254', rule)).toMatch(/a metadata address/)
  })

  it('says how to reach it: the literal, and allowPrivateNetwork only for a private address', () => {
    expect(addressRefusal('127.0.0.1', name)).toBe(
      'api.example.com resolves to 127.0.0.1, a loopback address; only public addresses are allowed for host names (grant the IP literal to reach it)',
    )
    expect(addressRefusal('10.0.0.5', name)).toBe(
      'api.example.com resolves to 10.0.0.5, a private address; only public addresses are allowed for host names (grant the IP literal or allowPrivateNetwork to reach it)',
    )
  })

  it('matches a granted IPv4 literal to its IPv4-mapped IPv6 form, and nothing else', () => {
    const literal = { host: '169.254.169.254', allowPrivateNetwork: false }
    expect(addressRefusal('::ffff:169.254.169.254', literal)).toBeUndefined()
    expect(addressRefusal('::FFFF:169.254.169.254', literal)).toBeUndefined()
    // Ends in the literal's text but is a link-local IPv6 address, not the mapped form.
    const loop = { host: '127.0.0.1', allowPrivateNetwork: false }
    expect(addressRefusal('fe80::ffff:127.0.0.1', loop)).toMatch(/private/)
    expect(addressRefusal('::ffff:127.0.0.2', loop)).toMatch(/loopback/)
  })
})

// ctx.fetch against real loopback HTTP servers: only declared ∩ granted hosts, checked again
// on every redirect hop; IP literals only when named; response size and time capped.
import { lookup } from 'node:dns/promises'
import { hostname } from 'node:os'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SandboxErrorCodes as C, classifyAddress, createSandbox, type Sandbox } from '../src/index.ts'
import { buildFixture, ids, manifest } from './helpers/build-fixture.ts'
import { startServer, type TestServer } from './helpers/servers.ts'

let sandbox: Sandbox
let allowed: TestServer
let forbidden: TestServer

beforeAll(async () => {
  forbidden = await startServer((_req, res) => res.end('secret internal data'))
  allowed = await startServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    if (url.pathname === '/json') {
      res.setHeader('content-type', 'application/json')
      return res.end(JSON.stringify({ hello: 'world', method: req.method }))
    }
    if (url.pathname === '/to-forbidden') {
      res.statusCode = 302
      res.setHeader('location', `${forbidden.url}/`)
      return res.end()
    }
    if (url.pathname === '/to-self') {
      res.statusCode = 301
      res.setHeader('location', '/json')
      return res.end()
    }
    if (url.pathname === '/headers') {
      const { authorization, cookie, 'proxy-authorization': proxy, 'x-trace': trace } = req.headers
      return res.end(JSON.stringify({ authorization, cookie, proxy, trace, host: req.headers.host }))
    }
    if (url.pathname === '/to-headers') {
      // The same server under another name is another origin.
      res.statusCode = 302
      res.setHeader('location', url.searchParams.get('to') ?? '/headers')
      return res.end()
    }
    if (url.pathname === '/loop') {
      res.statusCode = 302
      res.setHeader('location', '/loop')
      return res.end()
    }
    if (url.pathname === '/big') return res.end('x'.repeat(300 * 1024))
    if (url.pathname === '/slow') return // never answers
    res.end('ok')
  })
  sandbox = await createSandbox()
  const bundle = await buildFixture('caps')
  await sandbox.load({
    manifest: manifest('net', {
      permissions: {
        net: [
          `127.0.0.1:${allowed.port}`,
          `localhost:${allowed.port}`,
          'api.example.com',
          `${hostname()}:${allowed.port}`,
        ],
      },
    }),
    grants: {
      net: [`127.0.0.1:${allowed.port}`, `localhost:${allowed.port}`, `${hostname()}:${allowed.port}`],
    },
    bundle,
    limits: { fetchResponseBytes: 100 * 1024, fetchTimeoutMs: 500 },
  })
})
afterAll(async () => {
  await sandbox?.close()
  await allowed?.close()
  await forbidden?.close()
})

const fetchVia = (url: string, init?: unknown) =>
  sandbox.invoke('net', { ...ids(), input: { op: 'fetch', url, init } })

describe('ctx.fetch', () => {
  it('reaches a declared and granted IP literal and returns status, headers and body', async () => {
    const r = await fetchVia(`${allowed.url}/json`, {
      method: 'POST',
      body: '{}',
      headers: { 'x-test': '1' },
    })
    expect(r.output).toMatchObject({ status: 200, ok: true, type: 'application/json' })
    expect(JSON.parse((r.output as { body: string }).body)).toEqual({ hello: 'world', method: 'POST' })
  })

  it('reaches loopback through "localhost" when localhost:PORT is declared and granted', async () => {
    const r = await fetchVia(`http://localhost:${allowed.port}/json`)
    expect(r.output).toMatchObject({ status: 200 })
  })

  it('follows a redirect to an allowed URL and reports the final URL', async () => {
    const r = await fetchVia(`${allowed.url}/to-self`)
    expect(r.output).toMatchObject({ status: 200, url: `${allowed.url}/json` })
  })

  it('drops credentials on a redirect to another origin and keeps them on the same origin', async () => {
    const headers = {
      Authorization: 'Bearer s3cret',
      cookie: 'sid=s3cret',
      'Proxy-Authorization': 'Basic s3cret',
      'x-trace': 'kept',
    }
    const seen = async (url: string) => {
      const r = await fetchVia(url, { headers })
      return JSON.parse((r.output as { body: string }).body)
    }
    expect(await seen(`${allowed.url}/to-headers`)).toEqual({
      authorization: 'Bearer s3cret',
      cookie: 'sid=s3cret',
      proxy: 'Basic s3cret',
      trace: 'kept',
      host: `127.0.0.1:${allowed.port}`,
    })
    const other = `http://localhost:${allowed.port}/headers`
    expect(await seen(`${allowed.url}/to-headers?to=${encodeURIComponent(other)}`)).toEqual({
      trace: 'kept',
      host: `localhost:${allowed.port}`,
    })
  })

  it('refuses a host the manifest does not declare, naming the permission', async () => {
    const before = forbidden.hits
    await expect(fetchVia(`${forbidden.url}/`)).rejects.toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'net', value: `127.0.0.1:${forbidden.port}`, reason: 'undeclared' },
    })
    expect(forbidden.hits).toBe(before)
  })

  it('refuses a declared host the operator did not grant', async () => {
    await expect(fetchVia('https://api.example.com/')).rejects.toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'net', value: 'api.example.com:443', reason: 'ungranted' },
    })
  })

  it('refuses a redirect to an undeclared host, without contacting it', async () => {
    const before = forbidden.hits
    await expect(fetchVia(`${allowed.url}/to-forbidden`)).rejects.toMatchObject({ code: C.PERMISSION_DENIED })
    expect(forbidden.hits).toBe(before)
  })

  it('refuses an IP literal that is not itself declared (the same server by another address)', async () => {
    await expect(fetchVia(`http://127.0.0.2:${allowed.port}/`)).rejects.toMatchObject({
      code: C.PERMISSION_DENIED,
    })
    await expect(fetchVia(`http://[::1]:${allowed.port}/`)).rejects.toMatchObject({
      code: C.PERMISSION_DENIED,
    })
    // 0x7f000002 is 127.0.0.2 spelled as a number: URL parsing normalises it before the check.
    await expect(fetchVia(`http://0x7f000002:${allowed.port}/`)).rejects.toMatchObject({
      code: C.PERMISSION_DENIED,
    })
  })

  it('refuses a granted host name that resolves to a non-public address (the machine own name here)', async () => {
    // This machine's name resolves to loopback through /etc/hosts, like a DNS record an
    // attacker points at the agent would.
    const { address } = await lookup(hostname())
    expect(classifyAddress(address)).not.toBe('public')
    const before = allowed.hits
    await expect(fetchVia(`http://${hostname()}:${allowed.port}/json`)).rejects.toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'net', reason: 'address' },
    })
    expect(allowed.hits).toBe(before)
  })

  it('lets the plugin catch the denial as a PluginError-shaped error', async () => {
    const r = await sandbox.invoke('net', {
      ...ids(),
      input: { op: 'catch-denied', url: `${forbidden.url}/` },
    })
    expect(r.output).toMatchObject({
      caught: true,
      code: C.PERMISSION_DENIED,
      data: { reason: 'undeclared' },
    })
  })

  it('stops after the redirect limit', async () => {
    await expect(fetchVia(`${allowed.url}/loop`)).rejects.toMatchObject({
      code: C.CAPABILITY_FAILED,
      message: expect.stringContaining('redirects'),
    })
  })

  it('caps the response size and the time', async () => {
    await expect(fetchVia(`${allowed.url}/big`)).rejects.toMatchObject({ code: C.FETCH_TOO_LARGE })
    await expect(fetchVia(`${allowed.url}/slow`)).rejects.toMatchObject({
      code: C.FETCH_TIMEOUT,
      retryable: true,
    })
  })

  it('a call that times out while its fetch is still open fails alone; the plugin keeps working', async () => {
    await sandbox.load({
      manifest: manifest('net-short', { permissions: { net: [`127.0.0.1:${allowed.port}`] } }),
      grants: { net: [`127.0.0.1:${allowed.port}`] },
      bundle: await buildFixture('caps'),
      limits: { wallMs: 300, fetchTimeoutMs: 5000 },
    })
    await expect(
      sandbox.invoke('net-short', { ...ids(), input: { op: 'fetch', url: `${allowed.url}/slow` } }),
    ).rejects.toMatchObject({
      // Capabilities are bounded by the call's wall time, so whichever timer fires first wins.
      code: expect.stringMatching(/^STAVILY_ERR_SANDBOX_(FETCH_)?TIMEOUT$/),
      retryable: true,
    })
    const r = await sandbox.invoke('net-short', {
      ...ids(),
      input: { op: 'fetch', url: `${allowed.url}/json` },
    })
    expect(r.output).toMatchObject({ status: 200 })
  })

  it('rejects bad arguments with a message naming the field', async () => {
    await expect(fetchVia('ftp://127.0.0.1/')).rejects.toMatchObject({
      message: expect.stringContaining('fetch'),
    })
    await expect(fetchVia(`${allowed.url}/`, { method: 'BREW' })).rejects.toMatchObject({
      code: C.CAPABILITY_FAILED,
      message: expect.stringContaining('fetch init.method'),
    })
    await expect(fetchVia(`${allowed.url}/`, { headers: { host: 'evil' } })).rejects.toMatchObject({
      message: expect.stringContaining('fetch init.headers.host'),
    })
  })
})

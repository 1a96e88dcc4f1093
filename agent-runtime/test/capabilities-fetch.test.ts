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
    if (url.pathname === '/echo') {
      // What arrived: method, the body and its declared length, the headers named in ?h=.
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const named = Object.fromEntries(
          (url.searchParams.get('h') ?? '').split(',').map((h) => [h, req.headers[h] ?? null]),
        )
        res.end(
          JSON.stringify({
            method: req.method,
            length: req.headers['content-length'] ?? null,
            body: Buffer.concat(chunks).toString('utf8'),
            headers: named,
          }),
        )
      })
      return
    }
    if (url.pathname === '/status') {
      // Answers ?code= with ?to= as its Location.
      res.statusCode = Number(url.searchParams.get('code'))
      const to = url.searchParams.get('to')
      if (to) res.setHeader('location', to)
      return res.end(`status ${res.statusCode}`)
    }
    if (url.pathname === '/chain') {
      // ?n=k redirects k times, then answers "end of chain".
      const n = Number(url.searchParams.get('n'))
      if (n <= 0) return res.end('end of chain')
      res.statusCode = 302
      res.setHeader('location', `/chain?n=${n - 1}`)
      return res.end()
    }
    if (url.pathname === '/sized') return res.end('y'.repeat(Number(url.searchParams.get('n'))))
    if (url.pathname === '/cookies') {
      res.setHeader('set-cookie', ['a=1', 'b=2'])
      res.setHeader('X-Mixed-Case', 'yes')
      return res.end('two cookies')
    }
    if (url.pathname === '/hang-up') return req.socket.destroy()
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

// The details a plugin author relies on: every method, the headers the host owns, each
// redirect kind and the limits at their bounds, and how failures read.
describe('ctx.fetch, in detail', () => {
  type Out = { status: number; body: string; url: string; ok: boolean; headers: Record<string, string> }
  const out = async (url: string, init?: unknown) => (await fetchVia(url, init)).output as Out
  const echo = async (url: string, init?: unknown) => JSON.parse((await out(url, init)).body)

  it('sends every supported method, in any case, and refuses the rest naming them', async () => {
    for (const method of ['GET', 'post', 'Put', 'PATCH', 'DELETE', 'OPTIONS']) {
      expect((await echo(`${allowed.url}/echo`, { method })).method).toBe(method.toUpperCase())
    }
    expect((await out(`${allowed.url}/echo`, { method: 'HEAD' })).status).toBe(200)
    await expect(fetchVia(`${allowed.url}/echo`, { method: 'TRACE' })).rejects.toMatchObject({
      message: expect.stringContaining('GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS'),
    })
  })

  it('refuses each header the host sets itself, in any case', async () => {
    for (const name of ['Host', 'connection', 'Content-Length', 'transfer-encoding', 'Upgrade', 'expect']) {
      await expect(fetchVia(`${allowed.url}/echo`, { headers: { [name]: 'x' } })).rejects.toMatchObject({
        message: expect.stringContaining(
          `fetch init.headers.${name}: expected a header the host does not set itself`,
        ),
      })
    }
    // Any other header goes through as given.
    expect((await echo(`${allowed.url}/echo?h=x-other`, { headers: { 'X-Other': 'v' } })).headers).toEqual({
      'x-other': 'v',
    })
  })

  it('sends a body with its length in bytes, and nothing for a null body', async () => {
    const sent = await echo(`${allowed.url}/echo`, { method: 'POST', body: 'héllo' })
    expect(sent).toMatchObject({ body: 'héllo', length: '6' })
    expect(await echo(`${allowed.url}/echo`, { method: 'POST', body: '' })).toMatchObject({
      body: '',
      length: '0',
    })
    expect(await echo(`${allowed.url}/echo`, { method: 'POST', body: null })).toMatchObject({ body: '' })
    expect(await echo(`${allowed.url}/echo`, { body: null })).toMatchObject({ body: '', length: null })
  })

  it('refuses URLs that are not absolute http(s), carry user:password, or are too long', async () => {
    const refused = (url: string, expected: string) =>
      expect(fetchVia(url)).rejects.toMatchObject({
        message: expect.stringContaining(`fetch url: expected ${expected}`),
      })
    await refused('/relative', 'an absolute http(s) URL')
    await refused('file:///etc/passwd', 'an http: or https: URL')
    await refused(`http://user:pw@127.0.0.1:${allowed.port}/`, 'a URL without user:password')
    await refused(`http://user@127.0.0.1:${allowed.port}/`, 'a URL without user:password')
    await refused(`http://:pw@127.0.0.1:${allowed.port}/`, 'a URL without user:password')
    await expect(fetchVia(`${allowed.url}/echo?${'q'.repeat(8192)}`)).rejects.toMatchObject({
      message: expect.stringContaining('fetch url'),
    })
    // A long URL within the bound is fine.
    expect((await out(`${allowed.url}/echo?${'q'.repeat(7000)}`)).status).toBe(200)
  })

  it('turns POST into GET on 301, 302 and 303 (dropping the body), and keeps it on 307 and 308', async () => {
    const via = (code: number, method = 'POST') =>
      echo(`${allowed.url}/status?code=${code}&to=/echo`, { method, body: 'payload' })
    for (const code of [301, 302, 303])
      expect(await via(code)).toMatchObject({ method: 'GET', body: '', length: null })
    for (const code of [307, 308]) expect(await via(code)).toMatchObject({ method: 'POST', body: 'payload' })
    // 303 makes any method a GET; 301 and 302 keep methods other than POST.
    expect(await via(303, 'PUT')).toMatchObject({ method: 'GET', body: '' })
    expect(await via(302, 'PUT')).toMatchObject({ method: 'PUT', body: 'payload' })
  })

  it('does not follow a 304 or a 3xx without a Location, and answers it as it came', async () => {
    const notModified = await out(`${allowed.url}/status?code=304&to=/echo`)
    expect(notModified).toMatchObject({ status: 304, url: `${allowed.url}/status?code=304&to=/echo` })
    expect((await out(`${allowed.url}/status?code=302`)).status).toBe(302)
    // A 4xx or 5xx with a Location is an answer too.
    expect(await out(`${allowed.url}/status?code=404&to=/echo`)).toMatchObject({ status: 404, ok: false })
  })

  it('follows exactly as many redirects as the limit allows', async () => {
    // The default limit, 5: five hops end at the answer, six are refused.
    expect(await out(`${allowed.url}/chain?n=5`)).toMatchObject({
      body: 'end of chain',
      url: `${allowed.url}/chain?n=0`,
    })
    await expect(fetchVia(`${allowed.url}/chain?n=6`)).rejects.toMatchObject({
      code: C.CAPABILITY_FAILED,
      message: `fetch ${allowed.url}/chain?n=1: more than 5 redirects`,
    })
  })

  it('accepts a response exactly at the size limit and refuses one byte more', async () => {
    const limit = 100 * 1024
    expect((await out(`${allowed.url}/sized?n=${limit}`)).body).toHaveLength(limit)
    await expect(fetchVia(`${allowed.url}/sized?n=${limit + 1}`)).rejects.toMatchObject({
      code: C.FETCH_TOO_LARGE,
      message: `fetch ${allowed.url}/sized?n=${limit + 1}: the response is larger than the limit of ${limit} bytes`,
    })
  })

  it('gives response headers lower-cased, with repeated ones joined', async () => {
    const r = await out(`${allowed.url}/cookies`)
    expect(r.headers).toMatchObject({ 'set-cookie': 'a=1, b=2', 'x-mixed-case': 'yes' })
  })

  it('reports a connection the server drops as a retryable failure naming the URL', async () => {
    await expect(fetchVia(`${allowed.url}/hang-up`)).rejects.toMatchObject({
      code: C.CAPABILITY_FAILED,
      retryable: true,
      message: expect.stringMatching(new RegExp(`^fetch ${allowed.url}/hang-up: socket hang up`)),
    })
  })

  it('refuses a timeoutMs that is not a number from 1 ms to a day, naming it', async () => {
    for (const timeoutMs of [0, -1, 'soon', 24 * 3600_000 + 1]) {
      await expect(fetchVia(`${allowed.url}/echo`, { timeoutMs })).rejects.toMatchObject({
        message: expect.stringContaining('fetch init.timeoutMs'),
      })
    }
    expect((await out(`${allowed.url}/echo`, { timeoutMs: 24 * 3600_000 })).status).toBe(200)
    expect((await out(`${allowed.url}/echo`, { timeoutMs: 1_000 })).status).toBe(200)
  })

  it('follows a Location on every 3xx but 304, and on nothing else', async () => {
    for (const code of [300, 301, 302, 303, 307, 308, 399])
      expect((await out(`${allowed.url}/status?code=${code}&to=/echo`)).url).toBe(`${allowed.url}/echo`)
    for (const code of [200, 299, 304, 400])
      expect(await out(`${allowed.url}/status?code=${code}&to=/echo`)).toMatchObject({ status: code })
  })

  it('refuses a method that is not a string, naming it', async () => {
    await expect(fetchVia(`${allowed.url}/echo`, { method: 5 })).rejects.toMatchObject({
      message: expect.stringContaining('fetch init.method'),
    })
  })

  it('caps a longer timeoutMs at the plugin limit, and says which URL timed out', async () => {
    // The call itself may run 30 s: only the 500 ms fetch limit can end this one first.
    await expect(fetchVia(`${allowed.url}/slow`, { timeoutMs: 60_000 })).rejects.toMatchObject({
      code: C.FETCH_TIMEOUT,
      message: `fetch ${allowed.url}/slow: timed out`,
      retryable: true,
    })
  })

  it('reports a granted name that does not resolve as a retryable failure naming it', async () => {
    await sandbox.load({
      manifest: manifest('net-dns', { permissions: { net: ['no-such-host.invalid'] } }),
      grants: { net: ['no-such-host.invalid'] },
      bundle: await buildFixture('caps'),
    })
    await expect(
      sandbox.invoke('net-dns', { ...ids(), input: { op: 'fetch', url: 'http://no-such-host.invalid/' } }),
    ).rejects.toMatchObject({
      code: C.CAPABILITY_FAILED,
      retryable: true,
      message: expect.stringMatching(/^fetch http:\/\/no-such-host\.invalid\/: .*(ENOTFOUND|EAI_AGAIN)/),
    })
  })
})

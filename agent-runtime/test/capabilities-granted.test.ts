// Operator-chosen targets ("$granted") in the real sandbox: the plugin gets exactly the
// grant, and the address rules (names resolving to non-public addresses, redirects checked
// hop by hop, IP literals only when named) hold as for a named host.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SandboxErrorCodes as C, createSandbox, type Sandbox } from '../src/index.ts'
import { buildFixture, ids, manifest } from './helpers/build-fixture.ts'
import { startServer, type TestServer } from './helpers/servers.ts'

let sandbox: Sandbox
let server: TestServer
let other: TestServer
let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stavily-granted-'))
  await writeFile(join(dir, 'granted.txt'), 'granted file')
  other = await startServer((_req, res) => res.end('not granted'))
  server = await startServer((req, res) => {
    if (req.url === '/to-other') {
      res.statusCode = 302
      res.setHeader('location', `${other.url}/`)
      return res.end()
    }
    res.end('ok')
  })
  sandbox = await createSandbox()
  const bundle = await buildFixture('caps')
  await sandbox.load({
    manifest: manifest('chosen', {
      permissions: {
        net: ['http://$granted'],
        exec: ['$granted'],
        fs: { read: ['$granted'] },
      },
    }),
    grants: {
      net: [`127.0.0.1:${server.port}`, `${hostname()}:${server.port}`],
      exec: ['echo'],
      fs: { read: [dir], write: [] },
    },
    bundle,
  })
})
afterAll(async () => {
  await sandbox?.close()
  await server?.close()
  await other?.close()
  await rm(dir, { recursive: true, force: true })
})

const call = (input: Record<string, unknown>) => sandbox.invoke('chosen', { ...ids(), input })

describe('$granted targets in the sandbox', () => {
  it('reaches what the operator granted: a host, a command, a folder', async () => {
    expect((await call({ op: 'fetch', url: `${server.url}/` })).output).toMatchObject({
      status: 200,
      body: 'ok',
    })
    expect((await call({ op: 'exec', command: 'echo', args: ['hi'] })).output).toMatchObject({
      code: 0,
      stdout: 'hi\n',
    })
    expect((await call({ op: 'read', path: join(dir, 'granted.txt') })).output).toEqual({
      text: 'granted file',
    })
  })

  it('refuses what the operator did not grant, saying the operator chooses it', async () => {
    const before = other.hits
    const denied = call({ op: 'fetch', url: `${other.url}/` })
    await expect(denied).rejects.toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'net', value: `127.0.0.1:${other.port}`, reason: 'ungranted' },
    })
    await expect(denied).rejects.toThrow(/leaves permissions.net to the operator/)
    await expect(call({ op: 'exec', command: 'true' })).rejects.toMatchObject({
      data: { permission: 'exec', value: 'true', reason: 'ungranted' },
    })
    await expect(call({ op: 'read', path: '/etc/hostname' })).rejects.toMatchObject({
      data: { permission: 'fs.read', reason: 'ungranted' },
    })
    expect(other.hits).toBe(before)
  })

  it('keeps the manifest constraint: https is outside "http://$granted"', async () => {
    await expect(call({ op: 'fetch', url: `https://127.0.0.1:${server.port}/` })).rejects.toMatchObject({
      data: { permission: 'net', reason: 'undeclared' },
    })
  })

  it('checks every redirect hop against the grant, without contacting an ungranted host', async () => {
    const before = other.hits
    await expect(call({ op: 'fetch', url: `${server.url}/to-other` })).rejects.toMatchObject({
      data: { permission: 'net', reason: 'ungranted' },
    })
    expect(other.hits).toBe(before)
  })

  it('still refuses a granted name that resolves to a non-public address', async () => {
    const before = server.hits
    await expect(call({ op: 'fetch', url: `http://${hostname()}:${server.port}/` })).rejects.toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'net', reason: 'address' },
    })
    expect(server.hits).toBe(before)
  })

  it('refuses "$granted" in a grant at load, naming the field', async () => {
    await expect(
      sandbox.load({
        manifest: manifest('bad-grant', { permissions: { net: ['$granted'] } }),
        grants: { net: ['$granted'] },
        bundle: await buildFixture('caps'),
      }),
    ).rejects.toMatchObject({ code: C.INVALID_ARGUMENT, message: expect.stringContaining('grants.net[0]') })
  })
})

import { createHash, generateKeyPairSync, sign } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { canonicalize } from '@tufjs/canonical-json'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RegistryClient, verify } from '../src/client/registry-client.ts'
import type { RegistryError } from '../src/errors.ts'
import type { Registry } from '../src/registry.ts'
import type { SqlClient } from '../src/storage/sql-client.ts'
import { generateKeyPem, tufKeyFromPublic } from '../src/tuf/keys.ts'
import { backends, dropSchema } from './helpers/backends.ts'
import { type GitDaemon, startGitDaemon } from './helpers/git-daemon.ts'
import { serveRegistry } from './helpers/http-server.ts'
import { pluginFiles } from './helpers/plugin-fixtures.ts'
import { testRegistry } from './helpers/registry.ts'
import { TestRepo } from './helpers/repos.ts'
import { startTamperProxy } from './helpers/tamper-proxy.ts'

// The agent's side of trust, over real loopback HTTP: tuf-js against the registry's routes,
// with a tampering proxy playing the attacker.

const NAME = '@acme/stavily-plugin-restart'
const root = mkdtempSync(join(tmpdir(), 'stavily-trust-'))
let daemon: GitDaemon
let repoUrl: string
const cache = () => mkdtempSync(join(root, 'cache-'))

beforeAll(async () => {
  const repo = new TestRepo(root, 'restart')
  repo.write(pluginFiles({ version: '1.0.0' })).commit()
  repo.tag('v1.0.0')
  repo.write(pluginFiles({ version: '1.1.0' })).commit()
  repo.tag('v1.1.0')
  repo.write(pluginFiles({ version: '1.2.0' })).commit()
  repo.tag('v1.2.0')
  daemon = await startGitDaemon(join(root, 'bare'))
  repoUrl = daemon.url('restart.git')
})
afterAll(async () => {
  await daemon?.close()
  rmSync(root, { recursive: true, force: true })
})

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected the client to refuse')
    },
    (e: unknown) => e as RegistryError,
  )

/** Re-signs a metadata file's `signed` part with a key the registry never had, under its key id. */
function forge(body: Buffer, change: (signed: Record<string, unknown>) => void = () => {}): Buffer {
  const md = JSON.parse(body.toString('utf8')) as {
    signed: Record<string, unknown>
    signatures: { keyid: string; sig: string }[]
  }
  change(md.signed)
  const { privateKey } = generateKeyPairSync('ed25519')
  const sig = sign(null, Buffer.from(canonicalize(md.signed)), privateKey).toString('hex')
  md.signatures = md.signatures.map((s) => ({ keyid: s.keyid, sig }))
  return Buffer.from(JSON.stringify(md))
}

describe.each(backends)('TUF client against the registry on $name', (backend) => {
  let db: { sql: SqlClient; close(): Promise<void> }
  let reg: Registry
  let server: { app: FastifyInstance; baseUrl: string }
  let proxy: Awaited<ReturnType<typeof startTamperProxy>>
  let rootJson: string
  const schemas: string[] = []

  beforeAll(async () => {
    db = await backend.open()
    reg = await testRegistry(db.sql)
    schemas.push(reg.schema)
    await reg.publish({ repo: repoUrl, ref: 'v1.0.0' })
    server = await serveRegistry(reg)
    proxy = await startTamperProxy(server.baseUrl)
    rootJson = await reg.trustedRoot()
  })
  afterAll(async () => {
    await proxy?.close()
    await server?.app.close()
    for (const s of schemas) await dropSchema(db.sql, s)
    await db.close()
  })

  it('downloads and verifies an artifact, returning its signed target information', async () => {
    const { bytes, target } = await verify({
      baseUrl: server.baseUrl,
      cacheDir: cache(),
      trustedRoot: rootJson,
      name: NAME,
      version: '1.0.0',
    })
    const published = await reg.version(NAME, '1.0.0')
    expect(`sha256:${createHash('sha256').update(bytes).digest('hex')}`).toBe(published.digest)
    expect(target).toMatchObject({
      name: NAME,
      version: '1.0.0',
      kind: 'action',
      digest: published.digest,
      sdk: '^1.0.0',
      permissions: published.permissions,
      repository: repoUrl,
      commit: published.provenance.commit,
      yanked: false,
      length: bytes.byteLength,
    })
  })

  it('finds a version published after its last refresh, and verifies from cache while the registry is down', async () => {
    const dir = cache()
    const client = new RegistryClient({ baseUrl: proxy.baseUrl, cacheDir: dir, trustedRoot: rootJson })
    const { bytes } = await client.download(NAME, '1.0.0')
    // Published after the client's refresh: the lookup misses, refreshes once, and finds it.
    await reg.publish({ repo: repoUrl, ref: 'v1.2.0' })
    expect((await client.target(NAME, '1.2.0')).version).toBe('1.2.0')
    proxy.setRewrite((path) => (path.includes('/tuf/') ? Buffer.from('down') : undefined))
    try {
      // The registry answers garbage: a cache-first client still verifies what it has.
      const offline = new RegistryClient({ baseUrl: proxy.baseUrl, cacheDir: dir })
      await offline.refresh({ preferCache: true })
      await expect(offline.verify(NAME, '1.0.0', bytes)).resolves.toMatchObject({ version: '1.0.0' })
      await expect(
        new RegistryClient({ baseUrl: proxy.baseUrl, cacheDir: dir }).refresh(),
      ).rejects.toMatchObject({
        code: 'STAVILY_ERR_REGISTRY_VERIFY_FAILED',
      })
    } finally {
      proxy.setRewrite(undefined)
    }
  })

  it('refuses an artifact with one byte flipped', async () => {
    proxy.setRewrite((path, body) => {
      if (!path.includes('/tuf/targets/')) return undefined
      const copy = Buffer.from(body)
      copy[copy.length - 10] = copy[copy.length - 10]! ^ 0x01
      return copy
    })
    try {
      const err = await refusal(
        new RegistryClient({ baseUrl: proxy.baseUrl, cacheDir: cache(), trustedRoot: rootJson }).download(
          NAME,
          '1.0.0',
        ),
      )
      expect(err.code).toBe('STAVILY_ERR_REGISTRY_VERIFY_FAILED')
      expect(err.data?.reason).toBe('tampered')
    } finally {
      proxy.setRewrite(undefined)
    }
    // Bytes from anywhere else (an agent's disk cache) are checked the same way.
    const client = new RegistryClient({ baseUrl: server.baseUrl, cacheDir: cache(), trustedRoot: rootJson })
    const { bytes } = await client.download(NAME, '1.0.0')
    const bad = Uint8Array.from(bytes)
    bad[0] = bad[0]! ^ 0xff
    await expect(client.verify(NAME, '1.0.0', bad)).rejects.toMatchObject({ data: { reason: 'tampered' } })
    await expect(client.verify(NAME, '1.0.0', bytes)).resolves.toMatchObject({ version: '1.0.0' })
  })

  it('refuses metadata signed with a wrong key', async () => {
    proxy.setRewrite((path, body) => (path.endsWith('/tuf/timestamp.json') ? forge(body) : undefined))
    try {
      const err = await refusal(
        new RegistryClient({ baseUrl: proxy.baseUrl, cacheDir: cache(), trustedRoot: rootJson }).refresh(),
      )
      expect(err.message).toMatch(/not signed by the keys the trusted root names/)
      expect(err.data?.reason).toBe('signature')
    } finally {
      proxy.setRewrite(undefined)
    }
  })

  it('refuses to roll back to older metadata than it already trusts', async () => {
    const oldTimestamp = Buffer.from((await reg.metadata('timestamp.json'))!)
    const dir = cache()
    const client = new RegistryClient({ baseUrl: proxy.baseUrl, cacheDir: dir, trustedRoot: rootJson })
    await reg.publish({ repo: repoUrl, ref: 'v1.1.0' })
    await client.refresh() // now trusts the newer timestamp
    proxy.setRewrite((path) => (path.endsWith('/tuf/timestamp.json') ? oldTimestamp : undefined))
    try {
      const err = await refusal(client.refresh())
      expect(err.data?.reason).toBe('rollback')
      expect(err.message).toMatch(/rollback/)
    } finally {
      proxy.setRewrite(undefined)
    }
  })

  it('refuses targets metadata that does not belong to the snapshot (mix-and-match)', async () => {
    const oldTargets = Buffer.from((await reg.metadata('1.targets.json'))!)
    proxy.setRewrite((path) => (/\/tuf\/\d+\.targets\.json$/.test(path) ? oldTargets : undefined))
    try {
      const err = await refusal(
        new RegistryClient({ baseUrl: proxy.baseUrl, cacheDir: cache(), trustedRoot: rootJson }).refresh(),
      )
      expect(err.code).toBe('STAVILY_ERR_REGISTRY_VERIFY_FAILED')
      expect(['tampered', 'mix-and-match']).toContain(err.data?.reason)
    } finally {
      proxy.setRewrite(undefined)
    }
  })

  it('follows a root rotation signed by the old and new keys, and refuses a root signed by a stranger', async () => {
    const dir = cache()
    const client = new RegistryClient({ baseUrl: proxy.baseUrl, cacheDir: dir, trustedRoot: rootJson })
    await client.refresh()
    const next = {
      root: { keys: [generateKeyPem()] },
      targets: { keys: [generateKeyPem()] },
      snapshot: { keys: [generateKeyPem()] },
      timestamp: { keys: [generateKeyPem()] },
    }
    const { rootVersion } = await reg.rotateKeys(next)
    expect(rootVersion).toBe(2)
    // The registry as the operator restarts it, configured with the new keys.
    const after = await testRegistry(db.sql, { schema: reg.schema, keys: next })
    const served = await serveRegistry(after)
    try {
      const moved = new RegistryClient({ baseUrl: served.baseUrl, cacheDir: dir })
      const { target } = await moved.download(NAME, '1.0.0')
      expect(target.version).toBe('1.0.0')
      expect(JSON.parse(readFileSync(join(dir, 'root.json'), 'utf8')).signed.version).toBe(2)

      // An attacker's root 3, signed only by a key root 2 does not list.
      const stranger = generateKeyPairSync('ed25519')
      const strangerKey = tufKeyFromPublic(stranger.publicKey)
      const evilProxy = await startTamperProxy(served.baseUrl)
      evilProxy.setRewrite((path) => {
        if (!path.endsWith('/tuf/3.root.json')) return undefined
        const root2 = JSON.parse(readFileSync(join(dir, 'root.json'), 'utf8')) as {
          signed: Record<string, unknown> & {
            keys: Record<string, unknown>
            roles: { root: { keyids: string[] } }
          }
        }
        root2.signed.version = 3
        root2.signed.keys[strangerKey.keyID] = strangerKey.toJSON()
        root2.signed.roles.root.keyids = [strangerKey.keyID]
        const sig = sign(null, Buffer.from(canonicalize(root2.signed)), stranger.privateKey).toString('hex')
        return Buffer.from(
          JSON.stringify({ signed: root2.signed, signatures: [{ keyid: strangerKey.keyID, sig }] }),
        )
      })
      try {
        const err = await refusal(new RegistryClient({ baseUrl: evilProxy.baseUrl, cacheDir: dir }).refresh())
        expect(err.data?.reason).toBe('signature')
      } finally {
        await evilProxy.close()
      }
    } finally {
      await served.app.close()
    }
  })
})

describe.each(backends.slice(0, 1))('expired metadata on $name', (backend) => {
  it('refuses metadata whose timestamp has expired (a frozen registry)', async () => {
    const db = await backend.open()
    // A registry whose clock stopped three days ago keeps serving a timestamp that expired.
    const threeDaysAgo = new Date(Date.now() - 3 * 24 * 3600 * 1000)
    const reg = await testRegistry(db.sql, { now: () => threeDaysAgo })
    const server = await serveRegistry(reg)
    try {
      const err = await refusal(
        new RegistryClient({
          baseUrl: server.baseUrl,
          cacheDir: cache(),
          trustedRoot: await reg.trustedRoot(),
        }).refresh(),
      )
      expect(err.code).toBe('STAVILY_ERR_REGISTRY_VERIFY_FAILED')
      expect(err.data?.reason).toBe('expired')
    } finally {
      await server.app.close()
      await dropSchema(db.sql, reg.schema)
      await db.close()
    }
  })
})

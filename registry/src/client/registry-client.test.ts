import { createHash } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { TargetFile } from '@tufjs/models'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { backends, dropSchema, freshSchema } from '../../test/helpers/backends.ts'
import { isRegistryError, type RegistryError } from '../errors.ts'
import { migrate } from '../storage/migrate.ts'
import type { SqlClient } from '../storage/sql-client.ts'
import { generateKeyPem } from '../tuf/keys.ts'
import { TufRepository } from '../tuf/repository.ts'
import { loadKeys } from '../tuf/roles.ts'
import { targetPath } from '../tuf/target-path.ts'
import { HttpFetcher } from './fetcher.ts'
import { RegistryClient, verify } from './registry-client.ts'
import { runPluginVerify, VERIFY_USAGE } from './verify-command.ts'
import { classify, verifyFailed } from './verify-errors.ts'

// The agent's TUF client against a signed repository served over loopback HTTP, without the
// build pipeline: targets are added straight to the repository, so each case runs in
// milliseconds (registry/test/trust.test.ts covers the same client against real publishes).

const NAME = '@acme/x'
const root = mkdtempSync(join(tmpdir(), 'stavily-client-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))
const cache = () => mkdtempSync(join(root, 'cache-'))

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a refusal')
    },
    (e: unknown) => e as RegistryError,
  )

function refusedNow(fn: () => unknown): RegistryError {
  try {
    fn()
  } catch (e) {
    return e as RegistryError
  }
  throw new Error('expected a refusal')
}

describe.each(backends)('RegistryClient on $name', (backend) => {
  let db: { sql: SqlClient; close(): Promise<void> }
  let schema: string
  let shortSchema: string
  let repo: TufRepository
  /** A second registry, served under /short, whose targets live shorter than its timestamp. */
  let shortLived: TufRepository
  let server: Server
  let base: string
  let rootJson: string
  /** Bytes served per target path; `serve` overrides what goes over the wire. */
  const artifacts = new Map<string, Buffer>()
  let serve: ((path: string, bytes: Buffer) => Buffer | undefined) | undefined
  const requests: string[] = []

  const publish = async (version: string, bytes: Buffer, custom: Record<string, unknown> = {}) => {
    const path = targetPath(NAME, version)
    artifacts.set(path, bytes)
    await db.sql.transaction(async (tx) => {
      await repo.lock(tx)
      await repo.updateTargets(tx, (t) => {
        t[path] = new TargetFile({
          path,
          length: bytes.length,
          hashes: { sha256: createHash('sha256').update(bytes).digest('hex') },
          unrecognizedFields: { custom: { name: NAME, version, kind: 'action', yanked: false, ...custom } },
        })
      })
    })
  }

  beforeAll(async () => {
    db = await backend.open()
    schema = freshSchema('client')
    await migrate(db.sql, schema)
    shortSchema = freshSchema('client')
    await migrate(db.sql, shortSchema)
    const keys = loadKeys('keys', {
      root: { keys: [generateKeyPem()] },
      targets: { keys: [generateKeyPem()] },
      snapshot: { keys: [generateKeyPem()] },
      timestamp: { keys: [generateKeyPem()] },
    })
    repo = new TufRepository({ sql: db.sql, schema, keys })
    await repo.init()
    rootJson = await repo.root()
    await publish('1.0.0', Buffer.from('export default 1\n'))
    shortLived = new TufRepository({
      sql: db.sql,
      schema: shortSchema,
      keys,
      expiry: { targets: 2 * 24 * 3600, snapshot: 7 * 24 * 3600, timestamp: 7 * 24 * 3600 },
    })
    await shortLived.init()
    server = createServer((req, res) => {
      const url = decodeURIComponent(req.url ?? '')
      requests.push(url)
      void (async () => {
        const t = /^\/reg\/tuf\/targets\/(.+)\/([0-9a-f]{64})\.([^/]+)$/.exec(url)
        if (t) {
          const path = `${t[1]}/${t[3]}`
          const bytes = artifacts.get(path)
          const sent = bytes && (serve ? serve(path, bytes) : bytes)
          if (!sent) return res.writeHead(404).end()
          return res.writeHead(200).end(sent)
        }
        const m = /^\/(reg|short)\/tuf\/([^/]+)$/.exec(url)
        const body = m ? await (m[1] === 'reg' ? repo : shortLived).file(m[2]!) : undefined
        if (body === undefined) return res.writeHead(404).end()
        res.writeHead(200, { 'content-type': 'application/json' }).end(body)
      })().catch(() => res.writeHead(500).end())
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/reg`
  })
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve))
    await dropSchema(db.sql, schema)
    await dropSchema(db.sql, shortSchema)
    await db.close()
  })
  afterEach(() => {
    serve = undefined
    vi.useRealTimers()
  })

  it('refuses options without an http(s) registry URL or a cache folder, naming the field', () => {
    for (const baseUrl of ['ftp://x', 'registry.example', 'git+https://registry.example', undefined]) {
      const err = refusedNow(() => new RegistryClient({ baseUrl, cacheDir: cache() } as never))
      expect(err.message).toMatch(/^baseUrl: expected the registry http\(s\) URL/)
    }
    expect(() => new RegistryClient(undefined as never)).toThrow(/^baseUrl: /)
    for (const cacheDir of ['', undefined]) {
      const err = refusedNow(() => new RegistryClient({ baseUrl: base, cacheDir } as never))
      expect(err.message).toMatch(/^cacheDir: expected a folder for trusted metadata/)
    }
  })

  it('needs a trusted root the first time, given out of band', async () => {
    const dir = join(cache(), 'nested')
    const err = await refusal(new RegistryClient({ baseUrl: base, cacheDir: dir }).refresh())
    expect(err.message).toBe(
      `trustedRoot: no trusted root in ${dir}; give the registry's root.json (from the operator, out of band)`,
    )
    // Given once, it is kept in the cache folder (created as needed) and not needed again.
    await new RegistryClient({ baseUrl: base, cacheDir: dir, trustedRoot: rootJson }).refresh()
    expect(readdirSync(dir)).toContain('root.json')
    await new RegistryClient({ baseUrl: base, cacheDir: dir }).refresh()
  })

  it('downloads an artifact by its digest and returns it with its signed target', async () => {
    const bytes = artifacts.get(targetPath(NAME, '1.0.0'))!
    const sha256 = createHash('sha256').update(bytes).digest('hex')
    requests.length = 0
    // Trailing slashes on the base are ignored.
    const got = await verify({
      baseUrl: `${base}//`,
      cacheDir: cache(),
      trustedRoot: rootJson,
      name: NAME,
      version: '1.0.0',
    })
    expect(Buffer.from(got.bytes)).toEqual(bytes)
    expect(got.target).toEqual({
      name: NAME,
      version: '1.0.0',
      kind: 'action',
      yanked: false,
      path: targetPath(NAME, '1.0.0'),
      length: bytes.length,
      sha256,
    })
    // Consistent snapshots: the artifact is fetched under its digest, the scope's @ escaped.
    expect(requests).toContain(`/reg/tuf/targets/${NAME}/${sha256}.1.0.0.js`)
    expect(requests.filter((r) => r.startsWith('/reg/tuf/targets/'))).toHaveLength(1)
  })

  it('refuses an artifact whose bytes or length differ from the signed target', async () => {
    const client = new RegistryClient({ baseUrl: base, cacheDir: cache(), trustedRoot: rootJson })
    const bytes = artifacts.get(targetPath(NAME, '1.0.0'))!
    const flipped = Buffer.from(bytes)
    flipped[0] = flipped[0]! ^ 1
    serve = () => flipped
    const err = await refusal(client.download(NAME, '1.0.0'))
    expect(isRegistryError(err, 'STAVILY_ERR_REGISTRY_VERIFY_FAILED')).toBe(true)
    expect(err.data).toEqual({ reason: 'tampered' })
    expect(err.message).toMatch(
      new RegExp(
        `^${NAME}@1\\.0\\.0: the artifact does not match its signed length and sha256 \\(tampered\\); got ${bytes.length} bytes`,
      ),
    )
    // Shorter bytes that are a prefix: the length alone gives it away.
    serve = (_, b) => b.subarray(0, b.length - 1)
    expect((await refusal(client.download(NAME, '1.0.0'))).data).toEqual({ reason: 'tampered' })
    // Longer: the download stops at the signed length, and says the file was tampered with
    // (it was reported as "invalid metadata" before).
    serve = (_, b) => Buffer.concat([b, Buffer.from('x')])
    const long = await refusal(client.download(NAME, '1.0.0'))
    expect(long.message).toMatch(
      /^downloading @acme\/x@1\.0\.0: a file does not match its signed length and hash \(tampered\) \(GET .* more than the 17( bytes)? expected\)$/,
    )
    expect(long.data).toEqual({ reason: 'tampered' })

    // Bytes from elsewhere (an agent's cache) are checked the same way.
    expect((await client.verify(NAME, '1.0.0', bytes)).version).toBe('1.0.0')
    expect((await refusal(client.verify(NAME, '1.0.0', flipped))).data).toEqual({ reason: 'tampered' })
    const target = await client.target(NAME, '1.0.0')
    expect(refusedNow(() => client.verifyBytes(target, bytes.subarray(1))).data).toEqual({
      reason: 'tampered',
    })
    expect(
      refusedNow(() => client.verifyBytes({ ...target, sha256: target.sha256.slice(2) }, bytes)).data,
    ).toEqual({ reason: 'tampered' })
    // The signed length is checked too, not only the digest.
    expect(refusedNow(() => client.verifyBytes({ ...target, length: bytes.length + 1 }, bytes)).data).toEqual(
      {
        reason: 'tampered',
      },
    )
  })

  it('caps a download at maxArtifactBytes even when the signed length is larger', async () => {
    const client = new RegistryClient({
      baseUrl: base,
      cacheDir: cache(),
      trustedRoot: rootJson,
      maxArtifactBytes: 4,
    })
    const err = await refusal(client.download(NAME, '1.0.0'))
    expect(isRegistryError(err, 'STAVILY_ERR_REGISTRY_VERIFY_FAILED')).toBe(true)
    expect(err.message).toMatch(/^downloading @acme\/x@1\.0\.0: .*more than the 4/)
  })

  it('finds a version published since the last refresh, and names one that is not signed', async () => {
    const client = new RegistryClient({ baseUrl: base, cacheDir: cache(), trustedRoot: rootJson })
    await client.target(NAME, '1.0.0')
    await publish('1.1.0', Buffer.from('export default 2\n'))
    expect((await client.download(NAME, '1.1.0')).target.version).toBe('1.1.0')
    const missing = await refusal(client.target(NAME, '9.9.9'))
    expect(isRegistryError(missing, 'STAVILY_ERR_REGISTRY_TARGET_NOT_FOUND')).toBe(true)
    expect(missing.message).toBe(`${NAME}@9.9.9 is not among the registry's signed targets`)
    expect(missing.data).toEqual({ name: NAME, version: '9.9.9' })
    expect((await client.targets()).map((t) => t.version)).toEqual(expect.arrayContaining(['1.0.0', '1.1.0']))
  })

  it('refreshes metadata older than maxMetadataAgeMs before a lookup, and not before', async () => {
    const client = new RegistryClient({
      baseUrl: base,
      cacheDir: cache(),
      trustedRoot: rootJson,
      maxMetadataAgeMs: 60_000,
    })
    await client.target(NAME, '1.0.0')
    requests.length = 0
    await client.target(NAME, '1.0.0')
    expect(requests).toEqual([])
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 61_000 })
    await client.target(NAME, '1.0.0')
    expect(requests).toContain('/reg/tuf/timestamp.json')
  })

  it('refuses to verify once the trusted metadata has expired, until refreshed', async () => {
    const client = new RegistryClient({ baseUrl: base, cacheDir: cache(), trustedRoot: rootJson })
    const target = await client.target(NAME, '1.0.0')
    const bytes = artifacts.get(targetPath(NAME, '1.0.0'))!
    expect(client.verifyBytes(target, bytes)).toEqual(target)
    const timestamp = JSON.parse((await repo.file('timestamp.json'))!).signed.expires as string
    vi.useFakeTimers({ toFake: ['Date'], now: Date.parse(timestamp) })
    const err = refusedNow(() => client.verifyBytes(target, bytes))
    expect(err.message).toBe(
      `${NAME}@1.0.0: the trusted registry metadata has expired; refresh before verifying`,
    )
    expect(isRegistryError(err, 'STAVILY_ERR_REGISTRY_VERIFY_FAILED')).toBe(true)
    expect(err.data).toEqual({ reason: 'expired' })
    vi.setSystemTime(Date.parse(timestamp) - 1)
    expect(client.verifyBytes(target, bytes)).toEqual(target)
  })

  it('verifies from its cache while the registry is down, with preferCache', async () => {
    const dir = cache()
    await new RegistryClient({ baseUrl: base, cacheDir: dir, trustedRoot: rootJson }).refresh()
    const down = 'http://127.0.0.1:9/reg'
    const offline = new RegistryClient({ baseUrl: down, cacheDir: dir, fetchTimeoutMs: 5_000 })
    await offline.refresh({ preferCache: true })
    const err = await refusal(new RegistryClient({ baseUrl: down, cacheDir: dir }).refresh())
    expect(err.data).toEqual({ reason: 'unavailable' })
    expect(err.message).toMatch(/^registry metadata refused: the registry could not be reached/)
  })

  const timestampRequests = () => requests.filter((r) => r.endsWith('/timestamp.json')).length
  const cachedExpiry = (dir: string, role: string) =>
    Date.parse(JSON.parse(readFileSync(join(dir, `${role}.json`), 'utf8')).signed.expires)

  it('lists every target from fresh metadata without network, and refreshes once it has expired', async () => {
    const dir = cache()
    const client = new RegistryClient({ baseUrl: base, cacheDir: dir, trustedRoot: rootJson })
    await client.refresh()
    requests.length = 0
    expect((await client.targets()).map((t) => t.version)).toContain('1.0.0')
    expect(requests).toEqual([])
    // The timestamp expires first; at that very instant nothing is listed unchecked.
    vi.useFakeTimers({ toFake: ['Date'], now: cachedExpiry(dir, 'timestamp') })
    expect((await client.targets()).map((t) => t.version)).toContain('1.0.0')
    expect(timestampRequests()).toBe(1)
  })

  it('refreshes expired metadata before a lookup even when maxMetadataAgeMs is longer', async () => {
    const dir = cache()
    const client = new RegistryClient({
      baseUrl: base,
      cacheDir: dir,
      trustedRoot: rootJson,
      maxMetadataAgeMs: 30 * 24 * 3600_000,
    })
    const bytes = artifacts.get(targetPath(NAME, '1.0.0'))!
    await client.verify(NAME, '1.0.0', bytes)
    vi.useFakeTimers({ toFake: ['Date'], now: cachedExpiry(dir, 'timestamp') })
    requests.length = 0
    expect((await client.verify(NAME, '1.0.0', bytes)).version).toBe('1.0.0')
    expect(timestampRequests()).toBe(1)
  })

  it('keeps metadata exactly maxMetadataAgeMs old, refreshes it a millisecond later', async () => {
    const t0 = Date.now()
    vi.useFakeTimers({ toFake: ['Date'], now: t0 })
    const client = new RegistryClient({
      baseUrl: base,
      cacheDir: cache(),
      trustedRoot: rootJson,
      maxMetadataAgeMs: 60_000,
    })
    await client.target(NAME, '1.0.0')
    requests.length = 0
    vi.setSystemTime(t0 + 60_000)
    await client.target(NAME, '1.0.0')
    expect(requests).toEqual([])
    vi.setSystemTime(t0 + 60_001)
    await client.target(NAME, '1.0.0')
    expect(timestampRequests()).toBe(1)
  })

  it('refreshes once, not twice, for a version missing right after a refresh', async () => {
    const client = new RegistryClient({ baseUrl: base, cacheDir: cache(), trustedRoot: rootJson })
    requests.length = 0
    const err = await refusal(client.target(NAME, '9.9.9'))
    expect(isRegistryError(err, 'STAVILY_ERR_REGISTRY_TARGET_NOT_FOUND')).toBe(true)
    expect(timestampRequests()).toBe(1)
  })

  it('with preferCache, goes to the registry when the cached targets expired before the timestamp', async () => {
    const shortBase = base.replace(/\/reg$/, '/short')
    const shortRoot = await shortLived.root()
    const dir = cache()
    await new RegistryClient({ baseUrl: shortBase, cacheDir: dir, trustedRoot: shortRoot }).refresh()
    // Targets live two days here, the timestamp seven: the cached timestamp is still valid.
    const targetsExpire = cachedExpiry(dir, 'targets')
    expect(cachedExpiry(dir, 'timestamp')).toBeGreaterThan(targetsExpire)
    vi.useFakeTimers({ toFake: ['Date'], now: targetsExpire + 1_000 })
    requests.length = 0
    await new RegistryClient({ baseUrl: shortBase, cacheDir: dir }).refresh({ preferCache: true })
    expect(requests).toContain('/short/tuf/timestamp.json')
    expect(cachedExpiry(dir, 'targets')).toBeGreaterThan(Date.now())
  })

  describe('stavily plugin verify', () => {
    const io = (env: Record<string, string> = {}) => {
      const out: string[] = []
      const err: string[] = []
      return {
        out,
        err,
        io: { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t), env },
      }
    }
    const bytes = Buffer.from('export default 3\n')
    let rootFile: string
    beforeAll(async () => {
      await publish('3.0.0', bytes, {
        kind: 'sensor',
        digest: 'sha256-abc',
        size: bytes.length,
        sdk: '^1.2.0',
        permissions: {
          net: ['$granted', 'https://$granted:443', '$granted:8080', 'api.example.com'],
          exec: ['systemctl', '$granted'],
          secrets: ['SLACK_TOKEN', 'PAGER_KEY'],
          fs: { read: ['/var/log', '$granted'], write: [] },
          env: ['CI', 'MY_APP_*'],
          sql: ['main', 'http://$granted'],
          smtp: ['$granted'],
        },
        repository: 'https://git.example.com/acme/x.git',
        ref: 'v3.0.0',
        commit: 'c0ffee',
        builder: 'stavily-registry 1.0.0',
        builtAt: '2026-12-01T10:00:00Z',
        yanked: true,
      })
      rootFile = join(root, 'root.json')
      writeFileSync(rootFile, rootJson)
    })

    it('verifies name@version and prints what was signed, permissions spelled out', async () => {
      const t = io()
      const cacheDir = cache()
      const args = [`${NAME}@3.0.0`, '--registry', base, '--root', rootFile, '--cache', cacheDir]
      expect(await runPluginVerify(args, t.io)).toBe(0)
      expect(t.err).toEqual([])
      expect(t.out.join('')).toBe(
        [
          `verified ${NAME}@3.0.0`,
          '  kind       sensor',
          '  digest     sha256-abc',
          `  size       ${bytes.length} bytes`,
          '  sdk        ^1.2.0',
          '  repository https://git.example.com/acme/x.git',
          '  ref        v3.0.0',
          '  commit     c0ffee',
          '  built      2026-12-01T10:00:00Z by stavily-registry 1.0.0',
          '  net        hosts the operator grants, hosts the operator grants (https only, port 443 only), hosts the operator grants (port 8080 only), api.example.com',
          '  exec       systemctl, commands the operator grants',
          '  secrets    SLACK_TOKEN, PAGER_KEY',
          '  fs read    /var/log, paths the operator grants',
          '  fs write   -',
          '  env        CI, MY_APP_*',
          '  sql        main, PostgreSQL connections the operator grants (http only)',
          '  smtp       SMTP relays the operator grants',
          '  yanked     yes (still valid, hidden from ranges)',
          '',
        ].join('\n'),
      )
      // Later runs need no --root: the cache holds the trusted root. --json prints the target.
      const again = io()
      expect(
        await runPluginVerify([`${NAME}@3.0.0`, '--json', '--registry', base, '--cache', cacheDir], again.io),
      ).toBe(0)
      expect(JSON.parse(again.out.join(''))).toMatchObject({
        ok: true,
        target: { name: NAME, version: '3.0.0', kind: 'sensor', length: bytes.length },
      })
    })

    it('prints only the permissions a plugin asks for, and "-" or "no" for empty ones', async () => {
      const plain = Buffer.from('export default 4\n')
      await publish('4.0.0', plain, {
        digest: 'sha256-def',
        size: plain.length,
        sdk: '^1.0.0',
        // Entries that only contain "$granted" are the author's own, printed as written.
        permissions: {
          net: ['evil.$granted', '$granted.example.com'],
          exec: [],
          secrets: [],
          fs: { read: [], write: ['$granted'] },
        },
        repository: 'https://git.example.com/acme/x.git',
        ref: 'v4.0.0',
        commit: 'bead',
        builder: 'stavily-registry 1.0.0',
        builtAt: '2026-12-02T10:00:00Z',
      })
      const t = io()
      const args = [`${NAME}@4.0.0`, '--registry', base, '--root', rootFile, '--cache', cache()]
      expect(await runPluginVerify(args, t.io)).toBe(0)
      expect(t.out.join('')).toBe(
        [
          `verified ${NAME}@4.0.0`,
          '  kind       action',
          '  digest     sha256-def',
          `  size       ${plain.length} bytes`,
          '  sdk        ^1.0.0',
          '  repository https://git.example.com/acme/x.git',
          '  ref        v4.0.0',
          '  commit     bead',
          '  built      2026-12-02T10:00:00Z by stavily-registry 1.0.0',
          '  net        evil.$granted, $granted.example.com',
          '  exec       -',
          '  secrets    -',
          '  fs read    -',
          '  fs write   paths the operator grants',
          '  yanked     no',
          '',
        ].join('\n'),
      )
    })

    it('prints a refusal on stderr only, unless --json', async () => {
      const t = io()
      const args = [`${NAME}@9.9.9`, '--registry', base, '--root', rootFile, '--cache', cache()]
      expect(await runPluginVerify(args, t.io)).toBe(1)
      expect(t.out).toEqual([])
      expect(t.err.join('')).toBe(`refused: ${NAME}@9.9.9 is not among the registry's signed targets\n`)
    })

    it('identifies a local file by its digest (settings from the environment), and refuses a modified one', async () => {
      const dir = mkdtempSync(join(root, 'files-'))
      const good = join(dir, 'good.js')
      const bad = join(dir, 'bad.js')
      writeFileSync(good, bytes)
      writeFileSync(bad, Buffer.concat([bytes, Buffer.from('// extra\n')]))
      const env = { STAVILY_REGISTRY_URL: base, STAVILY_TRUSTED_ROOT: rootFile, STAVILY_TUF_CACHE: cache() }
      const ok = io(env)
      expect(await runPluginVerify([good], ok.io)).toBe(0)
      expect(ok.out.join('')).toMatch(new RegExp(`^verified ${NAME}@3\\.0\\.0\\n`))
      const no = io(env)
      expect(await runPluginVerify([bad], no.io)).toBe(1)
      const sha = createHash('sha256').update(readFileSync(bad)).digest('hex')
      expect(no.err.join('')).toBe(`refused: ${bad} (sha256 ${sha}) is not a signed artifact of ${base}\n`)
      expect(no.out).toEqual([])
    })

    it('exits 1 with the reason for an unsigned version, as JSON with --json', async () => {
      const t = io()
      const args = [`${NAME}@9.9.9`, '--json', '--registry', base, '--root', rootFile, '--cache', cache()]
      expect(await runPluginVerify(args, t.io)).toBe(1)
      expect(JSON.parse(t.out.join(''))).toMatchObject({
        ok: false,
        error: { code: 'STAVILY_ERR_REGISTRY_TARGET_NOT_FOUND' },
      })
      expect(t.err.join('')).toBe(`refused: ${NAME}@9.9.9 is not among the registry's signed targets\n`)
    })

    it('exits 2 with the problem and the usage for each usage error, 0 with the usage for --help', async () => {
      const usage = async (args: string[], env: Record<string, string> = {}) => {
        const t = io(env)
        expect(await runPluginVerify(args, t.io), args.join(' ')).toBe(2)
        expect(t.out).toEqual([])
        const text = t.err.join('')
        expect(text.endsWith(`\n\n${VERIFY_USAGE}\n`), text).toBe(true)
        return text.slice(0, text.indexOf('\n'))
      }
      const p = 'stavily plugin verify: '
      expect(await usage([])).toBe(`${p}missing <file|name@version>`)
      expect(await usage(['a@1', '--registry'])).toBe(`${p}--registry needs a value`)
      expect(await usage(['a@1', '--root', '--json'])).toBe(`${p}--root needs a value`)
      expect(await usage(['a@1', '--cache'])).toBe(`${p}--cache needs a value`)
      expect(await usage(['a@1', '--force'])).toBe(`${p}unknown option --force`)
      expect(await usage(['a@1', 'b@2'])).toBe(`${p}unexpected argument b@2`)
      expect(await usage(['a@1'])).toBe(`${p}no registry: pass --registry <url> or set STAVILY_REGISTRY_URL`)
      expect(await usage(['a@1', '--registry', 'not a url'])).toBe(
        `${p}--registry: expected an http(s) URL, got "not a url"`,
      )
      expect(await usage(['a@1', '--registry', 'ftp://registry.example'])).toBe(
        `${p}--registry: expected an http(s) URL, got "ftp://registry.example"`,
      )
      const missingRoot = join(root, 'no-such-root.json')
      expect(await usage(['a@1', '--registry', base, '--root', missingRoot])).toBe(
        `${p}--root: cannot read ${missingRoot}`,
      )
      const empty = join(root, 'empty-cache')
      expect(await usage(['a@1', '--registry', base, '--cache', empty])).toBe(
        `${p}no trusted root yet in ${empty}: pass --root <root.json> (ask the operator for the registry's root)`,
      )
      expect(await usage(['a@1'], { STAVILY_REGISTRY_URL: base, STAVILY_TUF_CACHE: empty })).toMatch(
        /no trusted root yet in/,
      )
      // A cache folder that exists but holds no root.json is no better.
      const made = cache()
      expect(await usage(['a@1', '--registry', base, '--cache', made])).toBe(
        `${p}no trusted root yet in ${made}: pass --root <root.json> (ask the operator for the registry's root)`,
      )
      // The default cache folder is per registry host, the port's colon made safe for a file name.
      const byHost = join(homedir(), '.cache', 'stavily', 'tuf', 'registry.example_8443')
      expect(await usage(['a@1', '--registry', 'https://registry.example:8443/api'])).toBe(
        `${p}no trusted root yet in ${byHost}: pass --root <root.json> (ask the operator for the registry's root)`,
      )
      expect(await usage(['nameonly', '--registry', base, '--root', rootFile, '--cache', cache()])).toBe(
        `${p}"nameonly" is neither a file nor name@version`,
      )
      expect(await usage(['@acme', '--registry', base, '--root', rootFile, '--cache', cache()])).toBe(
        `${p}"@acme" is neither a file nor name@version`,
      )
      for (const flag of ['-h', '--help']) {
        const t = io()
        expect(await runPluginVerify(['a@1', flag], t.io)).toBe(0)
        expect(t.out.join('')).toBe(`${VERIFY_USAGE}\n`)
      }
      expect(VERIFY_USAGE).toMatch(/^usage: stavily plugin verify <file\|name@version> \[options\]\n/)
      for (const line of ['--registry <url>', '--root <file>', '--cache <dir>', '--json', '-h, --help'])
        expect(VERIFY_USAGE).toContain(`\n  ${line} `)
      expect(VERIFY_USAGE).toMatch(/\nexit codes: 0 verified, 1 refused or not found, 2 usage error$/)
    })
  })
})

describe('HttpFetcher', () => {
  let server: Server
  let base: string
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/ok') return res.end('12345')
      if (req.url === '/declared') return res.writeHead(200, { 'content-length': '10' }).end('0123456789')
      if (req.url === '/chunked') {
        res.writeHead(200)
        res.write('01234')
        return res.end('56789')
      }
      if (req.url === '/moved') return res.writeHead(302, { location: '/ok' }).end()
      if (req.url === '/empty') return res.writeHead(204).end()
      res.writeHead(404).end('no')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise((resolve) => server.close(resolve)))

  it('reads up to the expected length, refuses more (declared or streamed), refuses redirects and errors', async () => {
    const f = new HttpFetcher(5_000)
    expect((await f.downloadBytes(`${base}/ok`, 5)).toString()).toBe('12345')
    expect((await f.downloadBytes(`${base}/declared`, 10)).toString()).toBe('0123456789')
    await expect(f.downloadBytes(`${base}/declared`, 9)).rejects.toThrow(
      `GET ${base}/declared: 10 bytes, more than the 9 expected`,
    )
    expect((await f.downloadBytes(`${base}/chunked`, 10)).toString()).toBe('0123456789')
    await expect(f.downloadBytes(`${base}/chunked`, 9)).rejects.toThrow(
      `GET ${base}/chunked: more than the 9 bytes expected`,
    )
    const missing = await f.downloadBytes(`${base}/nothing`, 10).catch((e: unknown) => e)
    expect(missing).toMatchObject({ message: `GET ${base}/nothing answered 404`, statusCode: 404 })
    await expect(f.downloadBytes(`${base}/moved`, 10)).rejects.toThrow()
    // A success without a body is no file: reported like an error status.
    const empty = await f.downloadBytes(`${base}/empty`, 10).catch((e: unknown) => e)
    expect(empty).toMatchObject({ message: `GET ${base}/empty answered 204`, statusCode: 204 })
  })

  it('hands the handler a file with the bytes, then removes it', async () => {
    const f = new HttpFetcher(5_000)
    let seen = ''
    const out = await f.downloadFile(`${base}/ok`, 5, async (file) => {
      seen = file
      return (await import('node:fs/promises')).readFile(file, 'utf8')
    })
    expect(out).toBe('12345')
    expect(seen.startsWith(join(tmpdir(), 'stavily-tuf-'))).toBe(true)
    expect(() => readdirSync(join(seen, '..'))).toThrow()
  })
})

describe('classify (why tuf-js refused)', () => {
  it('names each refusal from the texts tuf-js writes', () => {
    for (const [message, reason] of [
      ['timestamp.json is expired', 'expired'],
      ['New snapshot version 2 must be >= 3 less than current version', 'rollback'],
      ['Expected version 4, got 3', 'rollback'],
      ['Expected snapshot version 3 does not match snapshot version 2', 'mix-and-match'],
      ["New snapshot version doesn't match timestamp", 'mix-and-match'],
      ['Missing file targets.json in snapshot', 'mix-and-match'],
      ['root was signed by 0/1 keys', 'signature'],
      ['targets was signed by 10/12 keys', 'signature'],
      ['Unsigned metadata', 'signature'],
      ['threshold not reached', 'signature'],
      ['bad signature for key', 'signature'],
      ['hash mismatch for targets.json', 'tampered'],
      ['length mismatch', 'tampered'],
      ['GET http://x/a.js: 18 bytes, more than the 17 expected', 'tampered'],
      ['GET http://x/a.js: more than the 17 bytes expected', 'tampered'],
      ['GET http://x answered 503', 'unavailable'],
      ['fetch failed', 'unavailable'],
      ['connect ECONNREFUSED 127.0.0.1:9', 'unavailable'],
      ['This operation was aborted', 'unavailable'],
      ['The operation was aborted due to timeout', 'unavailable'],
      ['Unexpected token } in JSON', 'invalid-metadata'],
    ] as const) {
      expect(classify(message), message).toBe(reason)
    }
  })
})

describe('verifyFailed (what the operator reads)', () => {
  it('says what each refusal means, keeps tuf-js words and the cause, and names the reason', () => {
    for (const [message, reason, meaning] of [
      [
        'timestamp.json is expired',
        'expired',
        'the registry metadata has expired (frozen or stale metadata); the registry must re-sign it',
      ],
      [
        'Expected version 4, got 3',
        'rollback',
        'the registry served older metadata than this agent already trusts (rollback)',
      ],
      [
        'Missing file targets.json in snapshot',
        'mix-and-match',
        'the registry served metadata files that do not belong together (mix-and-match)',
      ],
      [
        'root was signed by 0/1 keys',
        'signature',
        'metadata is not signed by the keys the trusted root names',
      ],
      ['length mismatch', 'tampered', 'a file does not match its signed length and hash (tampered)'],
      ['fetch failed', 'unavailable', 'the registry could not be reached'],
      ['Unexpected token } in JSON', 'invalid-metadata', 'the registry served invalid metadata'],
    ] as const) {
      const cause = new Error(message)
      const err = verifyFailed(cause, 'registry metadata refused')
      expect(isRegistryError(err, 'STAVILY_ERR_REGISTRY_VERIFY_FAILED')).toBe(true)
      expect(err.message).toBe(`registry metadata refused: ${meaning} (${message})`)
      expect(err.data).toEqual({ reason })
      expect(err.cause).toBe(cause)
    }
    expect(verifyFailed('fetch failed', 'x').message).toBe(
      'x: the registry could not be reached (fetch failed)',
    )
  })
})

import { Metadata, MetadataKind, TargetFile } from '@tufjs/models'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backends, dropSchema, freshSchema } from '../../test/helpers/backends.ts'
import { isRegistryError, type RegistryError } from '../errors.ts'
import { migrate } from '../storage/migrate.ts'
import type { SqlClient } from '../storage/sql-client.ts'
import { generateKeyPem } from './keys.ts'
import { parseRoot, parseSnapshot, parseTargets } from './metadata-io.ts'
import { TufRepository } from './repository.ts'
import { type KeyConfig, loadKeys } from './roles.ts'

const keyConfig = (): KeyConfig => ({
  root: { keys: [generateKeyPem()] },
  targets: { keys: [generateKeyPem()] },
  snapshot: { keys: [generateKeyPem()] },
  timestamp: { keys: [generateKeyPem()] },
})

/** What an operator sees of a refusal: its code, its message and the field it names. */
const refusal = async (p: Promise<unknown>) => {
  const err = (await p.then(
    () => {
      throw new Error('expected a refusal')
    },
    (e: unknown) => e,
  )) as RegistryError
  return { code: err.code, message: err.message, data: err.data }
}

const parseTimestamp = (body: string) => Metadata.fromJSON(MetadataKind.Timestamp, JSON.parse(body))

/** A SqlClient that runs `before` each time a transaction is asked for (another replica's work). */
const racing = (sql: SqlClient, before: () => Promise<void>): SqlClient => ({
  query: (text, values) => sql.query(text, values),
  transaction: async (fn) => {
    await before()
    return sql.transaction(fn)
  },
})

const target = (path: string) =>
  new TargetFile({
    path,
    length: 3,
    hashes: { sha256: 'a'.repeat(64) },
    unrecognizedFields: { custom: { x: 1 } },
  })

describe.each(backends)('TufRepository on $name', (backend) => {
  let db: { sql: SqlClient; close(): Promise<void> }
  const schemas: string[] = []
  const fresh = async () => {
    const schema = freshSchema('tuf')
    schemas.push(schema)
    await migrate(db.sql, schema)
    return schema
  }
  beforeAll(async () => {
    db = await backend.open()
  })
  afterAll(async () => {
    for (const s of schemas) await dropSchema(db.sql, s)
    await db.close()
  })

  it('creates root, targets, snapshot and timestamp once, each signed by its role', async () => {
    const schema = await fresh()
    const keys = keyConfig()
    const repo = new TufRepository({ sql: db.sql, schema, keys: loadKeys('keys', keys) })
    await repo.init()
    await repo.init() // second start: nothing new
    const root = parseRoot((await repo.file('1.root.json'))!)
    expect(root.signed.consistentSnapshot).toBe(true)
    root.verifyDelegate('root', root)
    root.verifyDelegate('targets', parseTargets((await repo.file('1.targets.json'))!))
    root.verifyDelegate('snapshot', parseSnapshot((await repo.file('1.snapshot.json'))!))
    expect(await repo.file('2.root.json')).toBeUndefined()
    expect(await repo.file('../etc/passwd')).toBeUndefined()
    // Only the spec's names: nothing before or after, and timestamp has no versioned name.
    expect(await repo.file('x.root.json')).toBeUndefined()
    expect(await repo.file('root.json.bak')).toBeUndefined()
    expect(await repo.file('1.timestamp.json')).toBeUndefined()
    expect(JSON.parse((await repo.file('timestamp.json'))!).signed.version).toBe(1)
  })

  it('signs a new targets → snapshot → timestamp chain for every change', async () => {
    const schema = await fresh()
    const repo = new TufRepository({ sql: db.sql, schema, keys: loadKeys('keys', keyConfig()) })
    await repo.init()
    const version = await db.sql.transaction(async (tx) => {
      await repo.lock(tx)
      return repo.updateTargets(tx, (t) => {
        t['a/1.0.0.js'] = target('a/1.0.0.js')
      })
    })
    expect(version).toBe(2)
    const targets = parseTargets((await repo.file('2.targets.json'))!)
    expect(targets.signed.targets['a/1.0.0.js']?.custom).toEqual({ x: 1 })
    const snapshot = parseSnapshot((await repo.file('2.snapshot.json'))!)
    expect(snapshot.signed.meta['targets.json']?.version).toBe(2)
    const ts = JSON.parse((await repo.file('timestamp.json'))!)
    expect(ts.signed.version).toBe(2)
    expect(ts.signed.meta['snapshot.json'].version).toBe(2)
    expect((await repo.target('a/1.0.0.js'))?.length).toBe(3)
  })

  it('signs with every key of a role, and checks thresholds against the keys given', async () => {
    const schema = await fresh()
    const keys = { ...keyConfig(), targets: { keys: [generateKeyPem(), generateKeyPem()], threshold: 2 } }
    const repo = new TufRepository({ sql: db.sql, schema, keys: loadKeys('keys', keys) })
    await repo.init()
    const root = parseRoot((await repo.file('1.root.json'))!)
    expect(root.signed.roles.targets).toMatchObject({ threshold: 2 })
    root.verifyDelegate('targets', parseTargets((await repo.file('1.targets.json'))!)) // needs both signatures
    let err: unknown
    try {
      loadKeys('keys', { ...keys, targets: { keys: [generateKeyPem()], threshold: 2 } })
    } catch (e) {
      err = e
    }
    expect((err as Error).message).toBe(
      'keys.targets.threshold: expected an integer from 1 to 1 (the number of keys), got 2',
    )
  })

  it('keeps the last 32 versions of targets and snapshot, and every root', async () => {
    const schema = await fresh()
    const repo = new TufRepository({ sql: db.sql, schema, keys: loadKeys('keys', keyConfig()) })
    await repo.init()
    for (let i = 0; i < 34; i++)
      await db.sql.transaction(async (tx) => {
        await repo.lock(tx)
        await repo.updateTargets(tx, (t) => {
          t[`p/${i}.0.0.js`] = target(`p/${i}.0.0.js`)
        })
      })
    expect(await repo.file('3.targets.json')).toBeUndefined()
    expect(await repo.file('3.snapshot.json')).toBeUndefined()
    expect(await repo.file('4.targets.json')).toBeDefined()
    expect(JSON.parse((await repo.file('35.targets.json'))!).signed.targets['p/33.0.0.js']).toBeDefined()
    expect(await repo.file('1.root.json')).toBeDefined()
  })

  it('refuses to start with online keys the stored root does not trust', async () => {
    const schema = await fresh()
    const keys = keyConfig()
    await new TufRepository({ sql: db.sql, schema, keys: loadKeys('keys', keys) }).init()
    const other = { ...keys, targets: { keys: [generateKeyPem()] } }
    const err = await new TufRepository({ sql: db.sql, schema, keys: loadKeys('keys', other) })
      .init()
      .catch((e: unknown) => e)
    expect(isRegistryError(err, 'STAVILY_ERR_REGISTRY_KEYS')).toBe(true)
    expect((err as Error).message).toMatch(
      /^keys\.targets: the configured keys are not trusted by the stored root/,
    )
    // Without root keys, a stored root is enough to run.
    const { root: _root, ...online } = keys
    await new TufRepository({ sql: db.sql, schema, keys: loadKeys('keys', online as KeyConfig) }).init()
  })

  it('rotates keys: root 2 is signed by the old and the new root keys and lists only the new keys', async () => {
    const schema = await fresh()
    const repo = new TufRepository({ sql: db.sql, schema, keys: loadKeys('keys', keyConfig()) })
    await repo.init()
    const next = loadKeys('next', keyConfig())
    expect(await repo.rotate(next as typeof next & { root: NonNullable<typeof next.root> })).toBe(2)
    const root1 = parseRoot((await repo.file('1.root.json'))!)
    const root2 = parseRoot((await repo.file('2.root.json'))!)
    root1.verifyDelegate('root', root2) // what a client trusting root 1 checks
    root2.verifyDelegate('root', root2)
    const targets = parseTargets((await repo.file('targets.json'))!)
    root2.verifyDelegate('targets', targets)
    expect(() => root1.verifyDelegate('targets', targets)).toThrow()
    expect(Object.keys(root2.signed.keys)).not.toContain(root1.signed.roles.targets!.keyIDs[0])
    // The whole chain moves on: a client reading timestamp.json finds version 2, signed by the new key.
    const timestamp = parseTimestamp((await repo.file('timestamp.json'))!)
    expect(timestamp.signed.version).toBe(2)
    root2.verifyDelegate('timestamp', timestamp)
    expect(timestamp.signed.snapshotMeta.version).toBe(2)
  })

  it('re-signs root before it expires while root keys are configured, as a successor of the old root', async () => {
    const schema = await fresh()
    let now = new Date('2030-01-01T00:00:00Z')
    const repo = new TufRepository({
      sql: db.sql,
      schema,
      keys: loadKeys('keys', keyConfig()),
      now: () => now,
      expiry: { root: 10 * 24 * 3600 },
    })
    await repo.init()
    now = new Date('2030-01-07T00:00:00Z') // root past half its ten days
    await repo.file('timestamp.json')
    const root1 = parseRoot((await repo.file('1.root.json'))!)
    const root2 = parseRoot((await repo.file('2.root.json'))!)
    root1.verifyDelegate('root', root2)
    expect(root2.signed.expires).toBe('2030-01-17T00:00:00Z')
  })

  it('re-signs only what is near expiry before serving timestamp.json', async () => {
    const schema = await fresh()
    let now = new Date('2030-01-01T00:00:00Z')
    const repo = new TufRepository({
      sql: db.sql,
      schema,
      keys: loadKeys('keys', keyConfig()),
      now: () => now,
    })
    await repo.init()
    now = new Date('2030-01-01T06:00:00Z') // a quarter of a day: still fresh
    expect(JSON.parse((await repo.file('timestamp.json'))!).signed.version).toBe(1)
    now = new Date('2030-01-01T13:00:00Z') // past half the timestamp's lifetime
    const ts = JSON.parse((await repo.file('timestamp.json'))!)
    expect(ts.signed.version).toBe(2)
    expect(ts.signed.expires).toBe('2030-01-02T13:00:00Z')
    expect(ts.signed.meta['snapshot.json'].version).toBe(1) // snapshot still fresh
    now = new Date('2030-01-05T00:00:00Z') // snapshot (7 days) past half its lifetime
    const ts2 = JSON.parse((await repo.file('timestamp.json'))!)
    expect(ts2.signed.meta['snapshot.json'].version).toBe(2)
    expect(JSON.parse((await repo.file('targets.json'))!).signed.version).toBe(1)
  })
  it('on an empty store: the first root needs root keys, and root() and publishing say what is missing', async () => {
    const schema = await fresh()
    const { root: _root, ...online } = keyConfig()
    const repo = new TufRepository({ sql: db.sql, schema, keys: loadKeys('keys', online as KeyConfig) })
    expect(await refusal(repo.init())).toEqual({
      code: 'STAVILY_ERR_REGISTRY_KEYS',
      message: 'keys.root: no root metadata is stored yet, so root keys are needed to create it',
      data: { field: 'keys.root' },
    })
    expect(await refusal(repo.root())).toEqual({
      code: 'STAVILY_ERR_REGISTRY_METADATA_NOT_FOUND',
      message: 'no root metadata is stored yet',
      data: undefined,
    })
    expect(await refusal(db.sql.transaction((tx) => repo.updateTargets(tx, () => {})))).toEqual({
      code: 'STAVILY_ERR_REGISTRY_STORAGE',
      message: 'TUF root metadata is missing; was the registry initialised?',
      data: undefined,
    })
  })

  it('names the threshold and the key ids the stored root expects when online keys do not match', async () => {
    const schema = await fresh()
    const [t1, t2] = [generateKeyPem(), generateKeyPem()]
    const keys = { ...keyConfig(), targets: { keys: [t1, t2], threshold: 2 } }
    await new TufRepository({ sql: db.sql, schema, keys: loadKeys('keys', keys) }).init()
    const ids = loadKeys('keys', keys).targets.keys.map((k) => k.keyId)
    // One of the two trusted keys is not enough when the root asks for two.
    const other = { ...keys, targets: { keys: [t1, generateKeyPem()] } }
    const repo = new TufRepository({ sql: db.sql, schema, keys: loadKeys('keys', other) })
    expect(await refusal(repo.init())).toEqual({
      code: 'STAVILY_ERR_REGISTRY_KEYS',
      message: `keys.targets: the configured keys are not trusted by the stored root (version 1, which expects 2 of key ids ${ids[0]}, ${ids[1]}); configure those keys or rotate`,
      data: { field: 'keys.targets', rootVersion: 1 },
    })
  })

  it('refuses to rotate without the current root keys, or with fewer of them than the root asks for', async () => {
    const schema = await fresh()
    const [a, b] = [generateKeyPem(), generateKeyPem()]
    const keys = { ...keyConfig(), root: { keys: [a, b], threshold: 2 } }
    await new TufRepository({ sql: db.sql, schema, keys: loadKeys('keys', keys) }).init()
    const next = loadKeys('next', keyConfig()) as ReturnType<typeof loadKeys> & {
      root: NonNullable<ReturnType<typeof loadKeys>['root']>
    }
    const { root: _root, ...online } = keys
    const offline = new TufRepository({ sql: db.sql, schema, keys: loadKeys('keys', online as KeyConfig) })
    expect(await refusal(offline.rotate(next))).toEqual({
      code: 'STAVILY_ERR_REGISTRY_KEYS',
      message: 'keys.root: rotating keys needs the current root keys, so the new root is signed by the old',
      data: { field: 'keys.root' },
    })
    // Two root keys, but only one of them is one the stored root trusts: it asks for two.
    const partly = new TufRepository({
      sql: db.sql,
      schema,
      keys: loadKeys('keys', { ...keys, root: { keys: [a, generateKeyPem()] } }),
    })
    expect(await refusal(partly.rotate(next))).toEqual({
      code: 'STAVILY_ERR_REGISTRY_KEYS',
      message:
        "keys.root: the configured root keys are not 2 of the stored root's keys; cannot sign its successor",
      data: { field: 'keys.root' },
    })
    expect(await partly.file('2.root.json')).toBeUndefined()
  })

  it('re-signs targets near expiry with the same entries, and a snapshot and timestamp naming it', async () => {
    const schema = await fresh()
    let now = new Date('2030-01-01T00:00:00Z')
    const repo = new TufRepository({
      sql: db.sql,
      schema,
      keys: loadKeys('keys', keyConfig()),
      now: () => now,
      // Only targets goes stale: snapshot and timestamp live longer here.
      expiry: { targets: 2 * 24 * 3600, snapshot: 30 * 24 * 3600, timestamp: 30 * 24 * 3600 },
    })
    await repo.init()
    await db.sql.transaction(async (tx) => {
      await repo.lock(tx)
      await repo.updateTargets(tx, (t) => {
        t['a/1.0.0.js'] = target('a/1.0.0.js')
      })
    })
    now = new Date('2030-01-02T12:00:00Z') // targets has half a day of its two left
    const root = parseRoot((await repo.file('root.json'))!)
    const timestamp = parseTimestamp((await repo.file('timestamp.json'))!)
    expect(timestamp.signed.version).toBe(3)
    expect(timestamp.signed.snapshotMeta.version).toBe(3)
    const snapshot = parseSnapshot((await repo.file('snapshot.json'))!)
    expect(snapshot.signed.version).toBe(3)
    expect(snapshot.signed.meta['targets.json']?.version).toBe(3)
    const targets = parseTargets((await repo.file('targets.json'))!)
    root.verifyDelegate('targets', targets)
    expect(targets.signed.version).toBe(3)
    expect(targets.signed.expires).toBe('2030-01-04T12:00:00Z')
    expect(Object.keys(targets.signed.targets)).toEqual(['a/1.0.0.js'])
    // Root is not near expiry: no new root, though root keys are configured.
    expect(await repo.file('2.root.json')).toBeUndefined()
  })

  it('re-signs a role once less than half its lifetime is left, not at exactly half', async () => {
    const schema = await fresh()
    let now = new Date('2030-01-01T00:00:00Z')
    const repo = new TufRepository({
      sql: db.sql,
      schema,
      keys: loadKeys('keys', keyConfig()),
      now: () => now,
    })
    await repo.init()
    now = new Date('2030-01-01T12:00:00Z') // exactly half of the timestamp's day
    expect(parseTimestamp((await repo.file('timestamp.json'))!).signed.version).toBe(1)
    now = new Date('2030-01-01T12:00:01Z')
    expect(parseTimestamp((await repo.file('timestamp.json'))!).signed.version).toBe(2)
  })

  it('without root keys, leaves a root near expiry alone and re-signs the online roles once', async () => {
    const schema = await fresh()
    let now = new Date('2030-01-01T00:00:00Z')
    const expiry = { root: 10 * 24 * 3600 }
    const keys = keyConfig()
    await new TufRepository({
      sql: db.sql,
      schema,
      keys: loadKeys('keys', keys),
      now: () => now,
      expiry,
    }).init()
    const { root: _root, ...online } = keys
    const repo = new TufRepository({
      sql: db.sql,
      schema,
      keys: loadKeys('keys', online as KeyConfig),
      now: () => now,
      expiry,
    })
    now = new Date('2030-01-07T00:00:00Z') // root past half its ten days; timestamp long expired
    expect(parseTimestamp((await repo.file('timestamp.json'))!).signed.version).toBe(2)
    // The stale root cannot be re-signed here: it must not make every request sign a timestamp.
    expect(parseTimestamp((await repo.file('timestamp.json'))!).signed.version).toBe(2)
    expect(await repo.file('2.root.json')).toBeUndefined()
  })

  it('two replicas serving timestamp.json at once sign one new timestamp, and a fresh one takes no lock', async () => {
    const schema = await fresh()
    let now = new Date('2030-01-01T00:00:00Z')
    const keys = loadKeys('keys', keyConfig())
    const other = new TufRepository({ sql: db.sql, schema, keys, now: () => now })
    let transactions = 0
    // This replica waits for the lock while the other one re-signs.
    const sql = racing(db.sql, async () => {
      transactions++
      await other.refresh()
    })
    const repo = new TufRepository({ sql: db.sql, schema, keys, now: () => now })
    await repo.init()
    const replica = new TufRepository({ sql, schema, keys, now: () => now })
    expect(parseTimestamp((await replica.file('timestamp.json'))!).signed.version).toBe(1)
    expect(transactions).toBe(0)
    now = new Date('2030-01-01T13:00:00Z')
    expect(parseTimestamp((await replica.file('timestamp.json'))!).signed.version).toBe(2)
    expect(transactions).toBe(1)
  })

  it('keeps every root version, also past the 32 kept of the other roles', async () => {
    const schema = await fresh()
    const config = keyConfig()
    const repo = new TufRepository({ sql: db.sql, schema, keys: loadKeys('keys', config) })
    await repo.init()
    const same = loadKeys('keys', config) as ReturnType<typeof loadKeys> & {
      root: NonNullable<ReturnType<typeof loadKeys>['root']>
    }
    for (let i = 0; i < 33; i++) await repo.rotate(same)
    expect(parseRoot((await repo.file('root.json'))!).signed.version).toBe(34)
    // A client that trusts root 1 walks 2, 3, … 34: each must still be served.
    expect(await repo.file('1.root.json')).toBeDefined()
    expect(await repo.file('2.root.json')).toBeDefined()
    expect(await repo.file('1.targets.json')).toBeUndefined()
  })
})

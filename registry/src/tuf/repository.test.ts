import { TargetFile } from '@tufjs/models'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backends, dropSchema, freshSchema } from '../../test/helpers/backends.ts'
import { isRegistryError } from '../errors.ts'
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
})

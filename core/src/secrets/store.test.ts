import { randomBytes, randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backends } from '../../test/helpers/backends.ts'
import type { Database } from '../db/sql-client.ts'
import { SecretError } from './errors.ts'
import { createKeyring } from './keyring.ts'
import { SECRETS_MIGRATION } from './migration.ts'
import { SECRET_POLICY } from './policy.ts'
import { createSecretStore } from './store.ts'

async function openStore(open: () => Promise<Database>): Promise<Database> {
  const db = await open()
  await db.exec(SECRETS_MIGRATION)
  return db
}

async function failure(p: Promise<unknown>, code: string): Promise<string> {
  const err = await p.catch((e) => e)
  expect(err).toBeInstanceOf(SecretError)
  expect((err as SecretError).code).toBe(code)
  return (err as SecretError).message
}

for (const backend of backends()) {
  describe(`secret store on ${backend.name}`, () => {
    // Starting PGlite takes seconds on a busy machine: pay it in the hook, not in the first test's budget.
    beforeAll(async () => (await backend.open()).close())
    afterAll(() => backend.cleanup())

    it('stores ciphertext only, lists names only, and decrypts for an invocation', async () => {
      const db = await openStore(() => backend.open())
      const keyring = createKeyring(randomBytes(32))
      const store = createSecretStore(db.sql, keyring)
      const org = randomUUID()
      expect(await store.set(org, 'SLACK_TOKEN', 'xoxb-very-secret')).toEqual({ created: true })
      expect(await store.set(org, 'SLACK_TOKEN', 'xoxb-newer-secret')).toEqual({ created: false })
      await store.set(org, 'DB_PASSWORD', 'hunter2')

      const listed = await store.list(org)
      expect(listed.map((s) => s.name)).toEqual(['DB_PASSWORD', 'SLACK_TOKEN'])
      expect(listed[0]).toMatchObject({ keyId: keyring.currentId })
      expect(JSON.stringify(listed)).not.toMatch(/hunter2|secret/)

      const { rows } = await db.sql.query<{ ciphertext: Uint8Array }>('SELECT ciphertext FROM secrets')
      for (const r of rows) expect(Buffer.from(r.ciphertext).toString('latin1')).not.toMatch(/hunter2|xoxb/)

      const got = await store.getForInvocation(org, ['SLACK_TOKEN', 'DB_PASSWORD', 'SLACK_TOKEN'])
      expect([...got.keys()].sort()).toEqual(['DB_PASSWORD', 'SLACK_TOKEN'])
      expect(got.get('SLACK_TOKEN')!.reveal()).toBe('xoxb-newer-secret')
      expect(JSON.stringify(Object.fromEntries(got))).toBe(
        '{"SLACK_TOKEN":"[redacted]","DB_PASSWORD":"[redacted]"}',
      )
      expect((await store.getForInvocation(org, [])).size).toBe(0)

      expect(await store.delete(org, 'DB_PASSWORD')).toBe(true)
      expect(await store.delete(org, 'DB_PASSWORD')).toBe(false)
      await db.close()
    })

    it('keeps organizations apart and names every missing secret', async () => {
      const db = await openStore(() => backend.open())
      const store = createSecretStore(db.sql, createKeyring(randomBytes(32)))
      const [a, b] = [randomUUID(), randomUUID()]
      await store.set(a, 'TOKEN', 'a-value')
      expect(await store.list(b)).toEqual([])
      expect(
        await failure(store.getForInvocation(b, ['TOKEN', 'OTHER']), 'STAVILY_ERR_SECRET_NOT_FOUND'),
      ).toBe('secrets not set in this organization: TOKEN, OTHER; set them with "stavily secret set"')
      await db.close()
    })

    it('refuses a ciphertext moved to another secret or organization, or tampered with', async () => {
      const db = await openStore(() => backend.open())
      const store = createSecretStore(db.sql, createKeyring(randomBytes(32)))
      const [a, b] = [randomUUID(), randomUUID()]
      await store.set(a, 'TOKEN', 'a-value')
      await store.set(a, 'OTHER', 'other-value')
      await store.set(b, 'TOKEN', 'b-value')
      // Copy a's TOKEN ciphertext over b's TOKEN, and over a's OTHER.
      const copy = `UPDATE secrets t SET nonce = s.nonce, ciphertext = s.ciphertext, key_id = s.key_id
        FROM secrets s WHERE s.org_id = $1 AND s.name = 'TOKEN' AND t.org_id = $2 AND t.name = $3`
      await db.sql.query(copy, [a, b, 'TOKEN'])
      await db.sql.query(copy, [a, a, 'OTHER'])
      expect(await failure(store.getForInvocation(b, ['TOKEN']), 'STAVILY_ERR_SECRET_UNREADABLE')).toMatch(
        /^secret TOKEN: it does not decrypt/,
      )
      expect(await failure(store.getForInvocation(a, ['OTHER']), 'STAVILY_ERR_SECRET_UNREADABLE')).toMatch(
        /^secret OTHER/,
      )
      // The original still decrypts; one flipped byte in it does not.
      expect((await store.getForInvocation(a, ['TOKEN'])).get('TOKEN')!.reveal()).toBe('a-value')
      await db.sql.query(
        `UPDATE secrets SET ciphertext = overlay(ciphertext placing decode(lpad(to_hex(get_byte(ciphertext, 0) # 1), 2, '0'), 'hex') from 1 for 1)
         WHERE org_id = $1 AND name = 'TOKEN'`,
        [a],
      )
      await failure(store.getForInvocation(a, ['TOKEN']), 'STAVILY_ERR_SECRET_UNREADABLE')
      await db.close()
    })

    it('rotates: re-encrypts everything under the new key, which then reads alone', async () => {
      const db = await openStore(() => backend.open())
      const oldKey = randomBytes(32)
      const newKey = randomBytes(32)
      const before = createSecretStore(db.sql, createKeyring(oldKey))
      const orgs = [randomUUID(), randomUUID()]
      for (const org of orgs) for (let i = 0; i < 5; i++) await before.set(org, `S${i}`, `value-${org}-${i}`)
      const oldId = (await before.list(orgs[0]!))[0]!.keyId

      const rotating = createSecretStore(db.sql, createKeyring(newKey, [oldKey]))
      // Readable before rotation through the previous key.
      expect((await rotating.getForInvocation(orgs[0]!, ['S0'])).get('S0')!.reveal()).toBe(
        `value-${orgs[0]}-0`,
      )
      const newOnly = createSecretStore(db.sql, createKeyring(newKey))
      expect(
        await failure(newOnly.getForInvocation(orgs[0]!, ['S1']), 'STAVILY_ERR_SECRET_UNREADABLE'),
      ).toMatch(new RegExp(`key ${oldId}, which is not configured`))

      expect(await rotating.rotate()).toEqual({ reencrypted: 10 })
      expect(await rotating.rotate()).toEqual({ reencrypted: 0 })
      for (const org of orgs) {
        expect(new Set((await newOnly.list(org)).map((s) => s.keyId))).toEqual(
          new Set([createKeyring(newKey).currentId]),
        )
        const all = await newOnly.getForInvocation(org, ['S0', 'S1', 'S2', 'S3', 'S4'])
        for (let i = 0; i < 5; i++) expect(all.get(`S${i}`)!.reveal()).toBe(`value-${org}-${i}`)
      }
      await db.close()
    })

    it('refuses malformed names and values without echoing the value', async () => {
      const db = await openStore(() => backend.open())
      const store = createSecretStore(db.sql, createKeyring(randomBytes(32)))
      const org = randomUUID()
      const bad = 'STAVILY_ERR_INVALID_ARGUMENT'
      expect(await failure(store.set(org, 'my-token', 'v'), bad)).toMatch(
        /^name: expected a secret name of letters, digits and "_"/,
      )
      expect(await failure(store.set('acme', 'T', 'v'), bad)).toBe(
        'org: expected an organization id (a UUID), got "acme"',
      )
      expect(await failure(store.set(org, 'T', ''), bad)).toBe(
        'value: expected 1 to 65536 bytes, got "0 bytes"',
      )
      // The whole id is a UUID: text around one is refused here, not by the database's cast.
      for (const other of [`x${org}`, `${org}x`]) {
        expect(await failure(store.set(other, 'T', 'v'), bad)).toMatch(/^org: expected an organization id/)
      }
      expect(await failure(store.set(org, 'T', 5 as never), bad)).toBe(
        'value: expected a string, got "number"',
      )
      const big = await failure(store.set(org, 'T', 'S3CRET'.repeat(20_000)), bad)
      expect(big).not.toContain('S3CRET')
      expect(await failure(store.getForInvocation(org, ['ok', 'bad name']), bad)).toMatch(
        /^names\[1\]: expected a secret name/,
      )
      await db.close()
    })

    it('takes values and name lists up to their limits, and refuses one more', async () => {
      const db = await openStore(() => backend.open())
      const store = createSecretStore(db.sql, createKeyring(randomBytes(32)))
      const org = randomUUID()
      const bad = 'STAVILY_ERR_INVALID_ARGUMENT'
      const max = SECRET_POLICY.maxValueBytes
      expect(await store.set(org, 'BIG', 'v'.repeat(max))).toEqual({ created: true })
      expect((await store.getForInvocation(org, ['BIG'])).get('BIG')!.reveal()).toHaveLength(max)
      expect(await failure(store.set(org, 'BIG', 'v'.repeat(max + 1)), bad)).toBe(
        `value: expected 1 to ${max} bytes, got "${max + 1} bytes"`,
      )
      // A name of 128 characters is one; 129 is not.
      const long = `N${'x'.repeat(127)}`
      await store.set(org, long, 'v')
      expect(await failure(store.set(org, `${long}x`, 'v'), bad)).toMatch(/^name: expected a secret name/)
      const names = Array.from({ length: SECRET_POLICY.maxPerInvocation }, () => 'BIG')
      expect([...(await store.getForInvocation(org, names)).keys()]).toEqual(['BIG'])
      expect(await failure(store.getForInvocation(org, [...names, 'BIG']), bad)).toBe(
        `names: expected a list of at most ${SECRET_POLICY.maxPerInvocation} secret names`,
      )
      // One missing secret is named in the singular.
      expect(
        await failure(store.getForInvocation(org, ['BIG', 'NOPE']), 'STAVILY_ERR_SECRET_NOT_FOUND'),
      ).toBe('secret not set in this organization: NOPE; set it with "stavily secret set"')
      // The organization id in any case is the same organization.
      expect((await store.list(org.toUpperCase())).map((x) => x.name).sort()).toEqual(['BIG', long])
      await db.close()
    })

    it('gives an agent the declared secrets that exist, skipping others and names that cannot be one', async () => {
      const db = await openStore(() => backend.open())
      const store = createSecretStore(db.sql, createKeyring(randomBytes(32)))
      const org = randomUUID()
      await store.set(org, 'A', 'a-value')
      await store.set(org, 'B', 'b-value')
      expect(await store.getExisting(org, ['A', 'MISSING', 'bad name', 'A', 'B'])).toEqual({
        A: 'a-value',
        B: 'b-value',
      })
      expect(await store.getExisting(org, [])).toEqual({})
      expect(await store.getExisting(randomUUID(), ['A'])).toEqual({})
      // At most maxPerInvocation names are looked up: B past the cap is not given.
      const filler = Array.from({ length: SECRET_POLICY.maxPerInvocation - 1 }, (_, i) => `F${i}`)
      expect(await store.getExisting(org, [...filler, 'A', 'B'])).toEqual({ A: 'a-value' })
      await db.close()
    })

    it('rotates more secrets than one batch, in several transactions', async () => {
      const db = await openStore(() => backend.open())
      const oldKey = randomBytes(32)
      const newKey = randomBytes(32)
      const org = randomUUID()
      const before = createSecretStore(db.sql, createKeyring(oldKey))
      const count = SECRET_POLICY.rotateBatch + 1
      for (let i = 0; i < count; i++) await before.set(org, `S${i}`, `v${i}`)
      const rotating = createSecretStore(db.sql, createKeyring(newKey, [oldKey]))
      expect(await rotating.rotate()).toEqual({ reencrypted: count })
      const newOnly = createSecretStore(db.sql, createKeyring(newKey))
      expect(new Set((await newOnly.list(org)).map((x) => x.keyId))).toEqual(
        new Set([createKeyring(newKey).currentId]),
      )
      expect((await newOnly.getForInvocation(org, [`S${count - 1}`])).get(`S${count - 1}`)!.reveal()).toBe(
        `v${count - 1}`,
      )
      await db.close()
    })
  })
}

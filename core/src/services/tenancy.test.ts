import { randomUUID } from 'node:crypto'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { backends } from '../../test/helpers/backends.ts'
import { newSecret } from '../auth/secrets.ts'
import type { Tuning } from '../config.ts'
import { migrate } from '../db/migrate.ts'
import type { Database } from '../db/sql-client.ts'
import { DEFAULTS, LIMITS } from '../defaults.ts'
import { StavilyError } from '../errors.ts'
import { Tenancy } from './tenancy.ts'

// Organizations, API tokens and enrollment tokens on a real database, without the HTTP
// layer: who a token authenticates as, what it may not be, and the bounds of each field.

async function refused(p: Promise<unknown>): Promise<StavilyError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(StavilyError)
  return err as StavilyError
}

for (const backend of backends()) {
  describe(`tenancy service on ${backend.name}`, () => {
    let db: Database
    const tuning: Tuning = { ...DEFAULTS }
    beforeAll(async () => {
      db = await backend.open()
      await migrate(db)
    })
    afterAll(async () => {
      await db.close()
      await backend.cleanup()
    })

    afterEach(() => {
      vi.useRealTimers()
    })

    const tokenRow = async (id: string) =>
      (
        await db.sql.query<{ name: string; last_used_at: Date | null; instance_admin: boolean }>(
          'SELECT name, last_used_at, instance_admin FROM api_tokens WHERE id = $1',
          [id],
        )
      ).rows[0]!

    it('bootstraps an empty database once: the default organization with an instance admin token', async () => {
      const fresh = await backend.open()
      await migrate(fresh)
      try {
        const t = new Tenancy(fresh, tuning)
        const configured = newSecret('admin')
        // Two instances starting together: one creates, the other finds it done.
        const [a, b] = await Promise.all([t.bootstrap(configured), t.bootstrap(configured)])
        const made = a ?? b
        expect([a, b].filter((x) => x === undefined)).toHaveLength(1)
        expect(made).toMatchObject({ organization: { name: 'default' }, adminToken: configured })
        expect(await t.bootstrap()).toBeUndefined()
        const principal = await t.authenticateApiToken(configured)
        expect(principal).toEqual({
          tokenId: expect.any(String),
          orgId: made!.organization.id,
          role: 'admin',
          instanceAdmin: true,
        })
        const row = (
          await fresh.sql.query<{ name: string }>('SELECT name FROM api_tokens WHERE id = $1', [
            principal!.tokenId,
          ])
        ).rows[0]!
        expect(row.name).toBe('bootstrap admin')
        expect((await t.organizationByName('default'))?.id).toBe(made!.organization.id)
        // Any organization means the instance was set up: a renamed default gets no new
        // instance admin token on the next start.
        await fresh.sql.query(`UPDATE organizations SET name = 'main' WHERE name = 'default'`)
        expect(await t.bootstrap(newSecret('admin'))).toBeUndefined()
        expect(await t.organizationByName('default')).toBeUndefined()
      } finally {
        await fresh.close()
      }
    })

    it('fails a bootstrap whose database refuses the write, rather than taking it for another instance’s', async () => {
      const broken = await backend.open()
      await migrate(broken)
      try {
        await broken.sql.query('ALTER TABLE api_tokens RENAME TO api_tokens_gone')
        await expect(new Tenancy(broken, tuning).bootstrap()).rejects.toThrow(/api_tokens/)
      } finally {
        await broken.close()
      }
    })

    it('creates an organization with an organization admin token, shown once, and refuses a taken name', async () => {
      const t = new Tenancy(db, tuning)
      const name = `org-${randomUUID()}`
      const created = await t.createOrganization(name)
      expect(created.adminToken).toMatch(/^stv_admin_[A-Za-z0-9_-]{43}$/)
      expect(created.organization).toMatchObject({ id: expect.any(String), name })
      const principal = await t.authenticateApiToken(created.adminToken)
      expect(principal).toEqual({
        tokenId: created.adminTokenId,
        orgId: created.organization.id,
        role: 'admin',
        instanceAdmin: false,
      })
      expect(await tokenRow(created.adminTokenId)).toMatchObject({
        name: 'first admin',
        instance_admin: false,
      })
      expect(await t.organizationByName(name)).toEqual(created.organization)
      expect(await t.organizationByName(`${name}-x`)).toBeUndefined()

      const taken = await refused(t.createOrganization(name))
      expect(taken.code).toBe('STAVILY_ERR_INVALID_ARGUMENT')
      expect(taken.message).toBe(
        `name: expected a name no other organization has, got ${JSON.stringify(name)}`,
      )
      const max = LIMITS.organizationNameMax
      expect(
        (await t.createOrganization(`${'n'.repeat(max - 9)}${randomUUID().slice(0, 9)}`)).organization.name,
      ).toHaveLength(max)
      expect((await refused(t.createOrganization('n'.repeat(max + 1)))).message).toMatch(
        new RegExp(`^name: expected a non-empty string of at most ${max} characters`),
      )
    })

    it('records the creation inside the transaction: an audit failure leaves no organization behind', async () => {
      const t = new Tenancy(db, tuning)
      const name = `org-${randomUUID()}`
      const seen: unknown[] = []
      const created = await t.createOrganization(name, undefined, {
        audit: async (tx, c) => {
          // Visible inside the creating transaction.
          const { rows } = await tx.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM organizations WHERE id = $1',
            [c.organization.id],
          )
          seen.push({ ...c, n: rows[0]!.n })
        },
      })
      expect(seen).toEqual([{ organization: created.organization, adminTokenId: created.adminTokenId, n: 1 }])

      const other = `org-${randomUUID()}`
      const failed = t.createOrganization(other, undefined, {
        audit: async () => {
          throw new Error('audit write failed')
        },
      })
      await expect(failed).rejects.toThrow('audit write failed')
      expect(await t.organizationByName(other)).toBeUndefined()
    })

    it('creates API tokens of a role, with an optional future expiry; an expired one is refused by name', async () => {
      const t = new Tenancy(db, tuning)
      const { organization } = await t.createOrganization(`org-${randomUUID()}`)
      for (const role of ['viewer', 'operator', 'admin'] as const) {
        const created = await t.createApiToken(organization.id, { name: `${role} token`, role })
        expect(created).toMatchObject({ name: `${role} token`, role, expiresAt: null })
        expect(created.token).toMatch(/^stv_api_[A-Za-z0-9_-]{43}$/)
        expect(await t.authenticateApiToken(created.token)).toEqual({
          tokenId: created.id,
          orgId: organization.id,
          role,
          instanceAdmin: false,
        })
      }
      const expiresAt = new Date(Date.now() + 3_600_000).toISOString()
      const expiring = await t.createApiToken(organization.id, { name: 'ci', role: 'viewer', expiresAt })
      expect(new Date(expiring.expiresAt!).toISOString()).toBe(expiresAt)
      expect(await t.authenticateApiToken(expiring.token)).toMatchObject({ tokenId: expiring.id })

      await db.sql.query(`UPDATE api_tokens SET expires_at = '2026-01-02T03:04:05Z' WHERE id = $1`, [
        expiring.id,
      ])
      const expired = await refused(t.authenticateApiToken(expiring.token))
      expect(expired.code).toBe('STAVILY_ERR_TOKEN_EXPIRED')
      expect(expired.message).toBe(
        'authorization: this API token expired at 2026-01-02T03:04:05.000Z; ask an admin for a new one (stavily token create)',
      )
      expect(expired.data).toEqual({ field: 'authorization' })

      expect(
        (await refused(t.createApiToken(organization.id, { name: 'x', role: 'owner' as never }))).message,
      ).toBe('role: expected one of "admin", "operator", "viewer", got "owner"')
      expect(
        (await refused(t.createApiToken(organization.id, { name: '', role: 'viewer' }))).message,
      ).toMatch(/^name: expected a non-empty string/)
      expect(
        (
          await refused(
            t.createApiToken(organization.id, {
              name: 'x',
              role: 'viewer',
              expiresAt: new Date(Date.now() - 1000).toISOString(),
            }),
          )
        ).message,
      ).toMatch(/^expiresAt: expected a time in the future/)
    })

    it('authenticates nothing for a revoked, unknown or malformed token, or another kind of secret', async () => {
      const t = new Tenancy(db, tuning)
      const { organization } = await t.createOrganization(`org-${randomUUID()}`)
      const created = await t.createApiToken(organization.id, { name: 'gone', role: 'admin' })
      await db.sql.query('UPDATE api_tokens SET revoked_at = now() WHERE id = $1', [created.id])
      expect(await t.authenticateApiToken(created.token)).toBeUndefined()
      for (const token of [
        newSecret('api'),
        newSecret('admin'),
        `${created.token}x`,
        created.token.replace('stv_api_', 'stv_agent_'),
        created.token.replace('stv_api_', 'stv_enroll_'),
        '',
      ]) {
        expect(await t.authenticateApiToken(token), token).toBeUndefined()
      }
    })

    it('records a token’s last use at most once per tokenLastUsedWriteMs on an instance', async () => {
      const slow = new Tenancy(db, { ...tuning, tokenLastUsedWriteMs: 3_600_000 })
      const { organization } = await slow.createOrganization(`org-${randomUUID()}`)
      const { id, token } = await slow.createApiToken(organization.id, { name: 'used', role: 'viewer' })
      expect((await tokenRow(id)).last_used_at).toBeNull()
      await slow.authenticateApiToken(token)
      expect((await tokenRow(id)).last_used_at).toBeInstanceOf(Date)
      await db.sql.query('UPDATE api_tokens SET last_used_at = NULL WHERE id = $1', [id])
      await slow.authenticateApiToken(token)
      // Within the interval: not written again.
      expect((await tokenRow(id)).last_used_at).toBeNull()

      // Another instance keeps its own record, and an interval of 0 writes every use.
      const eager = new Tenancy(db, { ...tuning, tokenLastUsedWriteMs: 0 })
      await eager.authenticateApiToken(token)
      expect((await tokenRow(id)).last_used_at).toBeInstanceOf(Date)
      await db.sql.query('UPDATE api_tokens SET last_used_at = NULL WHERE id = $1', [id])
      await eager.authenticateApiToken(token)
      expect((await tokenRow(id)).last_used_at).toBeInstanceOf(Date)
    })

    it('keeps the last use of each token apart, and writes again once the interval has passed, to the millisecond', async () => {
      const t = new Tenancy(db, { ...tuning, tokenLastUsedWriteMs: 60_000 })
      const { organization } = await t.createOrganization(`org-${randomUUID()}`)
      const a = await t.createApiToken(organization.id, { name: 'a', role: 'viewer' })
      const b = await t.createApiToken(organization.id, { name: 'b', role: 'viewer' })
      const clear = () =>
        db.sql.query('UPDATE api_tokens SET last_used_at = NULL WHERE id = ANY($1)', [[a.id, b.id]])
      const written = async () => [
        (await tokenRow(a.id)).last_used_at !== null,
        (await tokenRow(b.id)).last_used_at !== null,
      ]
      vi.useFakeTimers({ toFake: ['Date'], now: new Date('2030-01-01T00:00:00Z') })
      await t.authenticateApiToken(a.token)
      await t.authenticateApiToken(b.token)
      expect(await written()).toEqual([true, true])
      await clear()
      // b's use does not make a's count as unrecorded.
      await t.authenticateApiToken(a.token)
      await t.authenticateApiToken(b.token)
      expect(await written()).toEqual([false, false])
      vi.setSystemTime(new Date('2030-01-01T00:00:59.999Z'))
      await t.authenticateApiToken(a.token)
      expect(await written()).toEqual([false, false])
      vi.setSystemTime(new Date('2030-01-01T00:01:00.000Z'))
      await t.authenticateApiToken(a.token)
      expect(await written()).toEqual([true, false])
    })

    it('creates enrollment tokens with the configured defaults, each field within its bounds', async () => {
      const t = new Tenancy(db, {
        ...tuning,
        enrollmentTtlSeconds: 600,
        enrollmentTtlMaxSeconds: 7200,
        enrollmentUses: 3,
      })
      const { organization } = await t.createOrganization(`org-${randomUUID()}`)
      const before = Date.now()
      const made = await t.createEnrollmentToken(organization.id, { kind: 'sensor', pool: 'mon' })
      expect(made).toMatchObject({ kind: 'sensor', pool: 'mon', labels: {}, usesLeft: 3 })
      expect(made.token).toMatch(/^stv_enroll_[A-Za-z0-9_-]{43}$/)
      const ttl = (new Date(made.expiresAt).getTime() - before) / 1000
      expect(ttl).toBeGreaterThan(590)
      expect(ttl).toBeLessThan(610)

      const bounds = await t.createEnrollmentToken(organization.id, {
        kind: 'action',
        pool: 'web',
        labels: { zone: 'eu' },
        ttlSeconds: 7200,
        uses: LIMITS.enrollmentUsesMax,
      })
      expect(bounds).toMatchObject({
        kind: 'action',
        labels: { zone: 'eu' },
        usesLeft: LIMITS.enrollmentUsesMax,
      })
      expect((new Date(bounds.expiresAt).getTime() - before) / 1000).toBeGreaterThan(7190)
      expect(
        (
          await t.createEnrollmentToken(organization.id, {
            kind: 'action',
            pool: 'web',
            ttlSeconds: 60,
            uses: 1,
          })
        ).usesLeft,
      ).toBe(1)

      const bad = async (input: Record<string, unknown>) =>
        (
          await refused(
            t.createEnrollmentToken(organization.id, { kind: 'action', pool: 'web', ...input } as never),
          )
        ).message
      expect(await bad({ ttlSeconds: 59 })).toBe('ttlSeconds: expected an integer from 60 to 7200, got 59')
      expect(await bad({ ttlSeconds: 7201 })).toBe(
        'ttlSeconds: expected an integer from 60 to 7200, got 7201',
      )
      expect(await bad({ uses: 0 })).toBe(
        `uses: expected an integer from 1 to ${LIMITS.enrollmentUsesMax}, got 0`,
      )
      expect(await bad({ uses: LIMITS.enrollmentUsesMax + 1 })).toMatch(
        /^uses: expected an integer from 1 to/,
      )
      expect(await bad({ kind: 'robot' })).toBe('kind: expected one of "sensor", "action", got "robot"')
      expect(await bad({ pool: 'Web Pool' })).toMatch(/^pool: expected a pool name/)
      expect(await bad({ labels: ['x'] })).toMatch(/^labels: expected an object of string labels/)
    })
  })
}

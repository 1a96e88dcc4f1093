import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import migration5 from '../../src/db/migrations/0005-hook-binding-plugin-owners.ts'
import { call, type Running, setups } from '../helpers/harness.ts'
import { type Actors, actors } from './helpers.ts'
import { PluginRepo } from './plugin-repo.ts'

// Plugin names are owned (issue 12 item 10): the organization that first published a name is
// the only one that may publish or yank it; first-party names are reserved for the first
// organization; an admin of the owner can transfer it; existing names migrate to their
// first publisher (or, with no record, to the first organization).

for (const setup of setups()) {
  describe(`plugin name ownership on ${setup.name}`, () => {
    let r: Running
    let a: Actors
    const repo = new PluginRepo('@acme/owned')
    const firstParty = new PluginRepo('@stavily/plugin-impostor')
    const as = (token: string) => (method: string, path: string, body?: unknown) =>
      call(r.operatorUrl, method, `/api/v1${path}`, { token, ...(body ? { body } : {}) })
    const versions = async () =>
      (await as(a.admin)('GET', `/registry/plugins/${encodeURIComponent('@acme/owned')}/versions`)).body
        .versions?.length ?? 0

    beforeAll(async () => {
      await setup.prepare()
      r = await setup.start({ registry: { remotes: { allowFile: true } } }) // publishes from file://
      a = await actors(r, 'org-other')
    })
    afterAll(async () => {
      await setup.cleanup()
      repo.remove()
      firstParty.remove()
    })

    it('the first publisher owns the name: another organization gets 403 and nothing is stored', async () => {
      const first = await as(a.operator)('POST', '/registry/plugins', {
        repo: repo.url,
        ref: repo.release('1.0.0'),
      })
      expect(first.status, JSON.stringify(first.body)).toBe(201)
      const before = await versions()
      const other = await as(a.other)('POST', '/registry/plugins', {
        repo: repo.url,
        ref: repo.release('1.1.0'),
      })
      expect(other.status).toBe(403)
      expect(other.body.code ?? other.body.error?.code).toBe('STAVILY_ERR_REGISTRY_FORBIDDEN')
      expect(JSON.stringify(other.body)).toMatch(/@acme\/owned belongs to another organization/)
      expect(await versions()).toBe(before)
      const yank = await as(a.other)(
        'POST',
        `/registry/plugins/${encodeURIComponent('@acme/owned')}/versions/1.0.0/yank`,
        {},
      )
      expect(yank.status).toBe(403)
    })

    it('first-party names are reserved for the first organization', async () => {
      const res = await as(a.other)('POST', '/registry/plugins', {
        repo: firstParty.url,
        ref: firstParty.release('1.0.0'),
      })
      expect(res.status).toBe(403)
      expect(JSON.stringify(res.body)).toMatch(
        /@stavily\/plugin-impostor is reserved for first-party plugins/,
      )
      const mine = await as(a.admin)('POST', '/registry/plugins', { repo: firstParty.url, ref: 'v1.0.0' })
      expect(mine.status, JSON.stringify(mine.body)).toBe(201)
    })

    it('an admin of the owner transfers a name; then only the new owner publishes', async () => {
      const byOperator = await as(a.operator)('POST', '/plugins/transfer', {
        name: '@acme/owned',
        to: 'org-other',
      })
      expect(byOperator.status).toBe(403)
      const stolen = await as(a.other)('POST', '/plugins/transfer', { name: '@acme/owned', to: 'default' })
      expect(stolen.status).toBe(403)
      expect(stolen.body.error.message).toMatch(/only its owner can transfer it/)
      const nowhere = await as(a.admin)('POST', '/plugins/transfer', {
        name: '@acme/owned',
        to: 'no-such-org',
      })
      expect(nowhere.status).toBe(404)
      const moved = await as(a.admin)('POST', '/plugins/transfer', { name: '@acme/owned', to: 'org-other' })
      expect(moved.status, JSON.stringify(moved.body)).toBe(200)
      expect(moved.body).toMatchObject({ name: '@acme/owned', to: { name: 'org-other' } })
      const theirs = await as(a.other)('POST', '/registry/plugins', { repo: repo.url, ref: 'v1.1.0' })
      expect(theirs.status, JSON.stringify(theirs.body)).toBe(201)
      const ours = await as(a.operator)('POST', '/registry/plugins', {
        repo: repo.url,
        ref: repo.release('1.2.0'),
      })
      expect(ours.status).toBe(403)
      const audit = await as(a.admin)('GET', '/audit?action=plugin.transferred')
      expect(audit.body.items?.[0]).toMatchObject({ action: 'plugin.transferred' })
    })

    it('existing names migrate: to the oldest plugin.published entry, else to the first organization at start', async () => {
      const sql = r.o.services.db.sql
      await sql.query('DELETE FROM plugin_owners')
      // The migration's data step, as it runs on an existing database.
      const fill = migration5.split(/;\s*\n/).find((s) => s.trim().startsWith('INSERT INTO plugin_owners'))!
      await sql.query(fill)
      const { rows } = await sql.query<{ name: string; org: string }>(
        'SELECT name, org_id AS org FROM plugin_owners ORDER BY name',
      )
      const defaultOrg = (
        await sql.query<{ id: string }>("SELECT id FROM organizations WHERE name = 'default'")
      ).rows[0]!.id
      // @acme/owned was first published by the default organization (the transfer is newer data).
      expect(rows).toEqual([
        { name: '@acme/owned', org: defaultOrg },
        { name: '@stavily/plugin-impostor', org: defaultOrg },
      ])
      // A name published with no audit entry (as the seed does) is adopted at the next start.
      await sql.query('DELETE FROM plugin_owners')
      const twin = await r.twin()
      const after = await sql.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM plugin_owners WHERE org_id = $1',
        [defaultOrg],
      )
      expect(after.rows[0]!.n).toBe(2)
      await twin.close()
    })
  })
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, type Running, setups } from '../helpers/harness.ts'
import { type Actors, actors } from './helpers.ts'
import { PluginRepo } from './plugin-repo.ts'

// Plugins through the operator API: publish from Git through the mounted registry routes,
// search, enable at a range (newest match, yanked skipped), pin an exact version, disable;
// the desired set agents read follows, and each change is on the audit log.

for (const setup of setups()) {
  describe(`plugins API on ${setup.name}`, () => {
    let r: Running
    let a: Actors
    const repo = new PluginRepo('@acme/restart')
    const api = (method: string, path: string, opts: Parameters<typeof call>[3] = {}) =>
      call(r.operatorUrl, method, `/api/v1${path}`, { token: a.operator, ...opts })

    beforeAll(async () => {
      await setup.prepare()
      r = await setup.start({ registry: { remotes: { allowFile: true } } }) // publishes from file://
      a = await actors(r)
    })
    afterAll(async () => {
      await setup.cleanup()
      repo.remove()
    })

    it('publishes versions through /api/v1/registry with an operator token', async () => {
      for (const version of ['1.0.0', '1.1.0', '1.2.0', '2.0.0']) {
        const ref = repo.release(version)
        const res = await api('POST', '/registry/plugins', { body: { repo: repo.url, ref } })
        expect(res.status, JSON.stringify(res.body)).toBe(201)
        expect(res.body.version).toMatchObject({ name: '@acme/restart', version })
      }
      const yank = await api(
        'POST',
        `/registry/plugins/${encodeURIComponent('@acme/restart')}/versions/1.2.0/yank`,
        {
          body: { reason: 'broken' },
        },
      )
      expect(yank.status, JSON.stringify(yank.body)).toBe(200)
    })

    it('searches the registry, saying where each plugin is enabled', async () => {
      const found = await api('GET', '/plugins?q=restart', { token: a.viewer })
      expect(found.status).toBe(200)
      expect(found.body.items).toHaveLength(1)
      expect(found.body.items[0]).toMatchObject({ name: '@acme/restart', latest: '2.0.0', enabled: [] })
      const none = await api('GET', '/plugins?q=nothing-like-this', { token: a.viewer })
      expect(none.body.items).toEqual([])
    })

    it('enables at the newest non-yanked version a range allows, pins an exact one, and agents see it', async () => {
      const enabled = await api('POST', '/plugins/enable', {
        body: { name: '@acme/restart', pool: 'web', range: '^1.0.0' },
      })
      expect(enabled.status, JSON.stringify(enabled.body)).toBe(200)
      // 1.2.0 is yanked: the newest match is 1.1.0.
      expect(enabled.body).toMatchObject({
        name: '@acme/restart',
        pool: 'web',
        range: '^1.0.0',
        version: '1.1.0',
      })
      expect(enabled.body.digest).toMatch(/^sha256:[0-9a-f]{64}$/)

      const pinned = await api('POST', '/plugins/enable', {
        body: { name: '@acme/restart', pool: 'canary', range: '1.0.0' },
      })
      expect(pinned.body).toMatchObject({ pool: 'canary', version: '1.0.0' })

      const list = await api('GET', '/plugins', { token: a.viewer })
      expect(list.body.items[0].enabled).toEqual([
        { pool: 'canary', version: '1.0.0', range: '1.0.0' },
        { pool: 'web', version: '1.1.0', range: '^1.0.0' },
      ])
      expect(list.body.enabled.map((e: { pool: string }) => e.pool)).toEqual(['canary', 'web'])

      // What an agent of pool web loads: the resolved version with its digest and a signature.
      const org = (await r.o.services.tenancy.authenticateApiToken(a.admin))!.orgId
      const desired = await r.o.services.db.sql.query<{
        version: string
        digest: string
        signature: string
        permissions: unknown
      }>(
        "SELECT version, digest, signature, permissions FROM desired_plugins WHERE org_id = $1 AND pool = 'web'",
        [org],
      )
      expect(desired.rows).toHaveLength(1)
      expect(desired.rows[0]).toMatchObject({ version: '1.1.0', digest: enabled.body.digest })
      expect(desired.rows[0]!.signature).toMatch(/^targets\.v\d+:[0-9a-f]+:[0-9a-f]+/)
      expect(desired.rows[0]!.permissions).toMatchObject({ secrets: ['SLACK_TOKEN'] })

      const upgraded = await api('POST', '/plugins/enable', {
        body: { name: '@acme/restart', pool: 'web', range: '>=1.0.0' },
      })
      expect(upgraded.body.version).toBe('2.0.0')
    })

    it('refuses unknown plugins and ranges nothing matches, listing the published versions', async () => {
      const unknown = await api('POST', '/plugins/enable', {
        body: { name: '@acme/nothing', pool: 'web', range: '^1' },
      })
      expect(unknown.status).toBe(404)
      expect(unknown.body.error).toMatchObject({ field: 'name' })
      expect(unknown.body.error.message).toContain('@acme/nothing')

      const noMatch = await api('POST', '/plugins/enable', {
        body: { name: '@acme/restart', pool: 'web', range: '^3.0.0' },
      })
      expect(noMatch.status).toBe(404)
      expect(noMatch.body.error.field).toBe('range')
      expect(noMatch.body.error.message).toContain('2.0.0, 1.2.0 (yanked), 1.1.0, 1.0.0')

      const badRange = await api('POST', '/plugins/enable', {
        body: { name: '@acme/restart', pool: 'web', range: 'soon' },
      })
      expect(badRange.status).toBe(400)
      expect(badRange.body.error.field).toBe('range')
      const badPool = await api('POST', '/plugins/enable', {
        body: { name: '@acme/restart', pool: 'Web!', range: '^1' },
      })
      expect(badPool.body.error.field).toBe('body.pool')
      const missing = await api('POST', '/plugins/enable', { body: { name: '@acme/restart', pool: 'web' } })
      expect(missing.body.error.field).toBe('body.range')
    })

    it('disables: the row goes, a second disable is a 404, and each change is audited', async () => {
      const off = await api('POST', '/plugins/disable', { body: { name: '@acme/restart', pool: 'canary' } })
      expect(off.status).toBe(200)
      expect(off.body).toEqual({ name: '@acme/restart', pool: 'canary', disabled: true })
      const again = await api('POST', '/plugins/disable', { body: { name: '@acme/restart', pool: 'canary' } })
      expect(again.status).toBe(404)
      const list = await api('GET', '/plugins', { token: a.viewer })
      expect(list.body.items[0].enabled).toEqual([{ pool: 'web', version: '2.0.0', range: '>=1.0.0' }])

      const audit = await api('GET', '/audit?limit=100', { token: a.viewer })
      const actions = audit.body.items.map((e: { action: string }) => e.action)
      expect(actions.filter((x: string) => x === 'plugin.enabled')).toHaveLength(3)
      expect(actions.filter((x: string) => x === 'plugin.disabled')).toHaveLength(1)
      expect(actions.filter((x: string) => x === 'plugin.published')).toHaveLength(4)
      // Publishing never moved a pool: each new version was outside the ranges enabled then.
      expect(actions.filter((x: string) => x === 'plugin.updated')).toHaveLength(0)
      expect(actions.filter((x: string) => x === 'plugin.yanked')).toHaveLength(1)
      const enabled = audit.body.items.find((e: { action: string }) => e.action === 'plugin.enabled')
      expect(enabled).toMatchObject({
        actor: { type: 'api_token', id: a.ids.operator },
        target: { type: 'plugin', id: 'web/@acme/restart' },
        data: { range: '>=1.0.0', version: '2.0.0' },
      })
      const published = audit.body.items.find((e: { action: string }) => e.action === 'plugin.published')
      expect(published).toMatchObject({
        target: { type: 'plugin', id: '@acme/restart@2.0.0' },
        data: { repo: repo.url, ref: 'v2.0.0' },
      })
      expect((await api('GET', '/audit/verify', { token: a.viewer })).body.ok).toBe(true)
    })

    it("rolls a version published within a pool's range out to it, and leaves pins and other ranges alone", async () => {
      const rolling = new PluginRepo('@acme/rolling')
      try {
        const publish = async (version: string) => {
          const res = await api('POST', '/registry/plugins', {
            body: { repo: rolling.url, ref: rolling.release(version) },
          })
          expect(res.status, JSON.stringify(res.body)).toBe(201)
        }
        await publish('1.0.0')
        for (const [pool, range] of [
          ['rolling', '^1.0.0'],
          ['pinned', '1.0.0'],
          ['patches', '~1.0.0'],
        ] as const) {
          const res = await api('POST', '/plugins/enable', { body: { name: '@acme/rolling', pool, range } })
          expect(res.body).toMatchObject({ pool, version: '1.0.0' })
        }
        await publish('1.1.0')
        await publish('2.0.0')
        const versions = async () =>
          Object.fromEntries(
            (await api('GET', '/plugins?q=rolling', { token: a.viewer })).body.items[0].enabled.map(
              (e: { pool: string; version: string }) => [e.pool, e.version],
            ),
          )
        // ^1.0.0 follows to 1.1.0 (not 2.0.0); the pin and ~1.0.0 stay at 1.0.0.
        expect(await versions()).toEqual({ patches: '1.0.0', pinned: '1.0.0', rolling: '1.1.0' })

        // What agents of the pool load moved too: the new digest with a signature that lists it.
        const org = (await r.o.services.tenancy.authenticateApiToken(a.admin))!.orgId
        const row = await r.o.services.db.sql.query<{ version: string; digest: string; signature: string }>(
          "SELECT version, digest, signature FROM desired_plugins WHERE org_id = $1 AND pool = 'rolling'",
          [org],
        )
        const v110 = await r.o.services.registry.version('@acme/rolling', '1.1.0')
        expect(row.rows[0]).toMatchObject({ version: '1.1.0', digest: v110.digest })
        expect(row.rows[0]!.signature).toMatch(/^targets\.v\d+:[0-9a-f]+:[0-9a-f]+/)

        await publish('1.0.1')
        expect(await versions()).toEqual({ patches: '1.0.1', pinned: '1.0.0', rolling: '1.1.0' })

        const audit = await api('GET', '/audit?limit=100', { token: a.viewer })
        const updates = audit.body.items.filter((e: { action: string }) => e.action === 'plugin.updated')
        expect(updates).toHaveLength(2)
        expect(updates.find((e: { data: { pool: string } }) => e.data.pool === 'rolling')).toMatchObject({
          actor: { type: 'system' },
          target: { type: 'plugin', id: 'rolling/@acme/rolling' },
          data: { range: '^1.0.0', from: '1.0.0', version: '1.1.0' },
        })
        for (const pool of ['rolling', 'pinned', 'patches'])
          await api('POST', '/plugins/disable', { body: { name: '@acme/rolling', pool } })
      } finally {
        rolling.remove()
      }
    })

    it('a dev build never hides a release from a pool that is not a dev pool, nor reaches it', async () => {
      const repo = new PluginRepo('@acme/devbuilds')
      try {
        const publish = async (version: string) => {
          const res = await api('POST', '/registry/plugins', {
            body: { repo: repo.url, ref: repo.release(version) },
          })
          expect(res.status, JSON.stringify(res.body)).toBe(201)
        }
        const enabled = async () =>
          Object.fromEntries(
            (await api('GET', '/plugins?q=devbuilds', { token: a.viewer })).body.items[0].enabled.map(
              (e: { pool: string; version: string }) => [e.pool, e.version],
            ),
          )
        await publish('1.0.0')
        // A range that admits the next minor's dev builds, in a production pool and in a dev pool.
        for (const pool of ['prod', 'dev']) {
          const res = await api('POST', '/plugins/enable', {
            body: { name: '@acme/devbuilds', pool, range: '>=1.0.0 || >=1.1.0-dev.0' },
          })
          expect(res.status, JSON.stringify(res.body)).toBe(200)
        }
        await publish('1.1.0-dev.1')
        expect(await enabled()).toEqual({ dev: '1.1.0-dev.1', prod: '1.0.0' })
        // A release the range allows still reaches the production pool, though a dev build is newer.
        await publish('1.0.1')
        expect(await enabled()).toEqual({ dev: '1.1.0-dev.1', prod: '1.0.1' })
        const again = await api('POST', '/plugins/enable', {
          body: { name: '@acme/devbuilds', pool: 'prod', range: '>=1.0.0 || >=1.1.0-dev.0' },
        })
        expect(again.body).toMatchObject({ pool: 'prod', version: '1.0.1' })
        // Asked for by exact version, the dev build is refused for the production pool.
        const leak = await api('POST', '/plugins/enable', {
          body: { name: '@acme/devbuilds', pool: 'prod', range: '1.1.0-dev.1' },
        })
        expect(leak.status).toBe(409)
        expect(leak.body.error.code).toBe('STAVILY_ERR_DEV_POOL_ONLY')
        for (const pool of ['prod', 'dev'])
          await api('POST', '/plugins/disable', { body: { name: '@acme/devbuilds', pool } })
      } finally {
        repo.remove()
      }
    })
  })
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { enablePlugin, SYSTEM } from './engine/fixtures.ts'
import { call, enqueue, type Running, setups } from './helpers/harness.ts'

// Secrets go only to agents that grant them (issue 12, item 11): agents report their grants
// at register and with heartbeats; an instruction (or a sensor assignment) carries only the
// secrets its plugin declares AND the agent grants it.

async function register(r: Running, kind: 'sensor' | 'action', pool: string, secretGrants?: object) {
  const et = await call(r.operatorUrl, 'POST', '/api/v1/enrollment-tokens', {
    token: r.admin,
    body: { kind, pool },
  })
  const reg = await call(r.url, 'POST', '/agents/v1/register', {
    body: {
      enrollmentToken: et.body.token,
      name: `${kind}-${pool}`,
      ...(secretGrants ? { secretGrants } : {}),
    },
  })
  return reg
}

for (const setup of setups()) {
  describe(`secrets by grant on ${setup.name}`, () => {
    let r: Running
    let org: string

    const secretsOfNext = async (credential: string, pool: string) => {
      await enqueue(r, { pool, plugin: '@acme/restart' })
      const got = await call(r.url, 'GET', '/agents/v1/instructions?waitMs=5000', { token: credential })
      expect(got.body.instructions).toHaveLength(1)
      return got.body.instructions[0].secrets
    }

    beforeAll(async () => {
      await setup.prepare()
      r = await setup.start()
      org = (await r.o.services.tenancy.authenticateApiToken(r.admin))!.orgId
      for (const pool of ['web', 'web2', 'web3'])
        await enablePlugin(r, org, pool, '@acme/restart', '1.0.0', { secrets: ['SHARED', 'MINE', 'OTHER'] })
      for (const name of ['SHARED', 'MINE', 'OTHER', 'PROM_TOKEN', 'PROM_EXTRA'])
        await r.o.services.secrets.set(org, name, `value-of-${name}`)
    })
    afterAll(() => setup.cleanup())

    it('sends an instruction only the declared secrets the agent grants (to all plugins or to that one)', async () => {
      const reg = await register(r, 'action', 'web', {
        all: ['SHARED'],
        plugins: { '@acme/restart': ['MINE'] },
      })
      expect(reg.status).toBe(201)
      expect(await secretsOfNext(reg.body.credential, 'web')).toEqual({
        SHARED: 'value-of-SHARED',
        MINE: 'value-of-MINE',
      })
    })

    it('sends no secrets to an agent that never reported grants', async () => {
      const reg = await register(r, 'action', 'web2')
      expect(await secretsOfNext(reg.body.credential, 'web2')).toEqual({})
    })

    it('follows the grants a heartbeat reports', async () => {
      const reg = await register(r, 'action', 'web3', { all: ['SHARED'] })
      const beat = await call(r.url, 'POST', '/agents/v1/heartbeat', {
        token: reg.body.credential,
        body: { secretGrants: { all: ['OTHER'], plugins: { '@acme/other': ['MINE'] } } },
      })
      expect(beat.status).toBe(200)
      expect(await secretsOfNext(reg.body.credential, 'web3')).toEqual({ OTHER: 'value-of-OTHER' })
      // A heartbeat without grants keeps the last ones.
      await call(r.url, 'POST', '/agents/v1/heartbeat', { token: reg.body.credential, body: {} })
      expect(await secretsOfNext(reg.body.credential, 'web3')).toEqual({ OTHER: 'value-of-OTHER' })
    })

    it('gives a sensor assignment only the secrets the sensor agent grants', async () => {
      await enablePlugin(r, org, 'mon', '@acme/prom', '1.0.0', { secrets: ['PROM_TOKEN', 'PROM_EXTRA'] })
      await r.o.services.workflows.apply(
        org,
        `
name: grants-sensor
trigger:
  sensor: { plugin: "@acme/prom", version: ^1.0.0, pool: mon, interval: 30s }
actions:
  - { id: act, plugin: "@acme/restart", version: ^1, pool: web, input: {} }
`,
        SYSTEM,
      )
      const reg = await register(r, 'sensor', 'mon', { all: [], plugins: { '@acme/prom': ['PROM_TOKEN'] } })
      const plugins = await call(r.url, 'GET', '/agents/v1/plugins', { token: reg.body.credential })
      expect(plugins.body.sensors.map((s: { secrets: object }) => s.secrets)).toEqual([
        { PROM_TOKEN: 'value-of-PROM_TOKEN' },
      ])
    })

    it('refuses malformed grants with a 400 naming the field', async () => {
      const bad = await register(r, 'action', 'web', { all: ['not a name'] })
      expect(bad.status).toBe(400)
      expect(bad.body.error.message).toContain('secretGrants')
      const extra = await register(r, 'action', 'web', { all: [], everything: true })
      expect(extra.status).toBe(400)
    })
  })
}

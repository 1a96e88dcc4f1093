import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDir } from '../../../test/temp-dir.ts'
import { configFromEnv } from '../../src/config.ts'
import { dashboardFolder } from '../../src/http/dashboard.ts'
import { call, type Running, setups } from '../helpers/harness.ts'
import { type Actors, actors } from './helpers.ts'

// The web dashboard is served at / on the operator listener: its files, index.html for any
// other page path (deep links), while unknown API paths stay JSON 404s; without a build, /
// says how to make one. GET /whoami tells the page the token's role.

const PAGE = '<!doctype html><title>dashboard test page</title><div id="app"></div>'

function builtDashboard(): string {
  const dir = tempDir('dashboard-build')
  mkdirSync(join(dir, '_app', 'immutable', 'entry'), { recursive: true })
  writeFileSync(join(dir, 'index.html'), PAGE)
  writeFileSync(join(dir, '_app', 'immutable', 'entry', 'app.abc123.js'), 'export const ok = 1\n')
  return dir
}

describe('where the dashboard is', () => {
  it('is the installed @stavily/dashboard build folder unless configured', () => {
    expect(dashboardFolder(undefined)).toBe(
      fileURLToPath(new URL('../../../dashboard/build', import.meta.url)),
    )
    expect(dashboardFolder('/srv/dashboard')).toBe('/srv/dashboard')
    expect(configFromEnv({ STAVILY_DASHBOARD_DIR: '/srv/dashboard' }).dashboardDir).toBe('/srv/dashboard')
    expect(configFromEnv({}).dashboardDir).toBeUndefined()
  })
})

for (const setup of setups()) {
  describe(`dashboard and whoami on ${setup.name}`, () => {
    let r: Running
    let a: Actors

    beforeAll(async () => {
      await setup.prepare()
      r = await setup.start({ dashboardDir: builtDashboard() })
      a = await actors(r)
    })
    afterAll(() => setup.cleanup())

    it('serves the page at / and index.html for deep links, never framed', async () => {
      for (const path of [
        '/',
        '/runs',
        '/runs/6c1f4b7e-0000-4000-8000-000000000001',
        '/workflows/deploy?version=2',
      ]) {
        const res = await fetch(`${r.operatorUrl}${path}`)
        expect(res.status, path).toBe(200)
        expect(res.headers.get('content-type'), path).toMatch(/^text\/html/)
        expect(res.headers.get('x-frame-options'), path).toBe('DENY')
        expect(await res.text(), path).toBe(PAGE)
      }
    })

    it('serves the built files, content-hashed ones cached for good', async () => {
      const res = await fetch(`${r.operatorUrl}/_app/immutable/entry/app.abc123.js`)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toMatch(/javascript/)
      expect(res.headers.get('cache-control')).toContain('immutable')
      expect(await res.text()).toBe('export const ok = 1\n')
    })

    it('keeps unknown API paths JSON 404s and the docs where they were', async () => {
      for (const path of ['/api/v1/nope', '/api/v1/runs/x/y/z', '/agents/v1/nope']) {
        const res = await call(r.operatorUrl, 'GET', path, { token: a.viewer })
        expect(res.status, path).toBe(404)
        expect(res.body.error.code, path).toBe('STAVILY_ERR_ROUTE_NOT_FOUND')
      }
      const docs = await fetch(`${r.operatorUrl}/docs/`)
      expect(docs.status).toBe(200)
      expect(await docs.text()).toContain('swagger')
      const openapi = await call(r.operatorUrl, 'GET', '/openapi.json')
      expect(openapi.body.paths['/api/v1/whoami']).toBeDefined()
    })

    it('tells each token its role and organization', async () => {
      for (const [token, role] of [
        [a.viewer, 'viewer'],
        [a.operator, 'operator'],
        [a.admin, 'admin'],
      ] as const) {
        const res = await call(r.operatorUrl, 'GET', '/api/v1/whoami', { token })
        expect(res.status).toBe(200)
        expect(res.body.role).toBe(role)
      }
      const viewer = await call(r.operatorUrl, 'GET', '/api/v1/whoami', { token: a.viewer })
      expect(viewer.body.tokenId).toBe(a.ids.viewer)
      const other = await call(r.operatorUrl, 'GET', '/api/v1/whoami', { token: a.other })
      expect(other.body.orgId).not.toBe(viewer.body.orgId)
      const anonymous = await call(r.operatorUrl, 'GET', '/api/v1/whoami')
      expect(anonymous.status).toBe(401)
    })

    it('says how to build the dashboard when there is no build', async () => {
      const bare = await r.twin({ dashboardDir: tempDir('dashboard-none') })
      for (const path of ['/', '/runs/abc']) {
        const res = await fetch(`${bare.operatorUrl}${path}`)
        expect(res.status, path).toBe(404)
        expect(res.headers.get('content-type'), path).toMatch(/^text\/html/)
        expect(await res.text(), path).toContain('npm run build -w @stavily/dashboard')
      }
      const api = await call(bare.operatorUrl, 'GET', '/api/v1/nope')
      expect(api.body.error.code).toBe('STAVILY_ERR_ROUTE_NOT_FOUND')
    })
  })
}

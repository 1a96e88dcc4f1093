import { execFileSync } from 'node:child_process'
import { type GitHttpServer, startGitHttpServer } from '@stavily/registry/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, type Running, setups } from '../helpers/harness.ts'
import { type Actors, actors } from './helpers.ts'
import { PluginRepo } from './plugin-repo.ts'

// Git credentials per organization (issue 12 item 9): set through the operator API and kept
// as an organization secret, used only for that organization's publishes. The private Git
// server is `git http-backend` behind basic auth on loopback (allowed for this test).

for (const setup of setups()) {
  describe(`Git credentials per organization on ${setup.name}`, () => {
    let r: Running
    let a: Actors
    let server: GitHttpServer
    const repo = new PluginRepo('@acme/private')
    const as = (token: string) => (method: string, path: string, body?: unknown) =>
      call(r.operatorUrl, method, `/api/v1${path}`, { token, ...(body ? { body } : {}) })

    beforeAll(async () => {
      await setup.prepare()
      r = await setup.start({ registry: { remotes: { allowPrivate: true } } }) // a loopback Git server
      a = await actors(r, 'org-other')
      repo.release('1.0.0')
      execFileSync('git', ['--git-dir', repo.bare, 'update-server-info'])
      server = await startGitHttpServer(repo.root, { username: 'ci', password: 'org-a-secret' })
    })
    afterAll(async () => {
      await server?.close()
      await setup.cleanup()
      repo.remove()
    })

    it("a publish uses its own organization's credential, never another's", async () => {
      const url = server.url('plugin.git')
      const host = new URL(url).host
      const set = await as(a.operator)('PUT', `/plugins/git-credentials/${encodeURIComponent(host)}`, {
        username: 'ci',
        password: 'org-a-secret',
      })
      expect(set.status, JSON.stringify(set.body)).toBe(201)
      const listed = await as(a.operator)('GET', '/plugins/git-credentials')
      expect(listed.body.items).toEqual([
        { host, username: 'ci', kind: 'password', updatedAt: expect.any(String) },
      ])
      expect(JSON.stringify(listed.body)).not.toContain('org-a-secret')

      // The other organization has no credential for the host: git is refused.
      const theirs = await as(a.other)('POST', '/registry/plugins', { repo: url, ref: 'v1.0.0' })
      expect(theirs.status).toBe(422)
      expect(JSON.stringify(theirs.body)).toMatch(/access to .* was refused; set a Git credential/)
      expect(server.requests.some((q) => q.authorized)).toBe(false)

      const ours = await as(a.operator)('POST', '/registry/plugins', { repo: url, ref: 'v1.0.0' })
      expect(ours.status, JSON.stringify(ours.body)).toBe(201)
      expect(server.requests.some((q) => q.authorized)).toBe(true)

      const bad = await as(a.operator)('PUT', `/plugins/git-credentials/${encodeURIComponent(host)}`, {
        token: 't',
        password: 'p',
      })
      expect(bad.status).toBe(400)
      expect(JSON.stringify(bad.body)).toMatch(/give either password or token/)
      const gone = await as(a.operator)('DELETE', `/plugins/git-credentials/${encodeURIComponent(host)}`)
      expect(gone.status).toBe(200)
      expect((await as(a.viewer)('GET', '/plugins/git-credentials')).status).toBe(403)
    })
  })
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, enroll, type Running, setups } from '../helpers/harness.ts'
import { type Actors, actors } from './helpers.ts'

// Secrets (write-only), API tokens, agents, and the audit log that records every one of
// these changes with the token that made it and the client address; the chain verifies.

type Entry = {
  seq: number
  action: string
  actor: { type: string; id: string }
  target: { type: string; id: string } | null
  ip: string | null
  data: unknown
}

for (const setup of setups()) {
  describe(`secrets, tokens, agents and audit API on ${setup.name}`, () => {
    let r: Running
    let a: Actors
    const api = (method: string, path: string, opts: Parameters<typeof call>[3] = {}) =>
      call(r.operatorUrl, method, `/api/v1${path}`, { token: a.operator, ...opts })

    beforeAll(async () => {
      await setup.prepare()
      r = await setup.start()
      a = await actors(r)
    })
    afterAll(() => setup.cleanup())

    it('sets, replaces, lists and deletes secrets without ever answering with a value', async () => {
      const value = 'xoxb-very-secret-value'
      const created = await api('PUT', '/secrets/SLACK_TOKEN', { body: { value } })
      expect(created.status).toBe(201)
      expect(created.body).toEqual({ name: 'SLACK_TOKEN', created: true })
      const replaced = await api('PUT', '/secrets/SLACK_TOKEN', { body: { value: `${value}-2` } })
      expect(replaced.status).toBe(200)
      expect(replaced.body.created).toBe(false)
      await api('PUT', '/secrets/A_FIRST', { body: { value: 'a' } })

      const list = await api('GET', '/secrets', { token: a.viewer })
      expect(list.status).toBe(200)
      expect(list.body.items.map((s: { name: string }) => s.name)).toEqual(['A_FIRST', 'SLACK_TOKEN'])
      expect(Object.keys(list.body.items[0]).sort()).toEqual(['createdAt', 'name', 'updatedAt'])
      const page = await api('GET', '/secrets?limit=1', { token: a.viewer })
      expect(page.body.items.map((s: { name: string }) => s.name)).toEqual(['A_FIRST'])
      const page2 = await api('GET', `/secrets?limit=1&cursor=${page.body.nextCursor}`, { token: a.viewer })
      expect(page2.body.items.map((s: { name: string }) => s.name)).toEqual(['SLACK_TOKEN'])

      // The value appears in no answer and no audit entry.
      const audit = await api('GET', '/audit?limit=500', { token: a.viewer })
      for (const body of [created.body, replaced.body, list.body, audit.body]) {
        expect(JSON.stringify(body)).not.toContain('very-secret')
      }

      const badName = await api('PUT', '/secrets/9lives', { body: { value } })
      expect(badName.status).toBe(400)
      expect(badName.body.error.field).toBe('params.name')
      const noValue = await api('PUT', '/secrets/OK_NAME', { body: {} })
      expect(noValue.body.error.field).toBe('body.value')
      const empty = await api('PUT', '/secrets/OK_NAME', { body: { value: '' } })
      expect(empty.body.error.field).toBe('body.value')
      expect(JSON.stringify(badName.body)).not.toContain(value)

      expect((await api('DELETE', '/secrets/A_FIRST')).status).toBe(200)
      const gone = await api('DELETE', '/secrets/A_FIRST')
      expect(gone.status).toBe(404)
    })

    it('creates, lists and revokes API tokens; a revoked token stops working at once', async () => {
      const created = await call(r.operatorUrl, 'POST', '/api/v1/tokens', {
        token: a.admin,
        body: { name: 'ci', role: 'operator' },
      })
      expect(created.status).toBe(201)
      expect(created.body.token).toMatch(/^stv_api_/)
      const works = await call(r.operatorUrl, 'GET', '/api/v1/workflows', { token: created.body.token })
      expect(works.status).toBe(200)

      const list = await call(r.operatorUrl, 'GET', '/api/v1/tokens', { token: a.admin })
      expect(list.status).toBe(200)
      const mine = list.body.items.find((t: { id: string }) => t.id === created.body.id)
      expect(mine).toMatchObject({ name: 'ci', role: 'operator', revokedAt: null })
      expect(JSON.stringify(list.body)).not.toContain(created.body.token)

      const revoked = await call(r.operatorUrl, 'DELETE', `/api/v1/tokens/${created.body.id}`, {
        token: a.admin,
      })
      expect(revoked.status).toBe(200)
      expect(revoked.body.revokedAt).not.toBeNull()
      const refused = await call(r.operatorUrl, 'GET', '/api/v1/workflows', { token: created.body.token })
      expect(refused.status).toBe(401)

      const badRole = await call(r.operatorUrl, 'POST', '/api/v1/tokens', {
        token: a.admin,
        body: { name: 'x', role: 'root' },
      })
      expect(badRole.body.error.field).toBe('body.role')
    })

    it('lists agents with presence, drains and revokes them', async () => {
      const agent = await enroll(r, 'action', 'web', { token: a.operator })
      const list = await api('GET', '/agents', { token: a.viewer })
      expect(list.body.items).toHaveLength(1)
      expect(list.body.items[0]).toMatchObject({ id: agent.id, status: 'online', online: true, drain: false })
      const drained = await api('POST', `/agents/${agent.id}/drain`, { body: { drain: true } })
      expect(drained.body.drain).toBe(true)
      const bad = await api('POST', `/agents/${agent.id}/drain`, { body: { drain: 'yes' } })
      expect(bad.body.error.field).toBe('body.drain')
      const revoked = await api('POST', `/agents/${agent.id}/revoke`)
      expect(revoked.body).toMatchObject({ status: 'revoked', online: false })
      const hb = await call(r.url, 'POST', '/agents/v1/heartbeat', { token: agent.credential, body: {} })
      expect(hb.status).toBe(401)
    })

    it('records every mutation with actor, action, target and address; pages; the chain verifies', async () => {
      const all = await api('GET', '/audit?limit=500', { token: a.viewer })
      expect(all.status).toBe(200)
      const entries = all.body.items as Entry[]
      const byAction = (action: string) => entries.filter((e) => e.action === action)
      const opId = a.ids.operator
      for (const [action, target] of [
        ['secret.created', { type: 'secret', id: 'SLACK_TOKEN' }],
        ['secret.updated', { type: 'secret', id: 'SLACK_TOKEN' }],
        ['secret.deleted', { type: 'secret', id: 'A_FIRST' }],
        ['agent.drained', undefined],
        ['agent.revoked', undefined],
        ['enrollment_token.created', undefined],
      ] as const) {
        const found = byAction(action).filter((e) => !target || e.target?.id === target.id)
        expect(found.length, action).toBeGreaterThan(0)
        expect(found[0]!.actor).toEqual({ type: 'api_token', id: opId })
        expect(found[0]!.ip).toMatch(/127\.0\.0\.1/)
        if (target) expect(found[0]!.target).toEqual(target)
      }
      expect(byAction('token.created').length).toBeGreaterThanOrEqual(3)
      expect(byAction('token.revoked')).toHaveLength(1)

      // Newest first, with pages going back; afterSeq reads forward.
      const seqs = entries.map((e) => e.seq)
      expect(seqs).toEqual([...seqs].sort((x, y) => y - x))
      const first = await api('GET', '/audit?limit=2', { token: a.viewer })
      expect(first.body.items.map((e: Entry) => e.seq)).toEqual(seqs.slice(0, 2))
      const second = await api('GET', `/audit?limit=2&cursor=${first.body.nextCursor}`, { token: a.viewer })
      expect(second.body.items.map((e: Entry) => e.seq)).toEqual(seqs.slice(2, 4))
      const forward = await api('GET', '/audit?afterSeq=1&limit=3', { token: a.viewer })
      expect(forward.body.items.map((e: Entry) => e.seq)).toEqual([2, 3, 4])
      const secretsOnly = await api('GET', '/audit?action=secret.deleted', { token: a.viewer })
      expect(secretsOnly.body.items.map((e: Entry) => e.action)).toEqual(['secret.deleted'])
      const bad = await api('GET', '/audit?afterSeq=-1', { token: a.viewer })
      expect(bad.body.error.field).toBe('query.afterSeq')

      const verify = await api('GET', '/audit/verify', { token: a.viewer })
      expect(verify.status).toBe(200)
      expect(verify.body).toMatchObject({ ok: true })
      expect(verify.body.entries).toBeGreaterThanOrEqual(entries.length)
    })

    it('reports the first broken link when a row is edited behind its back', async () => {
      const org = (await r.o.services.tenancy.authenticateApiToken(a.admin))!.orgId
      await r.o.services.db.sql.query(
        "UPDATE audit_log SET action = 'secret.read' WHERE org_id = $1 AND seq = 2",
        [org],
      )
      const verify = await api('GET', '/audit/verify', { token: a.viewer })
      expect(verify.body).toMatchObject({ ok: false, entries: 1, firstBroken: { seq: 2, reason: 'edited' } })
    })
  })
}

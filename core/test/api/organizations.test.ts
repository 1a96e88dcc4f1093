import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyWorkflow } from '../../src/workflows/store/workflow-store.ts'
import { call, enroll, type Running, setups } from '../helpers/harness.ts'

// Organizations belong to the instance admin (the bootstrap token): it creates them (with
// their first admin token, shown once), lists, renames and deletes them. An organization's
// own admin can do none of that, and sees nothing of another organization.

describe.each(setups())('organizations ($name)', (setup) => {
  let r: Running
  let acme: { id: string; token: string }
  beforeAll(async () => {
    await setup.prepare()
    r = await setup.start()
    const res = await call(r.operatorUrl, 'POST', '/api/v1/organizations', {
      token: r.admin,
      body: { name: 'acme' },
    })
    expect(res.status).toBe(201)
    expect(res.body.organization).toMatchObject({ name: 'acme', agents: 0, workflows: 0 })
    acme = { id: res.body.organization.id, token: res.body.adminToken }
  }, 60_000)
  afterAll(() => setup.cleanup())

  const api = (method: string, path: string, token: string, body?: unknown) =>
    call(r.operatorUrl, method, `/api/v1${path}`, { token, ...(body === undefined ? {} : { body }) })

  it("the new organization's admin token works, inside its organization only", async () => {
    const tokens = await api('GET', '/tokens', acme.token)
    expect(tokens.status).toBe(200)
    expect(tokens.body.items.map((t: { name: string }) => t.name)).toEqual(['first admin'])
    const acmeAgent = await enroll(r, 'action', 'web', { token: acme.token })
    const defaultAgent = await enroll(r, 'action', 'web')
    const seenByAcme = await api('GET', '/agents', acme.token)
    expect(seenByAcme.body.items.map((a: { id: string }) => a.id)).toEqual([acmeAgent.id])
    const seenByDefault = await api('GET', '/agents', r.admin)
    expect(seenByDefault.body.items.map((a: { id: string }) => a.id)).toEqual([defaultAgent.id])
    expect((await api('POST', `/agents/${acmeAgent.id}/revoke`, r.admin)).status).toBe(404)
  })

  it('an organization admin can neither create, list, rename nor delete organizations', async () => {
    for (const [method, path, body] of [
      ['GET', '/organizations', undefined],
      ['POST', '/organizations', { name: 'mine' }],
      ['PATCH', `/organizations/${acme.id}`, { name: 'renamed' }],
      ['DELETE', `/organizations/${acme.id}`, undefined],
    ] as const) {
      const res = await api(method, path, acme.token, body)
      expect(res.status, `${method} ${path}`).toBe(403)
      expect(res.body.error.message).toMatch(/instance admin/)
    }
    // An admin token the instance admin creates is an organization admin, not a second instance admin.
    const minted = await api('POST', '/tokens', r.admin, { name: 'second admin', role: 'admin' })
    expect((await api('GET', '/organizations', minted.body.token)).status).toBe(403)
    const names = (await api('GET', '/organizations', r.admin)).body.items.map(
      (o: { name: string }) => o.name,
    )
    expect(names).toEqual(['acme', 'default'])
    // That admin cannot revoke the instance admin's token (nothing could mint another).
    const instanceAdmin = (await api('GET', '/whoami', r.admin)).body.tokenId
    const refused = await api('DELETE', `/tokens/${instanceAdmin}`, minted.body.token)
    expect(refused.status, JSON.stringify(refused.body)).toBe(403)
    expect(refused.body.error.message).toMatch(/instance admin's token/)
    expect((await api('GET', '/organizations', r.admin)).status).toBe(200)
    // It can still revoke an ordinary admin token of its organization.
    expect((await api('DELETE', `/tokens/${minted.body.id}`, r.admin)).status).toBe(200)
  })

  it('renames, refusing a name that is taken', async () => {
    const taken = await api('PATCH', `/organizations/${acme.id}`, r.admin, { name: 'default' })
    expect(taken.status).toBe(400)
    expect(taken.body.error.field).toBe('name')
    const res = await api('PATCH', `/organizations/${acme.id}`, r.admin, { name: 'acme-corp' })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ id: acme.id, name: 'acme-corp', agents: 1 })
  })

  it('delete is refused while agents or workflows exist, then forced; all of it audited', async () => {
    const refused = await api('DELETE', `/organizations/${acme.id}`, r.admin)
    expect(refused.status).toBe(409)
    expect(refused.body.error.code).toBe('STAVILY_ERR_ORGANIZATION_NOT_EMPTY')
    expect(refused.body.error.message).toMatch(/1 agent\(s\) and 0 workflow\(s\).*--force/)
    const own = (await api('GET', '/organizations', r.admin)).body.items.find(
      (o: { name: string }) => o.name === 'default',
    )
    const self = await api('DELETE', `/organizations/${own.id}?force=true`, r.admin)
    expect(self.status).toBe(409)
    expect(self.body.error.message).toMatch(/organization of the token making this request/)

    const acmeAgent = (await api('GET', '/agents', acme.token)).body.items[0]
    const gone = await api('DELETE', `/organizations/${acme.id}?force=true`, r.admin)
    expect(gone.status).toBe(200)
    expect(gone.body).toMatchObject({ name: 'acme-corp', agents: 1, pluginNamesMoved: [] })
    // Its tokens stop working, and nothing of it is left.
    expect((await api('GET', '/tokens', acme.token)).status).toBe(401)
    const { rows } = await r.o.services.db.sql.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM agents WHERE id = $1',
      [acmeAgent.id],
    )
    expect(rows[0]!.n).toBe(0)
    expect((await api('DELETE', `/organizations/${acme.id}`, r.admin)).status).toBe(404)

    const audit = await api('GET', '/audit?limit=50', r.admin)
    const actions = audit.body.items
      .filter((e: { target: { type: string } | null }) => e.target?.type === 'organization')
      .map((e: { action: string }) => e.action)
    expect(actions).toEqual(['organization.deleted', 'organization.renamed', 'organization.created'])
  })

  it('a creation whose audit entry cannot be written leaves no organization behind', async () => {
    // The database refuses the audit entry of this one creation (as a crash between the
    // two writes would lose it): the organization must not exist without its entry.
    const sql = r.o.services.db.sql
    await sql.query(`CREATE FUNCTION refuse_org_audit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.action = 'organization.created' AND NEW.data->>'name' = 'doomed' THEN
          RAISE EXCEPTION 'audit entry refused (test)';
        END IF;
        RETURN NEW;
      END $$`)
    await sql.query(
      'CREATE TRIGGER refuse_org_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_org_audit()',
    )
    try {
      const failed = await api('POST', '/organizations', r.admin, { name: 'doomed' })
      expect(failed.status).toBe(500)
      const names = (await api('GET', '/organizations', r.admin)).body.items.map(
        (o: { name: string }) => o.name,
      )
      expect(names).not.toContain('doomed')
    } finally {
      await sql.query('DROP TRIGGER refuse_org_audit ON audit_log')
      await sql.query('DROP FUNCTION refuse_org_audit()')
    }
    const created = await api('POST', '/organizations', r.admin, { name: 'doomed' })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    const audit = await api('GET', '/audit?action=organization.created&limit=50', r.admin)
    const entry = audit.body.items.find(
      (e: { target: { id: string } | null }) => e.target?.id === created.body.organization.id,
    )
    expect(entry?.data).toMatchObject({ name: 'doomed' })
  })

  it('whoami says whether the token is the instance admin', async () => {
    expect((await api('GET', '/whoami', r.admin)).body).toMatchObject({ role: 'admin', instanceAdmin: true })
    const other = await api('POST', '/organizations', r.admin, { name: 'whoami-org' })
    const minted = await api('POST', '/tokens', r.admin, { name: 'plain admin', role: 'admin' })
    for (const token of [other.body.adminToken, minted.body.token])
      expect((await api('GET', '/whoami', token)).body).toMatchObject({ role: 'admin', instanceAdmin: false })
  })

  it("a forced delete takes the organization's pg-boss queues and schedules with it", async () => {
    const created = await api('POST', '/organizations', r.admin, { name: 'scheduled' })
    const org = created.body.organization.id
    const applied = await api('POST', '/workflows', created.body.adminToken, {
      document: `name: nightly
trigger: { schedule: { cron: "0 3 * * *" } }
actions:
  - { id: act, plugin: "@acme/restart", version: ^1, pool: night, input: {} }
`,
    })
    expect(applied.status, JSON.stringify(applied.body)).toBe(201)
    const boss = r.o.services.boss
    const ofOrg = async () => ({
      queues: (await boss.getQueues())
        .map((q) => q.name)
        .filter((n) => n.includes(org) || n.endsWith(applied.body.workflow.id)),
      schedules: (await boss.getSchedules())
        .map((x) => x.name)
        .filter((n) => n.endsWith(applied.body.workflow.id)),
    })
    const before = await ofOrg()
    expect(before.queues).toEqual(
      expect.arrayContaining([`i.${org}.action.night`, `stavily.schedule.${applied.body.workflow.id}`]),
    )
    expect(before.schedules).toHaveLength(1)
    const gone = await api('DELETE', `/organizations/${org}?force=true`, r.admin)
    expect(gone.status, JSON.stringify(gone.body)).toBe(200)
    expect(await ofOrg()).toEqual({ queues: [], schedules: [] })
  })

  it('a forced delete ends its agents at once: parked polls answer 401 and credentials stop working', async () => {
    // Re-checks are rare on this instance and it remembers credentials for 10 minutes: only
    // the announcement can end the poll early and stop the credential working.
    const quiet = await r.twin({
      tuning: { recheckMs: 60_000, recheckDegradedMs: 60_000, agentAuthCacheMs: 600_000 },
    })
    const created = await api('POST', '/organizations', r.admin, { name: 'agents-go' })
    const org = created.body.organization.id
    const et = await api('POST', '/enrollment-tokens', created.body.adminToken, {
      kind: 'action',
      pool: 'gone',
    })
    const reg = await call(quiet.url, 'POST', '/agents/v1/register', {
      body: { enrollmentToken: et.body.token, name: 'doomed' },
    })
    expect(reg.status).toBe(201)
    const token = reg.body.credential
    // Remembered by the instance: authenticated just now.
    expect((await call(quiet.url, 'GET', '/agents/v1/plugins', { token })).status).toBe(200)
    expect(quiet.o.services.agents.rememberedCredentials).toBe(1)
    const parked = new Promise<void>((resolve) => {
      quiet.o.services.polls.onParked = () => resolve()
    })
    const poll = call(quiet.url, 'GET', '/agents/v1/instructions?waitMs=30000', { token })
    await parked
    const t0 = Date.now()
    expect(
      (await call(quiet.operatorUrl, 'DELETE', `/api/v1/organizations/${org}?force=true`, { token: r.admin }))
        .status,
    ).toBe(200)
    const ended = await poll
    expect(ended.status).toBe(401)
    expect(Date.now() - t0).toBeLessThan(20_000)
    expect((await call(quiet.url, 'GET', '/agents/v1/plugins', { token })).status).toBe(401)
  })

  it('a forced delete waits for a writer in flight: nothing it wrote outlives the organization', async () => {
    const created = await api('POST', '/organizations', r.admin, { name: 'raced' })
    const org: string = created.body.organization.id
    const sql = r.o.services.db.sql
    let wrote!: () => void
    let release!: () => void
    const written = new Promise<void>((resolve) => (wrote = resolve))
    const gate = new Promise<void>((resolve) => (release = resolve))
    // A writer that applied a workflow and wrote a secret, not yet committed when the delete comes.
    const writer = sql.transaction(async (tx) => {
      await applyWorkflow(
        tx,
        org,
        'name: late\ntrigger: { webhook: { secret: HOOK_KEY } }\nactions: [{ id: a, plugin: p, version: "^1" }]\n',
      )
      await tx.query(
        `INSERT INTO secrets (org_id, name, key_id, nonce, ciphertext) VALUES ($1, 'LATE', 'k', '\\x00', '\\x00')`,
        [org],
      )
      wrote()
      await gate
    })
    await written
    const deleting = api('DELETE', `/organizations/${org}?force=true`, r.admin)
    await new Promise((resolve) => setTimeout(resolve, 300))
    release()
    await writer
    const gone = await deleting
    expect(gone.status, JSON.stringify(gone.body)).toBe(200)
    const { rows } = await sql.query<{ workflows: number; secrets: number }>(
      `SELECT (SELECT count(*)::int FROM workflows WHERE org_id = $1) AS workflows,
        (SELECT count(*)::int FROM secrets WHERE org_id = $1) AS secrets`,
      [org],
    )
    expect(rows[0]).toEqual({ workflows: 0, secrets: 0 })
  })

  it('an organization with an empty name, or a name too long, is a 400 naming the field', async () => {
    for (const name of ['', 'x'.repeat(101)]) {
      const res = await api('POST', '/organizations', r.admin, { name })
      expect(res.status).toBe(400)
      expect(res.body.error.field).toBe('body.name')
    }
  })
})

import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { raceError } from '../src/db/sql-errors.ts'
import { webhookWorkflow } from './api/helpers.ts'
import { call, type Running, setups } from './helpers/harness.ts'

// A write of an organization deleted while the request ran: the request authenticated
// (its token still existed), then a forced delete removed the organization before the
// write reached the database, whose reference to the organization (migration 8) refuses
// the row with a foreign-key violation (SQLSTATE 23503). The answer is the 401 a token of
// a deleted organization gets on every later request, never a 500.
//
// On both backends the delete lands between authentication and write through a trigger the
// test installs in its own schema: a row inserted for a "doomed-…" organization first
// deletes that organization (as the forced delete would, cascading to its tokens), so the
// insert's reference check fails as in the race (PGlite is one connection: the race cannot
// be interleaved from outside). The trigger's delete is undone with the failed write, so
// the test then deletes the organization for real, as the committed forced delete did. On
// PostgreSQL the race itself runs too: a delete held open on another connection, a write
// that waits for it, the delete committed.

const DOOM = `CREATE FUNCTION doom_org() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM organizations WHERE id = NEW.org_id AND name LIKE 'doomed-%';
  RETURN NEW;
END $$;
CREATE TRIGGER doom_secrets BEFORE INSERT ON secrets FOR EACH ROW EXECUTE FUNCTION doom_org();
CREATE TRIGGER doom_workflows BEFORE INSERT ON workflows FOR EACH ROW EXECUTE FUNCTION doom_org();`

describe.each(setups())('writes of a deleted organization ($name)', (setup) => {
  let r: Running
  beforeAll(async () => {
    await setup.prepare()
    r = await setup.start()
    await r.o.services.db.exec(DOOM)
  }, 60_000)
  afterAll(() => setup.cleanup())

  const org = async (name: string) => {
    const made = await r.o.services.tenancy.createOrganization(name)
    return { id: made.organization.id, token: made.adminToken }
  }
  const remove = (id: string) => r.o.services.db.sql.query('DELETE FROM organizations WHERE id = $1', [id])

  it('setting a secret answers 401 naming the deleted organization, and the token is unknown after', async () => {
    const { id, token } = await org('doomed-secret')
    const res = await call(r.operatorUrl, 'PUT', '/api/v1/secrets/DB_PASSWORD', {
      token,
      body: { value: 'hunter2' },
    })
    expect(res.status, JSON.stringify(res.body)).toBe(401)
    expect(res.body.error).toMatchObject({
      code: 'STAVILY_ERR_UNAUTHENTICATED',
      field: 'authorization',
      message: expect.stringMatching(/organization .*no longer exists/),
    })
    await remove(id)
    // The next request with that token: the same status, as for any token of a deleted organization.
    const after = await call(r.operatorUrl, 'GET', '/api/v1/secrets', { token })
    expect(after.status).toBe(401)
    expect(after.body.error.code).toBe('STAVILY_ERR_UNAUTHENTICATED')
  })

  it('applying a workflow answers 401, and nothing of the organization is left', async () => {
    const { token } = await org('doomed-workflow')
    const res = await call(r.operatorUrl, 'POST', '/api/v1/workflows', {
      token,
      body: { document: webhookWorkflow('doomed-flow') },
    })
    expect(res.status, JSON.stringify(res.body)).toBe(401)
    expect(res.body.error).toMatchObject({
      code: 'STAVILY_ERR_UNAUTHENTICATED',
      message: expect.stringMatching(/organization .*no longer exists/),
    })
    const { rows } = await r.o.services.db.sql.query("SELECT 1 FROM workflows WHERE name = 'doomed-flow'")
    expect(rows).toEqual([])
    // The instance's own organization writes as before.
    const ok = await call(r.operatorUrl, 'PUT', '/api/v1/secrets/STILL_FINE', {
      token: r.admin,
      body: { value: 'x' },
    })
    expect(ok.status).toBe(201)
  })

  it('another reference that vanished is a 404 naming the field; a delete of a row still referenced stays internal', async () => {
    const sql = r.o.services.db.sql
    const refused = (text: string, values: unknown[] = []) =>
      sql.query(text, values).then(
        () => expect.fail(`${text}: expected a foreign-key violation`),
        (err: unknown) => err,
      )
    // A result for an instruction that is gone (as when its organization went meanwhile).
    const orphan = await refused(
      `INSERT INTO results (instruction_id, attempt, agent_id, status, logs, answer)
       VALUES (gen_random_uuid(), 1, gen_random_uuid(), 'failed', '[]'::jsonb, '{}'::jsonb)`,
    )
    expect(raceError(orphan)).toMatchObject({
      code: 'STAVILY_ERR_NOT_FOUND',
      statusCode: 404,
      data: { field: 'instructionId' },
    })
    // A plugin name's owner keeps its organization: that delete is refused, and is no race.
    const { id } = await org('owner')
    await sql.query("INSERT INTO plugin_owners (name, org_id) VALUES ('@owner/x', $1)", [id])
    const kept = await refused('DELETE FROM organizations WHERE id = $1', [id])
    expect((kept as { code?: string }).code).toBe('23503')
    expect(raceError(kept)).toBeUndefined()
  })

  // PostgreSQL only: PGlite is one connection, a delete held open there blocks the write outright.
  if (setup.name.includes('postgres'))
    it('a forced delete that commits while a secret write waits for it: the write answers 401', async () => {
      const { id, token } = await org('raced')
      const options = `-c search_path=${r.o.services.db.schema},public`
      const deleter = new pg.Client({ connectionString: process.env.DATABASE_URL, options })
      const watcher = new pg.Client({ connectionString: process.env.DATABASE_URL })
      await deleter.connect()
      await watcher.connect()
      try {
        await deleter.query('BEGIN')
        await deleter.query('DELETE FROM organizations WHERE id = $1', [id])
        const write = call(r.operatorUrl, 'PUT', '/api/v1/secrets/RACED', { token, body: { value: 'v' } })
        // The write (or its token's last-use update) waits for the delete's locks.
        const deadline = Date.now() + 10_000
        for (;;) {
          const { rows } = await watcher.query(
            `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND application_name = 'stavily'
               AND (query ILIKE '%secrets%' OR query ILIKE '%api_tokens%')`,
          )
          if (rows.length > 0) break
          if (Date.now() > deadline) throw new Error('the write never waited for the delete')
          await new Promise((ok) => setTimeout(ok, 20))
        }
        await deleter.query('COMMIT')
        const res = await write
        expect(res.status, JSON.stringify(res.body)).toBe(401)
        expect(res.body.error).toMatchObject({
          code: 'STAVILY_ERR_UNAUTHENTICATED',
          message: expect.stringMatching(/organization .*no longer exists/),
        })
        const { rows } = await r.o.services.db.sql.query('SELECT 1 FROM secrets WHERE org_id = $1', [id])
        expect(rows).toEqual([])
      } finally {
        await deleter.end()
        await watcher.end()
      }
    })
})

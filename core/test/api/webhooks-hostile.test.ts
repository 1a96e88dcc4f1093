import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signWebhook } from '../../src/workflows/webhook/signature.ts'
import { call, type Running, setups } from '../helpers/harness.ts'
import { HOOK_SECRET, webhookWorkflow } from './helpers.ts'

// Webhooks under hostile callers, over real HTTP on both backends (issue 12 item 7, issue 20):
// a signed request is accepted once; a delivery whose run fails is not remembered, so the
// sender's retry succeeds; a signature is bound to its hook; and until a signature verifies,
// a caller cannot tell a missing, disabled or secret-less hook from a real one.

const now = () => Math.floor(Date.now() / 1000)

for (const setup of setups()) {
  describe(`hostile webhook callers on ${setup.name}`, () => {
    let r: Running
    const ids: Record<string, string> = {}
    const api = (method: string, path: string, body?: unknown) =>
      call(r.operatorUrl, method, `/api/v1${path}`, { token: r.admin, ...(body ? { body } : {}) })
    const post = (id: string, raw: string, header?: string) =>
      call(r.operatorUrl, 'POST', `/api/v1/hooks/${id}`, {
        raw,
        headers: { 'content-type': 'application/json', ...(header ? { 'stavily-signature': header } : {}) },
      })
    const apply = async (name: string, doc: string) => {
      const res = await api('POST', '/workflows', { document: doc })
      expect(res.status, JSON.stringify(res.body)).toBe(201)
      ids[name] = res.body.workflow.id
    }

    beforeAll(async () => {
      await setup.prepare()
      r = await setup.start()
      expect((await api('PUT', '/secrets/HOOK_KEY', { value: HOOK_SECRET })).status).toBe(201)
      await apply('a', webhookWorkflow('hook-a'))
      await apply('b', webhookWorkflow('hook-b'))
      await apply('off', webhookWorkflow('hook-off'))
      expect((await api('POST', `/workflows/${ids.off}/disable`)).status).toBe(200)
      await apply('unset', webhookWorkflow('hook-unset').replace('secret: HOOK_KEY', 'secret: NEVER_SET_KEY'))
      await apply(
        'cron',
        'name: nightly\ntrigger:\n  schedule:\n    cron: "0 3 * * *"\nactions:\n  - id: a\n    plugin: "@acme/restart"\n    version: ^1.0.0\n    pool: web\n',
      )
    })
    afterAll(() => setup.cleanup())

    it('the same signed request twice: the second is refused as a replay', async () => {
      const raw = JSON.stringify({ service: 'nginx' })
      const header = signWebhook(HOOK_SECRET, raw, now(), ids.a)
      const first = await post(ids.a!, raw, header)
      expect(first.status, JSON.stringify(first.body)).toBe(202)
      expect(typeof first.body.runId).toBe('string')
      const second = await post(ids.a!, raw, header)
      expect(second.status).toBe(409)
      expect(second.body.error.code).toBe('STAVILY_ERR_WEBHOOK_REPLAY')
      const runs = await api('GET', `/runs?workflow=${ids.a}`)
      expect(runs.body.items.map((x: { id: string }) => x.id)).toEqual([first.body.runId])
    })

    it('a delivery whose run fails is not remembered: the sender retries the same request and it starts the run', async () => {
      const sql = r.o.services.db.sql
      // A real failure of the run's transaction, after the signature was accepted.
      await sql.query(
        `CREATE FUNCTION hostile_fail_run() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected run failure'; END $$`,
      )
      await sql.query(
        'CREATE TRIGGER hostile_fail_run BEFORE INSERT ON runs FOR EACH ROW EXECUTE FUNCTION hostile_fail_run()',
      )
      const raw = JSON.stringify({ service: 'retried' })
      const header = signWebhook(HOOK_SECRET, raw, now(), ids.b)
      try {
        const failed = await post(ids.b!, raw, header)
        expect(failed.status).toBe(500)
      } finally {
        await sql.query('DROP TRIGGER hostile_fail_run ON runs')
        await sql.query('DROP FUNCTION hostile_fail_run()')
      }
      const retried = await post(ids.b!, raw, header)
      expect(retried.status, JSON.stringify(retried.body)).toBe(202)
      expect(typeof retried.body.runId).toBe('string')
      expect((await post(ids.b!, raw, header)).status).toBe(409)
    })

    it('a request signed for one hook does not verify on another hook with the same secret', async () => {
      const raw = JSON.stringify({ service: 'bound' })
      const forA = signWebhook(HOOK_SECRET, raw, now(), ids.a)
      const onB = await post(ids.b!, raw, forA)
      expect(onB.status).toBe(401)
      expect(onB.body.error.code).toBe('STAVILY_ERR_WEBHOOK_SIGNATURE')
      expect((await post(ids.a!, raw, forA)).status).toBe(202)
      // The deprecated v1 scheme still works, but a v1 signature is used up on every hook at once.
      const v1 = signWebhook(HOOK_SECRET, JSON.stringify({ service: 'legacy' }), now())
      expect((await post(ids.a!, JSON.stringify({ service: 'legacy' }), v1)).status).toBe(202)
      const replayed = await post(ids.b!, JSON.stringify({ service: 'legacy' }), v1)
      expect(replayed.status).toBe(409)
      expect(replayed.body.error.code).toBe('STAVILY_ERR_WEBHOOK_REPLAY')
    })

    it('before the signature verifies, missing, disabled, secret-less and non-webhook hooks answer alike', async () => {
      const raw = JSON.stringify({ service: 'probe' })
      const targets = [ids.a!, ids.off!, ids.unset!, ids.cron!, '00000000-0000-4000-8000-000000000000']
      const wrong = `t=${now()},v2=${'ab'.repeat(32)}`
      for (const header of [
        undefined,
        'garbage',
        wrong,
        signWebhook('a-guessed-secret', raw, now(), ids.a),
      ]) {
        const answers = await Promise.all(targets.map((id) => post(id, raw, header)))
        for (const [i, res] of answers.entries()) {
          expect(res.status, `${targets[i]} ${header}`).toBe(401)
          expect(JSON.stringify(res.body)).not.toMatch(/NEVER_SET_KEY|HOOK_KEY|disabled|hook-off|nightly/)
          const body = JSON.parse(JSON.stringify(res.body).replaceAll(targets[i]!, '<id>'))
          expect(body, `${targets[i]} ${header}`).toEqual(
            JSON.parse(JSON.stringify(answers[0]!.body).replaceAll(targets[0]!, '<id>')),
          )
        }
      }
      // Only a caller who proves it knows the secret learns that the hook is disabled.
      const signed = await post(ids.off!, raw, signWebhook(HOOK_SECRET, raw, now(), ids.off))
      expect(signed.status).toBe(409)
      expect(signed.body.error.code).toBe('STAVILY_ERR_WEBHOOK_DISABLED')
    })
  })
}

import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backends } from '../../../test/helpers/backends.ts'
import { WORKFLOWS_MIGRATION } from '../store/migration.ts'
import { applyWorkflow } from '../store/workflow-store.ts'
import { acceptDelivery, purgeExpiredDeliveries } from './deliveries.ts'
import { V1_DELIVERY_INDEX } from './delivery-plans.ts'
import { signWebhook, verifyWebhook, WEBHOOK_POLICY } from './signature.ts'

const DOC = `name: hook
trigger: { webhook: { secret: HOOK_KEY } }
actions: [{ id: a, plugin: p, version: "^1" }]
`

for (const backend of backends()) {
  describe(`webhook replay protection on ${backend.name}`, () => {
    beforeAll(async () => (await backend.open()).close())
    afterAll(() => backend.cleanup())

    it('accepts a v2 delivery once per workflow, a v1 one once across workflows, even concurrently', async () => {
      const db = await backend.open()
      await db.exec(WORKFLOWS_MIGRATION)
      await db.exec(V1_DELIVERY_INDEX)
      const org = randomUUID()
      const { id } = await applyWorkflow(db.sql, org, DOC)
      const other = await applyWorkflow(db.sql, org, DOC.replace('name: hook', 'name: hook-2'))
      const t = Math.floor(Date.now() / 1000)
      const v2 = verifyWebhook({
        secret: 's',
        body: '{}',
        header: signWebhook('s', '{}', t, id),
        workflowId: id,
      })
      if (!v2.ok) throw new Error(v2.message)
      const answers = await Promise.all(Array.from({ length: 20 }, () => acceptDelivery(db.sql, id, v2)))
      expect(answers.filter(Boolean)).toHaveLength(1)
      expect(await acceptDelivery(db.sql, other.id, v2)).toBe(true)

      const v1 = verifyWebhook({ secret: 's', body: '{}', header: signWebhook('s', '{}', t) })
      if (!v1.ok) throw new Error(v1.message)
      const both = await Promise.all([id, other.id, id, other.id].map((w) => acceptDelivery(db.sql, w, v1)))
      expect(both.filter(Boolean)).toHaveLength(1)

      // The row is kept while the signature's timestamp is within the tolerance: a purge just
      // before then keeps it, and the replay is still refused.
      await purgeExpiredDeliveries(db.sql, new Date(t * 1000 + WEBHOOK_POLICY.toleranceMs - 1_000))
      expect(await acceptDelivery(db.sql, id, v2)).toBe(false)
      // Once the tolerance has passed, the row can go: the timestamp alone refuses the replay.
      await purgeExpiredDeliveries(db.sql, new Date(t * 1000 + WEBHOOK_POLICY.toleranceMs + 1_000))
      const { rows } = await db.sql.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_deliveries')
      expect(rows[0]!.n).toBe(0)
      await db.close()
    })
  })
}

import type { SqlClient } from '../../db/sql-client.ts'
import { insertDelivery, purgeDeliveries } from './delivery-plans.ts'
import { WEBHOOK_POLICY } from './signature.ts'

// Replay protection within the signature tolerance: each v2 signature is accepted once per
// workflow, each deprecated v1 signature once across all workflows. A signature older than
// the tolerance is refused by its timestamp anyway, so rows can be purged once they are that
// old. The engine records a delivery in the transaction that acts on it (the run, the
// debounce or throttle window), so a delivery that fails after its signature was accepted
// leaves no record, and the sender's retry is accepted.

/** True the first time a delivery's signature is seen (see above); false for a replay. */
export async function acceptDelivery(
  sql: SqlClient,
  workflowId: string,
  check: { timestamp: number; signatureId: string },
): Promise<boolean> {
  // Kept while the timestamp is still within the tolerance: after that it is refused as expired anyway.
  const expiresAt = new Date(check.timestamp * 1000 + WEBHOOK_POLICY.toleranceMs).toISOString()
  const s = insertDelivery(workflowId, check.signatureId, expiresAt)
  const { rows } = await sql.query(s.text, s.values)
  return rows.length > 0
}

/** Deletes remembered deliveries whose signatures can no longer be accepted. */
export async function purgeExpiredDeliveries(sql: SqlClient, now: Date = new Date()): Promise<void> {
  const s = purgeDeliveries(now.toISOString())
  await sql.query(s.text, s.values)
}

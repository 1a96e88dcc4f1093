import type { Statement } from '../store/plans.ts'

/** DDL (migration 5): a deprecated v1 signature (`v1:<hex>`) is accepted once across all workflows. */
export const V1_DELIVERY_INDEX =
  "CREATE UNIQUE INDEX webhook_deliveries_v1 ON webhook_deliveries (signature_id) WHERE signature_id LIKE 'v1:%'"

/**
 * Records a delivery; returns a row only the first time its signature is seen. No conflict
 * target: a v2 signature is unique per workflow (the primary key), a deprecated v1 one
 * across all workflows (webhook_deliveries_v1, migration 5), and either conflict is a replay.
 */
export function insertDelivery(workflowId: string, signatureId: string, expiresAt: string): Statement {
  return {
    text: `INSERT INTO webhook_deliveries (workflow_id, signature_id, expires_at) VALUES ($1, $2, $3::timestamptz)
           ON CONFLICT DO NOTHING RETURNING signature_id`,
    values: [workflowId, signatureId, expiresAt],
  }
}

export function purgeDeliveries(before: string): Statement {
  return {
    text: 'DELETE FROM webhook_deliveries WHERE expires_at < $1::timestamptz',
    values: [before],
  }
}

import type { Statement } from '../store/plans.ts'

/** Records a delivery; returns a row only the first time its signature is seen. */
export function insertDelivery(workflowId: string, signatureId: string, expiresAt: string): Statement {
  return {
    text: `INSERT INTO webhook_deliveries (workflow_id, signature_id, expires_at) VALUES ($1, $2, $3::timestamptz)
           ON CONFLICT (workflow_id, signature_id) DO NOTHING RETURNING signature_id`,
    values: [workflowId, signatureId, expiresAt],
  }
}

export function purgeDeliveries(before: string): Statement {
  return {
    text: 'DELETE FROM webhook_deliveries WHERE expires_at < $1::timestamptz',
    values: [before],
  }
}

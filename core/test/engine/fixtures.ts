import { signWebhook } from '../../src/workflows/index.ts'
import type { Running } from '../helpers/harness.ts'
import { until } from '../helpers/harness.ts'

export const HOOK_SECRET = 'whsec_engine_test'

/** Enables a plugin for a pool as the plugin catalog would (the row agents and the engine read). */
export async function enablePlugin(
  r: Running,
  orgId: string,
  pool: string,
  name: string,
  version: string,
  permissions: object = {},
) {
  await r.o.services.db.sql.query(
    `INSERT INTO desired_plugins (org_id, pool, name, version, digest, signature, permissions)
     VALUES ($1, $2, $3, $4, 'sha256-test', 'sig-test', $5::jsonb)
     ON CONFLICT (org_id, pool, name) DO UPDATE SET version = EXCLUDED.version, permissions = EXCLUDED.permissions`,
    [orgId, pool, name, version, JSON.stringify(permissions)],
  )
}

/** A signed webhook delivery straight into the engine (the HTTP route is the API's). */
export function deliver(r: Running, workflowId: string, body: unknown, secret = HOOK_SECRET) {
  const raw = Buffer.from(JSON.stringify(body))
  const header = signWebhook(secret, raw, Math.floor(Date.now() / 1000))
  return r.o.services.engine.ingestWebhook(
    workflowId,
    raw,
    header === undefined ? {} : { 'stavily-signature': header },
    '127.0.0.1',
  )
}

export function runDone(r: Running, orgId: string, runId: string, timeoutMs = 20_000) {
  return until(
    async () => {
      const run = await r.o.services.runs.get(orgId, runId)
      return ['succeeded', 'failed', 'cancelled', 'timed_out'].includes(run.status) ? run : undefined
    },
    timeoutMs,
    `run ${runId} finished`,
  )
}

export const SYSTEM = { type: 'system', id: null } as const

// Starts runs the way an outside system does: a signed POST to /api/v1/hooks/:id
// (Stavily-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">).
import { createHmac } from 'node:crypto'

export async function postHook(
  operatorUrl: string,
  workflowId: string,
  secret: string,
  body: unknown,
): Promise<{ accepted: boolean; runId: string | null; reason?: string }> {
  const raw = JSON.stringify(body)
  const t = Math.floor(Date.now() / 1000)
  const v1 = createHmac('sha256', secret).update(`${t}.${raw}`).digest('hex')
  const res = await fetch(`${operatorUrl}/api/v1/hooks/${workflowId}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stavily-signature': `t=${t},v1=${v1}` },
    body: raw,
  })
  const answer = await res.json()
  if (res.status !== 202)
    throw new Error(`POST /hooks/${workflowId}: HTTP ${res.status} ${JSON.stringify(answer)}`)
  return answer as { accepted: boolean; runId: string | null; reason?: string }
}

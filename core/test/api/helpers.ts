import { signWebhook } from '../../src/workflows/webhook/signature.ts'
import { call, type Running } from '../helpers/harness.ts'

// Shared by the operator API tests: tokens of each role, a second organization, a
// webhook workflow and signed deliveries.

export interface Actors {
  admin: string
  operator: string
  viewer: string
  /** Ids of the tokens, as the audit log names them. */
  ids: { operator: string; viewer: string }
  /** The admin token of another organization. */
  other: string
}

export async function token(r: Running, role: 'admin' | 'operator' | 'viewer', as = r.admin) {
  const res = await call(r.operatorUrl, 'POST', '/api/v1/tokens', {
    token: as,
    body: { name: `${role}-token`, role },
  })
  if (res.status !== 201) throw new Error(`token: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body as { id: string; token: string }
}

export async function actors(r: Running, otherOrg = 'org-b'): Promise<Actors> {
  const operator = await token(r, 'operator')
  const viewer = await token(r, 'viewer')
  const other = (await r.o.services.tenancy.createOrganization(otherOrg)).adminToken
  return {
    admin: r.admin,
    operator: operator.token,
    viewer: viewer.token,
    ids: { operator: operator.id, viewer: viewer.id },
    other,
  }
}

export const HOOK_SECRET = 'hook-signing-key-0123456789'

/** A webhook workflow: one action on pool `web`, one output that runs always. */
export function webhookWorkflow(name = 'restart-on-hook', extra = ''): string {
  return `name: ${name}
trigger:
  webhook:
    secret: HOOK_KEY
    filter: trigger.service != 'ignored'
actions:
  - id: restart
    plugin: "@acme/restart"
    version: ^1.0.0
    pool: web
    input:
      service: \${{ trigger.service }}
outputs:
  - id: notify
    plugin: "@acme/notify"
    version: ^1.0.0
    pool: web
    on: always
    input:
      text: "\${{ trigger.service }}: \${{ run.status }}"
${extra}`
}

/** POSTs a signed webhook delivery (a fresh timestamp each time, so never a replay). */
export async function deliver(r: Running, workflowId: string, body: unknown, secret = HOOK_SECRET) {
  const raw = JSON.stringify(body)
  return call(r.operatorUrl, 'POST', `/api/v1/hooks/${workflowId}`, {
    raw,
    headers: {
      'content-type': 'application/json',
      'stavily-signature': signWebhook(secret, raw, Math.floor(Date.now() / 1000)),
    },
  })
}

/** Reads an SSE stream, calling `onEvent` per event until it returns true (then closes). */
export async function readStream(
  url: string,
  onOpen: () => Promise<void>,
  onEvent: (e: { event: string; data: unknown }) => boolean,
  signal: AbortSignal,
): Promise<string[]> {
  const res = await fetch(url, { signal })
  if (res.status !== 200) throw new Error(`stream: ${res.status} ${await res.text()}`)
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  const seen: string[] = []
  let buffer = ''
  let opened: Promise<void> | undefined
  for (;;) {
    const { value, done } = await reader.read()
    if (done) {
      await opened
      return seen
    }
    buffer += decoder.decode(value, { stream: true })
    let cut = buffer.indexOf('\n\n')
    while (cut >= 0) {
      const block = buffer.slice(0, cut)
      buffer = buffer.slice(cut + 2)
      cut = buffer.indexOf('\n\n')
      seen.push(block)
      if (!opened && block.includes(': connected')) {
        opened = onOpen()
        continue
      }
      const event = /^event: (.*)$/m.exec(block)?.[1]
      const data = /^data: (.*)$/m.exec(block)?.[1]
      if (event && data && onEvent({ event, data: JSON.parse(data) })) {
        await reader.cancel()
        await opened
        return seen
      }
    }
  }
}

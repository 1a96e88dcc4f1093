import { createHmac } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from '../../../test/temp-dir.ts'

// Workflow documents the CLI tests apply, and a signed webhook call that starts a run.

export const WORKFLOW_V1 = `name: cli-restart
description: restart what the hook names
trigger:
  webhook:
    secret: HOOK_SECRET
    filter: trigger.severity == 'critical'
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
      text: "run \${{ run.status }}"
`

export const WORKFLOW_V2 = WORKFLOW_V1.replace(
  'version: ^1.0.0\n    pool: web\n    input:\n      service',
  'version: ^1.2.0\n    pool: web\n    timeout: 2m\n    input:\n      service',
)

/** Line 11 holds `limit: three` (a string where an integer belongs). */
export const WORKFLOW_INVALID = `name: cli-broken
trigger:
  webhook:
    secret: HOOK_SECRET
actions:
  - id: restart
    plugin: "@acme/restart"
    version: ^1.0.0
    pool: web
    retry:
      limit: three
`

export function writeFiles(files: Record<string, string>): string {
  const dir = tempDir('cli-wf')
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  return dir
}

export async function signedHook(operatorUrl: string, workflowId: string, secret: string, body: unknown) {
  const raw = JSON.stringify(body)
  const t = Math.floor(Date.now() / 1000)
  const sig = createHmac('sha256', secret).update(`${t}.${raw}`).digest('hex')
  const res = await fetch(`${operatorUrl}/api/v1/hooks/${workflowId}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stavily-signature': `t=${t},v1=${sig}` },
    body: raw,
  })
  return {
    status: res.status,
    body: (await res.json()) as { accepted: boolean; runId: string | null; reason?: string },
  }
}
